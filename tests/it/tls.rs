//! TLS with libpq's sslmode semantics against real servers: a certificate for `localhost`
//! signed by a test CA, the PostgreSQL documentation's self-signed certificate (its own root,
//! made by the `openssl` command as the documentation says), and a client certificate login.

use pgparity::capture::{connect, Target};
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

fn ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// One text value `sql` gives on a session of environment `env` at `conninfo`, or the
/// connection's one-line error.
fn ask(env: &str, conninfo: &str, sql: &str) -> Result<String, String> {
    let target = Target {
        name: env.into(),
        conninfo: ConnInfo::parse(conninfo).unwrap(),
        protected: false,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = connect(&target).await.map_err(|e| e.to_string())?;
        let row = client
            .query_typed_one(sql, &[])
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.get::<_, String>(0))
    })
}

/// Connects with `extra` appended to the connection string; returns whether TLS is in use.
fn ssl_in_use(port: u16, extra: &str) -> Result<bool, String> {
    ask(
        "tls",
        &format!("port={port} user=postgres dbname=postgres connect_timeout=5 {extra}"),
        "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .map(|ssl| ssl == "true")
}

/// A PostgreSQL 17 with TLS on: `server.crt` and `server.key` (and `root.crt`, the roots of
/// client certificates, when given) in its data directory.
fn tls_cluster(crt: Vec<u8>, key: Vec<u8>, client_roots: Option<Vec<u8>>) -> Cluster {
    let mut opts = ClusterOptions::default();
    opts.files.push(("server.crt".into(), crt));
    opts.files.push(("server.key".into(), key));
    let mut settings = vec![
        ("ssl", "on"),
        ("ssl_cert_file", "server.crt"),
        ("ssl_key_file", "server.key"),
    ];
    if let Some(roots) = client_roots {
        opts.files.push(("root.crt".into(), roots));
        settings.push(("ssl_ca_file", "root.crt"));
    }
    for (k, v) in settings {
        opts.settings.push((k.into(), v.into()));
    }
    Cluster::start(&Install::find(17).unwrap_or_else(|e| panic!("{e}")), &opts).unwrap()
}

const SERVER_SERIAL: u64 = 7;

/// A revocation list by `ca` of the certificate with serial number `serial`.
fn revoking(ca: &CertifiedIssuer<'static, KeyPair>, serial: u64) -> String {
    let params = rcgen::CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2025, 1, 1),
        next_update: rcgen::date_time_ymd(2099, 1, 1),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(serial),
            revocation_time: rcgen::date_time_ymd(2025, 6, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    params.signed_by(ca).unwrap().pem().unwrap()
}

/// The role a connection to `conninfo` logs in as, or the one-line error.
fn current_user(conninfo: &str) -> Result<String, String> {
    ask("cert", conninfo, "SELECT current_user::text")
}

/// A certificate for `localhost` signed by `ca` (serial number [`SERVER_SERIAL`]), and its key.
fn localhost_signed_by(ca: &CertifiedIssuer<'static, KeyPair>) -> (Vec<u8>, Vec<u8>) {
    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from(SERVER_SERIAL));
    let server = params.signed_by(&server_key, ca).unwrap();
    (
        server.pem().into_bytes(),
        server_key.serialize_pem().into_bytes(),
    )
}

#[test]
fn sslmodes_encrypt_and_verify_like_libpq() {
    let ca = ca();
    let (crt, key) = localhost_signed_by(&ca);
    let cluster = tls_cluster(crt, key, None);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, ca.pem()).unwrap();
    let other = dir.path().join("other.pem");
    std::fs::write(&other, self::ca().pem()).unwrap();
    let (p, root, other) = (
        cluster.port,
        root.display().to_string(),
        other.display().to_string(),
    );

    assert_eq!(
        ssl_in_use(
            p,
            &format!("host=localhost sslmode=verify-full sslrootcert={root}")
        ),
        Ok(true)
    );
    assert_eq!(
        ssl_in_use(
            p,
            &format!("host=127.0.0.1 sslmode=verify-ca sslrootcert={root}")
        ),
        Ok(true)
    );
    assert_eq!(
        ssl_in_use(
            p,
            "host=127.0.0.1 sslmode=require sslrootcert=/nonexistent/root.crt"
        ),
        Ok(true)
    );
    assert_eq!(ssl_in_use(p, "host=127.0.0.1 sslmode=disable"), Ok(false));

    let wrong_name = ssl_in_use(
        p,
        &format!("host=127.0.0.1 sslmode=verify-full sslrootcert={root}"),
    )
    .unwrap_err();
    assert_eq!(
        wrong_name,
        format!("environment 'tls': cannot connect to postgres@127.0.0.1:{p}/postgres: the server's certificate is for \"localhost\", not \"127.0.0.1\"; hint: use sslmode=verify-ca, or connect by the name in the certificate")
    );
    let wrong_ca = ssl_in_use(
        p,
        &format!("host=localhost sslmode=verify-full sslrootcert={other}"),
    )
    .unwrap_err();
    assert!(
        wrong_ca.contains(&format!(
            "is not signed by a root in {other}; hint: give the certificate authority that signed it as sslrootcert=FILE"
        )),
        "{wrong_ca}"
    );
    let no_root = ssl_in_use(
        p,
        "host=localhost sslmode=verify-full sslrootcert=/nonexistent/root.crt",
    )
    .unwrap_err();
    assert_eq!(
        no_root,
        "environment 'tls': root certificate file /nonexistent/root.crt does not exist; hint: give sslrootcert=FILE, use sslrootcert=system, or use sslmode=require"
    );

    // A revocation list (sslcrl) that names the server's certificate refuses it; one that
    // names another certificate does not.
    for (serial, revoked) in [(SERVER_SERIAL, true), (SERVER_SERIAL + 1, false)] {
        let crl = dir.path().join(format!("revoked-{serial}.crl"));
        std::fs::write(&crl, revoking(&ca, serial)).unwrap();
        let got = ssl_in_use(
            p,
            &format!(
                "host=localhost sslmode=verify-full sslrootcert={root} sslcrl={}",
                crl.display()
            ),
        );
        if revoked {
            assert_eq!(
                got,
                Err(format!("environment 'tls': cannot connect to postgres@localhost:{p}/postgres: the server's certificate (CN=rcgen self signed cert) is revoked (listed in sslcrl); hint: the server needs a certificate that is not revoked"))
            );
        } else {
            assert_eq!(got, Ok(true));
        }
    }
}

/// The documentation's recipe: `openssl req -new -x509 -days 365 -nodes -text -out server.crt
/// -keyout server.key -subj "/CN=…"`, in `dir`.
fn documented_self_signed(dir: &std::path::Path, cn: &str) -> (Vec<u8>, Vec<u8>) {
    let out = std::process::Command::new("openssl")
        .args(["req", "-new", "-x509", "-days", "365", "-nodes", "-text"])
        .args(["-out", "server.crt", "-keyout", "server.key"])
        .args(["-subj", &format!("/CN={cn}")])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("the openssl command: {e}; hint: apt-get install openssl (scripts/test.sh does)")
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read(dir.join("server.crt")).unwrap(),
        std::fs::read(dir.join("server.key")).unwrap(),
    )
}

#[test]
fn the_documentations_self_signed_certificate_is_its_own_root_as_in_libpq() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = documented_self_signed(dir.path(), "localhost");
    let cluster = tls_cluster(crt, key, None);
    let (p, root) = (cluster.port, dir.path().join("server.crt"));
    let root = root.display();
    for extra in [
        format!("host=127.0.0.1 sslmode=verify-ca sslrootcert={root}"),
        // A certificate without alternative names is matched by its common name (libpq).
        format!("host=localhost sslmode=verify-full sslrootcert={root}"),
        format!("host=LOCALHOST sslmode=verify-full sslrootcert={root}"),
    ] {
        assert_eq!(ssl_in_use(p, &extra), Ok(true), "{extra}");
    }
    let err = ssl_in_use(
        p,
        &format!("host=127.0.0.1 sslmode=verify-full sslrootcert={root}"),
    )
    .unwrap_err();
    assert_eq!(
        err,
        format!("environment 'tls': cannot connect to postgres@127.0.0.1:{p}/postgres: the server's certificate is for \"localhost\", not \"127.0.0.1\"; hint: use sslmode=verify-ca, or connect by the name in the certificate")
    );
    // Another self-signed certificate is no root of this one.
    let other = tempfile::tempdir().unwrap();
    documented_self_signed(other.path(), "localhost");
    let err = ssl_in_use(
        p,
        &format!(
            "host=localhost sslmode=verify-ca sslrootcert={}",
            other.path().join("server.crt").display()
        ),
    )
    .unwrap_err();
    assert!(
        err.contains("the server's certificate (CN=localhost) is not signed by a root in "),
        "{err}"
    );
}

#[test]
fn a_client_certificate_logs_in_where_pg_hba_asks_for_cert() {
    let ca = ca();
    let (crt, key) = localhost_signed_by(&ca);
    let cluster = tls_cluster(crt, key, Some(ca.pem().into_bytes()));
    cluster
        .execute("postgres", "CREATE ROLE certuser LOGIN")
        .unwrap();
    cluster
        .prepend_hba("hostssl all certuser 127.0.0.1/32 cert")
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "certuser");
    let client = params.signed_by(&client_key, &ca).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (crt, key, root) = (
        dir.path().join("client.crt"),
        dir.path().join("client.key"),
        dir.path().join("root.crt"),
    );
    std::fs::write(&crt, client.pem()).unwrap();
    std::fs::write(&key, client_key.serialize_pem()).unwrap();
    std::fs::write(&root, ca.pem()).unwrap();
    let base = format!(
        "host=localhost port={} dbname=postgres user=certuser connect_timeout=5 sslmode=verify-full sslrootcert={}",
        cluster.port,
        root.display()
    );
    let whoami = |extra: &str| current_user(&format!("{base} {extra}"));
    assert_eq!(
        whoami(&format!(
            "sslcert={} sslkey={}",
            crt.display(),
            key.display()
        )),
        Ok("certuser".to_string())
    );
    // Without it, the server's refusal, in one line naming the host.
    let err = whoami("sslcert=/nonexistent.crt sslkey=/nonexistent.key").unwrap_err();
    assert_eq!(
        err,
        format!(
            "environment 'cert': server refused the connection at certuser@localhost:{}/postgres: connection requires a valid client certificate; hint: check the user name and pg_hba.conf",
            cluster.port
        )
    );

    // The key encrypted (PKCS#8, as `openssl pkcs8 -topk8` writes it): read with sslpassword.
    let encrypted = dir.path().join("client.enc.key");
    let out = std::process::Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:s3cret",
        ])
        .arg("-in")
        .arg(&key)
        .arg("-out")
        .arg(&encrypted)
        .output()
        .unwrap_or_else(|e| panic!("the openssl command: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let with = |password: &str| {
        whoami(&format!(
            "sslcert={} sslkey={} {password}",
            crt.display(),
            encrypted.display()
        ))
    };
    assert_eq!(with("sslpassword=s3cret"), Ok("certuser".to_string()));
    let wrong = with("sslpassword=guess").unwrap_err();
    assert_eq!(
        wrong,
        format!(
            "environment 'cert': cannot decrypt client key {}: wrong sslpassword, or a cipher pgparity does not read; hint: check sslpassword",
            encrypted.display()
        )
    );
    let none = with("").unwrap_err();
    assert!(
        none.contains("is encrypted and no sslpassword was given"),
        "{none}"
    );

    // SCRAM bound to the TLS channel: required, it holds over TLS and refuses a plain session.
    cluster
        .execute("postgres", "CREATE ROLE scramuser LOGIN PASSWORD 'pw'")
        .unwrap();
    cluster
        .prepend_hba("host all scramuser 127.0.0.1/32 scram-sha-256")
        .unwrap();
    let scram = |extra: &str| {
        current_user(&format!(
            "host=localhost port={} dbname=postgres user=scramuser password=pw connect_timeout=5 {extra}",
            cluster.port
        ))
    };
    assert_eq!(
        scram(&format!(
            "sslmode=verify-full sslrootcert={} channel_binding=require",
            root.display()
        )),
        Ok("scramuser".to_string())
    );
    let plain = scram("sslmode=disable channel_binding=require").unwrap_err();
    assert!(
        plain.starts_with(&format!(
            "environment 'cert': cannot connect to scramuser@localhost:{}/postgres: ",
            cluster.port
        )) && plain.contains("channel binding"),
        "{plain}"
    );
    assert!(!plain.contains("pw"), "{plain}");
}
