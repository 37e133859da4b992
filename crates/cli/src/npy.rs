//! Reading and writing `.npy` files. Parsing is `objectives_cli_parse::npy` (re-exported here):
//! strict, validated before allocating, fuzzed; writing uses npyz, then
//! [`objectives::atomic::write_atomically`] (a temporary file renamed into place: never a
//! partial file).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use npyz::WriterBuilder;
pub use objectives_cli_parse::npy::*;

/// Reads a `.npy` file of f32/f64, signed or unsigned integers, or booleans. `what` names the
/// argument in errors (`--y-true`); the path is named lossily if it is not UTF-8.
///
/// # Errors
/// An unreadable file or directory, or any [`NpyError`].
pub fn read(path: &Path, what: &str) -> Result<Array> {
    if path.is_dir() {
        bail!("{what}: {} is a directory, not a .npy file", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("{what}: cannot read {}", path.display()))?;
    parse_npy(&bytes).with_context(|| format!("{what}: {}", path.display()))
}

/// Writes `values` with `shape` as a little-endian f32 `.npy` file, atomically.
///
/// # Errors
/// A missing directory or any I/O failure; no file is left at `path` then.
pub fn write_f32(path: &Path, shape: &[usize], values: &[f32]) -> Result<()> {
    let mut buf = vec![];
    {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut w = npyz::WriteOptions::<f32>::new().default_dtype().shape(&shape).writer(&mut buf).begin_nd()?;
        w.extend(values.iter().copied())?;
        w.finish()?;
    }
    check_writable(path)?;
    objectives::atomic::write_atomically(path, &buf).with_context(|| format!("cannot write {}", path.display()))
}

/// Checks that `path` can be the target of an atomic write ([`write_f32`]): its directory exists and it is
/// not itself a directory. Returns the directory.
///
/// # Errors
/// A missing directory, or `path` naming a directory.
pub fn check_writable(path: &Path) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!("cannot write {}: directory {} does not exist", path.display(), dir.display());
    }
    if path.is_dir() {
        bail!("cannot write {}: it is a directory", path.display());
    }
    Ok(dir)
}
