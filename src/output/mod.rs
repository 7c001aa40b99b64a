//! Writing a run's results into its output folder, all or nothing.
//!
//! A run claims its output folder when it starts ([`Staged::new`]): it locks the
//! folder, so two runs (with different scratch folders, say) cannot write into one
//! folder at the same time, and it removes the outputs of an earlier run there,
//! `report.json` first. Files are then written into a hidden staging folder inside
//! the output folder and moved into place only when every one of them is
//! complete, `report.json` last, so its presence marks a finished run: a run that
//! fails part-way never leaves a folder that looks complete (neither its own
//! outputs nor an earlier run's), and the staging folder is removed on failure.
//!
//! The files:
//! - `clusters.jsonl`: one line per unit: `id`, `para` (paragraph units), `cluster`
//!   (the unit number of the cluster's first unit), `duplicate` (false for the
//!   unit dedup keeps) and, with `--against`, `indexed_match` (`id`, `para` of the
//!   indexed unit it duplicates).
//! - `pairs.jsonl`: one line per verified duplicate edge: `a` and `b` (each `id`
//!   and `para`) and `similarity`; with `--against`, edges from an indexed unit
//!   (`a`) come first.
//! - `deduped.jsonl`: the corpus without later copies (see [`writers`]).
//! - `report.json`: parameters, counts, timings and peak memory (see [`report`]).

pub mod parts;
pub mod report;
pub mod writers;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Names of the files a run writes, in the order they are moved into place.
pub const OUTPUT_FILES: [&str; 4] = [
    "clusters.jsonl",
    "pairs.jsonl",
    "deduped.jsonl",
    "report.json",
];

/// An output folder being filled. Dropping it without [`Staged::commit`] removes
/// everything staged so far.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    staging: PathBuf,
    committed: bool,
    /// The folder did not exist before this run.
    created: bool,
    /// Outputs of an earlier run that were removed.
    replaced: usize,
    /// Held for the whole run: the lock on `dir`.
    _lock: fs::File,
}

impl Staged {
    /// Claims `dir` for this run: creates it if needed, locks it (failing with
    /// [`Error::OutputInUse`] while another run holds it), removes an earlier
    /// run's outputs (`report.json` first) and creates a fresh staging folder.
    /// Staging folders left by killed runs (their process no longer exists) are
    /// removed.
    pub fn new(dir: &Path) -> Result<Staged> {
        let created = !dir.exists();
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // A lock on the folder itself (flock on its descriptor): no lock file is
        // left among the outputs.
        let lock = fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::OutputInUse(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(dir, e)),
        }
        remove_stale_staging(dir);
        let mut replaced = 0;
        for name in OUTPUT_FILES.iter().rev() {
            let path = dir.join(name);
            match fs::remove_file(&path) {
                Ok(()) => replaced += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(Staged {
            dir: dir.to_path_buf(),
            staging,
            committed: false,
            created,
            replaced,
            _lock: lock,
        })
    }

    /// How many output files of an earlier run in the folder this run removed.
    pub fn replaced(&self) -> usize {
        self.replaced
    }

    /// Writes one staged file through `fill`. Errors name the file as the user
    /// will see it in the output folder, not its staging name.
    pub fn write(&self, name: &str, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        let path = self.staging.join(name);
        let shown = self.dir.join(name);
        let file = fs::File::create(&path).map_err(|e| Error::io(&shown, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        fill(&mut out).map_err(|e| match e {
            Error::Io { path, source } if path == Path::new(name) => Error::io(&shown, source),
            other => other,
        })?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&shown, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&shown, e))
    }

    /// Moves every staged file into the output folder, `report.json` last.
    pub fn commit(mut self) -> Result<()> {
        for name in OUTPUT_FILES {
            let from = self.staging.join(name);
            if from.exists() {
                let to = self.dir.join(name);
                fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
            }
        }
        fs::remove_dir(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
        // The renames are durable once the folder itself is synced.
        fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| Error::io(&self.dir, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    /// Without a commit (a failed run): removes the staging folder, and the
    /// output folder too when this run created it and nothing else is in it.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
            if self.created {
                let _ = fs::remove_dir(&self.dir);
            }
        }
    }
}

/// Name of a staging folder, before the process id of the run that owns it.
const STAGING_PREFIX: &str = ".neardedup-staging-";

/// Removes the staging folders in `dir` whose process is gone, where the
/// system can tell (Linux `/proc`); elsewhere leaves them.
fn remove_stale_staging(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(STAGING_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Maps a write error on `path` into the library's error.
pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn staging_folders_of_killed_runs_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stale = dir.path().join(format!("{STAGING_PREFIX}4294967295"));
        fs::create_dir_all(&stale).expect("mkdir");
        fs::write(stale.join("clusters.jsonl"), b"half").expect("write");
        let other = dir.path().join(".unrelated");
        fs::create_dir_all(&other).expect("mkdir");
        let staged = Staged::new(dir.path()).expect("stage");
        assert!(!stale.exists(), "stale staging folder removed");
        assert!(other.exists(), "other folders left alone");
        drop(staged);
    }

    #[test]
    fn a_second_run_cannot_claim_a_folder_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Staged::new(dir.path()).expect("first run");
        let err = Staged::new(dir.path()).expect_err("in use");
        assert!(matches!(err, Error::OutputInUse(_)), "{err}");
        drop(first);
        Staged::new(dir.path()).expect("free again");
    }

    #[test]
    fn an_earlier_runs_outputs_are_removed_when_a_run_starts() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in OUTPUT_FILES {
            fs::write(dir.path().join(name), b"earlier run\n").expect("write");
        }
        fs::write(dir.path().join("notes.txt"), b"the user's").expect("write");
        let staged = Staged::new(dir.path()).expect("stage");
        assert_eq!(staged.replaced(), OUTPUT_FILES.len());
        drop(staged); // the run fails
        for name in OUTPUT_FILES {
            assert!(!dir.path().join(name).exists(), "{name} of the earlier run");
        }
        assert!(
            dir.path().join("notes.txt").exists(),
            "other files left alone"
        );
    }

    #[test]
    fn nothing_appears_until_commit_and_failure_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        {
            let staged = Staged::new(&out).expect("stage");
            staged
                .write("clusters.jsonl", |w| {
                    w.write_all(b"x\n").map_err(io_err(Path::new("c")))
                })
                .expect("write");
            assert!(!out.join("clusters.jsonl").exists());
            // dropped without commit: a failed run
        }
        assert!(!out.exists(), "staging and the folder it created removed");

        let staged = Staged::new(&out).expect("stage");
        for name in OUTPUT_FILES {
            staged
                .write(name, |w| {
                    w.write_all(b"{}\n").map_err(io_err(Path::new(name)))
                })
                .expect("write");
        }
        staged.commit().expect("commit");
        let mut names: Vec<_> = fs::read_dir(&out)
            .expect("read")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "clusters.jsonl",
                "deduped.jsonl",
                "pairs.jsonl",
                "report.json"
            ]
        );
    }
}
