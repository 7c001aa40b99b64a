//! The two loops of the SimHash search over permuted block tables: the keys
//! of a table (the bits of its blocks, packed low), and which pairs of a
//! bucket of 64-bit fingerprints with equal keys lie within a Hamming radius.
//!
//! Keys are packed by walking the key's runs of bits (any CPU), or with one
//! BMI2 `pext` per fingerprint.
//!
//! The loop body is written once in portable Rust, each fingerprint against the
//! later ones eight at a time (an XOR, a popcount and a compare per lane, then
//! a bit per lane). It is compiled plain (any CPU) and with AVX2; with AVX-512
//! VPOPCNTDQ the eight popcounts are one instruction and a short tail is one
//! masked load, written with intrinsics. The CPU is checked once and the choice
//! cached; every version reports the same pairs, which the tests check.

use super::Isa;

/// A key packer: the key's bits, the entries, and where the keys go.
type PackKernel = fn(u64, &[u64], &mut Vec<u32>);

/// Appends to `out`, for each of `values`, the bits that
/// `mask` selects, packed into the low bits in their order (what BMI2's `pext`
/// computes).
///
/// # Panics
///
/// If `mask` has more than 32 bits set.
pub(crate) fn pack_keys(mask: u64, values: &[u64], out: &mut Vec<u32>) {
    static CHOSEN: std::sync::OnceLock<PackKernel> = std::sync::OnceLock::new();
    assert!(mask.count_ones() <= 32, "packed keys have at most 32 bits");
    let kernel = CHOSEN.get_or_init(|| super::best(select_pack).unwrap_or(pack_portable));
    kernel(mask, values, out);
}

/// The key packer built for `isa`, if there is one and this CPU can run it.
fn select_pack(isa: Isa) -> Option<PackKernel> {
    match isa {
        Isa::Portable => Some(pack_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if isa.is_available() => Some(|mask, values, out| {
            // SAFETY: handed out only after checking above that the CPU has
            // AVX2 and BMI2.
            unsafe { x86_64::pack_bmi2(mask, values, out) }
        }),
        _ => None,
    }
}

/// [`pack_keys`] on any CPU: the mask's runs of adjacent bits, shifted down
/// and laid side by side.
fn pack_portable(mask: u64, values: &[u64], out: &mut Vec<u32>) {
    let mut runs: Vec<(u32, u64)> = Vec::new();
    let mut rest = mask;
    while rest != 0 {
        let shift = rest.trailing_zeros();
        let width = (rest >> shift).trailing_ones();
        let bits = if width == 64 {
            u64::MAX
        } else {
            (1 << width) - 1
        };
        runs.push((shift, bits));
        rest &= !(bits << shift);
    }
    out.extend(values.iter().map(|&value| {
        let (mut key, mut at) = (0u64, 0u32);
        for &(shift, bits) in &runs {
            key |= ((value >> shift) & bits) << at;
            at += bits.count_ones();
        }
        key as u32
    }));
}

/// A radius kernel: the bucket, the radius, and where the pairs found go.
type NearKernel = fn(&[u64], u32, &mut Vec<(u32, u32)>);

/// Fingerprints compared per step.
const LANES: usize = 8;

/// Appends to `out` every pair of positions `(p, q)`, `p < q`, of `values`
/// with `1 <= popcount(values[p] ^ values[q]) <= radius`: the pairs near each
/// other but not equal. The pairs come tile by tile (eight rows `p` against
/// eight columns `q`, see [`near_body`]), in the same order from every version.
///
/// # Panics
///
/// If `values` has more than `u32::MAX` entries.
pub(crate) fn near_pairs(values: &[u64], radius: u32, out: &mut Vec<(u32, u32)>) {
    static CHOSEN: std::sync::OnceLock<NearKernel> = std::sync::OnceLock::new();
    assert!(
        u32::try_from(values.len()).is_ok(),
        "at most u32::MAX values per call"
    );
    let kernel = CHOSEN.get_or_init(|| super::best(select).unwrap_or(near_portable));
    kernel(values, radius, out);
}

/// The radius kernel built for `isa`, if there is one and this CPU can run it.
fn select(isa: Isa) -> Option<NearKernel> {
    match isa {
        Isa::Portable => Some(near_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if isa.is_available() => Some(|values, radius, out| {
            // SAFETY: this function is only handed out after checking above that
            // the CPU has AVX2.
            unsafe { x86_64::near_avx2(values, radius, out) }
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512Popcnt if isa.is_available() => Some(|values, radius, out| {
            // SAFETY: as above, for AVX-512 F, DQ, VL and VPOPCNTDQ.
            unsafe { x86_64::near_avx512_popcnt(values, radius, out) }
        }),
        _ => None,
    }
}

/// [`near_pairs`] on any CPU.
fn near_portable(values: &[u64], radius: u32, out: &mut Vec<(u32, u32)>) {
    near_body(values, radius, out);
}

/// Whether a distance is in `1..=radius` (one compare: `0 - 1` wraps past every
/// radius).
#[inline(always)]
fn in_radius(distance: u32, radius: u32) -> bool {
    distance.wrapping_sub(1) < radius
}

/// Appends `(p, base + lane)` for every set bit `lane` of `mask`, lowest first.
#[inline(always)]
fn push_lanes(p: u32, mut mask: u32, base: u32, out: &mut Vec<(u32, u32)>) {
    while mask != 0 {
        out.push((p, base + mask.trailing_zeros()));
        mask &= mask - 1;
    }
}

/// The lanes of a tile that hold a pair: columns that exist (`columns` of
/// them) and, on the diagonal tile, lie after row `row`.
#[inline(always)]
fn tile_lanes(columns: usize, row: usize, diagonal: bool) -> u32 {
    let existing = (1u32 << columns) - 1;
    if diagonal {
        existing & (!0u32 << (row + 1))
    } else {
        existing
    }
}

/// The loop of the portable and AVX2 versions, and the definition of the
/// order: rows in groups of [`LANES`]; for each group, the column groups from
/// its own on; in each tile, row by row, each row's columns ascending.
#[inline(always)]
fn near_body(values: &[u64], radius: u32, out: &mut Vec<(u32, u32)>) {
    for row0 in (0..values.len()).step_by(LANES) {
        let rows = &values[row0..(row0 + LANES).min(values.len())];
        for col0 in (row0..values.len()).step_by(LANES) {
            let columns = &values[col0..(col0 + LANES).min(values.len())];
            for (r, &a) in rows.iter().enumerate() {
                let mut mask = 0u32;
                for (lane, &v) in columns.iter().enumerate() {
                    mask |= u32::from(in_radius((a ^ v).count_ones(), radius)) << lane;
                }
                mask &= tile_lanes(columns.len(), r, col0 == row0);
                push_lanes((row0 + r) as u32, mask, col0 as u32, out);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86_64 {
    use super::{near_body, push_lanes, tile_lanes, LANES};
    use std::arch::x86_64::*;

    /// [`super::pack_keys`] with one `pext` per entry.
    ///
    /// # Safety
    ///
    /// The CPU must support BMI2.
    #[target_feature(enable = "bmi2")]
    pub(super) unsafe fn pack_bmi2(mask: u64, values: &[u64], out: &mut Vec<u32>) {
        out.extend(values.iter().map(|&value| _pext_u64(value, mask) as u32));
    }

    /// The portable loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn near_avx2(values: &[u64], radius: u32, out: &mut Vec<(u32, u32)>) {
        near_body(values, radius, out);
    }

    /// [`super::near_body`] a tile at a time: eight columns in one register
    /// against each of eight rows: XOR, vector popcount, one unsigned compare
    /// of `distance - 1` with the radius. The diagonal tile and the last,
    /// short one are loaded and compared under masks; the tiles between are
    /// whole.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ, VL and VPOPCNTDQ.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512vpopcntdq")]
    pub(super) unsafe fn near_avx512_popcnt(
        values: &[u64],
        radius: u32,
        out: &mut Vec<(u32, u32)>,
    ) {
        let one = _mm512_set1_epi64(1);
        let limit = _mm512_set1_epi64(i64::from(radius));
        let n = values.len();
        // Lanes `radius` compares in, per row, and what they found.
        let compare = |v: __m512i, centres: &[__m512i; LANES], lanes: [__mmask8; LANES]| {
            let mut any: __mmask8 = 0;
            let masks: [__mmask8; LANES] = std::array::from_fn(|r| {
                let distance = _mm512_popcnt_epi64(_mm512_xor_si512(v, centres[r]));
                let below = _mm512_sub_epi64(distance, one);
                let mask = _mm512_mask_cmplt_epu64_mask(lanes[r], below, limit);
                any |= mask;
                mask
            });
            (any != 0).then_some(masks)
        };
        let mut push = |masks: [__mmask8; LANES], row0: usize, col0: usize| {
            for (r, &mask) in masks.iter().enumerate() {
                push_lanes((row0 + r) as u32, u32::from(mask), col0 as u32, out);
            }
        };
        for row0 in (0..n).step_by(LANES) {
            let centres: [__m512i; LANES] = std::array::from_fn(|r| {
                _mm512_set1_epi64(values.get(row0 + r).copied().unwrap_or(0) as i64)
            });
            // The diagonal tile: each row against the columns after it. Rows
            // past the end have no column after them.
            let present = (n - row0).min(LANES);
            let existing = tile_lanes(present, LANES, false) as __mmask8;
            // SAFETY: the mask loads only the `present` values from `row0`.
            let v = unsafe { _mm512_maskz_loadu_epi64(existing, values[row0..].as_ptr().cast()) };
            let diagonal = std::array::from_fn(|r| tile_lanes(present, r, true) as __mmask8);
            if let Some(masks) = compare(v, &centres, diagonal) {
                push(masks, row0, row0);
            }
            let mut col0 = row0 + LANES;
            while col0 + LANES <= n {
                // SAFETY: `col0 + LANES <= n`: eight values to load.
                let v = unsafe { _mm512_loadu_si512(values[col0..].as_ptr().cast()) };
                if let Some(masks) = compare(v, &centres, [0xFF; LANES]) {
                    push(masks, row0, col0);
                }
                col0 += LANES;
            }
            if col0 < n {
                let lanes = tile_lanes(n - col0, LANES, false) as __mmask8;
                // SAFETY: the mask loads only the `n - col0` values left.
                let v = unsafe { _mm512_maskz_loadu_epi64(lanes, values[col0..].as_ptr().cast()) };
                if let Some(masks) = compare(v, &centres, [lanes; LANES]) {
                    push(masks, row0, col0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{length, start};
    use super::*;
    use proptest::prelude::*;

    /// Values near `centre` (a few bits flipped) mixed with any values and
    /// copies of `centre` itself.
    fn values_around(centre: u64) -> impl Strategy<Value = Vec<u64>> {
        length(200).prop_flat_map(move |n| {
            let flipped = prop::collection::vec(0u32..64, 0..20)
                .prop_map(move |bits| bits.iter().fold(centre, |v, &b| v ^ (1 << b)));
            prop::collection::vec(prop_oneof![flipped, Just(centre), any::<u64>()], n)
        })
    }

    backend_tests! {
        near_kernels: select, entry near_pairs;
        (
            values in any::<u64>().prop_flat_map(values_around),
            radius in prop_oneof![0u32..=20, Just(63), Just(64), Just(u32::MAX)],
            from in start(),
        ) => |kernel| {
            let values = &values[from.min(values.len())..];
            // Pairs already in `out` stay.
            let mut out = vec![(u32::MAX, 0)];
            kernel(values, radius, &mut out);
            out
        }
    }

    backend_tests! {
        pack_kernels: select_pack, entry pack_keys;
        (
            values in length(100).prop_flat_map(|n| prop::collection::vec(any::<u64>(), n)),
            bits in prop::collection::vec(0u32..64, 0..=32),
        ) => |kernel| {
            let mask = bits.iter().fold(0u64, |m, &b| m | 1 << b);
            let mut out = vec![7];
            kernel(mask, &values, &mut out);
            out
        }
    }

    proptest! {
        #[test]
        fn packed_keys_are_the_masked_bits_in_order(
            value in any::<u64>(),
            bits in prop::collection::vec(0u32..64, 0..=32),
        ) {
            let mask = bits.iter().fold(0u64, |m, &b| m | 1 << b);
            let mut got = Vec::new();
            pack_keys(mask, &[value], &mut got);
            let want = (0..64)
                .filter(|&b| mask >> b & 1 == 1)
                .enumerate()
                .fold(0u32, |key, (at, b)| key | ((value >> b & 1) as u32) << at);
            prop_assert_eq!(got, vec![want]);
        }

        #[test]
        fn finds_exactly_the_pairs_in_radius(
            values in any::<u64>().prop_flat_map(values_around),
            radius in 0u32..=24,
        ) {
            let mut got = Vec::new();
            near_pairs(&values, radius, &mut got);
            got.sort_unstable();
            let mut want = Vec::new();
            for (p, &a) in (0u32..).zip(&values) {
                for (q, &b) in (0u32..).zip(&values).skip(p as usize + 1) {
                    if a != b && (a ^ b).count_ones() <= radius {
                        want.push((p, q));
                    }
                }
            }
            prop_assert_eq!(got, want);
        }
    }
}
