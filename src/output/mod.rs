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
//! - `deduped/`: the corpus without later copies, one file per input file under
//!   its name relative to the folder given (`annotated/`: every record, with its
//!   cluster; or one `deduped.EXT` / `annotated.EXT`), see [`records`];
//! - `removed.EXT`: every unit removed, with the unit kept in its place and its
//!   text (see [`records`]);
//! - `report.json`: parameters, counts, timings, peak memory and the files
//!   written (see [`report`]).
//!
//! The encodings (JSON lines, gzip, zstd, Parquet, plain text) are in [`format`].

pub mod format;
pub mod json;
pub mod ordered;
pub mod parts;
pub mod records;
pub mod report;
pub mod writers;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::durable::DurableFile;
use crate::error::{Error, Result};

/// Names of the run-wide files a run writes besides its records, in the order
/// they are moved into place (`report.json` last).
pub const OUTPUT_FILES: [&str; 3] = ["clusters.jsonl", "pairs.jsonl", "report.json"];

/// The folders of a run's records: `deduped/`, `annotated/`.
const RECORD_FOLDERS: [&str; 2] = ["deduped", "annotated"];

/// The file stems of a run's records and removed units: `deduped.EXT`,
/// `annotated.EXT`, `removed.EXT`.
const RECORD_STEMS: [&str; 3] = ["deduped", "annotated", "removed"];

/// Whether `name` (an entry of an output folder) is a record output of some
/// run: a folder of [`RECORD_FOLDERS`], or a file of [`RECORD_STEMS`] with a
/// record extension.
fn is_record_output(name: &str) -> bool {
    RECORD_FOLDERS.contains(&name)
        || RECORD_STEMS.iter().any(|stem| {
            name.strip_prefix(stem)
                .is_some_and(|ext| [".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet"].contains(&ext))
        })
}

/// Removes the outputs of an earlier run from `dir`: `report.json` first (the
/// folder stops looking complete at once), then the other run-wide files and
/// the record outputs (the `deduped/` or `annotated/` tree included). Returns
/// how many were removed.
pub(crate) fn remove_earlier_outputs(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    for name in OUTPUT_FILES.iter().rev() {
        removed += usize::from(remove_if_present(&dir.join(name))?);
    }
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_name().to_str().is_some_and(is_record_output) {
            let path = entry.path();
            let gone = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            gone.map_err(|e| Error::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes `path` if it is there; whether it was.
pub(crate) fn remove_if_present(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A hidden folder inside an output folder where files are written before
/// they are moved into place under the same relative names. Dropping it
/// without [`Staging::commit`] removes it with everything in it.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    staging: PathBuf,
    /// Files written, in order.
    written: Mutex<Vec<PathBuf>>,
    committed: bool,
}

impl Staging {
    /// A fresh staging folder `dir/.neardedup-staging-PID[-tag]`.
    pub fn new(dir: &Path, tag: Option<usize>) -> Result<Staging> {
        let name = match tag {
            Some(tag) => format!("{STAGING_PREFIX}{}-{tag}", std::process::id()),
            None => format!("{STAGING_PREFIX}{}", std::process::id()),
        };
        let staging = dir.join(name);
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(Staging {
            dir: dir.to_path_buf(),
            staging,
            written: Mutex::new(Vec::new()),
            committed: false,
        })
    }

    /// Writes one staged file, `name` relative to the output folder, through
    /// `fill`, and syncs it. Errors name the file as the user will see it in the
    /// output folder, not its staging name.
    pub fn write(
        &self,
        name: &Path,
        fill: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
    ) -> Result<()> {
        let path = self.staging.join(name);
        let shown = self.dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(&shown, e))?;
        }
        write_synced(&path, &shown, |out| {
            fill(out).map_err(|e| match e {
                Error::Io { path, source } if path == name => Error::io(&shown, source),
                other => other,
            })
        })?;
        self.written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(name.to_path_buf());
        Ok(())
    }

    /// Takes back staged file `name`: it will not be moved into place.
    pub fn unwrite(&self, name: &Path) -> Result<()> {
        let path = self.staging.join(name);
        fs::remove_file(&path).map_err(|e| Error::io(self.dir.join(name), e))?;
        self.written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|written| written != name);
        Ok(())
    }

    /// Where a file being written may keep a temporary spool.
    pub fn spool_dir(&self) -> &Path {
        &self.staging
    }

    /// The output folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Moves every staged file into the output folder, in the order written,
    /// `report.json` last, and removes the staging folder.
    pub fn commit(mut self) -> Result<()> {
        let mut written = std::mem::take(
            &mut *self
                .written
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        written.sort_by_key(|name| name == Path::new("report.json"));
        for name in written {
            let to = self.dir.join(&name);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            fs::rename(self.staging.join(&name), &to).map_err(|e| Error::io(&to, e))?;
        }
        fs::remove_dir_all(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
        // The renames are durable once the folders are synced.
        fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| Error::io(&self.dir, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// An output folder being filled by a single-process run. Dropping it without
/// [`Staged::commit`] removes everything staged so far.
#[derive(Debug)]
pub struct Staged {
    staging: Staging,
    /// The folder did not exist before this run.
    created: bool,
    /// Outputs of an earlier run that were removed.
    replaced: usize,
    /// Held for the whole run: the lock on the folder.
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
        let replaced = remove_earlier_outputs(dir)?;
        Ok(Staged {
            staging: Staging::new(dir, None)?,
            created,
            replaced,
            _lock: lock,
        })
    }

    /// How many output files (or record folders) of an earlier run in the
    /// folder this run removed.
    pub fn replaced(&self) -> usize {
        self.replaced
    }

    /// The staging folder the files are written through.
    pub fn staging(&self) -> &Staging {
        &self.staging
    }

    /// Writes one staged file (see [`Staging::write`]).
    pub fn write(
        &self,
        name: &str,
        fill: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
    ) -> Result<()> {
        self.staging.write(Path::new(name), fill)
    }

    /// Moves every staged file into the output folder, `report.json` last.
    pub fn commit(mut self) -> Result<()> {
        let staging = std::mem::replace(&mut self.staging, Staging::detached());
        staging.commit()?;
        self.created = false;
        Ok(())
    }
}

impl Staging {
    /// A staging that owns no folder (what a committed [`Staged`] keeps).
    fn detached() -> Staging {
        Staging {
            dir: PathBuf::new(),
            staging: PathBuf::new(),
            written: Mutex::new(Vec::new()),
            committed: true,
        }
    }
}

impl Drop for Staged {
    /// Without a commit (a failed run): the staging folder goes (with
    /// [`Staging`]), and the output folder too when this run created it and
    /// nothing else is in it.
    fn drop(&mut self) {
        if self.created {
            let _ = fs::remove_dir_all(&self.staging.staging);
            let _ = fs::remove_dir(&self.staging.dir);
        }
    }
}

/// Name of a staging folder, before the process id of the run that owns it.
const STAGING_PREFIX: &str = ".neardedup-staging-";

/// Removes the staging folders in `dir` whose process is gone, where the
/// system can tell (Linux `/proc`); elsewhere leaves them.
pub(crate) fn remove_stale_staging(dir: &Path) {
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
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes the file at `path` through `fill` and syncs it; errors of its own
/// name the file `shown`.
pub(crate) fn write_synced(
    path: &Path,
    shown: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
) -> Result<()> {
    let file = DurableFile::create(path).map_err(|e| Error::io(shown, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    fill(&mut out)?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io(shown, e.into_error()))?;
    file.sync().map(drop).map_err(|e| Error::io(shown, e))
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
        fs::create_dir_all(dir.path().join("deduped/sub")).expect("mkdir");
        fs::write(dir.path().join("deduped/sub/a.jsonl"), b"{}\n").expect("write");
        fs::write(dir.path().join("removed.jsonl.gz"), b"x").expect("write");
        fs::write(dir.path().join("annotated.parquet"), b"x").expect("write");
        fs::write(dir.path().join("notes.txt"), b"the user's").expect("write");
        fs::write(dir.path().join("deduped.csv"), b"the user's").expect("write");
        let staged = Staged::new(dir.path()).expect("stage");
        assert_eq!(staged.replaced(), OUTPUT_FILES.len() + 3);
        drop(staged); // the run fails
        for name in OUTPUT_FILES {
            assert!(!dir.path().join(name).exists(), "{name} of the earlier run");
        }
        for name in ["deduped", "removed.jsonl.gz", "annotated.parquet"] {
            assert!(!dir.path().join(name).exists(), "{name} of the earlier run");
        }
        for name in ["notes.txt", "deduped.csv"] {
            assert!(dir.path().join(name).exists(), "other files left alone");
        }
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
            staged
                .staging()
                .write(Path::new("deduped/a/b.jsonl"), |w| {
                    w.write_all(b"x\n").map_err(io_err(Path::new("b")))
                })
                .expect("write");
            assert!(!out.join("clusters.jsonl").exists());
            assert!(!out.join("deduped").exists());
            // dropped without commit: a failed run
        }
        assert!(!out.exists(), "staging and the folder it created removed");

        let staged = Staged::new(&out).expect("stage");
        for name in ["report.json", "clusters.jsonl", "pairs.jsonl"] {
            staged
                .write(name, |w| {
                    w.write_all(b"{}\n").map_err(io_err(Path::new(name)))
                })
                .expect("write");
        }
        staged
            .staging()
            .write(Path::new("deduped/a/b.jsonl"), |w| {
                w.write_all(b"{}\n").map_err(io_err(Path::new("b")))
            })
            .expect("write");
        staged.commit().expect("commit");
        let mut names: Vec<_> = fs::read_dir(&out)
            .expect("read")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["clusters.jsonl", "deduped", "pairs.jsonl", "report.json"]
        );
        assert!(out.join("deduped/a/b.jsonl").is_file());
    }

    #[test]
    fn record_outputs_are_recognised_and_nothing_else() {
        for name in ["deduped", "annotated", "removed.jsonl", "deduped.parquet"] {
            assert!(is_record_output(name), "{name}");
        }
        for name in ["deduped.csv", "removed", "corpus.jsonl", "dedupedx.jsonl"] {
            assert!(!is_record_output(name), "{name}");
        }
    }
}
