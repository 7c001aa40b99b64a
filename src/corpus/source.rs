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

/// True when `bytes` is well-formed UTF-8 (Unicode Table 3-7), checked sixteen
/// bytes at a time; false means "not known to be", and the standard check decides.
#[cfg(target_arch = "x86_64")]
fn is_valid_utf8_fast(bytes: &[u8]) -> bool {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        unsafe { is_valid_utf8_avx2(bytes) }
    } else if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the CPU has SSSE3.
        unsafe { is_valid_utf8_ssse3(bytes) }
    } else {
        is_valid_utf8_sse2(bytes)
    }
}

/// [`is_valid_utf8_fast`] with SSE2 only: lead and continuation bytes are
/// matched up through bit masks.
#[cfg(target_arch = "x86_64")]
fn is_valid_utf8_sse2(bytes: &[u8]) -> bool {
    let mut carry = Carry::default();
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        let block: &[u8; 16] = chunk.try_into().expect("sixteen bytes");
        if !check_block(block, &mut carry) {
            return false;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Zero padding is ASCII, so a sequence cut by the end is caught by the
        // carry check below or inside the block.
        let mut block = [0u8; 16];
        block[..rest.len()].copy_from_slice(rest);
        if !check_block(&block, &mut carry) {
            return false;
        }
    }
    carry == Carry::default()
}

// Error bits of a byte pair (first byte, second byte) for the table-lookup
// UTF-8 checks: `FIRST_HIGH[p >> 4] & FIRST_LOW[p & 15] & SECOND_HIGH[b >> 4]`
// holds the errors that byte `p` followed by byte `b` shows.
const TOO_SHORT: u8 = 1 << 0; // lead then ASCII or lead
const TOO_LONG: u8 = 1 << 1; // ASCII then continuation
const OVERLONG_3: u8 = 1 << 2; // E0 then 80..9F
const TOO_LARGE: u8 = 1 << 3; // F4 then 90..BF, or F5..FF
const SURROGATE: u8 = 1 << 4; // ED then A0..BF
const OVERLONG_2: u8 = 1 << 5; // C0 or C1 then a continuation
const TOO_LARGE_1000: u8 = 1 << 6; // F5..FF then 80..8F
const OVERLONG_4: u8 = 1 << 6; // F0 then 80..8F
const TWO_CONTS: u8 = 1 << 7; // continuation then continuation
const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;
#[cfg(target_arch = "x86_64")]
const FIRST_HIGH: [u8; 16] = [
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TOO_LONG,
    TWO_CONTS,
    TWO_CONTS,
    TWO_CONTS,
    TWO_CONTS,
    TOO_SHORT | OVERLONG_2,
    TOO_SHORT,
    TOO_SHORT | OVERLONG_3 | SURROGATE,
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
];
const LARGE: u8 = CARRY | TOO_LARGE | TOO_LARGE_1000;
#[cfg(target_arch = "x86_64")]
const FIRST_LOW: [u8; 16] = [
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
    CARRY | OVERLONG_2,
    CARRY,
    CARRY,
    CARRY | TOO_LARGE,
    LARGE,
    LARGE,
    LARGE,
    LARGE,
    LARGE,
    LARGE,
    LARGE,
    LARGE,
    LARGE | SURROGATE,
    LARGE,
    LARGE,
];
#[cfg(target_arch = "x86_64")]
const SECOND_HIGH: [u8; 16] = [
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
    TOO_SHORT,
];

/// [`is_valid_utf8_fast`] with SSSE3, after Keiser and Lemire ("Validating UTF-8
/// in less than one instruction per byte", 2021): every pair of consecutive
/// bytes is classified by three 16-entry table lookups (high and low nibble of
/// the first byte, high nibble of the second), whose common bits are the errors
/// that pair shows; the third and fourth bytes of long sequences are checked
/// apart (they must be continuations, and pairs cannot tell). Blocks of ASCII
/// only check that no sequence was left open before them.
///
/// # Safety
///
/// The CPU must have SSSE3.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn is_valid_utf8_ssse3(bytes: &[u8]) -> bool {
    use std::arch::x86_64::*;
    let table = |t: &[u8; 16]| _mm_loadu_si128(t.as_ptr().cast());
    let (first_high, first_low, second_high) =
        (table(&FIRST_HIGH), table(&FIRST_LOW), table(&SECOND_HIGH));
    let nibble = _mm_set1_epi8(0x0F);
    let high_nibbles = |v: __m128i| _mm_and_si128(_mm_srli_epi16::<4>(v), nibble);
    // Bytes that open a sequence the block does not finish: byte 13 when F0 or
    // above, byte 14 when E0 or above, byte 15 when C0 or above.
    let mut open_limit = [0xFFu8; 16];
    open_limit[13..].copy_from_slice(&[0xEF, 0xDF, 0xBF]);
    let open_limit = table(&open_limit);
    let mut error = _mm_setzero_si128();
    let mut prev = _mm_setzero_si128();
    let mut prev_open = _mm_setzero_si128();
    let mut check = |v: __m128i| {
        if _mm_movemask_epi8(v) == 0 {
            error = _mm_or_si128(error, prev_open);
            prev_open = _mm_setzero_si128();
        } else {
            let prev1 = _mm_alignr_epi8::<15>(v, prev);
            let pairs = _mm_and_si128(
                _mm_and_si128(
                    _mm_shuffle_epi8(first_high, high_nibbles(prev1)),
                    _mm_shuffle_epi8(first_low, _mm_and_si128(prev1, nibble)),
                ),
                _mm_shuffle_epi8(second_high, high_nibbles(v)),
            );
            // Third bytes of E0..FF sequences and fourth bytes of F0..FF ones
            // must be continuations: there the pair check reports TWO_CONTS,
            // which cancels out; anywhere else TWO_CONTS is an error.
            let prev2 = _mm_alignr_epi8::<14>(v, prev);
            let prev3 = _mm_alignr_epi8::<13>(v, prev);
            let third = _mm_subs_epu8(prev2, _mm_set1_epi8(0xDFu8 as i8));
            let fourth = _mm_subs_epu8(prev3, _mm_set1_epi8(0xEFu8 as i8));
            let must_continue = _mm_cmpgt_epi8(_mm_or_si128(third, fourth), _mm_setzero_si128());
            let must_continue = _mm_and_si128(must_continue, _mm_set1_epi8(0x80u8 as i8));
            error = _mm_or_si128(error, _mm_xor_si128(must_continue, pairs));
            prev_open = _mm_subs_epu8(v, open_limit);
        }
        prev = v;
    };
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        check(_mm_loadu_si128(chunk.as_ptr().cast()));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Zero padding is ASCII: a sequence cut by the end is an error.
        let mut block = [0u8; 16];
        block[..rest.len()].copy_from_slice(rest);
        check(_mm_loadu_si128(block.as_ptr().cast()));
    }
    error = _mm_or_si128(error, prev_open);
    _mm_movemask_epi8(_mm_cmpeq_epi8(error, _mm_setzero_si128())) == 0xFFFF
}

/// [`is_valid_utf8_ssse3`] thirty-two bytes at a time.
///
/// # Safety
///
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn is_valid_utf8_avx2(bytes: &[u8]) -> bool {
    use std::arch::x86_64::*;
    // The tables in both 128-bit lanes (byte shuffles stay within a lane).
    let table = |t: &[u8; 16]| _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()));
    let (first_high, first_low, second_high) =
        (table(&FIRST_HIGH), table(&FIRST_LOW), table(&SECOND_HIGH));
    let nibble = _mm256_set1_epi8(0x0F);
    let high_nibbles = |v: __m256i| _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
    // Bytes that open a sequence the block does not finish: byte 29 when F0 or
    // above, byte 30 when E0 or above, byte 31 when C0 or above.
    let mut open_limit = [0xFFu8; 32];
    open_limit[29..].copy_from_slice(&[0xEF, 0xDF, 0xBF]);
    let open_limit = _mm256_loadu_si256(open_limit.as_ptr().cast());
    let mut error = _mm256_setzero_si256();
    let mut prev = _mm256_setzero_si256();
    let mut prev_open = _mm256_setzero_si256();
    let mut check = |v: __m256i| {
        if _mm256_movemask_epi8(v) == 0 {
            error = _mm256_or_si256(error, prev_open);
            prev_open = _mm256_setzero_si256();
        } else {
            // The last 16 bytes of `prev`, then the first 16 of `v`: byte-wise
            // shifts across the lane boundary take their bytes from there.
            let joint = _mm256_permute2x128_si256::<0x21>(prev, v);
            let prev1 = _mm256_alignr_epi8::<15>(v, joint);
            let pairs = _mm256_and_si256(
                _mm256_and_si256(
                    _mm256_shuffle_epi8(first_high, high_nibbles(prev1)),
                    _mm256_shuffle_epi8(first_low, _mm256_and_si256(prev1, nibble)),
                ),
                _mm256_shuffle_epi8(second_high, high_nibbles(v)),
            );
            let prev2 = _mm256_alignr_epi8::<14>(v, joint);
            let prev3 = _mm256_alignr_epi8::<13>(v, joint);
            let third = _mm256_subs_epu8(prev2, _mm256_set1_epi8(0xDFu8 as i8));
            let fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8(0xEFu8 as i8));
            let must_continue =
                _mm256_cmpgt_epi8(_mm256_or_si256(third, fourth), _mm256_setzero_si256());
            let must_continue = _mm256_and_si256(must_continue, _mm256_set1_epi8(0x80u8 as i8));
            error = _mm256_or_si256(error, _mm256_xor_si256(must_continue, pairs));
            prev_open = _mm256_subs_epu8(v, open_limit);
        }
        prev = v;
    };
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        check(_mm256_loadu_si256(chunk.as_ptr().cast()));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Zero padding is ASCII: a sequence cut by the end is an error.
        let mut block = [0u8; 32];
        block[..rest.len()].copy_from_slice(rest);
        check(_mm256_loadu_si256(block.as_ptr().cast()));
    }
    error = _mm256_or_si256(error, prev_open);
    _mm256_testz_si256(error, error) == 1
}

#[cfg(not(target_arch = "x86_64"))]
fn is_valid_utf8_fast(_bytes: &[u8]) -> bool {
    false
}

/// Constraints one 16-byte block puts on the bytes of the next: which must be
/// continuation bytes, and which second bytes of E0, ED, F0 and F4 sequences are
/// due (bit `i` stands for byte `i` of the next block).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Carry {
    cont: u32,
    after_e0: u32,
    after_ed: u32,
    after_f0: u32,
    after_f4: u32,
}

/// Checks one block: every byte that a lead byte asks to be a continuation byte
/// is one and no other is, no byte is C0, C1 or F5..FF, and the second bytes of
/// E0 (not overlong), ED (no surrogates), F0 (not overlong) and F4 (at most
/// U+10FFFF) sequences are in range.
#[cfg(target_arch = "x86_64")]
#[inline]
fn check_block(block: &[u8; 16], carry: &mut Carry) -> bool {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86_64; the load is unaligned and reads 16 bytes.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let high = _mm_movemask_epi8(v) as u32;
        if high == 0 {
            let ok = carry.cont == 0;
            *carry = Carry::default();
            return ok;
        }
        let mask = |m: __m128i| _mm_movemask_epi8(m) as u32;
        let set = |b: u8| _mm_set1_epi8(b as i8);
        // Signed compares: bytes 0x80..=0xFF are -128..=-1.
        let below = |b: u8| mask(_mm_cmplt_epi8(v, set(b))) & high;
        let equal = |b: u8| mask(_mm_cmpeq_epi8(v, set(b)));
        let cont = below(0xC0);
        let lead = high & !cont;
        let lead3 = high & !below(0xE0);
        let lead4 = high & !below(0xF0);
        let bad_lead = equal(0xC0) | equal(0xC1) | (high & !below(0xF5));
        let expected = (lead << 1) | (lead3 << 2) | (lead4 << 3) | carry.cont;
        let below_a0 = below(0xA0);
        let below_90 = below(0x90);
        let after_e0 = (equal(0xE0) << 1) | carry.after_e0;
        let after_ed = (equal(0xED) << 1) | carry.after_ed;
        let after_f0 = (equal(0xF0) << 1) | carry.after_f0;
        let after_f4 = (equal(0xF4) << 1) | carry.after_f4;
        let bad_second = (after_e0 & below_a0)
            | (after_ed & cont & !below_a0)
            | (after_f0 & below_90)
            | (after_f4 & cont & !below_90);
        let ok = bad_lead == 0 && expected & 0xFFFF == cont && bad_second & 0xFFFF == 0;
        *carry = Carry {
            cont: expected >> 16,
            after_e0: after_e0 >> 16,
            after_ed: after_ed >> 16,
            after_f0: after_f0 >> 16,
            after_f4: after_f4 >> 16,
        };
        ok
    }
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
        /// The fast check never accepts invalid UTF-8 and (on x86_64) takes all valid
        /// text; either way the answer is the standard one.
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
            #[cfg(target_arch = "x86_64")]
            proptest::prop_assert_eq!(is_valid_utf8_fast(&bytes), standard.is_some());
            #[cfg(target_arch = "x86_64")]
            proptest::prop_assert_eq!(all_checks(&bytes), [standard.is_some(); 3]);
        }
    }

    /// The SSE2 and (when the CPU has them) SSSE3 and AVX2 checks.
    #[cfg(target_arch = "x86_64")]
    fn all_checks(bytes: &[u8]) -> [bool; 3] {
        let sse2 = is_valid_utf8_sse2(bytes);
        let ssse3 = if std::arch::is_x86_feature_detected!("ssse3") {
            // SAFETY: the CPU has SSSE3.
            unsafe { is_valid_utf8_ssse3(bytes) }
        } else {
            sse2
        };
        let avx2 = if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            unsafe { is_valid_utf8_avx2(bytes) }
        } else {
            sse2
        };
        [sse2, ssse3, avx2]
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
            #[cfg(target_arch = "x86_64")]
            proptest::prop_assert!(is_valid_utf8_fast(text.as_bytes()));
            #[cfg(target_arch = "x86_64")]
            proptest::prop_assert_eq!(all_checks(text.as_bytes()), [true; 3]);
            if !text.is_empty() {
                let mut bytes = text.clone().into_bytes();
                let i = at.index(bytes.len());
                bytes[i] = byte;
                let standard = std::str::from_utf8(&bytes).ok();
                proptest::prop_assert_eq!(str_from_utf8(&bytes), standard);
                #[cfg(target_arch = "x86_64")]
                proptest::prop_assert_eq!(is_valid_utf8_fast(&bytes), standard.is_some());
                #[cfg(target_arch = "x86_64")]
                proptest::prop_assert_eq!(all_checks(&bytes), [standard.is_some(); 3]);
            }
        }
    }

    /// Every byte of a long mixed text replaced in turn by bytes of every class,
    /// so that each error meets every offset within the 16- and 32-byte blocks.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn every_check_catches_a_bad_byte_at_every_offset() {
        let text = "가a é😀\u{800}한 \u{10ffff}z".repeat(9);
        let bytes = text.as_bytes();
        assert_eq!(all_checks(bytes), [true; 3]);
        for i in 0..bytes.len() {
            for b in [
                0x00, 0x41, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5,
                0xFF,
            ] {
                let mut bad = bytes.to_vec();
                bad[i] = b;
                let standard = std::str::from_utf8(&bad).is_ok();
                assert_eq!(all_checks(&bad), [standard; 3], "byte {b:#x} at {i}");
                // Cut short at the same offset: sequences left open at the end.
                let cut = &bytes[..i];
                let standard = std::str::from_utf8(cut).is_ok();
                assert_eq!(all_checks(cut), [standard; 3], "cut at {i}");
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
