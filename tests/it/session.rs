//! The capture session itself: read-only, with timeouts, named `pgparity`.

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
        let err = client
            .batch_execute("CREATE TABLE must_not_exist (id int)")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION));
        client.batch_execute("ROLLBACK").await.unwrap();
        // Outside the capture transaction the session stays read-only.
        let err = client
            .batch_execute("CREATE TABLE must_not_exist (id int)")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION));
        for (setting, want) in [
            ("statement_timeout", "30s"),
            ("lock_timeout", "2s"),
            ("application_name", "pgparity"),
        ] {
            let row = client
                .query_one(&format!("SHOW {setting}"), &[])
                .await
                .unwrap();
            assert_eq!(row.get::<_, String>(0), want, "{setting}");
        }
    });
    let exists = c
        .query_scalar(
            &db,
            "SELECT count(*)::text FROM pg_class WHERE relname = 'must_not_exist'",
        )
        .unwrap();
    assert_eq!(exists, "0");
}
