//! A fleet's report as text (a terminal) and Markdown (a scheduled report, a job summary):
//! the verdict, the targets farthest from the reference, then each difference once with the
//! targets that have it.

use std::fmt::Write;

use super::FleetReport;
use crate::finding::Severity;

/// Targets listed by name at most (the rest counted).
const NAMED: usize = 10;
/// Targets in the ranking at most (the rest counted).
const RANKED: usize = 20;

fn counts(open: &[usize; 5]) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .zip(open)
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    if parts.is_empty() {
        "no open finding".into()
    } else {
        parts.join(", ")
    }
}

fn heading(r: &FleetReport) -> String {
    format!(
        "pgparity fleet: {} targets against {} (PostgreSQL {}, {}){}",
        r.targets.len(),
        r.reference.name,
        r.reference.server_version,
        r.reference.database,
        r.shard
            .as_deref()
            .map(|s| format!(", shard {s}"))
            .unwrap_or_default()
    )
}

fn verdict(r: &FleetReport) -> String {
    let failing = r.targets.iter().filter(|t| t.failing > 0).count();
    let mut s = if r.failed() {
        format!(
            "FAIL: {failing} of {} targets have open findings at or above {}",
            r.targets.len(),
            r.fail_on
        )
    } else {
        format!(
            "PASS: no target has an open finding at or above {}",
            r.fail_on
        )
    };
    if r.unreachable() > 0 {
        s += &format!(" ({} could not be compared)", r.unreachable());
    }
    s
}

pub fn render_text(r: &FleetReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", heading(r));
    let _ = writeln!(out, "{}", verdict(r));
    let _ = writeln!(
        out,
        "{} differences; open findings over all targets: {}",
        r.differences.len(),
        counts(&r.open())
    );
    let _ = writeln!(out, "\nTargets, farthest from the reference first:");
    for t in r.targets.iter().take(RANKED) {
        let what = match &t.error {
            Some(e) => format!("not compared: {e}"),
            None => counts(&t.open),
        };
        let _ = writeln!(out, "  {:<24} {what}", t.name);
    }
    if r.targets.len() > RANKED {
        let _ = writeln!(out, "  ... and {} more", r.targets.len() - RANKED);
    }
    if !r.differences.is_empty() {
        let _ = writeln!(out, "\nDifferences:");
    }
    for d in &r.differences {
        let _ = writeln!(
            out,
            "\n[{}] {}\n  {}\n  {}\n  why: {}\n  hint: {}",
            d.severity.name().to_uppercase(),
            d.id,
            d.message,
            r.spread(d, NAMED),
            d.why,
            d.hint
        );
    }
    if !r.unused_acceptances.is_empty() {
        let _ = writeln!(
            out,
            "\nAcceptances that matched nothing in any target: {}",
            r.unused_acceptances.join(", ")
        );
    }
    for p in &r.reference_problems {
        let _ = writeln!(out, "\nreference: {p}");
    }
    out
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render_markdown(r: &FleetReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n\n**{}**\n", md(&heading(r)), verdict(r));
    let _ = writeln!(out, "### Targets, farthest from the reference first\n");
    let _ = writeln!(
        out,
        "| target | critical | high | medium | low | info | accepted | note |\n|---|---|---|---|---|---|---|---|"
    );
    for t in r.targets.iter().take(RANKED * 5) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&t.name),
            t.open[0],
            t.open[1],
            t.open[2],
            t.open[3],
            t.open[4],
            t.accepted,
            md(t.error.as_deref().unwrap_or(""))
        );
    }
    if r.targets.len() > RANKED * 5 {
        let _ = writeln!(
            out,
            "\n_... and {} more targets_",
            r.targets.len() - RANKED * 5
        );
    }
    let _ = writeln!(out, "\n### Differences\n");
    if r.differences.is_empty() {
        let _ = writeln!(out, "None: every target matches the reference.");
    } else {
        let _ = writeln!(
            out,
            "| severity | difference | targets | message |\n|---|---|---|---|"
        );
        for d in &r.differences {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                d.severity,
                md(&d.id),
                md(&r.spread(d, NAMED)),
                md(&d.message)
            );
        }
    }
    if !r.unused_acceptances.is_empty() {
        let _ = writeln!(
            out,
            "\nAcceptances that matched nothing: {}",
            md(&r.unused_acceptances.join(", "))
        );
    }
    out
}
