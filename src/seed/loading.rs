//! The load: tables cut into pieces (whole tables, or ranges of a large one) loaded by COPY
//! streams at once, chunks generated on rayon within one in-flight budget, a range committed
//! on its own.

use super::*;

/// `ONLY ` for a table with rows of its own (not its inheritance children's); nothing for a
/// partitioned table, whose rows are its partitions'.
pub(super) fn only(t: &model::TableModel) -> &'static str {
    if t.partitioned {
        ""
    } else {
        "ONLY "
    }
}

/// The load's pieces, biggest table first; a table of `SPLIT_MIN_ROWS` or more is cut into
/// `streams` ranges of chunks, next to each other so every session works on it at once.
pub(super) fn pieces(model: &Model, streams: usize) -> Vec<Piece> {
    let mut order: Vec<usize> = (0..model.tables.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(model.tables[t].rows));
    let mut out = Vec::new();
    for t in order {
        let chunks = model.tables[t].rows.div_ceil(model.tables[t].chunk_rows);
        let parts = if streams > 1 && model.tables[t].rows >= SPLIT_MIN_ROWS {
            (streams as u64).min(chunks.max(1))
        } else {
            1
        };
        for i in 0..parts {
            out.push(Piece {
                table: t,
                chunks: chunks * i / parts..chunks * (i + 1) / parts,
                whole: parts == 1,
            });
        }
    }
    out
}

/// The tables loaded in more than one piece.
pub(super) fn split_tables(model: &Model, streams: usize) -> Vec<String> {
    let pieces = pieces(model, streams);
    let mut names: Vec<String> = pieces
        .iter()
        .filter(|p| !p.whole)
        .map(|p| model.tables[p.table].name.clone())
        .collect();
    names.dedup();
    names
}

/// Loads one piece of a table in its own transaction: a table loaded whole ends complete or
/// empty; a table in pieces is emptied by the caller if any piece fails. `sent` counts the
/// table's rows sent by all its pieces (for progress).
pub(super) async fn load(
    client: &Client,
    model: Arc<Model>,
    piece: Piece,
    sent_rows: &std::sync::atomic::AtomicU64,
    budget: &Budget,
    progress: &dyn Progress,
) -> std::result::Result<TableLoad, String> {
    let started = Instant::now();
    let t = piece.table;
    let table = &model.tables[t];
    let cols: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !matches!(c.gen, model::Gen::Default))
        .map(|c| ident(&c.name))
        .collect();
    let db = |e: tokio_postgres::Error| crate::capture::db_message(&e);
    client
        .batch_execute("BEGIN; SET LOCAL statement_timeout = 0")
        .await
        .map_err(db)?;
    // The table is empty (checked, or emptied): truncated again in this transaction, COPY can
    // write its rows frozen (no hint-bit or freeze pass later). Where TRUNCATE is refused (a
    // foreign key from a table not seeded), a plain COPY.
    // Small tables skip it: a TRUNCATE costs more than freezing a few thousand rows saves.
    // Pieces of one table load at once: none may truncate (its lock would wait for them all).
    let try_freeze = piece.whole && !table.partitioned && table.rows >= 65_536;
    let freeze = try_freeze
        && client
            .batch_execute(&format!(
                "SAVEPOINT pgparity_truncate; TRUNCATE ONLY {}; RELEASE SAVEPOINT pgparity_truncate",
                table.name
            ))
            .await
            .is_ok();
    if try_freeze && !freeze {
        let _ = client
            .batch_execute("ROLLBACK TO SAVEPOINT pgparity_truncate")
            .await;
    }
    // COPY text, not binary: binary saved the server a third of a lineitem load (dates and
    // numerics unparsed) but cost the client as much in encoding (10% faster on 2 cores), and
    // on PostgreSQL 16+ it flushes 1,000 rows at a time whatever their size, so bulk extension
    // left empty pages at the end of the table (partsupp 152 → 204 pages): more pages, other
    // plans than production's (branch experiment/seed-binary-copy).
    let sink = client
        .copy_in::<_, bytes::Bytes>(&format!(
            "COPY {} ({}) FROM STDIN{}",
            table.name,
            cols.join(", "),
            if freeze { " WITH (FREEZE)" } else { "" }
        ))
        .await
        .map_err(db)?;
    futures_util::pin_mut!(sink);
    let (first, chunks) = (piece.chunks.start, piece.chunks.end);
    // Chunks in flight bounded by bytes, across every load at once: each chunk's share of the
    // budget is taken before it is generated and given back when its memory is freed (the
    // share is owned by the chunk's bytes, whose slices the connection holds until written).
    // Twelve chunks of 4 MB documents were 400 MB while the server was slow to take them; a
    // bound per load grew with the streams. A producer waits for one share holding none
    // (more for the same batch only if they are free), and a share held elsewhere belongs to a
    // chunk on its way to the server: every load can always go on.
    let slots = (IN_FLIGHT_BYTES / table.chunk_bytes.max(1)).clamp(1, 8);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(slots as usize);
    let m = model.clone();
    let budget = budget.clone();
    let producer = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        let batch = (rayon::current_num_threads() as u64 * 2).clamp(1, slots);
        let mut k = first;
        while k < chunks {
            let end = (k + batch).min(chunks);
            let bound = m.tables[t].chunk_bytes;
            let Some(first) = budget.take(bound) else {
                return;
            };
            let mut shares = vec![first];
            shares.extend((k + 1..end).map_while(|_| budget.try_take(bound)));
            let end = k + shares.len() as u64;
            let bufs: Vec<Vec<u8>> = (k..end).into_par_iter().map(|i| chunk(&m, t, i)).collect();
            for (b, share) in bufs.into_iter().zip(shares) {
                let chunk = Chunk {
                    bytes: b,
                    _share: share,
                };
                if tx.blocking_send(bytes::Bytes::from_owner(chunk)).is_err() {
                    return;
                }
            }
            k = end;
        }
    });
    let (mut bytes, mut sent) = (0u64, 0u64);
    let mut failed = None;
    'chunks: while let Some(buf) = rx.recv().await {
        bytes += buf.len() as u64;
        let mut at = 0;
        while at < buf.len() {
            let slice = buf.slice(at..(at + SEND_SLICE).min(buf.len()));
            at += slice.len();
            if let Err(e) = sink.send(slice).await {
                failed = Some(db(e));
                break 'chunks;
            }
        }
        sent += 1;
        let all = sent_rows.fetch_add(table.chunk_rows, std::sync::atomic::Ordering::Relaxed)
            + table.chunk_rows;
        if sent % 16 == 0 {
            progress.step(
                &table.name,
                all.min(table.rows) as usize,
                table.rows as usize,
                "rows",
            );
        }
    }
    drop(rx);
    let _ = producer.await;
    let result = match failed {
        Some(e) => Err(e),
        None => sink.as_mut().finish().await.map_err(db),
    };
    match result {
        Ok(n) => {
            client.batch_execute("COMMIT").await.map_err(db)?;
            if !piece.whole {
                crate::pause::at("seed:range-committed");
            }
            Ok(TableLoad {
                table: table.name.clone(),
                rows: n,
                bytes,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// The load: `streams` sessions, each loading one table after another, biggest first;
/// returns the tables that failed (left empty), with why.
pub(super) async fn load_all(
    target: &Target,
    model: &Arc<model::Model>,
    opts: &SeedOptions,
    report: &mut SeedReport,
    progress: &dyn Progress,
) -> Vec<String> {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    let load_started = Instant::now();
    let pieces = pieces(model, opts.streams.max(1));
    // Per table: its pieces not yet finished, and its rows sent (for progress).
    let left: Vec<AtomicUsize> = (0..model.tables.len())
        .map(|_| AtomicUsize::new(0))
        .collect();
    for p in &pieces {
        left[p.table].fetch_add(1, Ordering::Relaxed);
    }
    let sent: Vec<AtomicU64> = (0..model.tables.len()).map(|_| AtomicU64::new(0)).collect();
    let parts: Vec<usize> = left.iter().map(|l| l.load(Ordering::Relaxed)).collect();
    // `streams` sessions, each loading one piece after another (a session per table cost
    // more than loading thousands of small tables); a session a failure broke is replaced.
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(pieces));
    let budget = Budget::new(IN_FLIGHT_BYTES);
    let workers = (0..opts.streams.max(1)).map(|_| async {
        let mut done = Vec::new();
        let mut session: Option<Client> = None;
        loop {
            let Some(piece) = queue.lock().expect("queue").pop_front() else {
                break;
            };
            let t = piece.table;
            let name = model.tables[t].name.clone();
            if piece.chunks.start == 0 {
                progress.start(
                    &name,
                    &format!(
                        "seeding {} rows",
                        crate::finding::thousands(model.tables[t].rows as f64)
                    ),
                );
            }
            let r = match &session {
                Some(c) if !c.is_closed() => Ok(()),
                _ => crate::capture::connect(target).await.map(|c| {
                    session = Some(c);
                }),
            };
            let r = match r {
                Ok(()) => {
                    let c = session.as_ref().expect("connected above");
                    let r = load(c, model.clone(), piece, &sent[t], &budget, progress).await;
                    if r.is_err() {
                        let _ = c.batch_execute("ROLLBACK").await;
                    }
                    r
                }
                Err(e) => Err(e.to_string()),
            };
            if left[t].fetch_sub(1, Ordering::AcqRel) == 1 {
                progress.finish(&name, "loaded");
            }
            done.push((t, r));
        }
        done
    });
    let results: Vec<(usize, std::result::Result<TableLoad, String>)> =
        futures_util::future::join_all(workers)
            .await
            .into_iter()
            .flatten()
            .collect();
    report.load_seconds = load_started.elapsed().as_secs_f64();
    // Pieces back into tables: a table loads when all its pieces did; one that failed in a
    // piece has the other pieces' rows removed, so it ends empty as a table loaded whole.
    let mut tables: std::collections::BTreeMap<usize, std::result::Result<TableLoad, String>> =
        Default::default();
    for (t, r) in results {
        match (tables.remove(&t), r) {
            (None, r) => tables.insert(t, r),
            (Some(Err(e)), _) | (Some(Ok(_)), Err(e)) => tables.insert(t, Err(e)),
            (Some(Ok(a)), Ok(b)) => tables.insert(
                t,
                Ok(TableLoad {
                    rows: a.rows + b.rows,
                    bytes: a.bytes + b.bytes,
                    seconds: a.seconds.max(b.seconds),
                    ..a
                }),
            ),
        };
    }
    let mut failures = Vec::new();
    for (t, r) in tables {
        match r {
            Ok(l) => report.tables.push(l),
            Err(e) if parts[t] > 1 => {
                let name = &model.tables[t].name;
                let emptied = empty_table(target, &model.tables[t]).await;
                failures.push(match emptied {
                    Ok(()) => format!("{name}: {e}"),
                    Err(why) => format!(
                        "{name}: {e} (and the rows its other sessions loaded could not be removed: {why};                          hint: TRUNCATE it before seeding again)"
                    ),
                });
            }
            Err(e) => failures.push(format!("{}: {e}", model.tables[t].name)),
        }
    }
    report.tables.sort_by(|a, b| a.table.cmp(&b.table));
    failures
}

/// Removes every row of a table loaded in pieces of which one failed: TRUNCATE, or DELETE
/// where TRUNCATE is refused (a foreign key from a table not seeded).
pub(super) async fn empty_table(
    target: &Target,
    table: &model::TableModel,
) -> std::result::Result<(), String> {
    let client = crate::capture::connect(target)
        .await
        .map_err(|e| e.to_string())?;
    let db = |e: tokio_postgres::Error| crate::capture::db_message(&e);
    let truncate = format!("TRUNCATE {}{}", only(table), table.name);
    if client.batch_execute(&truncate).await.is_ok() {
        return Ok(());
    }
    client
        .batch_execute(&format!("DELETE FROM {}{}", only(table), table.name))
        .await
        .map_err(db)
}
