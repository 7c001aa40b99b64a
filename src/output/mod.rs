//! Writing a run's results into its output folder, all or nothing.
//!
//! Files are first written into a hidden staging folder inside the output folder
//! and moved into place only when every one of them is complete. `report.json` is
//! moved last and removed first, so its presence marks a finished run: a run that
//! fails part-way never leaves a folder that looks complete, and the staging folder
//! is removed on failure.
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
}

impl Staged {
    /// Creates `dir` if needed and a fresh staging folder inside it. Staging
    /// folders left by killed runs (their process no longer exists) are removed.
    pub fn new(dir: &Path) -> Result<Staged> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        remove_stale_staging(dir);
        let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(Staged {
            dir: dir.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Writes one staged file through `fill`.
    pub fn write(&self, name: &str, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        let path = self.staging.join(name);
        let file = fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        fill(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))
    }

    /// Moves every staged file into the output folder, `report.json` last.
    pub fn commit(mut self) -> Result<()> {
        let report = self.dir.join("report.json");
        if report.exists() {
            fs::remove_file(&report).map_err(|e| Error::io(&report, e))?;
        }
        for name in OUTPUT_FILES {
            let from = self.staging.join(name);
            if from.exists() {
                let to = self.dir.join(name);
                fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
            }
        }
        fs::remove_dir(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
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
        assert_eq!(
            fs::read_dir(&out).expect("read").count(),
            0,
            "staging removed"
        );

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
