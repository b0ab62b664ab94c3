//! Named steps a test can stop the process at (`PGPARITY_PAUSE_AT=step[,step...]`), so it
//! kills, interrupts or disturbs a run at a point it chooses instead of guessing the moment
//! with a sleep (a guess that measures the machine's speed, not the product's behaviour).
//!
//! The first time a run reaches a named step it prints `pgparity: paused at STEP` on standard
//! error and waits for a line (or the end) on standard input; the test then acts (SIGKILL,
//! SIGINT, a terminated backend...) and, to let the run go on, writes a line or closes the
//! pipe. Later arrivals at the same step go on (each step pauses once); other threads are not
//! stopped. Unset (every normal run), a step costs one load of a cached flag.
//!
//! The steps, where they are reached:
//! - `capture:catalog`: the catalog is read, before the profile
//! - `capture:area`: a catalog area's query is about to run (its session holds the snapshot)
//! - `profile:read`: a table's (or a group's) COPY is about to be sent on its session
//! - `profile:streaming`: a table's COPY has sent its first full batch (65,536 rows); the
//!   statement still runs, holding its snapshot and lock
//! - `profile:table`: a table's profile is measured and kept
//! - `plan:query`: a corpus query is about to be planned on its session
//! - `output:written`: an output file's bytes are complete and on disk, not yet named
//! - `seed:range-committed`: a range of a table loaded in several ranges has committed (the
//!   others may still load; the database's comment names the table as loading)
//! - `seed:loaded`: every row is loaded and committed, before the first VACUUM round
//! - `seed:vacuumed`: after the load, a round of VACUUM (of the tables production keeps
//!   mostly all-visible) has ended, before the tables still short are found
//! - `rehearse:clusters`: the rehearsal's clusters run, before they are seeded
//! - `rehearse:seeded`: both clusters are seeded, before the corpus is planned

use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

/// The variable naming the steps to pause at.
pub const VAR: &str = "PGPARITY_PAUSE_AT";

/// Steps still to pause at (each pauses once), read once from [`VAR`].
fn pending() -> &'static Option<Mutex<Vec<String>>> {
    static STEPS: OnceLock<Option<Mutex<Vec<String>>>> = OnceLock::new();
    STEPS.get_or_init(|| {
        let v = std::env::var(VAR).ok()?;
        let steps: Vec<String> = v
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (!steps.is_empty()).then(|| Mutex::new(steps))
    })
}

/// Pauses at `step` if the run was asked to (see the module's documentation); else returns at
/// once. Blocks the calling thread while paused.
pub fn at(step: &str) {
    let Some(steps) = pending() else {
        return;
    };
    {
        let mut steps = steps.lock().unwrap_or_else(|e| e.into_inner());
        let Some(i) = steps.iter().position(|s| s == step) else {
            return;
        };
        steps.remove(i);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "pgparity: paused at {step}");
    let _ = err.flush();
    drop(err);
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}
