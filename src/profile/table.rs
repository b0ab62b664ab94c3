//! A table's profile, read and retried: the per-table driver (streams when worth it, a
//! smaller block sample after a statement timeout or a standby's recovery conflict, the
//! reasons a table is not measured), a group's, and the profile made of the accumulators.

use super::*;

pub(super) async fn profile_table(
    client: &Session,
    job: &Job<'_>,
    name: &str,
    table: &Table,
) -> Result<(TableProfile, Vec<String>), String> {
    let mut notes = Vec::new();
    // Sizes and the planner's row estimate, summed over partitions for a partitioned table
    // (its own relation is empty): a never-analyzed partitioned table must not be read whole.
    let sizes = match job.sizes.get(name).copied() {
        Some(s) => s,
        None => table_sizes(client, name).await?,
    };
    let Plan {
        kinds,
        expressions,
        reading,
        ..
    } = plan(job, table, &sizes);
    let (clause, method, fraction) = sampling(job, estimate(&sizes), sizes.pages);
    let mut read = TableRead {
        name,
        table,
        select: if expressions.is_empty() {
            "NULL".to_string()
        } else {
            expressions.join(", ")
        },
        reading: &reading,
        clause,
        method,
        fraction,
    };
    let (accs, rows_read) = match read.in_streams(client, job, &sizes, &mut notes).await {
        Some(done) => done,
        None => read.retried(client, job, &mut notes).await?,
    };
    read.method.rows_read = rows_read;
    let clause = read.clause.clone();
    let mut profiled = finished(accs, &kinds, read.method, read.fraction, &sizes);
    if table.kind == TableKind::Partitioned {
        match super::partitions::per_partition(client, job, name, table, &profiled, &clause).await {
            Ok(p) => profiled.partitions = p,
            Err(e) => notes.push(e),
        }
    }
    Ok((profiled, notes))
}

/// One table's read: what it selects and how it samples (made smaller by a retry).
struct TableRead<'a> {
    name: &'a str,
    table: &'a Table,
    select: String,
    reading: &'a Reading,
    clause: String,
    method: Method,
    fraction: f64,
}

impl TableRead<'_> {
    /// A large table read whole in block ranges on several sessions (PostgreSQL 14+), when
    /// worth it; `None` to read it in one statement (a failure is noted).
    async fn in_streams(
        &mut self,
        client: &Session,
        job: &Job<'_>,
        sizes: &Sizes,
        notes: &mut Vec<String>,
    ) -> Option<(Vec<ColumnAcc>, u64)> {
        let streams = job.opts.streams.min(MAX_STREAMS).min(job.max_streams);
        let worth_it = self.method.kind == SampleKind::Exact
            && streams > 1
            && self.table.kind != TableKind::Partitioned
            && sizes.table_bytes >= job.opts.stream_min_bytes
            && sizes.pages >= streams as i64
            && job.snap.inventory.server_version_num >= 140_000;
        if !worth_it {
            return None;
        }
        let read = read_streams(
            client,
            job,
            self.name,
            &self.select,
            sizes.pages,
            streams,
            self.reading,
        )
        .await;
        match read {
            Ok(Some((accs, rows, n))) => {
                self.method.streams = Some(n as u32);
                Some((accs, rows))
            }
            Ok(None) => None,
            Err(e) => {
                notes.push(format!(
                    "reading in {streams} streams failed ({}); read in one",
                    capture::db_message(&e)
                ));
                None
            }
        }
    }

    /// The table in one COPY: after a statement timeout (twice at most) or a standby's
    /// recovery conflict (once) again with a ten times smaller block sample; what cannot be
    /// read is said in words.
    async fn retried(
        &mut self,
        client: &Session,
        job: &Job<'_>,
        notes: &mut Vec<String>,
    ) -> Result<(Vec<ColumnAcc>, u64), String> {
        let (mut timeouts, mut conflicted) = (0, false);
        let only = if self.table.kind == TableKind::Partitioned {
            ""
        } else {
            "ONLY "
        };
        loop {
            let sql = format!(
                "COPY (SELECT {} FROM {only}{}{}) TO STDOUT",
                self.select, self.name, self.clause
            );
            let e = match client
                .transaction(|c| read_table(c, &sql, self.reading))
                .await
            {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            let p = self.method.percent.unwrap_or(100.0) / 10.0;
            if e.code() == Some(&SqlState::QUERY_CANCELED) && timeouts < 2 {
                timeouts += 1;
                notes.push(format!(
                    "statement_timeout while reading {}; retried with a {p:.4} % block sample",
                    if self.method.kind == SampleKind::Exact {
                        "every row".to_string()
                    } else {
                        format!("a {:.4} % sample", self.method.percent.unwrap_or(0.0))
                    }
                ));
            } else if recovery_conflict(&e) && !conflicted {
                // A standby cancels a read that holds back the replay of its primary's changes
                // (max_standby_streaming_delay): once more with a ten times smaller block
                // sample, a shorter read, then not measured, with the settings that decide it.
                conflicted = true;
                notes.push(format!(
                    "the standby cancelled the read for a conflict with recovery; retried with a {p:.4} % block sample"
                ));
            } else {
                return Err(not_read(job, &e));
            }
            (self.clause, self.method, self.fraction) = block_sample(p, job.opts.seed);
        }
    }
}

/// Why a table was not read, in words (a lost connection is also recorded for the run).
fn not_read(job: &Job<'_>, e: &tokio_postgres::Error) -> String {
    if recovery_conflict(e) {
        format!(
            "not measured: the standby cancelled the read twice for a conflict with recovery ({}); hint: raise max_standby_streaming_delay or turn hot_standby_feedback on on the standby, or profile the primary",
            capture::db_message(e)
        )
    } else if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
        "no SELECT privilege: not profiled; hint: GRANT SELECT on it to the capture role".into()
    } else if capture::connection_lost(e) {
        let m = capture::db_message(e);
        *job.lost.lock().expect("lost") = Some(m.clone());
        m
    } else {
        format!("could not be read: {}", capture::db_message(e))
    }
}

/// A table's profile from its columns' accumulators over `method.rows_read` rows.
pub(super) fn finished(
    accs: Vec<ColumnAcc>,
    kinds: &[(String, Kind)],
    method: Method,
    fraction: f64,
    sizes: &Sizes,
) -> TableProfile {
    let rows_read = method.rows_read;
    let exact = method.kind == SampleKind::Exact;
    let finish = |(acc, (name, _)): (ColumnAcc, &(String, Kind))| {
        (name.clone(), Box::new(acc.finish(fraction)))
    };
    // Columns of a small table are finished right here: waking the thread pool for each of
    // thousands of small tables cost more than their sorting.
    let columns = if rows_read < 65_536 {
        accs.into_iter().zip(kinds).map(finish).collect()
    } else {
        accs.into_par_iter()
            .zip(kinds.par_iter())
            .map(finish)
            .collect::<BTreeMap<_, _>>()
    };
    let rows = if exact {
        rows_read as f64
    } else {
        (rows_read as f64 / fraction).round()
    };
    TableProfile {
        method,
        rows,
        rows_exact: exact,
        table_bytes: sizes.table_bytes,
        index_bytes: sizes.index_bytes,
        columns,
        partitions: BTreeMap::new(),
    }
}

/// Profiles small tables in one statement: each table's rows, tagged with its place in the
/// group, in one `UNION ALL` whose columns are the values' text as COPY sends it (`as_text`).
/// The same profile as each read alone; if the statement fails (a table without SELECT
/// privilege, a timeout...) each is read alone.
pub(super) async fn profile_group<'s>(
    client: &Session,
    job: &Job<'_>,
    group: &[(&'s String, &'s Table)],
) -> Read<'s> {
    let plans: Vec<(Plan, Sizes)> = group
        .iter()
        .map(|(name, table)| {
            let sizes = job.sizes[name.as_str()];
            (plan(job, table, &sizes), sizes)
        })
        .collect();
    let width = plans
        .iter()
        .map(|(p, _)| p.expressions.len())
        .max()
        .unwrap_or(0);
    // A place where every table sends the same type is sent as it is: what COPY sends for
    // the table alone, without a cast's second pass over the text (tables of one shape, as
    // a schema per tenant has, are read together: see `units`).
    let native: Vec<bool> = (0..width)
        .map(|i| {
            let first = plans[0].0.shape.get(i);
            plans.iter().all(|(p, _)| p.shape.get(i) == first)
        })
        .collect();
    let branches: Vec<String> = plans
        .iter()
        .zip(group)
        .enumerate()
        .map(|(i, ((p, _), (name, _)))| {
            let mut cols = vec![i.to_string()];
            cols.extend(
                p.expressions
                    .iter()
                    .zip(&p.kinds)
                    .zip(&native)
                    .map(|((e, (_, k)), n)| if *n { e.clone() } else { as_text(e, *k) }),
            );
            cols.resize(width + 1, "NULL::text".into());
            format!("SELECT {} FROM ONLY {name}", cols.join(", "))
        })
        .collect();
    let sql = format!("COPY ({}) TO STDOUT", branches.join(" UNION ALL "));
    let permit = job
        .measuring
        .clone()
        .acquire_owned()
        .await
        .expect("the measuring semaphore is never closed");
    match client.transaction(|c| read_group(c, &sql, &plans)).await {
        Ok(read) => {
            // The rows are all here: they are measured off the session, which reads its next
            // statement meanwhile (the server works while this client measures).
            let tables: Vec<_> = read
                .into_iter()
                .zip(plans)
                .map(|((accs, batch, rows), (p, sizes))| (accs, batch, rows, p.kinds, sizes))
                .collect();
            let store = job.store.clone();
            let names: Vec<String> = group.iter().map(|(name, _)| (*name).clone()).collect();
            let handle = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                tables
                    .into_iter()
                    .zip(names)
                    .map(|((mut accs, batch, rows, kinds, sizes), name)| {
                        measure(&mut accs, &batch);
                        drop(batch);
                        let method = Method {
                            kind: SampleKind::Exact,
                            percent: None,
                            rows_read: rows,
                            streams: None,
                        };
                        let tp = finished(accs, &kinds, method, 1.0, &sizes);
                        Store::keep(&store, &name, Ok((tp, Vec::new())))
                    })
                    .collect()
            });
            Read::Measuring(group.iter().map(|(name, _)| *name).collect(), handle)
        }
        Err(Some(e)) if capture::connection_lost(&e) => {
            let m = capture::db_message(&e);
            *job.lost.lock().expect("lost") = Some(m.clone());
            Read::Done(
                group
                    .iter()
                    .map(|(name, _)| (*name, Err(m.clone())))
                    .collect(),
            )
        }
        Err(_) => {
            drop(permit);
            let mut out = Vec::new();
            for (name, table) in group {
                let outcome = profile_table(client, job, name, table).await;
                out.push((*name, Store::keep(&job.store, name, outcome)));
            }
            Read::Done(out)
        }
    }
}
