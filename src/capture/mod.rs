//! Capture: the only stage (with seed) that talks to a database. Opens one read-only session
//! (default_transaction_read_only, a REPEATABLE READ READ ONLY transaction, statement_timeout,
//! lock_timeout, application_name `pgparity`), reads the catalogs with one JSON-returning query
//! per area, and turns what cannot be read into recorded problems rather than failures.

pub(crate) mod catalog;
pub mod sessions;
pub mod wire;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::conninfo::{ConnInfo, ProcessEnv};
use crate::error::{Error, Result};
use crate::snapshot::{Meta, Problem, Snapshot, FORMAT, FORMAT_VERSION};

/// A live environment to capture.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub conninfo: ConnInfo,
    /// Production: nothing but read-only capture ever runs here.
    pub protected: bool,
}

impl Target {
    /// `user@host:port/dbname` (the service file and `PG*` variables applied), no password.
    pub fn describe(&self) -> String {
        self.conninfo
            .resolve(&ProcessEnv)
            .map(|r| r.describe())
            .unwrap_or_else(|_| self.name.clone())
    }
}

/// How a capture behaves towards the server.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    /// Sessions a run holds at once on one environment, at most (`--max-connections`): every
    /// phase (capture, plans, profile, seed) stays within it, so a pooler's pool of that size
    /// never makes the run wait on itself.
    pub max_connections: usize,
    /// Read the facts that are the server's rather than the database's (the time zone
    /// database: its fingerprint costs most of a small database's capture). A fleet reads them
    /// once per server and lends them to the server's other databases.
    pub server_wide: bool,
}

impl CaptureOptions {
    /// The statements that begin a read-only transaction with these timeouts as `SET LOCAL`,
    /// then `local` (more `SET LOCAL`s; may be empty), in the snapshot `snapshot` if given.
    /// Everything is the transaction's: a session-level `SET` would outlive it on the server
    /// connection, which a transaction pooler hands to the next client.
    pub fn begin(&self, local: &str, snapshot: Option<&str>) -> String {
        let mut sql = String::from("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if let Some(id) = snapshot {
            sql += &format!("; SET TRANSACTION SNAPSHOT {}", crate::sql::literal(id));
        }
        sql += &format!(
            "; SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}; \
             SET LOCAL idle_in_transaction_session_timeout = {}",
            self.statement_timeout.as_millis(),
            self.lock_timeout.as_millis(),
            (self.statement_timeout.as_millis() * 4).max(60_000),
        );
        if !local.trim().is_empty() {
            sql += "; ";
            sql += local;
        }
        sql
    }
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(2),
            max_connections: 4,
            server_wide: true,
        }
    }
}

/// The application name every pgparity session carries.
pub const APPLICATION_NAME: &str = "pgparity";

/// Connects to `target` (libpq defaults, password file, TLS, each host in turn) and returns a
/// client whose connection task runs on the current runtime. Errors name the environment and
/// say what to do.
pub async fn connect(target: &Target) -> Result<Client> {
    Ok(wire::connect(target, APPLICATION_NAME).await?.client)
}

fn connect_message(r: &crate::conninfo::Resolved, at: &str, e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD {
            format!(
                "password authentication failed for user '{}' at {at}; hint: check the password (PGPASSWORD, the password file, or password= in the connection string)",
                r.user
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!(
                "database '{}' does not exist at {at}; hint: check dbname in the connection string",
                r.dbname
            )
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            format!("server refused the connection at {at}: {}; hint: check the user name and pg_hba.conf", db.message())
        } else if *code == SqlState::TOO_MANY_CONNECTIONS {
            format!(
                "server at {at} has no free connection slot: {}",
                db.message()
            )
        } else {
            format!("cannot connect to {at}: {}", db.message())
        };
    }
    let text = e.to_string();
    let source_text = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    if text.contains("password missing") || source_text.contains("password missing") {
        return format!(
            "server at {at} asks for a password and none was given; hint: set PGPASSWORD, add it to the password file (~/.pgpass), or put password= in the connection string"
        );
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        // A refused certificate: the verifier's sentence, or rustls's reason.
        let tls = s.downcast_ref::<rustls::Error>().or_else(|| {
            s.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(t) = tls {
            return match t {
                rustls::Error::General(sentence) => format!("cannot connect to {at}: {sentence}"),
                other => format!("cannot connect to {at}: the TLS handshake failed: {other}"),
            };
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let hint = match io.kind() {
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound => {
                    "; hint: check that the server runs and the host and port are right"
                }
                std::io::ErrorKind::TimedOut => "; hint: check the host, the network and firewalls",
                _ => "",
            };
            return format!(
                "cannot connect to {at}: {}{hint}",
                crate::error::io_message(io)
            );
        }
        source = s.source();
    }
    if text.contains("timed out") || text.contains("timeout") {
        return format!(
            "cannot connect to {at}: timed out; hint: check the host, the network and firewalls"
        );
    }
    // The client's own reason (an authentication it refused, say) is the error's source.
    let why = match std::error::Error::source(e) {
        Some(s) if !source_text.is_empty() => format!("{text}: {s}"),
        _ => text.clone(),
    };
    let hint = if why.contains("channel binding") {
        "; hint: channel_binding=require needs TLS (sslmode=require or stricter) and SCRAM password authentication on the server"
    } else {
        ""
    };
    format!(
        "cannot connect to {at}: {}{hint}",
        why.trim_start_matches("error connecting to server: ")
    )
}

/// Begins the capture's read-only transaction on an open client.
pub async fn begin_read_only(client: &Client, env: &str, opts: &CaptureOptions) -> Result<()> {
    client
        .batch_execute(&opts.begin("", None))
        .await
        .map_err(|e| {
            let message = db_message(&e);
            // PgBouncer in statement mode ends every transaction after one statement.
            let hint = if message.contains("statement pooling mode") {
                "; hint: the pooler runs pool_mode = statement, where no transaction spans two statements and a capture cannot read one consistent snapshot: point pgparity at a pool in transaction or session mode (or at the server)"
            } else {
                ""
            };
            Error::database(
                env,
                format!("cannot start a read-only session: {message}{hint}"),
                &e,
            )
        })
}

/// A second read-only session in the snapshot of `client`'s transaction, or `None` where the
/// snapshot cannot be exported or the session not opened (a connection limit): the capture
/// then reads everything on the one session.
/// Runs first in the transaction (a snapshot cannot be exported from a savepoint); where the
/// export fails, the transaction starts again.
async fn second_session(
    client: &Client,
    target: &Target,
    opts: &CaptureOptions,
) -> Option<wire::Connected> {
    let id = match client
        .query_typed_one("SELECT pg_export_snapshot()", &[])
        .await
    {
        Ok(row) => row.try_get::<_, String>(0).ok()?,
        Err(_) => {
            let _ = client
                .batch_execute(&format!("ROLLBACK; {}", opts.begin("", None)))
                .await;
            return None;
        }
    };
    let other = wire::connect(target, APPLICATION_NAME).await.ok()?;
    other
        .client
        .batch_execute(&opts.begin("", Some(&id)))
        .await
        .ok()?;
    Some(other)
}

/// Whether `e` means the session is gone (the server shut down or restarted, the backend was
/// terminated, the socket closed): the run cannot go on, as opposed to one statement failing.
pub fn connection_lost(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.is_closed()
        || matches!(
            e.code(),
            Some(&SqlState::ADMIN_SHUTDOWN)
                | Some(&SqlState::CRASH_SHUTDOWN)
                | Some(&SqlState::CANNOT_CONNECT_NOW)
        )
        || (e.code().is_none() && e.as_db_error().is_none())
}

/// The error of a run whose session was lost midway.
pub fn lost_error(env: &str, during: &str, message: &str) -> Error {
    if let Some(why) = wire::gave_up(env) {
        return Error::env(
            env,
            format!(
                "gave up during the {during}: {why}; hint: check the server (a stopped or overloaded backend), the network and any pooler in between, or raise the statement timeout if statements legitimately take longer"
            ),
        );
    }
    Error::env(
        env,
        format!(
            "the connection was lost during the {during}: {message}; hint: check that the server is up (it may have restarted), then run again"
        ),
    )
}

/// Column `i` of `row` as `T`, or a message naming the column: a value of another type than
/// expected is an error, never a panic (`Row::get` panics).
pub fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> std::result::Result<T, String> {
    row.try_get(i).map_err(|e| {
        let name = row.columns().get(i).map_or("?", |c| c.name());
        format!("unexpected value in column {name}: {e}")
    })
}

/// A server error's own message, or the client's.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// Captures one environment: inventory, schema and statistics.
pub async fn capture(target: &Target, opts: &CaptureOptions) -> Result<Snapshot> {
    let wire::Connected {
        client,
        watch,
        reached,
    } = wire::connect(target, APPLICATION_NAME).await?;
    begin_read_only(&client, &target.name, opts).await?;
    let other = if opts.max_connections >= 2 {
        second_session(&client, target, opts).await
    } else {
        None
    };
    let within = wire::reply_deadline(opts.statement_timeout);
    let head = catalog::head(&client)
        .await
        .map_err(|m| Error::env(&target.name, m))?;
    let mut problems: Vec<Problem> = Vec::new();
    let mut reader = catalog::Reader {
        client: &client,
        version: head.version_num,
        problems: &mut problems,
        lost: None,
        wait: (&watch, within),
        server_wide: opts.server_wide,
    };
    // A second session in the same snapshot reads the keys, the inventory and the statistics
    // while this one reads the rest of the schema: the server answers on two cores.
    let (inventory, schema, statistics) = match other {
        Some(other) => {
            let mut more: Vec<Problem> = Vec::new();
            let mut helper = catalog::Reader {
                client: &other.client,
                version: head.version_num,
                problems: &mut more,
                lost: None,
                wait: (&other.watch, within),
                server_wide: opts.server_wide,
            };
            let (mut schema, (keys, inventory, statistics)) =
                tokio::join!(reader.schema_but_keys(), async {
                    let keys = helper.keys().await;
                    let inventory = helper.inventory(&head).await;
                    let statistics = helper.statistics().await;
                    helper.unreadable_tables().await;
                    (keys, inventory, statistics)
                });
            keys.into(&mut schema);
            reader.unknown_catalog_columns().await;
            if let Some(m) = helper.lost.take().or(reader.lost.take()) {
                return Err(lost_error(&target.name, "capture", &m));
            }
            problems.extend(more);
            (inventory, schema, statistics)
        }
        None => {
            let inventory = reader.inventory(&head).await;
            let schema = reader.schema().await;
            let statistics = reader.statistics().await;
            reader.unreadable_tables().await;
            reader.unknown_catalog_columns().await;
            if let Some(m) = reader.lost.take() {
                return Err(lost_error(&target.name, "capture", &m));
            }
            (inventory, schema, statistics)
        }
    };
    let unfinished =
        crate::snapshot::SeedProvenance::unfinished(head.comment.as_deref().unwrap_or(""));
    if !unfinished.is_empty() {
        problems.push(Problem {
            area: "seed".into(),
            message: format!(
                "a seed into this database was stopped midway: {} may be half-loaded; hint: seed again (it empties them first)",
                unfinished.join(", ")
            ),
        });
    }
    if !head.reads_all_settings && !head.superuser {
        problems.push(Problem {
            area: "settings".into(),
            message:
                "the role lacks pg_read_all_settings: some settings are hidden and are not compared"
                    .into(),
        });
    }
    let _ = client.batch_execute("COMMIT").await;
    crate::pause::at("capture:catalog");
    let mut options = BTreeMap::new();
    options.insert(
        "statement_timeout_ms".into(),
        opts.statement_timeout.as_millis().to_string(),
    );
    options.insert(
        "lock_timeout_ms".into(),
        opts.lock_timeout.as_millis().to_string(),
    );
    Ok(Snapshot {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        meta: Meta {
            tool_version: env!("CARGO_PKG_VERSION").into(),
            environment: target.name.clone(),
            target: reached,
            captured_at: head.now.clone(),
            database: head.database.clone(),
            role: head.role.clone(),
            role_is_superuser: head.superuser,
            role_reads_all_settings: head.reads_all_settings || head.superuser,
            role_reads_all_stats: head.reads_all_stats || head.superuser,
            options,
            seeded_from: head
                .comment
                .as_deref()
                .and_then(crate::snapshot::SeedProvenance::from_comment),
        },
        inventory,
        schema,
        statistics,
        profile: None,
        plans: None,
        problems,
    })
}
