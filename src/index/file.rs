//! Replacing an index file all at once, or not at all.
//!
//! A run that saves an index opens its target with [`IndexFile::open`] before any
//! work: that checks the folder exists and takes files, locks the index against
//! other runs, and so fails at once, naming the path the user gave, instead of
//! after a long run. When the run's results are known, [`IndexFile::stage`]
//! writes the new index to a temporary file beside the target and syncs it; only
//! [`IndexFile::commit`], called once everything else the run writes is in place,
//! renames it over the target and syncs the folder. Until then the target keeps
//! its old bytes, and a run that fails or is dropped removes its temporary file.
//!
//! Files beside an index `crawl.ndx`:
//! - `.crawl.ndx.lock`: locked (with the operating system's advisory file lock)
//!   by the run that is saving `crawl.ndx`; left in place, empty, afterwards;
//! - `.crawl.ndx.partial-PID`: the new index being written by process `PID`;
//!   one left by a killed process is removed by the next run that opens the index.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::durable::DurableFile;
use crate::error::{Error, Result};

use super::SignatureIndex;

/// The target of an index save, checked and locked; see the module docs.
#[derive(Debug)]
pub struct IndexFile {
    path: PathBuf,
    temporary: PathBuf,
    _lock: File,
    staged: bool,
    committed: bool,
}

impl IndexFile {
    /// Checks that an index can be saved at `path` and locks it for this run:
    /// the folder must exist and take new files, `path` must not be a folder,
    /// and no other run may be saving the same index. Errors name `path`.
    pub fn open(path: &Path) -> Result<IndexFile> {
        let refuse = |why: String| Error::in_file(path, format!("cannot save the index: {why}"));
        let Some(file_name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Err(refuse("the path does not name a file".into()));
        };
        if path.is_dir() {
            return Err(refuse("it is a folder".into()));
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match fs::metadata(&folder) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(refuse(format!("{} is not a folder", folder.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(refuse(format!(
                    "folder {} does not exist",
                    folder.display()
                )))
            }
            Err(e) => return Err(refuse(format!("{}: {e}", folder.display()))),
        }
        let lock_path = folder.join(format!(".{file_name}.lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| refuse(format!("folder {} is not writable ({e})", folder.display())))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::in_file(
                    path,
                    "index is in use by another neardedup run (wait for it to finish)",
                ))
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(refuse(format!("could not lock it ({e})")))
            }
        }
        remove_stale_partials(&folder, &file_name);
        let temporary = folder.join(format!(".{file_name}{PARTIAL}{}", std::process::id()));
        // Taking a file now finds a read-only or full folder before the run.
        File::create(&temporary)
            .map_err(|e| refuse(format!("folder {} is not writable ({e})", folder.display())))?;
        Ok(IndexFile {
            path: path.to_path_buf(),
            temporary,
            _lock: lock,
            staged: false,
            committed: false,
        })
    }

    /// The index path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `index` to the temporary file and syncs it; the target is not
    /// touched. Errors name the target and say that it is unchanged.
    pub fn stage(&mut self, index: &SignatureIndex) -> Result<()> {
        let bytes = index.encode();
        let written = DurableFile::create(&self.temporary)
            .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync().map(drop)));
        if let Err(e) = written {
            // Free the space now: the failure may well be a full disk.
            let _ = fs::remove_file(&self.temporary);
            return Err(Error::in_file(
                &self.path,
                format!("could not write the new index ({e}); the index is unchanged"),
            ));
        }
        self.staged = true;
        Ok(())
    }

    /// Renames the staged index over the target and syncs the folder, so the
    /// new index survives a crash. Without a staged index, does nothing.
    pub fn commit(mut self) -> Result<()> {
        if !self.staged {
            return Ok(());
        }
        fs::rename(&self.temporary, &self.path).map_err(|e| {
            Error::in_file(
                &self.path,
                format!("could not replace the index ({e}); the index is unchanged"),
            )
        })?;
        self.committed = true;
        sync_parent(&self.path).map_err(|e| {
            Error::in_file(
                &self.path,
                format!("index replaced, but syncing its folder failed ({e})"),
            )
        })
    }
}

impl Drop for IndexFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Between an index's file name and the process id in a temporary file's name.
const PARTIAL: &str = ".partial-";

/// Syncs the folder holding `path`, making a rename into it durable (a no-op
/// where folders cannot be opened, as on Windows).
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if cfg!(unix) {
        File::open(folder)?.sync_all()
    } else {
        Ok(())
    }
}

/// Removes temporary files of the index `file_name` left by processes that no
/// longer exist, where the system can tell (Linux `/proc`).
fn remove_stale_partials(folder: &Path, file_name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{file_name}{PARTIAL}");
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DedupConfig, SketchConfig};

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn small_index() -> SignatureIndex {
        SignatureIndex::new(&DedupConfig {
            sketch: SketchConfig {
                num_perm: 4,
                ..DedupConfig::default().sketch
            },
            ..DedupConfig::default()
        })
    }

    #[test]
    fn a_missing_folder_is_refused_naming_the_given_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing/crawl.ndx");
        let err = IndexFile::open(&path).expect_err("no such folder");
        let message = err.to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(message.contains("does not exist"), "{message}");
        assert!(!message.contains(PARTIAL), "{message}");
        assert!(names(dir.path()).is_empty(), "nothing created");
    }

    #[test]
    fn a_folder_or_a_file_as_parent_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = IndexFile::open(dir.path()).expect_err("a folder");
        assert!(err.to_string().contains("it is a folder"), "{err}");
        let file = dir.path().join("plain");
        fs::write(&file, b"x").expect("write");
        let err = IndexFile::open(&file.join("crawl.ndx")).expect_err("parent is a file");
        assert!(err.to_string().contains("is not a folder"), "{err}");
    }

    #[test]
    #[cfg(unix)]
    fn a_read_only_folder_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("ro");
        fs::create_dir(&folder).expect("mkdir");
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o500)).expect("chmod");
        let probe = folder.join("probe");
        if File::create(&probe).is_ok() {
            // Privileged (root): permissions do not stop this process.
            let _ = fs::remove_file(&probe);
            return;
        }
        let err = IndexFile::open(&folder.join("crawl.ndx")).expect_err("read-only");
        assert!(err.to_string().contains("is not writable"), "{err}");
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o700)).expect("chmod");
    }

    #[test]
    fn the_target_keeps_its_bytes_until_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("crawl.ndx");
        fs::write(&path, b"old index").expect("write");
        let mut target = IndexFile::open(&path).expect("open");
        target.stage(&small_index()).expect("stage");
        assert_eq!(fs::read(&path).expect("read"), b"old index");
        drop(target);
        assert_eq!(fs::read(&path).expect("read"), b"old index");
        assert_eq!(names(dir.path()), [".crawl.ndx.lock", "crawl.ndx"]);

        let mut target = IndexFile::open(&path).expect("open");
        target.stage(&small_index()).expect("stage");
        target.commit().expect("commit");
        assert_eq!(
            SignatureIndex::read(&path).expect("read"),
            small_index(),
            "replaced"
        );
        assert_eq!(names(dir.path()), [".crawl.ndx.lock", "crawl.ndx"]);
    }

    #[test]
    fn a_commit_without_a_staged_index_leaves_the_target_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("crawl.ndx");
        IndexFile::open(&path)
            .expect("open")
            .commit()
            .expect("commit");
        assert!(!path.exists());
    }

    #[test]
    fn two_runs_cannot_save_one_index_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("crawl.ndx");
        let first = IndexFile::open(&path).expect("open");
        let err = IndexFile::open(&path).expect_err("locked");
        assert!(err.to_string().contains("in use"), "{err}");
        drop(first);
        IndexFile::open(&path).expect("lock released with the first run");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn temporary_files_of_killed_runs_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stale = dir.path().join(format!(".crawl.ndx{PARTIAL}4294967295"));
        fs::write(&stale, b"half").expect("write");
        let other = dir.path().join(format!(".other.ndx{PARTIAL}4294967295"));
        fs::write(&other, b"half").expect("write");
        let target = IndexFile::open(&dir.path().join("crawl.ndx")).expect("open");
        assert!(!stale.exists(), "stale temporary file removed");
        assert!(other.exists(), "another index's files left alone");
        drop(target);
    }
}
