//! The history of a `fit`: one value per epoch for each logged quantity, written as CSV
//! atomically (temporary file, then rename).

use std::collections::BTreeMap;
use std::io::Write;
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

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`, so a
/// crash never leaves a torn file.
///
/// # Errors
/// [`FitError::Io`] naming the path.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, |f| f.write_all(bytes))
}

/// [`write_atomically`] with the content written by `write` into the temporary file (tests use
/// it to crash half-way through a write).
pub(crate) fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let io = |e: std::io::Error| FitError::Io(format!("{}: {e}", path.display()));
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
