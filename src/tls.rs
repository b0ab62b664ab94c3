//! TLS for connections, following libpq's `sslmode` semantics with rustls (pure Rust, no
//! system OpenSSL): `prefer`/`require` encrypt without verifying (unless a root certificate
//! file exists, where `require` verifies the chain as libpq does), `verify-ca` checks the chain,
//! `verify-full` checks the chain and the host name. `sslrootcert=system` uses the platform's
//! trusted roots. A client certificate is sent when `sslcert` and `sslkey` name files.
//!
//! Where webpki and OpenSSL (libpq's) differ, the verifier does as libpq: a server certificate
//! that is itself one of the trusted roots (the PostgreSQL documentation's self-signed recipe)
//! is trusted, where webpki refuses a CA certificate as a leaf; the host name is matched as
//! libpq matches it (the subject alternative names, else the common name, which webpki never
//! reads); and a refusal is a sentence naming what the certificate is for and what to do.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
    UnixTime,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::conninfo::{Resolved, SslMode};

/// Builds the TLS connector for a resolved connection string.
pub fn connector(r: &Resolved) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let system = r
        .sslrootcert
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "system");
    let root_file = r.sslrootcert.as_ref().filter(|p| !system && p.exists());
    let mut trusted: Vec<CertificateDer<'static>> = Vec::new();
    let verify = match r.sslmode {
        SslMode::VerifyFull => Verify::Full,
        SslMode::VerifyCa => Verify::Chain,
        SslMode::Require if root_file.is_some() => Verify::Chain,
        // libpq: sslrootcert=system implies verify-full.
        _ if system && r.sslmode != SslMode::Disable => Verify::Full,
        _ => Verify::Nothing,
    };
    let inner = if verify == Verify::Nothing {
        None
    } else {
        let mut roots = RootCertStore::empty();
        if system {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err("sslrootcert=system but no trusted root certificates were found on this machine".into());
            }
        } else {
            let Some(file) = r.sslrootcert.as_ref() else {
                return Err(format!(
                    "sslmode={} needs a root certificate; hint: set sslrootcert=FILE (or sslrootcert=system), or put it in ~/.postgresql/root.crt",
                    mode_name(r.sslmode)
                ));
            };
            if !file.exists() {
                return Err(format!(
                    "root certificate file {} does not exist; hint: give sslrootcert=FILE, use sslrootcert=system, or use sslmode=require",
                    file.display()
                ));
            }
            let certs = CertificateDer::pem_file_iter(file)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!("cannot read root certificate file {}: {e}", file.display())
                })?;
            for cert in certs {
                trusted.push(cert.clone());
                roots
                    .add(cert)
                    .map_err(|e| format!("invalid root certificate in {}: {e}", file.display()))?;
            }
        }
        let mut builder =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        if let Some(file) = &r.sslcrl {
            if !file.exists() {
                return Err(format!(
                    "certificate revocation list {} does not exist; hint: give sslcrl=FILE (PEM) or leave it out",
                    file.display()
                ));
            }
            let crls = CertificateRevocationListDer::pem_file_iter(file)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!(
                        "cannot read certificate revocation list {}: {e}",
                        file.display()
                    )
                })?;
            // The server's certificate is checked; a chain certificate no list speaks of is
            // not refused for it.
            builder = builder
                .with_crls(crls)
                .only_check_end_entity_revocation()
                .allow_unknown_revocation_status();
        }
        Some(
            builder
                .build()
                .map_err(|e| format!("cannot build certificate verifier: {e}"))?,
        )
    };
    let verifier = Arc::new(PgVerifier {
        verify,
        inner,
        trusted,
        roots_from: if system {
            "the system's trusted roots".into()
        } else {
            r.sslrootcert
                .as_ref()
                .map_or("the root certificate file".into(), |p| {
                    p.display().to_string()
                })
        },
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&r.sslcert, &r.sslkey) {
        (Some(cert), Some(key)) if cert.exists() && key.exists() => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read client certificate {}: {e}", cert.display()))?;
            let key = client_key(key, r.sslpassword())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("invalid client certificate or key: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

impl PgVerifier {
    /// libpq's host name check: with `verify-full`, one of the certificate's DNS names (or,
    /// for an address, its IP addresses) must match; a certificate with none of those is
    /// matched by its common name. `verify-ca` checks no name.
    fn name(&self, cert: &Parsed, host: &str) -> Result<ServerCertVerified, rustls::Error> {
        if self.verify != Verify::Full || cert.matches(host) {
            return Ok(ServerCertVerified::assertion());
        }
        let names = cert.names();
        Err(refuse(format!(
            "the server's certificate is for {}, not \"{host}\"; hint: use sslmode=verify-ca, or connect by the name in the certificate",
            if names.is_empty() {
                "no host name".to_string()
            } else {
                names
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )))
    }
}

/// What the verifier reads of a certificate.
struct Parsed {
    subject: String,
    common_name: Option<String>,
    dns: Vec<String>,
    ips: Vec<std::net::IpAddr>,
    not_before: u64,
    not_after: u64,
}

impl Parsed {
    fn read(der: &CertificateDer<'_>) -> Result<Parsed, String> {
        use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
        use x509_cert::der::Decode;
        let cert = x509_cert::Certificate::from_der(der.as_ref()).map_err(|e| e.to_string())?;
        let tbs = &cert.tbs_certificate;
        let cn_oid = x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
        let san_oid = x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.29.17");
        let common_name = tbs
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .filter(|atv| atv.oid == cn_oid)
            .filter_map(|atv| {
                Utf8StringRef::try_from(&atv.value)
                    .map(|s| s.as_str().to_string())
                    .or_else(|_| {
                        PrintableStringRef::try_from(&atv.value).map(|s| s.as_str().to_string())
                    })
                    .or_else(|_| Ia5StringRef::try_from(&atv.value).map(|s| s.as_str().to_string()))
                    .ok()
            })
            .next_back();
        let (mut dns, mut ips) = (Vec::new(), Vec::new());
        for ext in tbs.extensions.iter().flatten() {
            if ext.extn_id != san_oid {
                continue;
            }
            let san = x509_cert::ext::pkix::SubjectAltName::from_der(ext.extn_value.as_bytes())
                .map_err(|e| e.to_string())?;
            for name in san.0 {
                match name {
                    x509_cert::ext::pkix::name::GeneralName::DnsName(d) => {
                        dns.push(d.as_str().to_string())
                    }
                    x509_cert::ext::pkix::name::GeneralName::IpAddress(a) => {
                        match a.as_bytes().len() {
                            4 => {
                                let b: [u8; 4] = a.as_bytes().try_into().expect("4 bytes");
                                ips.push(std::net::IpAddr::from(b));
                            }
                            16 => {
                                let b: [u8; 16] = a.as_bytes().try_into().expect("16 bytes");
                                ips.push(std::net::IpAddr::from(b));
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Parsed {
            subject: tbs.subject.to_string(),
            common_name,
            dns,
            ips,
            not_before: tbs.validity.not_before.to_unix_duration().as_secs(),
            not_after: tbs.validity.not_after.to_unix_duration().as_secs(),
        })
    }

    /// The names the certificate is for, as libpq reads them.
    fn names(&self) -> Vec<String> {
        if self.dns.is_empty() && self.ips.is_empty() {
            self.common_name.iter().cloned().collect()
        } else {
            self.dns
                .iter()
                .cloned()
                .chain(self.ips.iter().map(|a| a.to_string()))
                .collect()
        }
    }

    fn matches(&self, host: &str) -> bool {
        if let Ok(addr) = host.parse::<std::net::IpAddr>() {
            if !self.ips.is_empty() {
                return self.ips.contains(&addr);
            }
        } else if !self.dns.is_empty() {
            return self.dns.iter().any(|d| name_matches(d, host));
        }
        // No name of the kind asked in the alternative names: the common name (libpq).
        self.dns.is_empty()
            && self
                .common_name
                .as_deref()
                .is_some_and(|cn| name_matches(cn, host))
    }

    fn current(&self, now: UnixTime) -> Result<(), rustls::Error> {
        let now = now.as_secs();
        if now > self.not_after {
            return Err(refuse(format!(
                "the server's certificate ({}) has expired; hint: renew it on the server (ssl_cert_file)",
                self.subject
            )));
        }
        if now < self.not_before {
            return Err(refuse(format!(
                "the server's certificate ({}) is not valid yet; hint: check the clocks of this machine and the server",
                self.subject
            )));
        }
        Ok(())
    }
}

/// libpq's match: case-insensitive, a leading `*.` standing for exactly one label.
fn name_matches(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match p.strip_prefix("*.") {
        Some(rest) => h
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => p == h,
    }
}

/// The client's private key: PEM, PKCS#8 encrypted with `sslpassword` (as `openssl pkcs8
/// -topk8` or `openssl genpkey -aes256` write it), or not encrypted.
fn client_key(
    file: &std::path::Path,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read client key {}: {e}", file.display()))?;
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(format!(
            "client key {} is encrypted in OpenSSL's traditional format, which pgparity does not read; hint: convert it to PKCS#8: openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.p8",
            file.display()
        ));
    }
    if !text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return PrivateKeyDer::from_pem_slice(text.as_bytes())
            .map_err(|e| format!("cannot read client key {}: {e}", file.display()));
    }
    let Some(password) = password else {
        return Err(format!(
            "client key {} is encrypted and no sslpassword was given; hint: give sslpassword in the connection string or in a service file (~/.pg_service.conf)",
            file.display()
        ));
    };
    let (_, der) = pkcs8::der::pem::decode_vec(text.trim().as_bytes())
        .map_err(|e| format!("cannot read client key {}: {e}", file.display()))?;
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
        .map_err(|e| format!("cannot read client key {}: {e}", file.display()))?;
    let plain = info.decrypt(password).map_err(|_| {
        format!(
            "cannot decrypt client key {}: wrong sslpassword, or a cipher pgparity does not read; hint: check sslpassword",
            file.display()
        )
    })?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}

fn mode_name(m: SslMode) -> &'static str {
    match m {
        SslMode::Disable => "disable",
        SslMode::Allow => "allow",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    Nothing,
    Chain,
    Full,
}

#[derive(Debug)]
struct PgVerifier {
    verify: Verify,
    inner: Option<Arc<WebPkiServerVerifier>>,
    /// The root certificates of `sslrootcert`, as given.
    trusted: Vec<CertificateDer<'static>>,
    /// Where the roots come from, for messages.
    roots_from: String,
    provider: Arc<CryptoProvider>,
}

/// A refusal in a sentence: what the certificate is, for which host, and what to do.
fn refuse(message: String) -> rustls::Error {
    rustls::Error::General(message)
}

impl ServerCertVerifier for PgVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        let host = match server_name {
            ServerName::DnsName(d) => d.as_ref().to_string(),
            ServerName::IpAddress(a) => std::net::IpAddr::from(*a).to_string(),
            _ => String::new(),
        };
        let cert = Parsed::read(end_entity).map_err(|e| {
            refuse(format!(
                "the server's certificate cannot be read ({e}); hint: check the server's ssl_cert_file"
            ))
        })?;
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Ok(v) => Ok(v),
            // The chain is good; the name is judged below, as libpq judges it (webpki reads no
            // common name).
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => self.name(&cert, &host),
            // The certificate is one of the trusted roots itself (OpenSSL trusts it; webpki
            // refuses a CA as a leaf, or finds no issuer for a self-signed leaf).
            Err(_) if self.trusted.iter().any(|t| t.as_ref() == end_entity.as_ref()) => {
                cert.current(now)?;
                self.name(&cert, &host)
            }
            Err(rustls::Error::InvalidCertificate(e)) => Err(refuse(match e {
                // No root of the file signed it: webpki says so by an unknown issuer, by a bad
                // signature (a root of the same name, another key), or by a CA certificate
                // (self-signed) that is not among the roots.
                CertificateError::UnknownIssuer
                | CertificateError::BadSignature
                | CertificateError::Other(_) => format!(
                    "the server's certificate ({}) is not signed by a root in {}; hint: give the certificate authority that signed it as sslrootcert=FILE, or use sslmode=require to encrypt without verifying",
                    cert.subject, self.roots_from
                ),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                    "the server's certificate ({}) has expired; hint: renew it on the server (ssl_cert_file)",
                    cert.subject
                ),
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    format!(
                        "the server's certificate ({}) is not valid yet; hint: check the clocks of this machine and the server",
                        cert.subject
                    )
                }
                CertificateError::Revoked => format!(
                    "the server's certificate ({}) is revoked (listed in sslcrl); hint: the server needs a certificate that is not revoked",
                    cert.subject
                ),
                other => format!(
                    "the server's certificate ({}) was refused: {other:?}",
                    cert.subject
                ),
            })),
            Err(other) => Err(other),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn names_match_as_libpq_matches_them() {
        assert!(name_matches("db1.example.com", "DB1.Example.com"));
        assert!(name_matches("*.example.com", "db1.example.com"));
        // A wildcard stands for exactly one label.
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("db1.example.com", "db2.example.com"));
    }
}
