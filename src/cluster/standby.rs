//! A streaming standby of a running cluster: a base backup copied under the owner, started\nin recovery, connected to its primary.

use super::*;

impl Cluster {
    /// A streaming standby of this cluster (pg_basebackup -R), started and connected.
    pub fn start_standby(&self, opts: &ClusterOptions) -> Result<Cluster> {
        let (tmp, owner) = Self::prepare_dir()?;
        let data = tmp.path().join("data");
        if self.install.tool("pg_basebackup").is_file() {
            let mut bb = Command::new(self.install.tool("pg_basebackup"));
            bb.arg("-D")
                .arg(&data)
                .arg("-h")
                .arg(&self.dir)
                .args([
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                ])
                .current_dir(tmp.path());
            as_owner(&mut bb, owner);
            run(bb, "pg_basebackup")?;
        } else {
            self.copy_backup(&data, owner)?;
        }
        let standby = Self::launch(&self.install, tmp, data, owner, opts)?;
        // Wait until the primary sees it streaming.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let n = self.query_scalar(
                "postgres",
                "SELECT count(*)::text FROM pg_stat_replication WHERE state = 'streaming'",
            )?;
            if n != "0" {
                return Ok(standby);
            }
            if Instant::now() > deadline {
                return Err(Error::Cluster(
                    "the standby did not start streaming within 120 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A base backup without pg_basebackup (the npm packages ship only the server): the
    /// low-level backup API around a file copy, then standby.signal and primary_conninfo.
    pub(super) fn copy_backup(&self, dest: &Path, owner: Option<(Uid, Gid)>) -> Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Cluster(e.to_string()))?;
        let (start, stop) = if self.install.major >= 15 {
            (
                "SELECT pg_backup_start('pgparity', true)::text",
                "SELECT labelfile FROM pg_backup_stop(false)",
            )
        } else {
            (
                "SELECT pg_start_backup('pgparity', true, false)::text",
                "SELECT labelfile FROM pg_stop_backup(false, false)",
            )
        };
        let conninfo = self.conninfo("postgres");
        let sql_err = |e: tokio_postgres::Error| {
            Error::Cluster(format!("base backup: {}", crate::capture::db_message(&e)))
        };
        let label: String = rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                .await
                .map_err(sql_err)?;
            let handle = tokio::spawn(conn);
            client.query_typed_one(start, &[]).await.map_err(sql_err)?;
            let mut cp = Command::new("cp");
            cp.arg("-a").arg(&self.data).arg(dest);
            as_owner(&mut cp, owner);
            run(cp, "cp (base backup)")?;
            let label: String = client
                .query_typed_one(stop, &[])
                .await
                .and_then(|r| r.try_get(0))
                .map_err(sql_err)?;
            drop(client);
            let _ = handle.await;
            Ok::<_, Error>(label)
        })?;
        for f in ["postmaster.pid", "postmaster.opts"] {
            let _ = std::fs::remove_file(dest.join(f));
        }
        let io = |e: io::Error| Error::Cluster(format!("base backup: {e}"));
        std::fs::write(dest.join("backup_label"), label).map_err(io)?;
        std::fs::write(dest.join("standby.signal"), "").map_err(io)?;
        let mut auto = std::fs::OpenOptions::new()
            .append(true)
            .open(dest.join("postgresql.auto.conf"))
            .map_err(io)?;
        use std::io::Write as _;
        writeln!(
            auto,
            "primary_conninfo = 'host={} port={} user=postgres'",
            self.dir.display(),
            self.port
        )
        .map_err(io)?;
        if let Some((uid, gid)) = owner {
            for f in ["backup_label", "standby.signal", "postgresql.auto.conf"] {
                let _ = nix::unistd::chown(&dest.join(f), Some(uid), Some(gid));
            }
        }
        Ok(())
    }
}
