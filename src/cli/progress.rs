//! Progress as indicatif spinners and bars on stderr, drawn only when stderr is a terminal:
//! the binary's answer to the library's [`Progress`] trait.

use std::io::IsTerminal;
use std::time::Instant;

use pgparity::progress::Progress;

/// Progress as indicatif spinners on stderr; drawn only when stderr is a terminal.
pub struct Spinners {
    multi: indicatif::MultiProgress,
    bars: std::sync::Mutex<std::collections::BTreeMap<String, (indicatif::ProgressBar, Instant)>>,
}

impl Spinners {
    pub fn new() -> Spinners {
        let multi =
            indicatif::MultiProgress::with_draw_target(if std::io::stderr().is_terminal() {
                indicatif::ProgressDrawTarget::stderr()
            } else {
                indicatif::ProgressDrawTarget::hidden()
            });
        Spinners {
            multi,
            bars: Default::default(),
        }
    }
}

impl Progress for Spinners {
    fn start(&self, what: &str, action: &str) {
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("template"),
        );
        bar.set_message(format!("{what}: {action}"));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        self.bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(what.to_string(), (bar, Instant::now()));
    }
    fn finish(&self, what: &str, outcome: &str) {
        if let Some((bar, started)) = self
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(what)
        {
            bar.set_style(indicatif::ProgressStyle::with_template("  {msg}").expect("template"));
            bar.finish_with_message(format!(
                "{what}: {outcome} in {:.1}s",
                started.elapsed().as_secs_f64()
            ));
        }
    }
    fn step(&self, what: &str, done: usize, total: usize, units: &str) {
        if let Some((bar, _)) = self
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(what)
        {
            // Known totals turn the spinner into a bar (rows seeded, tables profiled...).
            if bar.length() != Some(total as u64) {
                bar.set_length(total as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} {elapsed}",
                    )
                    .expect("template")
                    .progress_chars("=> "),
                );
            }
            bar.set_position(done as u64);
            bar.set_message(format!("{what}: {units}"));
        }
    }
    fn note(&self, message: &str) {
        let _ = self.multi.println(format!("  {message}"));
    }
}
