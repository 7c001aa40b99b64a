//! The word shingler's two loops over every byte and every token.
//!
//! - [`word_masks`]: where the words of a 64-byte block of text lie, looked at
//!   all at once: bit masks of its ASCII letters and digits, its upper-case
//!   letters and its bytes outside ASCII. It runs once per 64 bytes of text, so
//!   the version is chosen at compile time (SSE2 is part of every x86-64 CPU) and
//!   inlines into the shingler.
//! - [`window_hashes`]: the hash of every window of `n` consecutive token
//!   hashes, a polynomial evaluated column by column over all windows at once
//!   (one multiply-add per token per window, in a shape the compiler
//!   vectorises), then finalised. Its body is written once and compiled plain,
//!   with AVX2 and with AVX-512 (which multiplies 64-bit lanes); the CPU is
//!   checked once and the choice cached. Every version runs the same integer
//!   arithmetic, so their results are bit-identical, which the tests check.

use super::Isa;
use crate::mix::fmix64;

/// Bit `i` of each mask describes byte `i` of a 64-byte block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct WordMasks {
    /// ASCII letters and digits, and bytes outside ASCII: every byte that is
    /// not an ASCII separator once punctuation is folded to spaces.
    pub(crate) word: u64,
    /// ASCII upper-case letters.
    pub(crate) upper: u64,
    /// Bytes from 0x80 (parts of characters outside ASCII).
    pub(crate) high: u64,
}

/// A block classifier: sixteen-byte-aligned loads are not needed.
type WordMasksKernel = fn(&[u8; 64]) -> WordMasks;

/// The version [`word_masks`] runs, fixed when compiling.
const CHOSEN: WordMasksKernel = match select(Isa::BASELINE) {
    Some(kernel) => kernel,
    None => word_masks_portable,
};

/// The [`WordMasks`] of `block`.
#[inline]
pub(crate) fn word_masks(block: &[u8; 64]) -> WordMasks {
    CHOSEN(block)
}

/// The block classifier built for `isa`, if there is one and this CPU can run
/// it (only the portable one and the target's baseline are built).
const fn select(isa: Isa) -> Option<WordMasksKernel> {
    match isa {
        Isa::Portable => Some(word_masks_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Sse2 => Some(x86_64::word_masks_sse2),
        _ => None,
    }
}

/// [`word_masks`] one byte at a time, on any CPU.
#[inline]
fn word_masks_portable(block: &[u8; 64]) -> WordMasks {
    let mut masks = WordMasks::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            masks.word |= bit;
        }
        if b.is_ascii_uppercase() {
            masks.upper |= bit;
        }
        if b >= 0x80 {
            masks.high |= bit;
        }
    }
    masks
}

/// A window kernel: token hashes, window width, polynomial base, tag, and the
/// output the window hashes are appended to.
type WindowsKernel = fn(&[u64], usize, u64, u64, &mut Vec<u64>);

/// Appends to `out` the hash of every window of `width` consecutive `tokens`
/// (`tokens.len() + 1 - width` of them, `1 <= width <= tokens.len()`): the
/// polynomial `t0·base^(width-1) + … + t(width-1)` in wrapping arithmetic, xor
/// `tag`, through [`fmix64`].
pub(crate) fn window_hashes(tokens: &[u64], width: usize, base: u64, tag: u64, out: &mut Vec<u64>) {
    static CHOSEN: std::sync::OnceLock<WindowsKernel> = std::sync::OnceLock::new();
    let kernel = CHOSEN.get_or_init(|| super::best(select_windows).unwrap_or(windows_portable));
    kernel(tokens, width, base, tag, out);
}

/// The window kernel built for `isa`, if there is one and this CPU can run it.
fn select_windows(isa: Isa) -> Option<WindowsKernel> {
    match isa {
        Isa::Portable => Some(windows_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if isa.is_available() => Some(|tokens, width, base, tag, out| {
            // SAFETY: this function is only handed out after checking above that
            // the CPU has AVX2.
            unsafe { x86_64::windows_avx2(tokens, width, base, tag, out) }
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if isa.is_available() => Some(|tokens, width, base, tag, out| {
            // SAFETY: as above, for AVX-512 F, DQ and VL.
            unsafe { x86_64::windows_avx512(tokens, width, base, tag, out) }
        }),
        _ => None,
    }
}

/// [`window_hashes`] on any CPU.
fn windows_portable(tokens: &[u64], width: usize, base: u64, tag: u64, out: &mut Vec<u64>) {
    windows_body(tokens, width, base, tag, out);
}

/// The loop every window kernel runs: Horner's rule one column at a time (the
/// `i`-th token of every window), so each pass is one multiply-add over two
/// contiguous arrays; the first pass takes two columns and appends.
#[inline(always)]
fn windows_body(tokens: &[u64], width: usize, base: u64, tag: u64, out: &mut Vec<u64>) {
    assert!(
        (1..=tokens.len()).contains(&width),
        "window width {width} for {} tokens",
        tokens.len()
    );
    let step = |h: u64, t: u64| h.wrapping_mul(base).wrapping_add(t);
    let finish = |h: u64| fmix64(h ^ tag);
    if width == 1 {
        out.extend(tokens.iter().map(|&t| finish(t)));
        return;
    }
    let windows = tokens.len() + 1 - width;
    let from = out.len();
    out.extend(
        tokens[..windows]
            .iter()
            .zip(&tokens[1..])
            .map(|(&first, &second)| step(first, second)),
    );
    let hashes = &mut out[from..];
    for column in 2..width {
        for (h, &t) in hashes.iter_mut().zip(&tokens[column..]) {
            *h = step(*h, t);
        }
    }
    for h in hashes.iter_mut() {
        *h = finish(*h);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86_64 {
    use std::arch::x86_64::*;

    use super::WordMasks;

    /// The window loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn windows_avx2(
        tokens: &[u64],
        width: usize,
        base: u64,
        tag: u64,
        out: &mut Vec<u64>,
    ) {
        super::windows_body(tokens, width, base, tag, out);
    }

    /// The window loop compiled with AVX-512.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn windows_avx512(
        tokens: &[u64],
        width: usize,
        base: u64,
        tag: u64,
        out: &mut Vec<u64>,
    ) {
        super::windows_body(tokens, width, base, tag, out);
    }

    /// [`super::word_masks`] with SSE2, sixteen bytes per step.
    #[inline]
    pub(super) fn word_masks_sse2(block: &[u8; 64]) -> WordMasks {
        let mut masks = WordMasks::default();
        for (part, chunk) in block.chunks_exact(16).enumerate() {
            let shift = 16 * part;
            // SAFETY: this module is compiled only for x86-64, every CPU of which
            // has SSE2; the load is unaligned and reads the sixteen bytes of
            // `chunk`.
            let (alnum, upper, high) = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast());
                let within = |lo: u8, hi: u8| {
                    // Signed compares: bytes from 0x80 are negative, so outside
                    // every ASCII range.
                    _mm_and_si128(
                        _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
                        _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
                    )
                };
                let upper = within(b'A', b'Z');
                let alnum =
                    _mm_or_si128(_mm_or_si128(within(b'a', b'z'), within(b'0', b'9')), upper);
                (
                    _mm_movemask_epi8(alnum) as u16,
                    _mm_movemask_epi8(upper) as u16,
                    _mm_movemask_epi8(v) as u16,
                )
            };
            masks.word |= u64::from(alnum | high) << shift;
            masks.upper |= u64::from(upper) << shift;
            masks.high |= u64::from(high) << shift;
        }
        masks
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{length, scan_bytes, start};
    use super::*;
    use proptest::prelude::*;

    backend_tests! {
        block_masks: select, entry word_masks;
        (input in scan_bytes(b"abcmxyzABMZ0189 .,\xea\xb0\x80", 80)) => |kernel| {
            let (bytes, start) = &input;
            // Sixty-four bytes from the (unaligned) start, padded where the draw
            // is shorter.
            let mut bytes = bytes.clone();
            bytes.resize(bytes.len().max(start + 64), b' ');
            let block = bytes[*start..start + 64].try_into().expect("sixty-four bytes");
            kernel(block)
        }
    }

    backend_tests! {
        window_kernels: select_windows, entry window_hashes;
        (
            tokens in length(300)
                .prop_map(|n| n.max(1))
                .prop_flat_map(|n| prop::collection::vec(any::<u64>(), n)),
            width in 1usize..9,
            base in any::<u64>(),
            tag in any::<u64>(),
            out_from in start(),
        ) => |kernel| {
            // Appended after what `out` holds already.
            let width = width.min(tokens.len());
            let mut out = vec![7u64; out_from];
            kernel(&tokens, width, base, tag, &mut out);
            out
        }
    }

    #[test]
    fn windows_are_polynomials_of_their_tokens() {
        let tokens = [3u64, 5, 7, 11];
        let mut out = Vec::new();
        window_hashes(&tokens, 2, 10, 1, &mut out);
        assert_eq!(out, [fmix64(35 ^ 1), fmix64(57 ^ 1), fmix64(81 ^ 1)]);
        window_hashes(&tokens, 4, 10, 0, &mut out);
        assert_eq!(out[3..], [fmix64(3 * 1000 + 5 * 100 + 7 * 10 + 11)]);
        window_hashes(&tokens, 1, 10, 0, &mut out);
        assert_eq!(out[4..], tokens.map(fmix64));
    }

    #[test]
    fn masks_mark_words_capitals_and_other_scripts() {
        let mut block = [b' '; 64];
        block[..12].copy_from_slice(b"Ab9,\xea\xb0\x80 z_Q.");
        let masks = word_masks(&block);
        assert_eq!(masks.word, 0b0101_0111_0111);
        assert_eq!(masks.upper, 0b0100_0000_0001);
        assert_eq!(masks.high, 0b0000_0111_0000);
    }
}
