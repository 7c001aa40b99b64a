//! The bytes of one input file: memory-mapped, or read into memory when mapping fails.
//!
//! Mapping lets a corpus far larger than RAM be scanned with the kernel paging it in
//! and out, and costs no copy. Like ripgrep, we fall back to an ordinary read when
//! mapping is refused (some special files and file systems do that).

use std::ops::Deref;
use std::path::Path;

use crate::error::{Error, Result};

/// How many leading bytes are inspected to decide whether a file is binary.
const BINARY_SNIFF_BYTES: usize = 8 << 10;

/// An input file's bytes.
#[derive(Debug)]
pub enum FileBytes {
    /// A read-only memory map.
    Mapped(memmap2::Mmap),
    /// Read into memory (fallback).
    Read(Vec<u8>),
}

impl FileBytes {
    /// Maps `path`, or reads it if mapping fails.
    pub fn open(path: &Path) -> Result<FileBytes> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Ok(FileBytes::Read(Vec::new()));
        }
        // SAFETY: the map is read-only. If another process truncates or rewrites the
        // file while we run, reads may see the new bytes or fault; that is the
        // documented cost of mapping inputs, the same trade ripgrep makes.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(map) => {
                #[cfg(unix)]
                let _ = map.advise(memmap2::Advice::Sequential);
                Ok(FileBytes::Mapped(map))
            }
            Err(_) => std::fs::read(path)
                .map(FileBytes::Read)
                .map_err(|e| Error::io(path, e)),
        }
    }
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(map) => map,
            FileBytes::Read(bytes) => bytes,
        }
    }
}

/// Why a plain-text file cannot be read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// A NUL byte near the start: almost surely not text.
    Binary,
    /// Invalid UTF-8 at this byte offset.
    InvalidUtf8 {
        /// Offset of the first bad byte.
        offset: usize,
    },
}

impl TextProblem {
    /// The error for this problem in file `path` whose bytes are `bytes`.
    pub fn into_error(self, path: &Path, bytes: &[u8]) -> Error {
        match self {
            TextProblem::Binary => {
                Error::in_file(path, "binary file (contains NUL bytes), not text")
            }
            TextProblem::InvalidUtf8 { offset } => {
                let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                Error::at_line(path, line, format!("invalid UTF-8 at byte offset {offset}"))
            }
        }
    }
}

/// Checks that `bytes` look like UTF-8 text.
pub fn binary_or_invalid_utf8(bytes: &[u8]) -> Option<TextProblem> {
    let head = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if head.contains(&0) {
        return Some(TextProblem::Binary);
    }
    std::str::from_utf8(bytes)
        .err()
        .map(|e| TextProblem::InvalidUtf8 {
            offset: e.valid_up_to(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_binary_and_bad_utf8_with_line() {
        assert_eq!(binary_or_invalid_utf8(b"ab\0cd"), Some(TextProblem::Binary));
        let bytes = b"line one\nline \xff two";
        let problem = binary_or_invalid_utf8(bytes).expect("bad utf8");
        assert_eq!(problem, TextProblem::InvalidUtf8 { offset: 14 });
        let err = problem.into_error(Path::new("f.txt"), bytes);
        assert_eq!(err.to_string(), "f.txt:2: invalid UTF-8 at byte offset 14");
        assert_eq!(binary_or_invalid_utf8("한국어 text".as_bytes()), None);
    }

    #[test]
    fn maps_and_reads_the_same_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.txt");
        std::fs::write(&path, "hello 세계").expect("write");
        let bytes = FileBytes::open(&path).expect("open");
        assert_eq!(&*bytes, "hello 세계".as_bytes());
    }
}
