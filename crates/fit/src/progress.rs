//! A Keras-like progress bar (steps, ETA, running loss and metrics) on a terminal; silent when
//! stderr is not a terminal or with `verbose = 0`.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often (in steps) the bar refreshes its logs; the step count and ETA move every step.
pub(crate) const REFRESH_EVERY: usize = 10;

/// One epoch's bar.
pub(crate) struct Progress {
    bar: ProgressBar,
    lines: bool,
}

impl Progress {
    /// `verbose`: 0 silent, 1 a bar (on a terminal), 2 one line per epoch.
    pub(crate) fn new(epoch: usize, epochs: usize, steps: usize, verbose: u8) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = if verbose == 1 && tty {
            let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{prefix} {pos}/{len} [{bar:30}] {elapsed_precise} ETA {eta} - {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("Epoch {}/{epochs}", epoch + 1));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar, lines: verbose == 2 || (verbose == 1 && !tty) }
    }

    /// Whether the bar shows logs after `step`: when it is visible, every [`REFRESH_EVERY`] steps
    /// (reading the logs waits for the device, so not every step).
    pub(crate) fn refresh_due(&self, step: usize) -> bool {
        !self.bar.is_hidden() && step.is_multiple_of(REFRESH_EVERY)
    }

    /// Shows `logs` on the bar.
    pub(crate) fn show(&self, logs: &BTreeMap<String, f64>) {
        self.bar.set_message(format_logs(logs));
    }

    /// One step done.
    pub(crate) fn advance(&self) {
        self.bar.inc(1);
    }

    pub(crate) fn finish(&self, epoch: usize, epochs: usize, logs: &BTreeMap<String, f64>) {
        self.bar.finish_with_message(format_logs(logs));
        if self.lines {
            eprintln!("Epoch {}/{epochs} - {}", epoch + 1, format_logs(logs));
        }
    }
}

/// `loss: 0.1234 - val_loss: 0.2345`, in Keras's order (training keys first).
pub(crate) fn format_logs(logs: &BTreeMap<String, f64>) -> String {
    let mut keys: Vec<&String> = logs.keys().collect();
    keys.sort_by_key(|k| (k.starts_with("val_"), k.as_str() != "loss" && k.as_str() != "val_loss", k.to_string()));
    keys.iter().map(|k| format!("{k}: {:.4}", logs[*k])).collect::<Vec<_>>().join(" - ")
}
