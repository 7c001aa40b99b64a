//! Progress on stderr for long runs, as the command line and the Python package
//! show it: one bar per pipeline stage when stderr is a terminal; when it is not
//! (a log file, a batch job, a notebook), one line per finished stage with its
//! time and throughput. Nothing when quiet.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use crate::pipeline::{Progress, Total};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The stage being logged: its name, when it began, its total.
type LoggedStage = (String, Instant, Option<Total>);

/// A [`Progress`] that draws an indicatif bar, writes log lines, or stays silent.
pub struct Bar {
    bar: ProgressBar,
    /// Leave notes out (warnings are still written).
    quiet: bool,
    /// Log lines instead of a bar: the current stage.
    log: Option<Mutex<Option<LoggedStage>>>,
}

impl Bar {
    /// A bar on stderr when it is a terminal, log lines when it is not, nothing
    /// when `quiet` is set.
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::hidden();
        let terminal = std::io::stderr().is_terminal();
        if !quiet && terminal {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        let log = (!quiet && !terminal).then(|| Mutex::new(None));
        Bar { bar, quiet, log }
    }
}

/// One line for a finished stage: its time and, with a total, its throughput.
fn stage_line(name: &str, seconds: f64, total: Option<Total>) -> String {
    let rate = match total {
        Some(Total::Bytes(bytes)) if seconds > 0.0 => {
            format!(", {:.1} MB/s", bytes as f64 / seconds / 1e6)
        }
        Some(Total::Items(items, what)) => format!(", {items} {what}"),
        _ => String::new(),
    };
    format!("neardedup: {name} done in {seconds:.2}s{rate}")
}

impl Progress for Bar {
    fn stage(&self, name: &str, total: Option<Total>) {
        let template = match total {
            Some(Total::Bytes(total)) => {
                self.bar.set_length(total);
                "{msg:>12} [{bar:40}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}".to_string()
            }
            Some(Total::Items(total, what)) => {
                self.bar.set_length(total);
                format!("{{msg:>12}} [{{bar:40}}] {{human_pos}}/{{human_len}} {what}, {{elapsed}} elapsed, eta {{eta}}")
            }
            None => {
                self.bar.unset_length();
                "{msg:>12} {spinner} {elapsed}".to_string()
            }
        };
        let style = match total {
            Some(_) => ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            None => ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        };
        if let Some(log) = &self.log {
            if let Ok(mut current) = log.lock() {
                *current = Some((name.to_string(), Instant::now(), total));
            }
        }
        // Style and name first: resetting draws the bar, and should draw it
        // as this stage's.
        self.bar.set_style(style);
        self.bar.set_message(name.to_string());
        self.bar.reset();
    }

    fn advance(&self, amount: u64) {
        self.bar.inc(amount);
    }

    fn note(&self, message: &str) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("neardedup: {message}"));
        }
    }

    fn warn(&self, message: &str) {
        self.bar
            .suspend(|| eprintln!("neardedup: warning: {message}"));
    }

    fn finish_stage(&self) {
        self.bar.finish_and_clear();
        if let Some(log) = &self.log {
            if let Some((name, began, total)) = log.lock().ok().and_then(|mut c| c.take()) {
                // A closed stderr (`2>&1 | head`) is no reason to stop the run.
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    stage_line(&name, began.elapsed().as_secs_f64(), total)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_lines_give_time_and_throughput() {
        assert_eq!(
            stage_line("sketch", 2.0, Some(Total::Bytes(500_000_000))),
            "neardedup: sketch done in 2.00s, 250.0 MB/s"
        );
        assert_eq!(
            stage_line("verify", 0.5, Some(Total::Items(12, "pairs"))),
            "neardedup: verify done in 0.50s, 12 pairs"
        );
        assert_eq!(
            stage_line("cluster", 0.0, None),
            "neardedup: cluster done in 0.00s"
        );
    }
}
