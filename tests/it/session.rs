//! The capture session itself: read-only, with timeouts, named `pgparity`, all of it the
//! transaction's (nothing left on the server connection for a pooler's next client).

use pgparity::capture::{begin_read_only, connect, CaptureOptions};
use tokio_postgres::error::SqlState;

use crate::support::*;

#[test]
fn capture_sessions_are_read_only_with_timeouts_and_named() {
    let c = pg17();
    let db = fresh_db(c, "readonly");
    let t = target(c, &db, "ro");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = connect(&t).await.unwrap();
        begin_read_only(&client, "ro", &CaptureOptions::default())
            .await
            .unwrap();
        // Inside the capture's transaction: read-only, with its timeouts.
        let shows = |settings: &'static [(&'static str, &'static str)]| {
            let client = &client;
            async move {
                for (setting, want) in settings {
                    let row = client
                        .query_typed_one(&format!("SHOW {setting}"), &[])
                        .await
                        .unwrap();
                    assert_eq!(row.get::<_, String>(0), *want, "{setting}");
                }
            }
        };
        shows(&[
            ("transaction_read_only", "on"),
            ("statement_timeout", "30s"),
            ("lock_timeout", "2s"),
            ("application_name", "pgparity"),
        ])
        .await;
        let err = client
            .batch_execute("CREATE TABLE must_not_exist (id int)")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION));
        client.batch_execute("ROLLBACK").await.unwrap();
        // Nothing was set for the session: a transaction pooler that hands this server
        // connection to another client hands over none of the capture's settings.
        shows(&[
            ("default_transaction_read_only", "off"),
            ("statement_timeout", "0"),
            ("lock_timeout", "0"),
            ("idle_in_transaction_session_timeout", "0"),
        ])
        .await;
    });
    let exists = c
        .query_scalar(
            &db,
            "SELECT count(*)::text FROM pg_class WHERE relname = 'must_not_exist'",
        )
        .unwrap();
    assert_eq!(exists, "0");
}
