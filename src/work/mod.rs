//! The scratch folder of one run: checkpoint files that make a run resumable and
//! keep its large intermediates on disk instead of in memory.
//!
//! Every stage of a run saves what it produced as a checkpoint: one file per
//! sketched shard of the input, then the candidate pairs, then the verified
//! edges. A checkpoint is written to a temporary name, synced and renamed, so a
//! file under its final name is always complete; a run killed at any point
//! leaves only complete checkpoints (and perhaps a stray temporary file, removed
//! on the next start). A restarted run with the same inputs and settings finds
//! them and skips the work they hold.
//!
//! # File layout
//!
//! ```text
//! 0..8    magic "NDDXWORK"
//! 8..12   format version (u32, little-endian)
//! 12..16  kind of checkpoint (four ASCII bytes, e.g. "SHRD")
//! 16..24  run fingerprint (u64): inputs, settings and shard plan of the run
//! 24..32  body length in bytes (u64)
//! 32..40  XXH3-64 of the body (u64)
//! 40..64  zero
//! 64..    body
//! ```
//!
//! A checkpoint whose magic, version, kind, fingerprint, length or checksum does
//! not match is not used: the stage it belongs to runs again and overwrites it.
//! Bodies are read through a memory map, so a large checkpoint costs page cache,
//! not allocated memory.

pub mod codec;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use xxhash_rust::xxh3::xxh3_64;

use crate::durable::DurableFile;
use crate::error::{Error, Result};

/// First bytes of every checkpoint file.
pub const MAGIC: &[u8; 8] = b"NDDXWORK";
/// Version of the checkpoint layout (header and bodies); bump on any change.
pub const FORMAT_VERSION: u32 = 6;
/// Bytes before the body.
pub const HEADER_BYTES: usize = 64;
/// Name of the lock file that keeps two runs out of one scratch folder.
const LOCK_FILE: &str = "lock";

/// What a checkpoint holds (stored as four ASCII bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Records, units and sketches of one shard of the input.
    Shard,
    /// Candidate pairs.
    Candidates,
    /// Verified edges.
    Edges,
}

impl Kind {
    fn tag(self) -> [u8; 4] {
        match self {
            Kind::Shard => *b"SHRD",
            Kind::Candidates => *b"CAND",
            Kind::Edges => *b"EDGE",
        }
    }
}

/// The scratch folder of a run, locked against other runs while open.
#[derive(Debug)]
pub struct WorkDir {
    dir: PathBuf,
    fingerprint: u64,
    /// Held for the life of the run; the operating system releases it when the
    /// process ends, however it ends.
    _lock: File,
    /// Set for a folder made by [`WorkDir::temporary`]: removed when dropped.
    _temporary: Option<tempfile::TempDir>,
}

/// A loaded checkpoint: its body, mapped.
#[derive(Debug)]
pub struct Checkpoint {
    map: Mmap,
}

impl Checkpoint {
    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.map[HEADER_BYTES..]
    }
}

/// The result of looking for a checkpoint.
#[derive(Debug)]
pub enum Lookup {
    /// A complete checkpoint of this run.
    Found(Checkpoint),
    /// No file under that name.
    Missing,
    /// A file that cannot be used, and why (it will be overwritten).
    Unusable(String),
}

impl WorkDir {
    /// Opens (creating if needed) the scratch folder `dir` for a run whose inputs
    /// and settings hash to `fingerprint`. Fails if another running process holds
    /// the folder. Stray temporary files of a killed run are removed.
    pub fn open(dir: &Path, fingerprint: u64) -> Result<WorkDir> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::InUse(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
        let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().contains(".partial-") {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(WorkDir {
            dir: dir.to_path_buf(),
            fingerprint,
            _lock: lock,
            _temporary: None,
        })
    }

    /// A fresh scratch folder in the system's temporary folder, removed when the
    /// returned value is dropped (for library runs that need no resuming).
    pub fn temporary(fingerprint: u64) -> Result<WorkDir> {
        let temp = tempfile::Builder::new()
            .prefix("neardedup-work-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let mut work = WorkDir::open(temp.path(), fingerprint)?;
        work._temporary = Some(temp);
        Ok(work)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Looks for checkpoint `name` of `kind` belonging to this run.
    pub fn load(&self, name: &str, kind: Kind) -> Result<Lookup> {
        let path = self.dir.join(name);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Missing),
            Err(e) => return Err(Error::io(&path, e)),
        };
        // SAFETY: checkpoint files are only ever replaced by rename, never written
        // in place, so the mapped bytes do not change under the map.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
        Ok(match body_of(&map, kind, self.fingerprint) {
            Ok(_) => Lookup::Found(Checkpoint { map }),
            Err(why) => Lookup::Unusable(why),
        })
    }

    /// Writes checkpoint `name` of `kind` with `body` (temporary file, sync,
    /// rename), then maps it back.
    pub fn save(&self, name: &str, kind: Kind, body: &[u8]) -> Result<Checkpoint> {
        let path = self.dir.join(name);
        let tmp = self
            .dir
            .join(format!("{name}.partial-{}", std::process::id()));
        let header = header(kind, self.fingerprint, body);
        let written = DurableFile::create(&tmp).and_then(|mut f| {
            f.write_all(&header)?;
            f.write_all(body)?;
            f.sync().map(drop)
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(&tmp, e));
        }
        fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        match self.load(name, kind)? {
            Lookup::Found(checkpoint) => Ok(checkpoint),
            Lookup::Missing => Err(Error::io(&path, std::io::ErrorKind::NotFound.into())),
            Lookup::Unusable(why) => Err(Error::in_file(&path, why)),
        }
    }

    /// Total bytes of the checkpoint files in the folder.
    pub fn disk_bytes(&self) -> u64 {
        disk_bytes(&self.dir)
    }
}

/// Total bytes of the files directly in the scratch folder `dir` (0 when it
/// cannot be read): what a kept scratch folder holds.
pub fn disk_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The header of a checkpoint of `kind` holding `body` for the run `fingerprint`
/// (see the file layout above).
pub fn header(kind: Kind, fingerprint: u64, body: &[u8]) -> [u8; HEADER_BYTES] {
    let mut header = [0u8; HEADER_BYTES];
    header[..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&kind.tag());
    header[16..24].copy_from_slice(&fingerprint.to_le_bytes());
    header[24..32].copy_from_slice(&(body.len() as u64).to_le_bytes());
    header[32..40].copy_from_slice(&xxh3_64(body).to_le_bytes());
    header
}

/// The body of the checkpoint file `bytes` when it is a complete checkpoint of
/// `kind` for the run `fingerprint`, or why it is not.
pub fn body_of(bytes: &[u8], kind: Kind, fingerprint: u64) -> std::result::Result<&[u8], String> {
    if bytes.len() < HEADER_BYTES || &bytes[..8] != MAGIC {
        return Err("not a neardedup checkpoint (bad magic number)".into());
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(format!(
            "checkpoint format version {version}, this build writes {FORMAT_VERSION}"
        ));
    }
    if bytes[12..16] != kind.tag() {
        return Err("checkpoint of another kind".into());
    }
    if u64_at(16) != fingerprint {
        return Err("checkpoint of a run with other inputs or settings".into());
    }
    let body = &bytes[HEADER_BYTES..];
    if u64_at(24) != body.len() as u64 {
        return Err("checkpoint is truncated".into());
    }
    if xxh3_64(body) != u64_at(32) {
        return Err("checkpoint is damaged (checksum mismatch)".into());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(lookup: Lookup) -> Checkpoint {
        match lookup {
            Lookup::Found(c) => c,
            other => panic!("expected a checkpoint, got {other:?}"),
        }
    }

    #[test]
    fn saved_checkpoints_load_back_and_foreign_ones_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = WorkDir::open(dir.path(), 7).expect("open");
        let saved = work.save("a", Kind::Shard, b"hello body").expect("save");
        assert_eq!(saved.body(), b"hello body");
        assert_eq!(
            found(work.load("a", Kind::Shard).expect("load")).body(),
            b"hello body"
        );
        assert!(matches!(
            work.load("b", Kind::Shard).expect("load"),
            Lookup::Missing
        ));
        assert!(matches!(
            work.load("a", Kind::Edges).expect("load"),
            Lookup::Unusable(why) if why.contains("kind")
        ));
        drop(work);
        let other_run = WorkDir::open(dir.path(), 8).expect("open");
        assert!(matches!(
            other_run.load("a", Kind::Shard).expect("load"),
            Lookup::Unusable(why) if why.contains("other inputs")
        ));
    }

    #[test]
    fn damaged_or_truncated_checkpoints_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = WorkDir::open(dir.path(), 1).expect("open");
        drop(
            work.save("a", Kind::Candidates, &[5u8; 1000])
                .expect("save"),
        );
        let path = dir.path().join("a");
        let mut bytes = fs::read(&path).expect("read");
        bytes[HEADER_BYTES + 10] ^= 1;
        fs::write(&path, &bytes).expect("write");
        assert!(matches!(
            work.load("a", Kind::Candidates).expect("load"),
            Lookup::Unusable(why) if why.contains("checksum")
        ));
        bytes.truncate(HEADER_BYTES + 500);
        fs::write(&path, &bytes).expect("write");
        assert!(matches!(
            work.load("a", Kind::Candidates).expect("load"),
            Lookup::Unusable(why) if why.contains("truncated")
        ));
        fs::write(&path, b"short").expect("write");
        assert!(matches!(
            work.load("a", Kind::Candidates).expect("load"),
            Lookup::Unusable(why) if why.contains("magic")
        ));
    }

    #[test]
    fn a_header_made_for_a_body_accepts_exactly_that_body() {
        let body = b"some body";
        let mut file = header(Kind::Edges, 3, body).to_vec();
        file.extend_from_slice(body);
        assert_eq!(body_of(&file, Kind::Edges, 3), Ok(&body[..]));
        assert!(body_of(&file, Kind::Shard, 3).is_err());
        assert!(body_of(&file, Kind::Edges, 4).is_err());
        assert!(body_of(&file[..file.len() - 1], Kind::Edges, 3).is_err());
        assert!(body_of(&file[..HEADER_BYTES - 1], Kind::Edges, 3).is_err());
    }

    #[test]
    fn a_second_run_cannot_share_the_folder_and_strays_are_cleaned() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("x.partial-123"), b"half").expect("write");
        let first = WorkDir::open(dir.path(), 1).expect("open");
        assert!(!dir.path().join("x.partial-123").exists());
        let second = WorkDir::open(dir.path(), 1).expect_err("locked");
        assert!(second.to_string().contains("in use"), "{second}");
        drop(first);
        WorkDir::open(dir.path(), 1).expect("lock released with the first run");
    }
}
