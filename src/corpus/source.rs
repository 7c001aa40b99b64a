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
    if is_valid_utf8_fast(bytes) {
        return None;
    }
    std::str::from_utf8(bytes)
        .err()
        .map(|e| TextProblem::InvalidUtf8 {
            offset: e.valid_up_to(),
        })
}

/// `bytes` as `&str` when it is valid UTF-8, like [`std::str::from_utf8`], with a
/// faster check for text outside ASCII (Hangul, CJK, most scripts), where the
/// standard check goes one character at a time. Invalid bytes are left to the
/// standard check.
pub fn str_from_utf8(bytes: &[u8]) -> Option<&str> {
    if is_valid_utf8_fast(bytes) {
        // SAFETY: `is_valid_utf8_fast` accepts only well-formed UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

/// True when `bytes` is well-formed UTF-8, checked with SIMD by `simdutf8`
/// (several times faster than the standard check on text outside ASCII, where
/// the standard check goes one character at a time); false means "not known to
/// be", and the standard check decides and reports where.
fn is_valid_utf8_fast(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
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

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// The fast check accepts exactly the valid UTF-8; the answer is the
        /// standard one.
        #[test]
        fn utf8_check_matches_the_standard_one(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(vec![
                    "a", " ", "\u{7f}", "é", "\u{7ff}", "\u{800}", "한", "\u{d7ff}", "\u{e000}",
                    "\u{fffd}", "\u{ffff}", "😀", "\u{10ffff}",
                ]).prop_map(|s| s.as_bytes().to_vec()),
                proptest::collection::vec(proptest::num::u8::ANY, 1..4),
                proptest::sample::select(vec![
                    vec![0xC0u8, 0x80], vec![0xC1, 0xBF], vec![0xE0, 0x80, 0x80], vec![0xE0, 0x9F, 0xBF],
                    vec![0xED, 0xA0, 0x80], vec![0xED, 0xBF, 0xBF], vec![0xED, 0x9F, 0xBF],
                    vec![0xEF, 0xBF], vec![0xE0], vec![0xF4, 0x90, 0x80, 0x80], vec![0x80],
                ]),
            ], 0..20),
        ) {
            let bytes = pieces.concat();
            let standard = std::str::from_utf8(&bytes).ok();
            proptest::prop_assert_eq!(str_from_utf8(&bytes), standard);
            if is_valid_utf8_fast(&bytes) {
                proptest::prop_assert!(standard.is_some());
            }
            proptest::prop_assert_eq!(is_valid_utf8_fast(&bytes), standard.is_some());
        }
    }

    proptest::proptest! {
        /// Valid text of every script, and the same with one byte changed.
        #[test]
        fn utf8_check_takes_valid_text_and_catches_one_bad_byte(
            text in "(\\PC|[\u{80}-\u{7ff}\u{800}-\u{d7ff}\u{e000}-\u{ffff}\u{10000}-\u{10ffff}]){0,80}",
            at: proptest::sample::Index,
            byte: u8,
        ) {
            proptest::prop_assert_eq!(str_from_utf8(text.as_bytes()), Some(text.as_str()));
            proptest::prop_assert!(is_valid_utf8_fast(text.as_bytes()));
            if !text.is_empty() {
                let mut bytes = text.clone().into_bytes();
                let i = at.index(bytes.len());
                bytes[i] = byte;
                let standard = std::str::from_utf8(&bytes).ok();
                proptest::prop_assert_eq!(str_from_utf8(&bytes), standard);
                proptest::prop_assert_eq!(is_valid_utf8_fast(&bytes), standard.is_some());
            }
        }
    }

    /// Every byte of a long mixed text replaced in turn by bytes of every class,
    /// and the text cut short at every offset: the same answer as the standard
    /// check.
    #[test]
    fn a_bad_byte_or_a_cut_anywhere_is_caught() {
        let text = "가a é😀\u{800}한 \u{10ffff}z".repeat(9);
        let bytes = text.as_bytes();
        assert!(is_valid_utf8_fast(bytes));
        for i in 0..bytes.len() {
            for b in [
                0x00, 0x41, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5,
                0xFF,
            ] {
                let mut bad = bytes.to_vec();
                bad[i] = b;
                let standard = std::str::from_utf8(&bad).ok();
                assert_eq!(str_from_utf8(&bad), standard, "byte {b:#x} at {i}");
                let cut = &bytes[..i];
                assert_eq!(
                    str_from_utf8(cut),
                    std::str::from_utf8(cut).ok(),
                    "cut at {i}"
                );
            }
        }
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
