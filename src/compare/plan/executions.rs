//! Timed executions compared: each side's runs of a query (interleaved with the other's when
//! they were taken), medians and spreads, a side slower beyond the noise. One method for
//! `check --explain-analyze` (runs kept in each side's snapshot) and `rehearse --execute`.

use super::*;
use crate::snapshot::plan::Timing;

/// A regression needs a ratio (time or buffers) and an absolute floor, and must hold across
/// runs (the slower side's fastest run slower than the other side's slowest).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub time_ratio: f64,
    pub buffers_ratio: f64,
    /// Milliseconds.
    pub floor_ms: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time_ratio: 1.5,
            buffers_ratio: 2.0,
            floor_ms: 5.0,
        }
    }
}

/// The fewest runs per side a comparison rests on.
pub const MIN_RUNS: usize = 3;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub fn spread(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        })
}

/// Whether side `b` is worse than side `a`: a ratio of time or buffers, the floor in time,
/// and `b`'s fastest run slower than `a`'s slowest.
pub fn worse(a: &[Timing], b: &[Timing], limits: &Limits) -> bool {
    let times = |r: &[Timing]| r.iter().map(|x| x.ms).collect::<Vec<_>>();
    let bufs = |r: &[Timing]| median(r.iter().map(|x| x.buffers + x.temp).collect());
    let (ma, mb) = (median(times(a)), median(times(b)));
    let ((_, hi_a), (lo_b, _)) = (spread(&times(a)), spread(&times(b)));
    (mb >= limits.time_ratio * ma || bufs(b) >= limits.buffers_ratio * bufs(a).max(1.0))
        && mb - ma >= limits.floor_ms
        && lo_b > hi_a
}

/// A side's runs in words: `median 31.8 ms (30.2–35.0), 1,234 buffers, 2,400 temporary`.
pub fn figures(r: &[Timing]) -> (f64, String) {
    let times: Vec<f64> = r.iter().map(|x| x.ms).collect();
    let (lo, hi) = spread(&times);
    let m = median(times);
    let b = median(r.iter().map(|x| x.buffers).collect());
    let t = median(r.iter().map(|x| x.temp).collect());
    let temp = if t > 0.0 {
        format!(", {} temporary blocks", crate::finding::thousands(t))
    } else {
        String::new()
    };
    (
        m,
        format!(
            "median {m:.1} ms ({lo:.1}–{hi:.1}), {} buffers{temp}",
            crate::finding::thousands(b)
        ),
    )
}

/// A regression (high) or an improvement (info) of one query's timed runs, or nothing;
/// `rested` says what the runs rest on (the rows the sides hold, seeded rows).
pub fn finding(
    path: &str,
    (a, b): (&[Timing], &[Timing]),
    limits: &Limits,
    names: (&str, &str),
    rested: &str,
) -> Option<Finding> {
    if a.len() < MIN_RUNS || b.len() < MIN_RUNS {
        return None;
    }
    let (regressed, improved) = (worse(a, b, limits), worse(b, a, limits));
    if !regressed && !improved {
        return None;
    }
    let ((ma, fa), (mb, fb)) = (figures(a), figures(b));
    let object = query_object(path);
    let f = if regressed {
        Finding::new(Category::Plan, Severity::High, object, "regression")
            .message(format!(
                "{path} is {:.1}× slower on {}: {fb} against {fa} on {} ({} runs each, interleaved; {rested})",
                mb / ma.max(1e-3),
                names.1,
                names.0,
                b.len()
            ))
            .why("the query the application runs is slower on one side, every run, beyond the noise")
            .hint("compare the two plans and the settings that size its nodes (work_mem, parallel workers), and the data's layout")
    } else {
        Finding::new(Category::Plan, Severity::Info, object, "improvement").message(format!(
            "{path} is {:.1}× faster on {}: {fb} against {fa} on {} ({} runs each, interleaved; {rested})",
            ma / mb.max(1e-3),
            names.1,
            names.0,
            b.len()
        ))
    };
    Some(f.values(Some(fa), Some(fb)))
}

/// Why a query's runs differ: its plan-shape finding's cause, linked, when its shape changed;
/// else `same_shape` in words.
pub fn cause(found: &[Finding], path: &str, same_shape: &str) -> Cause {
    let shape = shape_id(path);
    match found.iter().find(|x| x.id == shape) {
        Some(sf) => {
            let mut c = sf.causes.first().cloned().unwrap_or(Cause {
                kind: CauseKind::PlannerVersion,
                evidence: "the plan's shape changed".into(),
                links: Vec::new(),
            });
            c.links.push(shape);
            c
        }
        None => Cause {
            kind: CauseKind::Unknown,
            evidence: same_shape.into(),
            links: Vec::new(),
        },
    }
}

/// `check --explain-analyze`: each query timed on both sides gives a regression or an
/// improvement beyond the noise; its cause is the plan's shape when that changed (linked),
/// else what the same plan ran with.
pub(super) fn compare(s: &Sides, found: &[Finding], out: &mut Vec<Finding>) {
    let (Some(lp), Some(rp)) = (s.left.plans.as_ref(), s.right.plans.as_ref()) else {
        return;
    };
    each_key(lp, rp, |path, l, r| {
        let (Some(l), Some(r)) = (l, r) else { return };
        let Some(mut f) = finding(
            path,
            (&l.timings, &r.timings),
            &Limits::default(),
            (&s.left_name, &s.right_name),
            "the rows each side holds",
        ) else {
            return;
        };
        f.causes.push(cause(
            found,
            path,
            "the same plan shape on both: what its nodes ran with differs (memory for sorts and hashes spilling to disk, parallel workers, caching, the rows' layout)",
        ));
        f.weight = l.weight.or(r.weight);
        f.plans = Some(Box::new(PlanPair {
            left: l.plan.clone(),
            right: r.plan.clone(),
        }));
        out.push(f);
    });
}
