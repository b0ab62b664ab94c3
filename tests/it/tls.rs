//! TLS with libpq's sslmode semantics against a real server with a certificate for
//! `localhost` signed by a test CA.

use pgparity::capture::{connect, Target};
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

fn ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// Connects with `extra` appended to the connection string; returns whether TLS is in use.
fn ssl_in_use(port: u16, extra: &str) -> Result<bool, String> {
    let ci = ConnInfo::parse(&format!(
        "port={port} user=postgres dbname=postgres connect_timeout=5 {extra}"
    ))
    .unwrap();
    let target = Target {
        name: "tls".into(),
        conninfo: ci,
        protected: false,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = connect(&target).await.map_err(|e| e.to_string())?;
        let row = client
            .query_typed_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.get::<_, bool>(0))
    })
}

#[test]
fn sslmodes_encrypt_and_verify_like_libpq() {
    let ca = ca();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let mut opts = ClusterOptions::default();
    opts.files
        .push(("server.crt".into(), server.pem().into_bytes()));
    opts.files
        .push(("server.key".into(), server_key.serialize_pem().into_bytes()));
    for (k, v) in [
        ("ssl", "on"),
        ("ssl_cert_file", "server.crt"),
        ("ssl_key_file", "server.key"),
    ] {
        opts.settings.push((k.into(), v.into()));
    }
    let cluster =
        Cluster::start(&Install::find(17).unwrap_or_else(|e| panic!("{e}")), &opts).unwrap();
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
    assert!(
        wrong_name.starts_with("environment 'tls': cannot connect to postgres@127.0.0.1:"),
        "{wrong_name}"
    );
    assert!(
        wrong_name.contains("certificate not valid for name"),
        "{wrong_name}"
    );
    let wrong_ca = ssl_in_use(
        p,
        &format!("host=localhost sslmode=verify-full sslrootcert={other}"),
    )
    .unwrap_err();
    assert!(wrong_ca.contains("invalid peer certificate"), "{wrong_ca}");
    let no_root = ssl_in_use(
        p,
        "host=localhost sslmode=verify-full sslrootcert=/nonexistent/root.crt",
    )
    .unwrap_err();
    assert_eq!(
        no_root,
        "environment 'tls': root certificate file /nonexistent/root.crt does not exist; hint: give sslrootcert=FILE, use sslrootcert=system, or use sslmode=require"
    );
}
