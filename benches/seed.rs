//! Seeding speed on PostgreSQL 15 (which has pgbench), against references run in the same
//! process:
//!
//!   cargo bench --bench seed                 (2,000,000 lineitem rows; pgbench scale 10; 10M rows)
//!   cargo bench --bench seed -- --rows N     (lineitem rows)
//!   cargo bench --bench seed -- --streams 4 --big 0   (4 COPY streams; skip the 10M-row load)
//!
//! Prints: rows/s seeding a lineitem-shaped table (16 columns) into an empty table / rows/s of
//! `COPY FROM` of the same bytes read from a file (goal ≥ 1.3 with streams); rows/s seeding a
//! pgbench_accounts-shaped table / `pgbench -i` rows/s (data generation step only; goal ≥ 1.5);
//! the time for a 10-million-row lineitem with its orders, keys, foreign keys and ANALYZE.
//! Under `cargo test` it runs small (smoke mode) and checks nothing but that it runs.

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use common::Figure;

use pgparity::capture::Target;
use pgparity::cluster::{Cluster, ClusterOptions, Install};
use pgparity::conninfo::ConnInfo;
use pgparity::progress::NoProgress;
use pgparity::seed::SeedOptions;

fn target(c: &Cluster, db: &str) -> Target {
    Target {
        name: db.into(),
        conninfo: ConnInfo::parse(&c.conninfo(db)).unwrap(),
        protected: false,
    }
}

fn seed(
    c: &Cluster,
    snap: &std::path::Path,
    db: &str,
    opts: SeedOptions,
) -> pgparity::seed::SeedReport {
    c.execute("postgres", &format!("CREATE DATABASE {db}"))
        .unwrap();
    pgparity::run::seed(
        &pgparity::run::SeedRequest {
            snapshot: snap.to_path_buf(),
            target: target(c, db),
            options: SeedOptions {
                create_schema: true,
                ..opts
            },
            verify: false,
            capture: Default::default(),
            profile: Default::default(),
            thresholds: Default::default(),
        },
        &NoProgress,
    )
    .unwrap()
    .0
}

fn snapshot(c: &Cluster, db: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let snap = pgparity::run::snapshot(
        &target(c, db),
        &Default::default(),
        Some(&Default::default()),
        &[],
        &NoProgress,
    )
    .unwrap();
    let path = dir.join(format!("{db}.json"));
    snap.write(&path).unwrap();
    path
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let rows = arg("--rows").unwrap_or(if full { 2_000_000 } else { 20_000 });
    let scale = if full { 10 } else { 1 };
    let big = arg("--big").unwrap_or(if full { 10_000_000 } else { 50_000 });
    let streams = arg("--streams").unwrap_or(SeedOptions::default().streams as u64) as usize;
    println!("seeding with {streams} COPY streams");
    let runs = arg("--runs").unwrap_or(if full { 3 } else { 1 }) as usize;
    let install = Install::find(15).unwrap_or_else(|e| panic!("{e}"));
    let c = Cluster::start(&install, &ClusterOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // The source: TPC-H-shaped data, and a lineitem-shaped table without foreign keys.
    c.execute("postgres", "CREATE DATABASE src").unwrap();
    c.execute("src", include_str!("../tests/fixtures/tpch_schema.sql"))
        .unwrap();
    c.execute(
        "src",
        &include_str!("../tests/fixtures/tpch_data.sql").replace("{SF}", "0.01"),
    )
    .unwrap();
    c.execute("src", "CREATE TABLE li (LIKE lineitem INCLUDING ALL); INSERT INTO li SELECT * FROM lineitem; ANALYZE")
        .unwrap();
    let src = snapshot(&c, "src", dir.path());

    // 1. lineitem-shaped rows/s vs COPY FROM of the same bytes, interleaved: seed, COPY, seed...
    let seed_li = |round: usize| {
        seed(
            &c,
            &src,
            &format!("seed_li{round}"),
            SeedOptions {
                include: vec!["public.li".into()],
                rows: [("public.li".to_string(), rows)].into_iter().collect(),
                streams,
                ..Default::default()
            },
        )
    };
    let first = seed_li(0);
    let seeded = first.rows();
    // The prepared file: the seeded rows as COPY text, written to disk and read back in 1 MB
    // pieces as COPY FROM sends them (held in memory, 60M rows' 9 GB squeezed the page cache
    // the server's writes need, and the reference was not a clean one).
    let reference = dir.path().join("li.copy");
    let mb = rt.block_on(async {
        use std::io::Write;
        let from = pgparity::capture::connect(&target(&c, "seed_li0"))
            .await
            .unwrap();
        let out = from.copy_out("COPY li TO STDOUT").await.unwrap();
        let mut out = std::pin::pin!(out);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&reference).unwrap());
        let mut bytes = 0usize;
        while let Some(chunk) = futures_util::StreamExt::next(&mut out).await {
            let chunk = chunk.unwrap();
            bytes += chunk.len();
            file.write_all(&chunk).unwrap();
        }
        file.flush().unwrap();
        bytes as f64 / 1e6
    });
    let copy_from = |round: usize| {
        let db = format!("copy_li{round}");
        c.execute("postgres", &format!("CREATE DATABASE {db}"))
            .unwrap();
        rt.block_on(async {
            let into = pgparity::capture::connect(&target(&c, &db)).await.unwrap();
            into.batch_execute(include_str!("../tests/fixtures/tpch_schema.sql"))
                .await
                .unwrap();
            into.batch_execute("CREATE TABLE li (LIKE lineitem)")
                .await
                .unwrap();
            let started = Instant::now();
            into.batch_execute("BEGIN").await.unwrap();
            let sink = into
                .copy_in::<_, bytes::Bytes>("COPY li FROM STDIN")
                .await
                .unwrap();
            let mut sink = std::pin::pin!(sink);
            let mut file = std::fs::File::open(&reference).unwrap();
            loop {
                let mut piece = vec![0u8; 1 << 20];
                let n = std::io::Read::read(&mut file, &mut piece).unwrap();
                if n == 0 {
                    break;
                }
                piece.truncate(n);
                futures_util::SinkExt::send(&mut sink, bytes::Bytes::from(piece))
                    .await
                    .unwrap();
            }
            sink.as_mut().finish().await.unwrap();
            into.batch_execute("COMMIT").await.unwrap();
            started.elapsed().as_secs_f64()
        })
    };
    // Rates, so the ratio reads "≥ goal": the reference's time over ours.
    let mut li = Figure::new("COPY FROM time");
    li.reference.push(first.load_seconds);
    li.times.push(copy_from(0));
    for round in 1..runs {
        li.reference.push(seed_li(round).load_seconds);
        li.times.push(copy_from(round));
    }
    println!(
        "lineitem-shaped: {seeded} rows ({mb:.0} MB as COPY text); median of {runs} interleaved runs (min–max); the figure is COPY FROM's time, the ratio seed rows/s over COPY rows/s:"
    );
    li.print("seed time (= seed rate / COPY rate, goal >= 1.3)");

    // 2. pgbench_accounts-shaped vs pgbench's own loader.
    c.execute("postgres", "CREATE DATABASE pgb").unwrap();
    let pgbench = |db: &str, scale: u64| {
        let started = Instant::now();
        let out = std::process::Command::new(install.tool("pgbench"))
            .args([
                "-i",
                "-q",
                "-I",
                "dtg",
                "-s",
                &scale.to_string(),
                "-h",
                &c.dir.display().to_string(),
                "-p",
                &c.port.to_string(),
                "-U",
                "postgres",
                db,
            ])
            .output()
            .expect("run pgbench");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed().as_secs_f64()
    };
    pgbench("pgb", 1);
    c.execute(
        "pgb",
        "ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid); ANALYZE",
    )
    .unwrap();
    let pgb_src = snapshot(&c, "pgb", dir.path());
    // Short runs on a small machine are noisy: interleaved, medians compared.
    let mut accounts = Figure::new("pgbench -i time");
    let mut r = pgparity::seed::SeedReport::default();
    for round in 0..runs {
        let db = format!("pgb_ref{round}");
        c.execute("postgres", &format!("CREATE DATABASE {db}"))
            .unwrap();
        accounts.times.push(pgbench(&db, scale));
        let acc_rows = [("public.pgbench_accounts".to_string(), 100_000 * scale)]
            .into_iter()
            .collect();
        r = seed(
            &c,
            &pgb_src,
            &format!("seed_pgb{round}"),
            SeedOptions {
                include: vec!["public.pgbench_accounts".into()],
                rows: acc_rows,
                streams,
                ..Default::default()
            },
        );
        accounts.reference.push(r.load_seconds);
    }
    // Generation alone (no server): the share of the load the generator costs.
    let model = pgparity::seed::model::build(
        &pgparity::snapshot::Snapshot::read(&pgb_src).unwrap(),
        &SeedOptions {
            include: vec!["public.pgbench_accounts".into()],
            rows: [("public.pgbench_accounts".to_string(), 100_000 * scale)]
                .into_iter()
                .collect(),
            ..Default::default()
        },
    )
    .unwrap();
    let started = Instant::now();
    let chunks = model.tables[0].rows.div_ceil(model.tables[0].chunk_rows);
    let bytes: usize = {
        use rayon::prelude::*;
        (0..chunks)
            .into_par_iter()
            .map(|k| pgparity::seed::chunk(&model, 0, k).len())
            .sum()
    };
    let gen_secs = started.elapsed().as_secs_f64();
    println!(
        "pgbench_accounts-shaped generation alone: {:.0} rows/s ({:.0} MB/s)",
        model.tables[0].rows as f64 / gen_secs,
        bytes as f64 / 1e6 / gen_secs
    );
    println!(
        "pgbench_accounts-shaped: {} rows, median of {runs} interleaved runs (min–max); the figure is pgbench -i -s {scale}'s time (data generation), the ratio seed rows/s over pgbench's:",
        r.rows()
    );
    accounts.print("seed time (= seed rate / pgbench rate, goal >= 1.5)");

    // 3. A 10-million-row lineitem with its orders and the small tables, keys, FKs, ANALYZE.
    if big == 0 {
        return;
    }
    let big_rows = [
        ("public.lineitem".to_string(), big),
        ("public.orders".to_string(), big / 4),
    ]
    .into_iter()
    .collect();
    let r = seed(
        &c,
        &src,
        "seed_big",
        SeedOptions {
            include: vec![
                "public.lineitem".into(),
                "public.orders".into(),
                "public.customer".into(),
                "public.part".into(),
                "public.supplier".into(),
                "public.nation".into(),
                "public.region".into(),
            ],
            rows: big_rows,
            streams,
            ..Default::default()
        },
    );
    println!(
        "{} rows ({} in lineitem) with keys, foreign keys and ANALYZE: {:.1}s (load {:.1}s)",
        r.rows(),
        big,
        r.seconds,
        r.load_seconds
    );
    assert!(
        r.problems.iter().all(|p| p.area != "constraints"),
        "{:?}",
        r.problems
    );
}
