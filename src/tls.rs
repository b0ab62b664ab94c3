//! TLS for connections, following libpq's `sslmode` semantics with rustls (pure Rust, no
//! system OpenSSL): `prefer`/`require` encrypt without verifying (unless a root certificate
//! file exists, where `require` verifies the chain as libpq does), `verify-ca` checks the chain,
//! `verify-full` checks the chain and the host name. `sslrootcert=system` uses the platform's
//! trusted roots. A client certificate is sent when `sslcert` and `sslkey` name files.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
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
                roots
                    .add(cert)
                    .map_err(|e| format!("invalid root certificate in {}: {e}", file.display()))?;
            }
        }
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("cannot build certificate verifier: {e}"))?,
        )
    };
    let verifier = Arc::new(PgVerifier {
        verify,
        inner,
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
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("cannot read client key {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("invalid client certificate or key: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
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
    provider: Arc<CryptoProvider>,
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
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.verify == Verify::Chain => Ok(ServerCertVerified::assertion()),
            other => other,
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
