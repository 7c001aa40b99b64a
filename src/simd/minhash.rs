//! The MinHash signing loops, compiled for the best instruction set the CPU has.
//!
//! Each loop body (`sign_body`, `oph_body`, `rows_min_body`, `digests_body`) is
//! written once in
//! portable Rust, in a shape the compiler vectorises (32×32→64-bit multiplies,
//! shifts, masks, `min`).
//! It is compiled three times: plain (any CPU), with AVX2, and with AVX-512; the
//! CPU is checked once and the choice cached. Because every version runs the same
//! integer arithmetic, their results are bit-identical, which the tests check.

use super::Isa;
use crate::minhash::family::{fold32, mul_add_mod_x32, EMPTY_SLOT};
use crate::mix::fmix64;

/// A signing kernel: coefficient halves, additive terms, the shingles, and the
/// output (pre-filled with the empty value).
type SignKernel = fn(&[u32], &[u32], &[u64], &[u64], &mut [u32]);

/// Min-updates `out` with every permutation of every shingle: for each shingle
/// `x` (folded to 32 bits) and each `i < out.len()`, with `a = a_hi[i] << 32 |
/// a_lo[i]`, the low 32 bits of `(a * x + b[i]) mod (2^61 - 1)`.
///
/// The coefficients must hold at least `out.len()` values each, with `a` and
/// `b[i]` below `2^61 - 1`.
pub(crate) fn sign(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    static CHOSEN: std::sync::OnceLock<SignKernel> = std::sync::OnceLock::new();
    let kernel = CHOSEN.get_or_init(|| super::best(select_sign).unwrap_or(sign_portable));
    kernel(a_lo, a_hi, b, shingles, out);
}

/// The signing kernel built for `isa`, if there is one and this CPU can run it.
fn select_sign(isa: Isa) -> Option<SignKernel> {
    match isa {
        Isa::Portable => Some(sign_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if isa.is_available() => Some(|a_lo, a_hi, b, shingles, out| {
            // SAFETY: this function is only handed out after checking above that
            // the CPU has AVX2.
            unsafe { x86_64::sign_avx2(a_lo, a_hi, b, shingles, out) }
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if isa.is_available() => Some(|a_lo, a_hi, b, shingles, out| {
            // SAFETY: as above, for AVX-512 F, DQ and VL.
            unsafe { x86_64::sign_avx512(a_lo, a_hi, b, shingles, out) }
        }),
        _ => None,
    }
}

/// [`sign`] on any CPU.
fn sign_portable(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    sign_body(a_lo, a_hi, b, shingles, out);
}

/// The loop every signing kernel runs: for each shingle, each permutation's
/// value, min-updated into `out`.
#[inline(always)]
fn sign_body(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    let k = out.len();
    let (a_lo, a_hi, b) = (&a_lo[..k], &a_hi[..k], &b[..k]);
    for &shingle in shingles {
        let x = fold32(shingle);
        for i in 0..k {
            let h = mul_add_mod_x32(a_lo[i], a_hi[i], x, b[i]) as u32;
            out[i] = out[i].min(h);
        }
    }
}

/// A one-permutation kernel: the hashing key, the number of bins, the
/// shingles, and one packed `bin << 32 | value` per shingle.
type OphKernel = fn(u64, u64, &[u64], &mut [u64]);

/// Bins and values of one-permutation MinHash for `shingles`, written to the
/// front of `out` (at least as long), one `bin << 32 | value` per shingle: each
/// shingle is hashed once; the high 32 bits of the hash pick the bin (fast range
/// reduction, so `bin < bins`), the low 32 bits are the value, with
/// [`EMPTY_SLOT`] reserved for "empty".
pub(crate) fn oph_bins(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
    static CHOSEN: std::sync::OnceLock<OphKernel> = std::sync::OnceLock::new();
    let kernel = CHOSEN.get_or_init(|| super::best(select_oph).unwrap_or(oph_portable));
    kernel(key, bins, shingles, out);
}

/// The one-permutation kernel built for `isa`, if there is one and this CPU can
/// run it.
fn select_oph(isa: Isa) -> Option<OphKernel> {
    match isa {
        Isa::Portable => Some(oph_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if isa.is_available() => Some(|key, bins, shingles, out| {
            // SAFETY: this function is only handed out after checking above that
            // the CPU has AVX2.
            unsafe { x86_64::oph_avx2(key, bins, shingles, out) }
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if isa.is_available() => Some(|key, bins, shingles, out| {
            // SAFETY: as above, for AVX-512 F, DQ and VL.
            unsafe { x86_64::oph_avx512(key, bins, shingles, out) }
        }),
        _ => None,
    }
}

/// [`oph_bins`] on any CPU.
fn oph_portable(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
    oph_body(key, bins, shingles, out);
}

/// The loop every one-permutation kernel runs.
#[inline(always)]
fn oph_body(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
    let out = &mut out[..shingles.len()];
    for (o, &shingle) in out.iter_mut().zip(shingles) {
        let h = fmix64(shingle ^ key);
        let bin = ((h >> 32) * bins) >> 32;
        let value = (h as u32).min(EMPTY_SLOT - 1);
        *o = bin << 32 | u64::from(value);
    }
}

/// The set bits of the bitmap `words` (bit `j % 64` of word `j / 64`), in
/// ascending order: the bitmap [`rows_min`] takes, and the one its callers
/// build.
#[inline(always)]
pub(crate) fn set_bits(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(index, &word)| {
        let rest = |bits: &u64| Some(bits & (bits - 1)).filter(|&b| b != 0);
        std::iter::successors(Some(word).filter(|&b| b != 0), rest)
            .map(move |bits| index * 64 + bits.trailing_zeros() as usize)
    })
}

/// A row-minimum kernel: the rows, the bitmap of rows to take, and the
/// running minimum.
type RowsMinKernel = fn(&[u16], &[u64], &mut [u16]);

/// Lowers `best` to the lane-wise minimum of itself and every row `j` whose bit
/// is set in `taken` (bit `j % 64` of word `j / 64`), where row `j` is
/// `rows[j * best.len()..(j + 1) * best.len()]`. One-permutation MinHash
/// densifies a sparse signature this way, one row per filled bin.
///
/// # Panics
///
/// If a taken row lies beyond `rows`.
pub(crate) fn rows_min(rows: &[u16], taken: &[u64], best: &mut [u16]) {
    static CHOSEN: std::sync::OnceLock<RowsMinKernel> = std::sync::OnceLock::new();
    let kernel = CHOSEN.get_or_init(|| super::best(select_rows_min).unwrap_or(rows_min_portable));
    kernel(rows, taken, best);
}

/// The row-minimum kernel built for `isa`, if there is one and this CPU can run
/// it.
fn select_rows_min(isa: Isa) -> Option<RowsMinKernel> {
    match isa {
        Isa::Portable => Some(rows_min_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if isa.is_available() => Some(|rows, taken, best| {
            // SAFETY: this function is only handed out after checking above that
            // the CPU has AVX2.
            unsafe { x86_64::rows_min_avx2(rows, taken, best) }
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if isa.is_available() => Some(|rows, taken, best| {
            // SAFETY: as above, for AVX-512 F, DQ and VL.
            unsafe { x86_64::rows_min_avx512(rows, taken, best) }
        }),
        _ => None,
    }
}

/// [`rows_min`] on any CPU.
fn rows_min_portable(rows: &[u16], taken: &[u64], best: &mut [u16]) {
    rows_min_body(rows, taken, best);
}

/// The loop every row-minimum kernel runs: the set bits of `taken` in order,
/// each row's lanes min-updated into `best`.
#[inline(always)]
fn rows_min_body(rows: &[u16], taken: &[u64], best: &mut [u16]) {
    let width = best.len();
    for j in set_bits(taken) {
        let row = &rows[j * width..(j + 1) * width];
        for (lane, &value) in best.iter_mut().zip(row) {
            *lane = (*lane).min(value);
        }
    }
}

/// A digest kernel: the signature values, the position of the first, and one
/// little-endian digest per value.
type DigestsKernel = fn(&[u32], usize, &mut [[u8; 2]]);

/// Writes the compact digest ([`crate::minhash::digest::digest`]) of each value
/// of `signature`, the first at position `first_position`, little-endian, to
/// the front of `out` (at least as long).
pub(crate) fn digests(signature: &[u32], first_position: usize, out: &mut [[u8; 2]]) {
    static CHOSEN: std::sync::OnceLock<DigestsKernel> = std::sync::OnceLock::new();
    let kernel = CHOSEN.get_or_init(|| super::best(select_digests).unwrap_or(digests_portable));
    kernel(signature, first_position, out);
}

/// The digest kernel built for `isa`, if there is one and this CPU can run it.
fn select_digests(isa: Isa) -> Option<DigestsKernel> {
    match isa {
        Isa::Portable => Some(digests_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if isa.is_available() => Some(|signature, first, out| {
            // SAFETY: this function is only handed out after checking above that
            // the CPU has AVX2.
            unsafe { x86_64::digests_avx2(signature, first, out) }
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if isa.is_available() => Some(|signature, first, out| {
            // SAFETY: as above, for AVX-512 F, DQ and VL.
            unsafe { x86_64::digests_avx512(signature, first, out) }
        }),
        _ => None,
    }
}

/// [`digests`] on any CPU.
fn digests_portable(signature: &[u32], first_position: usize, out: &mut [[u8; 2]]) {
    digests_body(signature, first_position, out);
}

/// The loop every digest kernel runs: position by position, the digest of the
/// value (32-bit multiplies, shifts and xors, which vectorise lane by lane).
#[inline(always)]
fn digests_body(signature: &[u32], first_position: usize, out: &mut [[u8; 2]]) {
    let out = &mut out[..signature.len()];
    for (i, (&value, digest)) in signature.iter().zip(out.iter_mut()).enumerate() {
        *digest = crate::minhash::digest::digest(value, first_position + i).to_le_bytes();
    }
}

#[cfg(target_arch = "x86_64")]
mod x86_64 {
    use super::{digests_body, oph_body, rows_min_body, sign_body};

    /// The digest loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn digests_avx2(signature: &[u32], first: usize, out: &mut [[u8; 2]]) {
        digests_body(signature, first, out);
    }

    /// The digest loop compiled with AVX-512.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn digests_avx512(signature: &[u32], first: usize, out: &mut [[u8; 2]]) {
        digests_body(signature, first, out);
    }

    /// The row-minimum loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rows_min_avx2(rows: &[u16], taken: &[u64], best: &mut [u16]) {
        rows_min_body(rows, taken, best);
    }

    /// The row-minimum loop compiled with AVX-512.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn rows_min_avx512(rows: &[u16], taken: &[u64], best: &mut [u16]) {
        rows_min_body(rows, taken, best);
    }

    /// The signing loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn sign_avx2(
        a_lo: &[u32],
        a_hi: &[u32],
        b: &[u64],
        shingles: &[u64],
        out: &mut [u32],
    ) {
        sign_body(a_lo, a_hi, b, shingles, out);
    }

    /// The signing loop compiled with AVX-512.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn sign_avx512(
        a_lo: &[u32],
        a_hi: &[u32],
        b: &[u64],
        shingles: &[u64],
        out: &mut [u32],
    ) {
        sign_body(a_lo, a_hi, b, shingles, out);
    }

    /// The one-permutation loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn oph_avx2(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
        oph_body(key, bins, shingles, out);
    }

    /// The one-permutation loop compiled with AVX-512.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn oph_avx512(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
        oph_body(key, bins, shingles, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{length, start};
    use super::*;
    use crate::minhash::MinHasher;
    use proptest::prelude::*;

    backend_tests! {
        sign_kernels: select_sign, entry sign;
        (
            k in length(300).prop_map(|k| k.max(1)),
            shingles in length(200).prop_flat_map(|n| prop::collection::vec(any::<u64>(), n)),
            seed in any::<u64>(),
            coefficients_from in start(),
            shingles_from in start(),
            out_from in start(),
        ) => |kernel| {
            // Coefficients, shingles and output all start at unaligned offsets.
            let h = MinHasher::new(coefficients_from + k, seed);
            let (a_lo, a_hi, b) = h.kernel_coefficients();
            let c = coefficients_from;
            let shingles = &shingles[shingles_from.min(shingles.len())..];
            let mut out = vec![EMPTY_SLOT; out_from + k];
            kernel(&a_lo[c..], &a_hi[c..], &b[c..], shingles, &mut out[out_from..]);
            out
        }
    }

    backend_tests! {
        oph_kernels: select_oph, entry oph_bins;
        (
            shingles in length(300).prop_flat_map(|n| prop::collection::vec(any::<u64>(), n)),
            bins in prop_oneof![Just(1u64), Just(4096), 1u64..=4096],
            key in any::<u64>(),
            shingles_from in start(),
            out_from in start(),
        ) => |kernel| {
            let shingles = &shingles[shingles_from.min(shingles.len())..];
            // A longer output than needed: the kernel writes only the front.
            let mut out = vec![u64::MAX; out_from + shingles.len() + 3];
            kernel(key, bins, shingles, &mut out[out_from..]);
            out
        }
    }

    backend_tests! {
        rows_min_kernels: select_rows_min, entry rows_min;
        (
            width in length(300),
            row_count in 1usize..=130,
            rows_seed in any::<u64>(),
            taken in prop::collection::vec(any::<u64>(), 0..=3),
            best_from in start(),
        ) => |kernel| {
            // Rows of pseudo-random values; the bitmap is cut to the rows there are.
            let mut state = rows_seed;
            let rows: Vec<u16> = (0..width * row_count)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (state >> 48) as u16
                })
                .collect();
            let taken: Vec<u64> = taken
                .iter()
                .enumerate()
                .map(|(w, &bits)| match row_count.saturating_sub(w * 64) {
                    0 => 0,
                    left if left >= 64 => bits,
                    left => bits & ((1u64 << left) - 1),
                })
                .collect();
            let mut best = vec![u16::MAX - 7; best_from + width];
            kernel(&rows, &taken, &mut best[best_from..]);
            best
        }
    }

    backend_tests! {
        digest_kernels: select_digests, entry digests;
        (
            values in length(300).prop_flat_map(|n| prop::collection::vec(any::<u32>(), n)),
            first_position in 0usize..5000,
            values_from in start(),
            out_from in start(),
        ) => |kernel| {
            let values = &values[values_from.min(values.len())..];
            // A longer output than needed: the kernel writes only the front.
            let mut out = vec![[7u8, 7]; out_from + values.len() + 3];
            kernel(values, first_position, &mut out[out_from..]);
            out
        }
    }

    proptest! {
        #[test]
        fn digests_are_the_digest_of_each_value_at_its_position(
            values in prop::collection::vec(any::<u32>(), 0..300),
            first_position in 0usize..5000,
        ) {
            let mut out = vec![[0u8; 2]; values.len()];
            digests(&values, first_position, &mut out);
            for (i, (&value, written)) in values.iter().zip(&out).enumerate() {
                let expected = crate::minhash::digest::digest(value, first_position + i);
                prop_assert_eq!(u16::from_le_bytes(*written), expected);
            }
        }
    }

    #[test]
    fn set_bits_lists_every_set_bit_in_order() {
        let words = [0b1010, 0, 1 << 63 | 1];
        assert_eq!(set_bits(&words).collect::<Vec<_>>(), [1, 3, 128, 191]);
        assert_eq!(set_bits(&[]).count(), 0);
        assert_eq!(set_bits(&[u64::MAX]).count(), 64);
    }

    /// The row minimum written out as a reference: lane by lane, every taken row.
    #[test]
    fn rows_min_is_the_minimum_over_taken_rows() {
        let width = 5;
        let rows: Vec<u16> = (0..70 * width as u32)
            .map(|v| (v.wrapping_mul(2_654_435_761) >> 16) as u16)
            .collect();
        let taken = [1u64 << 3 | 1 << 40, 1 << 4];
        let mut best = vec![u16::MAX; width];
        rows_min(&rows, &taken, &mut best);
        for (lane, &got) in best.iter().enumerate() {
            let want = [3usize, 40, 68]
                .iter()
                .map(|&j| rows[j * width + lane])
                .min();
            assert_eq!(Some(got), want, "lane {lane}");
        }
    }
}
