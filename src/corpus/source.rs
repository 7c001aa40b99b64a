//! The bytes of one input file, and whether they can be read as text.
//!
//! Mapping lets a corpus far larger than RAM be scanned with the kernel paging it in
//! and out, and costs no copy; but the kernel caps the maps of one process
//! (`/proc/sys/vm/max_map_count`, 65,530 by default on Linux), and a map costs a
//! system call, page faults and a slot of that cap, more than copying a small file
//! does. So a [`Loader`] reads small files into memory (like ripgrep, which reads
//! files below 64 KiB for the same reason) while they fit its read limit, maps the
//! others up to half the kernel's cap, reads what the cap leaves over while the
//! read limit allows, and past both refuses the file with an error naming the
//! limits and what to do. A file whose map is refused (some special files and file
//! systems do that) is read instead, as ripgrep does.
//!
//! [`sniff`] tells compressed files, archives, UTF-16 or UTF-32 text, binary files
//! and invalid UTF-8 apart, so that a file that cannot be read says why.

use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use crate::corpus::Format;
use crate::error::{Error, Result};

/// How many leading bytes are inspected to decide whether a file is binary.
const BINARY_SNIFF_BYTES: usize = 8 << 10;

/// Files smaller than this are read into memory rather than mapped (while the
/// read limit allows): cheaper than a map, and they use none of the kernel's
/// map slots. ripgrep draws the line at the same size.
pub const SMALL_FILE_BYTES: u64 = 64 << 10;

/// The kernel's cap on the maps of one process where it cannot be read from
/// `/proc/sys/vm/max_map_count` on Linux (the kernel's default there).
const DEFAULT_MAX_MAP_COUNT: usize = 65_530;

/// An input file's bytes.
#[derive(Debug)]
pub enum FileBytes {
    /// A read-only memory map.
    Mapped(memmap2::Mmap),
    /// Read into memory.
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
        map_or_read(&file, path, len)
    }
}

/// Maps `file` (at `path`, `len` bytes), or reads it if mapping fails.
pub(crate) fn map_or_read_file(file: &std::fs::File, path: &Path, len: u64) -> Result<FileBytes> {
    map_or_read(file, path, len)
}

fn map_or_read(file: &std::fs::File, path: &Path, len: u64) -> Result<FileBytes> {
    // SAFETY: the map is read-only. If another process truncates or rewrites the
    // file while we run, reads may see the new bytes or fault; that is the
    // documented cost of mapping inputs, the same trade ripgrep makes.
    match unsafe { memmap2::Mmap::map(file) } {
        Ok(map) => {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            Ok(FileBytes::Mapped(map))
        }
        Err(_) => read_all(file, path, len).map(FileBytes::Read),
    }
}

/// Reads the whole of `file` (at `path`, about `len` bytes).
fn read_all(mut file: &std::fs::File, path: &Path, len: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
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

/// Brings the input files of one run into memory, reading or mapping each as
/// the module documentation says, within a cap on maps and a limit on bytes read.
#[derive(Debug)]
pub struct Loader {
    /// Most maps this run makes.
    map_cap: usize,
    /// The kernel's cap the map cap is half of, if known.
    kernel_maps: Option<usize>,
    /// Most bytes this run reads into memory.
    read_limit: u64,
    /// Maps made so far.
    mapped: usize,
    /// Bytes read so far (files given back excluded).
    read: u64,
}

impl Loader {
    /// A loader that reads at most `read_limit` bytes into memory and maps at most
    /// half the kernel's cap on maps.
    pub fn new(read_limit: u64) -> Loader {
        let kernel_maps = kernel_max_map_count();
        let map_cap = match kernel_maps {
            Some(n) => n / 2,
            None if cfg!(target_os = "linux") => DEFAULT_MAX_MAP_COUNT / 2,
            None => usize::MAX,
        };
        Loader::with_limits(map_cap, read_limit, kernel_maps)
    }

    /// A loader with an explicit map cap (tests, and callers that know better).
    pub fn with_limits(map_cap: usize, read_limit: u64, kernel_maps: Option<usize>) -> Loader {
        Loader {
            map_cap,
            kernel_maps,
            read_limit,
            mapped: 0,
            read: 0,
        }
    }

    /// The bytes of `file`, at `path`, `len` bytes long (0 reads nothing).
    pub fn load(&mut self, file: &std::fs::File, path: &Path, len: u64) -> Result<FileBytes> {
        if len == 0 {
            return Ok(FileBytes::Read(Vec::new()));
        }
        let fits = self.read.saturating_add(len) <= self.read_limit;
        // Small files are read; so are large ones once the maps run out.
        if fits && (len < SMALL_FILE_BYTES || self.mapped >= self.map_cap) {
            let bytes = read_all(file, path, len)?;
            self.read += bytes.len() as u64;
            return Ok(FileBytes::Read(bytes));
        }
        if self.mapped < self.map_cap {
            let bytes = map_or_read(file, path, len)?;
            match &bytes {
                FileBytes::Mapped(_) => self.mapped += 1,
                FileBytes::Read(read) => self.read += read.len() as u64,
            }
            return Ok(bytes);
        }
        Err(Error::in_file(path, self.refusal()))
    }

    /// Counts `bytes` (mapped or read elsewhere, e.g. a decoded input) as this
    /// loader's, so that [`Loader::release`] can give them back.
    pub fn adopt(&mut self, bytes: &FileBytes) {
        match bytes {
            FileBytes::Mapped(_) => self.mapped += 1,
            FileBytes::Read(read) => self.read += read.len() as u64,
        }
    }

    /// Gives back what `bytes` (from [`Loader::load`]) took, once dropped.
    pub fn release(&mut self, bytes: &FileBytes) {
        match bytes {
            FileBytes::Mapped(_) => self.mapped -= 1,
            FileBytes::Read(read) => self.read -= read.len() as u64,
        }
    }

    /// Files mapped and bytes read so far.
    pub fn usage(&self) -> (usize, u64) {
        (self.mapped, self.read)
    }

    fn refusal(&self) -> String {
        let kernel = match self.kernel_maps {
            Some(n) => format!("half the kernel's limit, vm.max_map_count = {n}"),
            None => "half the kernel's usual limit".to_string(),
        };
        format!(
            "too many input files to hold at once: {} files are mapped, the most this run \
             maps ({kernel}), and {:.0} MiB are read into memory, the most it reads (half \
             the available memory, or `memory_budget` if larger). Raise the kernel's limit \
             (e.g. sysctl -w vm.max_map_count={}), give a larger `memory_budget`, or combine \
             the files into fewer, larger ones (e.g. JSONL)",
            self.mapped,
            self.read as f64 / (1u64 << 20) as f64,
            self.kernel_maps
                .unwrap_or(DEFAULT_MAX_MAP_COUNT)
                .saturating_mul(4)
                .max(262_144)
        )
    }
}

/// `/proc/sys/vm/max_map_count`, where there is one.
fn kernel_max_map_count() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Why a file cannot be read as its format requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// Compressed, with this format (`gzip`, `zstd`, ...).
    Compressed {
        /// The compression format.
        format: &'static str,
    },
    /// An archive of this format (`zip`, `7z`).
    Archive {
        /// The archive format.
        format: &'static str,
    },
    /// Text in another encoding, known by its byte-order mark.
    OtherEncoding {
        /// The encoding (`UTF-16LE`, ...).
        encoding: &'static str,
        /// Its byte-order mark, as hex.
        bom: &'static str,
    },
    /// A NUL byte near the start: almost surely not text.
    Binary {
        /// Offset of the first NUL byte.
        offset: usize,
    },
    /// Invalid UTF-8 at this byte offset.
    InvalidUtf8 {
        /// Offset of the first bad byte.
        offset: usize,
    },
}

impl TextProblem {
    /// What is wrong, in words (without the path).
    pub fn reason(self, bytes: &[u8]) -> String {
        match self {
            TextProblem::Compressed { format } => {
                format!(
                    "{format}-compressed data that is not read here (lz4, or compressed \
                     twice); decompress it first"
                )
            }
            TextProblem::Archive { format } => {
                format!("{format} archive: archives are not read; extract its files first")
            }
            TextProblem::OtherEncoding { encoding, bom } => format!(
                "{encoding} text (byte-order mark {bom}): only UTF-8 is read; convert it \
                 first (e.g. iconv -f {encoding} -t UTF-8)"
            ),
            TextProblem::Binary { offset } => {
                format!("binary file (NUL byte at byte offset {offset}), not text")
            }
            TextProblem::InvalidUtf8 { offset } => format!(
                "invalid UTF-8 at byte offset {offset} (line {})",
                line_of(bytes, offset)
            ),
        }
    }

    /// The error for this problem in file `path` whose bytes are `bytes`.
    pub fn into_error(self, path: &Path, bytes: &[u8]) -> Error {
        match self {
            TextProblem::InvalidUtf8 { offset } => Error::at_line(
                path,
                line_of(bytes, offset),
                format!("invalid UTF-8 at byte offset {offset}"),
            ),
            other => Error::in_file(path, other.reason(bytes)),
        }
    }
}

fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// Leading bytes that mark compressed files, archives and text in encodings
/// other than UTF-8. UTF-32LE comes before UTF-16LE, whose mark it starts with.
const SIGNATURES: &[(&[u8], TextProblem)] = &[
    (b"\x1f\x8b", TextProblem::Compressed { format: "gzip" }),
    (
        b"\x28\xb5\x2f\xfd",
        TextProblem::Compressed { format: "zstd" },
    ),
    (b"\xfd7zXZ\x00", TextProblem::Compressed { format: "xz" }),
    (
        b"\x04\x22\x4d\x18",
        TextProblem::Compressed { format: "lz4" },
    ),
    (b"PK\x03\x04", TextProblem::Archive { format: "zip" }),
    (b"PK\x05\x06", TextProblem::Archive { format: "zip" }),
    (b"7z\xbc\xaf\x27\x1c", TextProblem::Archive { format: "7z" }),
    (
        b"\xff\xfe\x00\x00",
        TextProblem::OtherEncoding {
            encoding: "UTF-32LE",
            bom: "FF FE 00 00",
        },
    ),
    (
        b"\x00\x00\xfe\xff",
        TextProblem::OtherEncoding {
            encoding: "UTF-32BE",
            bom: "00 00 FE FF",
        },
    ),
    (
        b"\xff\xfe",
        TextProblem::OtherEncoding {
            encoding: "UTF-16LE",
            bom: "FF FE",
        },
    ),
    (
        b"\xfe\xff",
        TextProblem::OtherEncoding {
            encoding: "UTF-16BE",
            bom: "FE FF",
        },
    ),
];

/// Why `bytes`, the contents of a file to be read as `format`, cannot be read:
/// a compressed file, an archive or text in another encoding (known by their
/// leading bytes) for either format; for plain text also a NUL byte near the
/// start (binary) or invalid UTF-8. JSONL lines are checked one by one as they
/// are read, so that one bad line can be skipped.
pub fn sniff(bytes: &[u8], format: Format) -> Option<TextProblem> {
    if let Some(&(_, problem)) = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
    {
        return Some(problem);
    }
    if super::container::is_bzip2(bytes) {
        return Some(TextProblem::Compressed { format: "bzip2" });
    }
    match format {
        Format::Text => binary_or_invalid_utf8(bytes),
        Format::Jsonl => None,
    }
}

/// Checks that `bytes` look like UTF-8 text.
pub fn binary_or_invalid_utf8(bytes: &[u8]) -> Option<TextProblem> {
    let head = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if let Some(offset) = memchr::memchr(0, head) {
        return Some(TextProblem::Binary { offset });
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
        assert_eq!(
            binary_or_invalid_utf8(b"ab\0cd"),
            Some(TextProblem::Binary { offset: 2 })
        );
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
    fn sniff_names_compression_archives_and_other_encodings() {
        let cases: [(&[u8], &str); 9] = [
            (
                b"\x1f\x8b\x08\x00",
                "gzip-compressed data that is not read here (lz4, or compressed twice)",
            ),
            (b"\x28\xb5\x2f\xfd\x00", "zstd-compressed"),
            (b"\xfd7zXZ\x00\x00", "xz-compressed"),
            (b"BZh91AY&SY\x00", "bzip2-compressed"),
            (
                b"PK\x03\x04rest",
                "zip archive: archives are not read; extract its files first",
            ),
            (
                b"\xff\xfe{\x00",
                "UTF-16LE text (byte-order mark FF FE): only UTF-8 is read",
            ),
            (b"\xfe\xff\x00{", "UTF-16BE text"),
            (b"\xff\xfe\x00\x00{\x00\x00\x00", "UTF-32LE text"),
            (
                b"\x89PNG\r\n\x1a\n\x00\x00",
                "binary file (NUL byte at byte offset 8), not text",
            ),
        ];
        for (bytes, reason) in cases {
            let problem = sniff(bytes, Format::Text).expect("a problem");
            assert!(problem.reason(bytes).starts_with(reason), "{problem:?}");
            if !matches!(problem, TextProblem::Binary { .. }) {
                assert_eq!(sniff(bytes, Format::Jsonl), Some(problem), "any format");
            }
        }
        assert_eq!(sniff(b"BZh is how this text starts", Format::Text), None);
        assert_eq!(
            sniff(b"{\"text\":\"a\"}\n\x00\n", Format::Jsonl),
            None,
            "lines judged one by one"
        );
        assert_eq!(
            sniff("\u{feff}BOM then text".as_bytes(), Format::Text),
            None
        );
    }

    fn file_of(dir: &Path, name: &str, len: usize) -> (std::fs::File, std::path::PathBuf) {
        let path = dir.join(name);
        std::fs::write(&path, vec![b'x'; len]).expect("write");
        (std::fs::File::open(&path).expect("open"), path)
    }

    #[test]
    fn loader_reads_small_files_maps_large_ones_and_refuses_past_both_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let large = SMALL_FILE_BYTES as usize;
        let mut loader = Loader::with_limits(2, 2 * large as u64, Some(4));
        let (small, path) = file_of(dir.path(), "small", 10);
        assert!(matches!(
            loader.load(&small, &path, 10).expect("small"),
            FileBytes::Read(_)
        ));
        let mut held = Vec::new();
        for name in ["l1", "l2"] {
            let (file, path) = file_of(dir.path(), name, large);
            let bytes = loader.load(&file, &path, large as u64).expect("large");
            assert!(matches!(bytes, FileBytes::Mapped(_)), "{name} mapped");
            held.push(bytes);
        }
        let (file, path) = file_of(dir.path(), "l3", large);
        let read = loader
            .load(&file, &path, large as u64)
            .expect("past the map cap");
        assert!(
            matches!(read, FileBytes::Read(_)),
            "read while the limit allows"
        );
        assert_eq!(&*read, &vec![b'x'; large][..]);
        let (file, path) = file_of(dir.path(), "l4", large);
        let err = loader
            .load(&file, &path, large as u64)
            .expect_err("past both");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}: too many input files", path.display())),
            "{shown}"
        );
        assert!(shown.contains("vm.max_map_count = 4"), "{shown}");
        loader.release(&read);
        assert!(
            loader.load(&file, &path, large as u64).is_ok(),
            "room given back"
        );
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
