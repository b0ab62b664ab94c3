//! `pgparity fleet`: one reference against N targets — environments, tenant databases, or the
//! schemas of schema-per-tenant databases — in one run. The reference is captured once; the
//! targets `jobs` at a time, each compared as it is captured, folded into the fleet's report
//! and dropped (memory stays flat in the number of targets). A target that cannot be captured
//! is a finding of that target ([`report::fleet::UNREACHABLE`]); the others still run.

use std::sync::Mutex;

use crate::capture::{CaptureOptions, Target};
use crate::conninfo::ConnInfo;
use crate::error::{Error, Result};
use crate::profile::{ProfileOptions, RelSpec};
use crate::progress::{NoProgress, Progress};
use crate::report::fleet::{FleetBuilder, FleetReport};
use crate::report::SideInfo;
use crate::run::{self, Gate, Side};
use crate::snapshot::Snapshot;

/// Schema-per-tenant: each schema `LIKE like` of each target database is a target, compared
/// with the reference's schema `reference` under the reference's name.
#[derive(Debug, Clone)]
pub struct Schemas {
    pub like: String,
    pub reference: String,
}

/// What `fleet` needs.
#[derive(Debug, Clone)]
pub struct FleetRequest {
    pub reference: Side,
    /// The targets (with `schemas`: the databases holding them).
    pub targets: Vec<Side>,
    pub schemas: Option<Schemas>,
    /// Targets captured at once (`None`: [`default_jobs`]).
    pub jobs: Option<usize>,
    pub capture: CaptureOptions,
    pub profile: Option<ProfileOptions>,
    pub relationships: Vec<RelSpec>,
    pub gate: Gate,
    /// `K/N`: only the targets whose position in name order is K modulo N (1-based K).
    pub shard: Option<(usize, usize)>,
}

/// Targets captured at once when not asked: two per core, and no more than a tenth of the
/// reference server's `max_connections` (each target holds `--max-connections` sessions,
/// one by default), at least one, at most 16.
pub fn default_jobs(reference: &Snapshot) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let max_conn = reference
        .inventory
        .settings
        .get("max_connections")
        .and_then(|s| s.value.parse::<usize>().ok())
        .unwrap_or(100);
    (2 * cores).min(max_conn / 10).clamp(1, 16)
}

/// The targets of shard `k` of `n` (1-based): every `n`th in name order, so N processes given
/// the same list share it exactly.
pub fn shard<T>(mut items: Vec<(String, T)>, k: usize, n: usize) -> Vec<(String, T)> {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, t)| t)
        .collect()
}

/// The targets a query on a control database names: each row's first column a database name
/// (on the control's server, with its credentials) or a connection string; a second column,
/// if any, the target's name.
pub fn targets_from_query(
    control: &Target,
    sql: &str,
    opts: &CaptureOptions,
) -> Result<Vec<Target>> {
    let rt = run::runtime()?;
    let rows = rt.block_on(async {
        let client = crate::capture::sessions::Session::open(control, opts, "").await?;
        let env = |m: String| Error::env(&control.name, m);
        let _waiting = client.wait();
        let db = |e: tokio_postgres::Error| crate::capture::db_message(&e);
        client
            .batch_execute(client.begin_sql())
            .await
            .map_err(|e| env(db(e)))?;
        let rows = client
            .simple_query(sql)
            .await
            .map_err(|e| env(format!("the targets query failed: {}", db(e))))?;
        let _ = client.batch_execute("ROLLBACK").await;
        Ok::<_, Error>(rows)
    })?;
    let mut targets = Vec::new();
    for m in rows {
        let tokio_postgres::SimpleQueryMessage::Row(row) = m else {
            continue;
        };
        let Some(first) = row.get(0).map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        let named = row.columns().len() > 1;
        let given = if named {
            row.get(1).map(String::from)
        } else {
            None
        };
        let target = if first.contains("://") || first.contains('=') {
            let ci = ConnInfo::parse(first).map_err(|m| {
                Error::env(
                    &control.name,
                    format!("the targets query returned a bad connection string: {m}"),
                )
            })?;
            // Named by its database (or host): never by the string, which may hold a password.
            let name = given.clone().unwrap_or_else(|| {
                ci.get("dbname")
                    .or(ci.get("host"))
                    .unwrap_or("target")
                    .to_string()
            });
            Target {
                name,
                conninfo: ci,
                protected: false,
            }
        } else {
            let mut ci = control.conninfo.clone();
            ci.set("dbname", first);
            Target {
                name: given.clone().unwrap_or_else(|| first.to_string()),
                conninfo: ci,
                protected: false,
            }
        };
        targets.push(target);
    }
    if targets.is_empty() {
        return Err(Error::env(
            &control.name,
            "the targets query returned no target; hint: it must return one row per target, a database name or a connection string first",
        ));
    }
    Ok(targets)
}

fn side_name(s: &Side) -> String {
    match s {
        Side::Live(t) => t.name.clone(),
        Side::File(p) => p.display().to_string(),
    }
}

/// The server-wide facts read on each server so far (its time zone database), by server.
type Servers =
    Mutex<std::collections::HashMap<String, Vec<(String, crate::snapshot::objects::Other)>>>;

/// `user@host:port`: which server a target is on, whatever its database.
fn server_of(t: &Target) -> String {
    let d = t.describe();
    d.rsplit_once('/').map_or(d.clone(), |(s, _)| s.to_string())
}

/// A live side captured (and profiled), or a snapshot file read. The server-wide facts are
/// read on a server's first database and lent to its others (the time zone database's
/// fingerprint is most of a small database's capture).
async fn capture(
    side: &Side,
    req: &FleetRequest,
    extra: &[RelSpec],
    servers: &Servers,
    progress: &dyn Progress,
) -> Result<Snapshot> {
    let server = side.live().map(server_of);
    let known = server.as_ref().and_then(|k| {
        servers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(k)
            .cloned()
    });
    let opts = CaptureOptions {
        server_wide: known.is_none(),
        ..req.capture.clone()
    };
    let mut snap = run::load(side, &opts, progress).await?;
    match (known, server) {
        (Some(lent), _) => snap.schema.others.extend(lent),
        (None, Some(k)) => {
            let read: Vec<_> = snap
                .schema
                .others
                .iter()
                .filter(|(key, _)| crate::snapshot::objects::is_server_wide_key(key))
                .map(|(key, o)| (key.clone(), o.clone()))
                .collect();
            if !read.is_empty() {
                servers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(k)
                    .or_insert(read);
            }
        }
        (None, None) => {}
    }
    if let Some(p) = &req.profile {
        run::add_profile(side, &mut snap, extra, p, &req.capture, progress).await?;
    }
    Ok(snap)
}

/// `fleet`: the reference against every target, as one report.
pub fn fleet(req: &FleetRequest, progress: &dyn Progress) -> Result<FleetReport> {
    let rt = run::runtime()?;
    rt.block_on(async {
        progress.start("reference", "capturing");
        let servers = Servers::default();
        let reference = capture(&req.reference, req, &req.relationships, &servers, &NoProgress)
            .await
            .inspect_err(|_| progress.finish("reference", "failed"))?;
        progress.finish("reference", "captured");
        let ref_source = match &req.reference {
            Side::Live(_) => "live".to_string(),
            Side::File(p) => p.display().to_string(),
        };
        let mut own: Option<(&Side, Snapshot)> = None;
        let (reference, ref_key) = match &req.schemas {
            Some(s) => {
                if !reference.schema.schemas.contains_key(&crate::sql::ident(&s.reference)) {
                    return Err(Error::Usage(format!(
                        "the reference has no schema {}; hint: name the schema the tenants are compared with in --reference-schema",
                        s.reference
                    )));
                }
                let key = (reference.meta.target.clone(), reference.meta.database.clone());
                let part = reference.tenant(&s.reference, &s.reference)?;
                // The reference's own database among the targets: its tenants come from this
                // capture, not a second one.
                own = req
                    .targets
                    .iter()
                    .find(|t| same_side(t, &req.reference))
                    .map(|t| (t, reference));
                (part, Some(key))
            }
            None => (reference, None),
        };
        let name = reference.meta.environment.clone();
        let info = SideInfo::of(&name, &reference, &ref_source);
        let problems = reference
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.area, p.message))
            .collect();
        let builder = Mutex::new(FleetBuilder::new(info, req.gate.fail_on, problems));
        let jobs = req.jobs.unwrap_or_else(|| default_jobs(&reference));
        // Targets in name order (the shard's share, when sharded).
        let mut targets: Vec<(String, &Side)> = req
            .targets
            .iter()
            .filter(|t| !own.as_ref().is_some_and(|(o, _)| std::ptr::eq(*o, *t)))
            .map(|t| (side_name(t), t))
            .collect();
        if let Some((k, n)) = req.shard {
            targets = shard(targets, k, n);
        }
        let total = targets.len();
        progress.start("fleet", &format!("comparing {total} targets, {jobs} at a time"));
        let mut extra = if req.schemas.is_some() {
            Vec::new()
        } else {
            RelSpec::declared(&reference)
        };
        extra.extend(req.relationships.iter().cloned());
        // `jobs` threads, each with a runtime of its own, take targets from one queue: captures'
        // rows are read and targets compared on every core.
        let ctx = Ctx {
            req: req.clone(),
            reference,
            ref_key,
            extra,
            servers,
            builder,
        };
        if let Some((side, db)) = own {
            tenants_of(&ctx, &side_name(side), side, db);
        }
        let queue = Mutex::new(targets.into_iter());
        let done = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..jobs.min(total).max(1))
                .map(|_| {
                    s.spawn(|| -> Result<()> {
                        let rt = tokio::runtime::Builder::new_multi_thread()
                            .worker_threads(1)
                            .enable_all()
                            .build()
                            .map_err(|e| Error::Usage(format!("cannot start a runtime: {e}")))?;
                        loop {
                            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                            let Some((name, side)) = next else {
                                return Ok(());
                            };
                            rt.block_on(one(&ctx, &name, side));
                            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                            progress.step("fleet", n, total, "targets compared");
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join()
                    .map_err(|_| Error::Usage("a fleet worker stopped".into()))??;
            }
            Ok::<_, Error>(())
        })?;
        progress.finish("fleet", &format!("{total} targets compared"));
        let mut report = ctx
            .builder
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .finish();
        if let Some((k, n)) = req.shard {
            report.shard = Some(format!("{k}/{n}"));
        }
        Ok(report)
    })
}

/// What every target's task shares.
struct Ctx {
    req: FleetRequest,
    reference: Snapshot,
    /// The reference's server and database, with `--schemas-like` (its own schema is no target).
    ref_key: Option<(String, String)>,
    /// Relationships each target measures.
    extra: Vec<RelSpec>,
    servers: Servers,
    builder: Mutex<FleetBuilder>,
}

/// One target (with `--schemas-like`: each of its database's tenant schemas) captured,
/// compared and folded into the report.
async fn one(ctx: &Ctx, name: &str, side: &Side) {
    let req = &ctx.req;
    let captured = capture(side, req, &ctx.extra, &ctx.servers, &NoProgress).await;
    match (&req.schemas, captured) {
        (Some(_), Ok(db)) => tenants_of(ctx, name, side, db),
        (_, snap) => fold(ctx, side, name, snap),
    }
}

/// One target's capture (or why there is none) compared and folded into the report.
fn fold(ctx: &Ctx, side: &Side, name: &str, snap: Result<Snapshot>) {
    let o = outcome(&ctx.req, &ctx.reference, side, name, snap);
    ctx.builder
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .add(name, o.side, o.error, o.findings, o.unused, o.problems);
}

/// Every tenant schema of one database, compared and folded in (the reference's own schema
/// left out where it is the reference's database).
fn tenants_of(ctx: &Ctx, name: &str, side: &Side, db: Snapshot) {
    let req = &ctx.req;
    let Some(s) = &req.schemas else { return };
    let same = ctx
        .ref_key
        .as_ref()
        .is_some_and(|(t, d)| *t == db.meta.target && *d == db.meta.database);
    let tenants: Vec<String> = db
        .schemas_like(&s.like)
        .into_iter()
        .filter(|t| !(same && *t == s.reference))
        .collect();
    for t in tenants {
        let label = if req.targets.len() == 1 {
            t.clone()
        } else {
            format!("{name}:{t}")
        };
        fold(ctx, side, &label, db.tenant(&t, &s.reference));
    }
}

/// Two sides name the same database: one environment, one connection, one file.
fn same_side(a: &Side, b: &Side) -> bool {
    match (a, b) {
        (Side::Live(x), Side::Live(y)) => x.describe() == y.describe(),
        (Side::File(x), Side::File(y)) => x == y,
        _ => false,
    }
}

/// One target's comparison, ready to fold into the fleet's report.
struct Outcome {
    side: Option<SideInfo>,
    error: Option<String>,
    findings: Vec<crate::policy::Evaluated>,
    unused: Vec<String>,
    problems: Vec<String>,
}

fn outcome(
    req: &FleetRequest,
    reference: &Snapshot,
    side: &Side,
    name: &str,
    snap: Result<Snapshot>,
) -> Outcome {
    match snap {
        Ok(mut s) => {
            s.meta.environment = name.to_string();
            let source = match side {
                Side::Live(_) => "live".to_string(),
                Side::File(p) => p.display().to_string(),
            };
            let report = run::build_report(&s, reference, (&source, "reference"), &req.gate);
            Outcome {
                side: Some(report.left),
                error: None,
                findings: report.findings,
                unused: report.unused_acceptances,
                problems: s
                    .problems
                    .iter()
                    .map(|p| format!("{}: {}", p.area, p.message))
                    .collect(),
            }
        }
        Err(e) => {
            let message = crate::error::chain(&e);
            let finding = FleetBuilder::unreachable(name, &message);
            let (findings, unused) =
                crate::policy::apply(vec![finding], &req.gate.policy, req.gate.today, name);
            Outcome {
                side: None,
                error: Some(message),
                findings,
                unused,
                problems: Vec::new(),
            }
        }
    }
}
