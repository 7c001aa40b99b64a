//! Progress bars on stderr for long runs: one bar per pipeline stage, drawn only when
//! stderr is a terminal and `--quiet` is not given.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use neardedup::pipeline::{Progress, Total};

/// A [`Progress`] that draws an indicatif bar (or nothing).
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar on stderr, hidden when stderr is not a terminal or `quiet` is set.
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::hidden();
        if !quiet && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Bar { bar }
    }
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
        // Style and name first: resetting draws the bar, and should draw it
        // as this stage's.
        self.bar.set_style(style);
        self.bar.set_message(name.to_string());
        self.bar.reset();
    }

    fn advance(&self, amount: u64) {
        self.bar.inc(amount);
    }

    fn finish_stage(&self) {
        self.bar.finish_and_clear();
    }
}
