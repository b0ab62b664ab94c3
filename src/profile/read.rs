//! The COPY readers: one table in one statement, small tables grouped into one statement,
//! and one large table in block ranges on several sessions sharing an exported snapshot; each
//! streams its rows into batches measured off the session, memory bounded by the batch.

use super::*;

/// Measures a batch's columns, on this thread (a small table's batch).
pub(super) fn measure(accs: &mut [ColumnAcc], batch: &copytext::Batch) {
    for (a, c) in accs.iter_mut().zip(&batch.columns) {
        a.update(c);
    }
}

/// Reads a group's statement: each row to its table's batch, each batch measured as it
/// fills (memory stays a batch per table whatever the estimates said).
pub(super) async fn read_group(
    client: &Client,
    sql: &str,
    plans: &[(Plan, Sizes)],
) -> Result<Vec<GroupRead>, Option<tokio_postgres::Error>> {
    crate::pause::at("profile:read");
    let stream = client.copy_out(sql).await?;
    let readings = plans.iter().map(|(p, _)| p.reading.clone()).collect();
    on_worker(consume_group(stream, readings)).await
}

pub(super) async fn consume_group(
    stream: tokio_postgres::CopyOutStream,
    readings: Vec<Reading>,
) -> Result<Vec<GroupRead>, Option<tokio_postgres::Error>> {
    use std::pin::pin;
    let mut stream = pin!(stream);
    let mut accs: Vec<Vec<ColumnAcc>> = readings.iter().map(Reading::accumulators).collect();
    let mut batches: Vec<copytext::Batch> = readings
        .iter()
        .map(|r| copytext::Batch::new(r.kinds.len()))
        .collect();
    let mut rows = vec![0u64; readings.len()];
    let (mut routed, mut held) = (0, 0usize);
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk?;
        held += chunk.len();
        pending.extend_from_slice(&chunk);
        // A row of no table would be a bug of ours (`None`): each table is read alone instead.
        let used = copytext::route_lines(&pending, &mut batches).map_err(|_| None)?;
        pending.drain(..used);
        // Every 4,096 messages (a row each), a batch that filled (estimates can be stale) is
        // measured now; and every GROUP_BYTES read, every batch is (so at most that much is
        // held): the group's bound is its tables' size on disk, and values TOAST compressed
        // well are many times larger here (100 tables of 100 compressible 60 KB values: 11 MB
        // on disk, 600 MB of text).
        routed += 1;
        let full = held >= GROUP_BYTES as usize;
        if routed >= 4096 || full {
            routed = 0;
            for (i, b) in batches.iter_mut().enumerate() {
                if (full && b.rows > 0) || b.rows >= BATCH_ROWS || b.bytes() >= 32 << 20 {
                    rows[i] += b.rows as u64;
                    measure(&mut accs[i], b);
                    *b = copytext::Batch::new(readings[i].kinds.len());
                }
            }
            if full {
                held = 0;
            }
        }
    }
    for (i, b) in batches.iter().enumerate() {
        rows[i] += b.rows as u64;
    }
    Ok(accs
        .into_iter()
        .zip(batches)
        .zip(rows)
        .map(|((a, b), r)| (a, b, r))
        .collect())
}

/// Reads every row of a large table in up to `streams` sessions at once, each a range of its
/// blocks (a TID range scan), all in the snapshot `client` exports, so the rows read are the
/// ones a single statement would read. The ranges' accumulators merge in block order. Returns
/// the accumulators, the rows read and the streams used (fewer when sessions could not all be
/// opened); `None` when not even a second session could be opened (the caller reads in one).
pub(super) async fn read_streams(
    client: &Session,
    job: &Job<'_>,
    name: &str,
    select: &str,
    pages: i64,
    streams: usize,
    reading: &Reading,
) -> Result<Option<(Vec<ColumnAcc>, u64, usize)>, tokio_postgres::Error> {
    let extra = match Sessions::open(job.target, job.session_opts, streams - 1, SESSION_SETUP).await
    {
        Ok(s) => s.into_sessions(),
        Err(_) => Vec::new(),
    };
    let n = extra.len() + 1;
    let reading = &Reading {
        share: n,
        ..reading.clone()
    };
    if n == 1 {
        return Ok(None); // no second session: the one-stream read below
    }
    let waiting = client.wait();
    client.batch_execute(client.begin_sql()).await?;
    let result = async {
        let id: String = client
            .query_typed_one("SELECT pg_export_snapshot()", &[])
            .await?
            .try_get(0)?;
        let range = |i: usize| {
            let (from, to) = (
                pages * i as i64 / n as i64,
                pages * (i as i64 + 1) / n as i64,
            );
            // The first range starts at the table's start, the last runs to its end (pages
            // added since the sizes were read hold no row of this snapshot, or do: read them).
            let mut cond = Vec::new();
            if i > 0 {
                cond.push(format!("ctid >= '({from},0)'::tid"));
            }
            if i + 1 < n {
                cond.push(format!("ctid < '({to},0)'::tid"));
            }
            format!(
                "COPY (SELECT {select} FROM ONLY {name} WHERE {}) TO STDOUT",
                cond.join(" AND ")
            )
        };
        let tasks: Vec<_> = extra
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let (sql, reading, id) = (range(i + 1), reading.clone(), id.clone());
                tokio::spawn(async move {
                    let _waiting = c.wait();
                    c.begin_in_snapshot(&id).await?;
                    let read = read_table(&c, &sql, &reading).await;
                    let _ = c.batch_execute("ROLLBACK").await;
                    read
                })
            })
            .collect();
        let first = read_table(client, &range(0), reading).await;
        // The other streams may wait for a pooler's server connection: this session's
        // transaction stays open meanwhile, waiting on them, not on its server.
        drop(waiting);
        let mut parts = vec![first];
        for t in tasks {
            parts.push(t.await.expect("a stream's task ends without panicking"));
        }
        let mut merged: Option<(Vec<ColumnAcc>, u64)> = None;
        for part in parts {
            let (accs, rows) = part?;
            match &mut merged {
                None => merged = Some((accs, rows)),
                Some((all, total)) => {
                    *total += rows;
                    all.par_iter_mut()
                        .zip(accs.into_par_iter())
                        .for_each(|(a, b)| a.merge(b));
                }
            }
        }
        Ok(merged.map(|(a, r)| (a, r, n)))
    }
    .await;
    // The exporting transaction ends with the read, whatever its outcome.
    let _ = client.batch_execute("ROLLBACK").await;
    result
}

/// Streams the COPY output and measures it, batch by batch, columns in parallel.
pub(super) async fn read_table(
    client: &Client,
    sql: &str,
    reading: &Reading,
) -> Result<(Vec<ColumnAcc>, u64), tokio_postgres::Error> {
    crate::pause::at("profile:read");
    let stream = client.copy_out(sql).await?;
    on_worker(consume_table(stream, reading.clone())).await
}

/// Runs a COPY stream's reader as a task of its own. The connection's task, on a runtime
/// worker, wakes the reader at every read from the socket: a reader on a worker runs next on
/// the same thread, where one polled by the caller's `block_on` is a thread woken across cores
/// every time (a tenth of the client's CPU went to those switches).
pub(super) async fn on_worker<T: Send + 'static>(
    read: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    tokio::spawn(read)
        .await
        .expect("a COPY reader's task ends without panicking")
}

pub(super) async fn consume_table(
    stream: tokio_postgres::CopyOutStream,
    reading: Reading,
) -> Result<(Vec<ColumnAcc>, u64), tokio_postgres::Error> {
    use std::pin::pin;
    let mut stream = pin!(stream);
    let reading = &reading;
    let accs = reading.accumulators();
    let ncols = reading.kinds.len().max(1);
    // Reading and measuring overlap: full batches go to a measuring thread (columns in
    // parallel on rayon) while the next batch streams in. Two batches in flight bound memory.
    // The thread starts with the first full batch: a small table (one batch) is measured
    // right here, as a thread and a parallel pass per table cost more than its rows.
    type Measuring = (
        std::sync::mpsc::SyncSender<copytext::Batch>,
        std::thread::JoinHandle<Vec<ColumnAcc>>,
    );
    let mut accs = Some(accs);
    let mut measuring: Option<Measuring> = None;
    // Measured batches come back emptied, their room kept: filling a fresh one grew (and
    // copied) every column's buffers again, a tenth of the reading's time.
    let (back, returned) = std::sync::mpsc::channel::<copytext::Batch>();
    let mut send = |batch: copytext::Batch, accs: &mut Option<Vec<ColumnAcc>>| {
        let (tx, _) = measuring.get_or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<copytext::Batch>(2);
            let mut accs = accs.take().expect("accumulators");
            let back = back.clone();
            let worker = std::thread::spawn(move || {
                for mut batch in rx {
                    accs.par_iter_mut()
                        .zip(batch.columns.par_iter())
                        .for_each(|(a, c)| a.update(c));
                    batch.clear();
                    let _ = back.send(batch);
                }
                accs
            });
            (tx, worker)
        });
        tokio::task::block_in_place(|| tx.send(batch)).ok();
    };
    let mut batch = copytext::Batch::new(ncols);
    let mut pending: Vec<u8> = Vec::new();
    let mut rows = 0u64;
    let mut failure = None;
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let used = if pending.is_empty() {
            let used = batch.push_lines(&chunk);
            pending.extend_from_slice(&chunk[used..]);
            used
        } else {
            pending.extend_from_slice(&chunk);
            let used = batch.push_lines(&pending);
            pending.drain(..used);
            used
        };
        let _ = used;
        // Batches end at 65,536 rows or 32 MB, whichever comes first (each a share of that
        // when the table is read in streams): memory follows neither the row count nor the
        // size of values nor the streams.
        if batch.rows >= 65_536 / reading.share || batch.bytes() >= (32 << 20) / reading.share {
            rows += batch.rows as u64;
            let next = returned
                .try_recv()
                .unwrap_or_else(|_| copytext::Batch::new(ncols));
            let full = std::mem::replace(&mut batch, next);
            send(full, &mut accs);
            tokio::task::block_in_place(|| crate::pause::at("profile:streaming"));
        }
    }
    rows += batch.rows as u64;
    let accs = match (measuring, accs) {
        (None, Some(mut accs)) => {
            measure(&mut accs, &batch);
            accs
        }
        (Some((tx, worker)), _) => {
            tokio::task::block_in_place(|| tx.send(batch)).ok();
            drop(tx);
            tokio::task::block_in_place(|| worker.join()).expect("measuring thread")
        }
        (None, None) => unreachable!("the accumulators are here or on the measuring thread"),
    };
    match failure {
        Some(e) => Err(e),
        None => Ok((accs, rows)),
    }
}

/// A standby's cancel of a statement whose snapshot or locks held back the replay.
pub(super) fn recovery_conflict(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        && capture::db_message(e).contains("conflict with recovery")
}
