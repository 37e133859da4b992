//! Atomic file writes: the one writer behind every file the workspace writes (the CLI's `.npy`
//! outputs, `objectives-fit`'s histories, plots and checkpoints).
//!
//! [`write_atomically`] writes the new content to a temporary file in the **same directory** as
//! the target (so the rename never crosses file systems), named `.<name>.tmp-<pid>-<n>` (unique
//! among the writes of all live processes), flushes it to disk with `fsync`, then **renames** it
//! over the target. A rename within one directory replaces the target atomically, so a reader —
//! or whatever is left after a crash, a kill or a power cut — sees the whole previous file or the
//! whole new one, never a mix or a truncated file.
//!
//! - On an error the temporary file is removed and the target is untouched (absent if it was
//!   absent). Errors are [`std::io::Error`]s, unchanged, so callers keep their kind and add the
//!   path to their own error type.
//! - A process killed between creating and renaming the temporary file leaves that file behind
//!   (nothing can remove it); the target is still intact.
//! - On Unix the directory is also synced after the rename, so that the rename itself survives a
//!   power cut. That step is best-effort: the new content is already in place and complete, and
//!   some file systems refuse to sync a directory, so its failure is not reported.
//! - A missing directory is an error ([`std::io::ErrorKind::NotFound`]); it is not created.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically: temporary file beside `path`, `fsync`, rename.
///
/// # Errors
/// Any I/O error creating, writing, syncing or renaming the temporary file (e.g. a missing
/// directory, or `path` naming a directory); the target is then untouched and no temporary file
/// is left.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |f| f.write_all(bytes))
}

/// [`write_atomically`] with the content written by `write` into the temporary file, for content
/// produced by a writer (and for tests that crash half-way through a write).
///
/// # Errors
/// As [`write_atomically`], plus any error `write` returns.
pub fn write_atomically_with(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&tmp);
    Ok(())
}

/// The temporary file for a write to `path`: `.<name>.tmp-<pid>-<n>` in `path`'s directory, with
/// `n` counting this process's writes (so concurrent writes to one path never share it).
fn temp_path(path: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    dir_of(path).join(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

/// The directory `path` is in (`.` for a bare file name).
fn dir_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Syncs the directory of `file` so a rename in it is durable (best-effort; see the module doc).
fn sync_dir(file: &Path) {
    #[cfg(unix)]
    {
        let _ = File::open(dir_of(file)).and_then(|d| d.sync_all());
    }
    #[cfg(not(unix))]
    let _ = file;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A fresh directory under the system temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("objectives-atomic-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        /// The names of the files in the directory, sorted.
        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn writes_a_new_file_and_leaves_no_temporary() {
        let dir = TempDir::new("new");
        let path = dir.0.join("out.bin");
        write_atomically(&path, b"hello").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert_eq!(dir.names(), ["out.bin"]);
    }

    #[test]
    fn replaces_an_existing_file_whole() {
        let dir = TempDir::new("replace");
        let path = dir.0.join("out.csv");
        write_atomically(&path, b"a much longer first version\n").unwrap();
        write_atomically(&path, b"short\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"short\n");
        assert_eq!(dir.names(), ["out.csv"]);
    }

    #[test]
    fn a_failed_write_keeps_the_previous_file_and_removes_the_temporary() {
        let dir = TempDir::new("fail");
        let path = dir.0.join("out.csv");
        write_atomically(&path, b"old").unwrap();
        let err = write_atomically_with(&path, |f| {
            f.write_all(b"half of the ne")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(dir.names(), ["out.csv"]);
        // A failed first write leaves nothing at all.
        let fresh = dir.0.join("fresh.csv");
        assert!(write_atomically_with(&fresh, |_| Err(io::Error::other("no"))).is_err());
        assert_eq!(dir.names(), ["out.csv"]);
    }

    #[test]
    fn a_missing_directory_is_not_found_and_creates_nothing() {
        let dir = TempDir::new("missing");
        let err = write_atomically(&dir.0.join("no/such/dir/out.npy"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(dir.names().is_empty());
    }

    #[test]
    fn a_directory_is_not_replaced() {
        let dir = TempDir::new("isdir");
        let target = dir.0.join("sub");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"kept").unwrap();
        assert!(write_atomically(&target, b"x").is_err());
        assert!(target.is_dir());
        assert_eq!(std::fs::read(target.join("inside")).unwrap(), b"kept");
        assert_eq!(dir.names(), ["sub"]);
    }

    #[test]
    fn the_temporary_is_beside_the_target_and_unique() {
        let a = temp_path(Path::new("/some/dir/history.csv"));
        let b = temp_path(Path::new("/some/dir/history.csv"));
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("/some/dir")));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!(".history.csv.tmp-{}-", std::process::id())), "{name}");
        // A bare file name is in the current directory.
        assert_eq!(temp_path(Path::new("out.npy")).parent(), Some(Path::new(".")));
    }

    /// Threads writing the same path at once: the result is one of the writes, whole.
    #[test]
    fn concurrent_writes_to_one_path_never_mix() {
        let dir = TempDir::new("concurrent");
        let path = dir.0.join("out.bin");
        let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 64 * 1024]).collect();
        std::thread::scope(|s| {
            for c in &contents {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..4 {
                        write_atomically(path, c).unwrap();
                    }
                });
            }
        });
        let got = std::fs::read(&path).unwrap();
        assert!(contents.contains(&got), "a mixed or truncated file ({} bytes)", got.len());
        assert_eq!(dir.names(), ["out.bin"]);
    }
}
