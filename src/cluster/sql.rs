//! Statements run on a cluster through its own psql (the tests' and the demo's setup, never\nthe tool's reads), configuration reloaded, pg_hba lines added.

use super::*;

impl Cluster {
    /// Runs SQL (several statements allowed) as the superuser in `dbname`.
    pub fn execute(&self, dbname: &str, sql: &str) -> Result<()> {
        self.run_sql(dbname, sql, false).map(|_| ())
    }

    /// Runs a query returning one text value.
    pub fn query_scalar(&self, dbname: &str, sql: &str) -> Result<String> {
        self.run_sql(dbname, sql, true)
    }

    pub(super) fn run_sql(&self, dbname: &str, sql: &str, scalar: bool) -> Result<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Cluster(e.to_string()))?;
        let conninfo = self.conninfo(dbname);
        let major = self.install.major;
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                .await
                .map_err(|e| {
                    Error::Cluster(format!(
                        "cannot connect to the PostgreSQL {major} cluster: {e}"
                    ))
                })?;
            let handle = tokio::spawn(conn);
            let out = if scalar {
                client
                    .query_typed_one(sql, &[])
                    .await
                    .and_then(|r| r.try_get::<_, Option<String>>(0))
                    .map(Option::unwrap_or_default)
            } else {
                client.batch_execute(sql).await.map(|_| String::new())
            };
            drop(client);
            let _ = handle.await;
            out.map_err(|e| {
                Error::Cluster(format!(
                    "SQL failed on the PostgreSQL {major} cluster: {}",
                    crate::capture::db_message(&e)
                ))
            })
        })
    }

    /// Sends SIGHUP: reread configuration (pg_hba.conf, ALTER SYSTEM).
    /// Returns once the postmaster has reloaded (its configuration load time moved on; the
    /// sessions started after that see the new settings).
    pub fn reload(&self) -> Result<()> {
        let Some(c) = &self.child else {
            return Ok(());
        };
        const LOADED: &str = "SELECT pg_conf_load_time()::text";
        let before = self.query_scalar("postgres", LOADED)?;
        kill(Pid::from_raw(c.id() as i32), Signal::SIGHUP)
            .map_err(|e| Error::Cluster(format!("reload: {e}")))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.query_scalar("postgres", LOADED)? == before {
            if Instant::now() > deadline {
                return Err(Error::Cluster(
                    "the server did not reload its configuration within 120 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Prepends a line to pg_hba.conf (first match wins) and reloads.
    pub fn prepend_hba(&self, line: &str) -> Result<()> {
        let path = self.data.join("pg_hba.conf");
        let old = std::fs::read_to_string(&path).map_err(|e| Error::Cluster(e.to_string()))?;
        std::fs::write(&path, format!("{line}\n{old}"))
            .map_err(|e| Error::Cluster(e.to_string()))?;
        if let Some((uid, gid)) = self.owner {
            let _ = nix::unistd::chown(&path, Some(uid), Some(gid));
        }
        self.reload()
    }
}
