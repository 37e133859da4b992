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
}

impl History {
    pub(crate) fn push(&mut self, epoch: usize, logs: &BTreeMap<String, f64>) {
        self.epochs.push(epoch);
        for (k, v) in logs {
            self.values.entry(k.clone()).or_default().push(*v);
        }
    }

    /// The values of `key` (e.g. `"val_loss"`), if logged.
    pub fn get(&self, key: &str) -> Option<&[f64]> {
        self.values.get(key).map(Vec::as_slice)
    }

    /// The history as CSV text: `epoch` and one column per quantity.
    pub fn to_csv(&self) -> String {
        let keys: Vec<&String> = self.values.keys().collect();
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
                if let Some(v) = self.values[*k].get(row) {
                    out.push_str(&v.to_string());
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
