//! Progress reporting, as a small trait the library calls; only the binary decides how (and
//! whether) to show it, on stderr.

/// Receives progress events from long operations.
pub trait Progress: Sync {
    /// `what` (an environment, a cluster) begins `action`.
    fn start(&self, what: &str, action: &str);
    /// `what` is done, with a one-word outcome.
    fn finish(&self, what: &str, outcome: &str);
    /// `what` has done `done` of `total` `units` (`tables profiled`, `queries planned`).
    fn step(&self, _what: &str, _done: usize, _total: usize, _units: &str) {}
    /// A free-form step.
    fn note(&self, _message: &str) {}
}

/// Shows nothing (tests, piped output).
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: &str) {}
    fn finish(&self, _: &str, _: &str) {}
}
