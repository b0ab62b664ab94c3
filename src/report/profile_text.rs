//! `pgparity profile` in text: one environment's measured data, table by table.

use std::fmt::Write;

use crate::snapshot::{ColumnProfile, Snapshot};

fn pct(x: f64) -> String {
    if x == 0.0 {
        "0 %".into()
    } else if x < 0.001 {
        "<0.1 %".into()
    } else {
        format!("{:.1} %", x * 100.0)
    }
}

fn big(x: f64) -> String {
    crate::finding::thousands(x)
}

fn mb(b: i64) -> String {
    format!("{:.1} MB", b as f64 / 1024.0 / 1024.0)
}

fn column(out: &mut String, name: &str, c: &ColumnProfile) {
    let nulls = if c.rows == 0 {
        0.0
    } else {
        c.nulls as f64 / c.rows as f64
    };
    let distinct = c
        .distinct
        .as_ref()
        .map(|d| format!("{} distinct ({})", big(d.value), d.method))
        .unwrap_or_default();
    let _ = write!(
        out,
        "    {name:<24} {:<8} {:>7} NULL  {distinct}",
        c.kind,
        pct(nulls)
    );
    if let (Some(min), Some(max)) = (c.min, c.max) {
        let _ = write!(out, "  range {min} .. {max}");
    }
    if c.length_bytes.len() == 7 {
        let _ = write!(
            out,
            "  length p50 {} max {} bytes",
            c.length_bytes[3], c.length_bytes[6]
        );
    }
    let non_null = (c.rows - c.nulls).max(1) as f64;
    let classes: Vec<String> = c
        .classes
        .iter()
        .filter(|(k, v)| **v > 0 && k.as_str() != "ascii_only")
        .map(|(k, v)| format!("{k} {}", pct(*v as f64 / non_null)))
        .collect();
    if !classes.is_empty() {
        let _ = write!(out, "  [{}]", classes.join(", "));
    }
    if !c.labels.is_empty() {
        let labels: Vec<String> = c
            .labels
            .iter()
            .map(|(k, v)| format!("{k} {}", pct(*v as f64 / non_null)))
            .collect();
        let _ = write!(out, "  values: {}", labels.join(", "));
    }
    let _ = writeln!(out);
}

pub fn render(snap: &Snapshot) -> String {
    let mut out = String::new();
    let Some(p) = &snap.profile else {
        return "no data profile in this snapshot (captured with --no-profile)\n".into();
    };
    let _ = writeln!(
        out,
        "{} ({}, PostgreSQL {}), profiled {}: {} tables, {} relationships; hash key {}{}",
        snap.meta.environment,
        snap.meta.target,
        snap.inventory.server_version,
        snap.meta.captured_at,
        p.tables.len(),
        p.relationships.len(),
        p.hash_key_id,
        if p.raw_values {
            ", raw values kept"
        } else {
            ""
        }
    );
    for (name, t) in p.tables.iter() {
        let how = match &t.method.percent {
            Some(pc) => format!(
                "{} sample of {pc:.4} %, {} rows read",
                t.method.kind,
                big(t.method.rows_read as f64)
            ),
            None => "every row read".to_string(),
        };
        let _ = writeln!(
            out,
            "\n  {name}: {} rows{} ({how}); {} table, {} indexes",
            big(t.rows),
            if t.rows_exact { "" } else { " estimated" },
            mb(t.table_bytes),
            mb(t.index_bytes)
        );
        for (col, c) in &t.columns {
            column(&mut out, col, c);
        }
    }
    if !p.relationships.is_empty() {
        let _ = writeln!(out, "\n  relationships (children per parent):");
        for (key, r) in &p.relationships {
            let q = |i: usize| r.fanout.get(i).copied().unwrap_or(0.0);
            let childless = if r.parents == 0 {
                0.0
            } else {
                r.childless as f64 / r.parents as f64
            };
            let _ = writeln!(
                out,
                "    {key}: {} parents{}, {} childless, p50 {} p90 {} p99 {} p99.9 {} max {}; {} of {} children orphaned",
                big(r.parents as f64),
                if r.parents_sampled { " (sampled)" } else { "" },
                pct(childless),
                q(0),
                q(1),
                q(2),
                q(3),
                big(r.max),
                big(r.orphans as f64),
                big(r.children as f64)
            );
        }
    }
    let problems: Vec<_> = snap
        .problems
        .iter()
        .filter(|x| x.area.starts_with("profile") || x.area.starts_with("relationship"))
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n  not measured:");
        for x in problems {
            let _ = writeln!(out, "    {}: {}", x.area, x.message);
        }
    }
    out
}
