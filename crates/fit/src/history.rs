//! The history of a `fit`: one value per epoch for each logged quantity, written as CSV
//! atomically (temporary file, then rename: [`objectives::atomic`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{FitError, Result};

/// Per-epoch logs: `loss`, `<output>_loss`, metrics, and their `val_` counterparts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The epochs recorded (0-based).
    pub epochs: Vec<usize>,
    /// Each quantity's values, one per recorded epoch.
    pub values: BTreeMap<String, Vec<f64>>,
    /// Each vector-valued metric's results (a thresholds list, F1 with `average=None`), one
    /// vector per recorded epoch: Keras's History holds these arrays under the metric's name.
    pub vectors: BTreeMap<String, Vec<Vec<f64>>>,
    /// The epochs at which each quantity was logged: every epoch, or fewer for the `val_` keys
    /// under `validation_freq`. A key missing here (a history built by hand) has a value for
    /// every entry of [`History::epochs`]. Read it through [`History::epochs_of`].
    pub logged_at: BTreeMap<String, Vec<usize>>,
}

impl History {
    /// Records epoch `epoch`'s scalar and vector logs. As Keras's `History`, a key absent from
    /// an epoch's logs (validation skipped by `validation_freq`) gets no entry for it.
    pub(crate) fn push(&mut self, epoch: usize, logs: &BTreeMap<String, f64>, vectors: &BTreeMap<String, Vec<f64>>) {
        self.epochs.push(epoch);
        for (k, v) in logs {
            self.values.entry(k.clone()).or_default().push(*v);
            self.logged_at.entry(k.clone()).or_default().push(epoch);
        }
        for (k, v) in vectors {
            self.vectors.entry(k.clone()).or_default().push(v.clone());
            self.logged_at.entry(k.clone()).or_default().push(epoch);
        }
    }

    /// The epochs (0-based) at which `key` has values: every recorded epoch, or fewer for the
    /// `val_` keys when `validation_freq` skipped some.
    pub fn epochs_of(&self, key: &str) -> &[usize] {
        self.logged_at.get(key).map_or(self.epochs.as_slice(), Vec::as_slice)
    }

    /// The per-epoch vectors of a vector-valued metric (e.g. `"f1_score"` with `average=None`).
    pub fn get_vector(&self, key: &str) -> Option<&[Vec<f64>]> {
        self.vectors.get(key).map(Vec::as_slice)
    }

    /// The values of `key` (e.g. `"val_loss"`), if logged.
    pub fn get(&self, key: &str) -> Option<&[f64]> {
        self.values.get(key).map(Vec::as_slice)
    }

    /// The history as CSV text: `epoch` and one column per quantity; a vector is written as
    /// Keras's `CSVLogger` writes it, `"[a, b, …]"`.
    pub fn to_csv(&self) -> String {
        let mut keys: Vec<&String> = self.values.keys().chain(self.vectors.keys()).collect();
        keys.sort();
        let mut out = String::from("epoch");
        for k in &keys {
            out.push(',');
            out.push_str(k);
        }
        out.push('\n');
        for (row, epoch) in self.epochs.iter().enumerate() {
            out.push_str(&epoch.to_string());
            for k in &keys {
                out.push(',');
                // The value logged at this epoch, if any (an empty cell where validation was skipped).
                let Some(i) = (match self.logged_at.get(*k) {
                    Some(at) => at.iter().position(|e| e == epoch),
                    None => Some(row),
                }) else {
                    continue;
                };
                if let Some(v) = self.values.get(*k).and_then(|v| v.get(i)) {
                    out.push_str(&v.to_string());
                } else if let Some(v) = self.vectors.get(*k).and_then(|v| v.get(i)) {
                    let items: Vec<String> = v.iter().map(f64::to_string).collect();
                    out.push_str(&format!("\"[{}]\"", items.join(", ")));
                }
            }
            out.push('\n');
        }
        out
    }

    /// Writes [`History::to_csv`] to `path` atomically.
    ///
    /// # Errors
    /// [`FitError::Io`] naming the path.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), self.to_csv().as_bytes())
    }
}

/// Writes `bytes` to `path` with [`objectives::atomic::write_atomically`] (temporary file beside
/// `path`, `fsync`, rename), so a crash never leaves a torn file.
///
/// # Errors
/// [`FitError::Io`] naming the path.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    objectives::atomic::write_atomically(path, bytes).map_err(|e| FitError::Io(format!("{}: {e}", path.display())))
}
