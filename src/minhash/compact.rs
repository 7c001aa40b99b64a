//! Compact signatures: each 32-bit MinHash value stored as a 16-bit digest.
//!
//! Signatures are the largest per-unit state of a MinHash run (512 bytes per unit
//! at 128 permutations), and a large run keeps them on disk between stages (see
//! [`crate::work`]) and in saved indexes. Storing a 16-bit digest of each value
//! halves that. Equal values always give equal digests; unequal values collide
//! with probability about 2^-16, so an estimate counts an extra agreement at a
//! position with that probability (a bias of at most 1.6e-5 on the Jaccard
//! estimate), and a band of `r` rows is a key of `16 r` bits: with the usual 3 or
//! more rows, chance collisions of a band between unrelated units are rare and
//! only add candidates that verification rejects.
//!
//! The digest depends on the position as well as the value. A short unit's
//! one-permutation signature repeats its few values across the positions (a
//! one-shingle paragraph, such as a heading, has one value in all 128): with one
//! digest per value, two one-shingle units whose values shared a digest agreed
//! at every position at once, an estimate of 1 and equal keys in every band,
//! which on 1.2 M real paragraphs made tens of thousands of false pairs. With
//! a digest per position, such chance agreements are separate events at each
//! position, as for any other pair.
//!
//! A compact signature is `2 * num_perm` bytes: the digests, little-endian.

use xxhash_rust::xxh3::xxh3_64;

use super::EMPTY_SLOT;

/// Bytes per compact signature value.
pub const BYTES_PER_VALUE: usize = 2;

pub use super::digest::digest;

/// The digests of `signature`'s values, in order.
pub fn digests(signature: &[u32]) -> impl Iterator<Item = u16> + '_ {
    signature
        .iter()
        .enumerate()
        .map(|(position, &v)| digest(v, position))
}

/// Appends the compact form of `signature` to `out`.
pub fn compact_into(signature: &[u32], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + signature.len() * BYTES_PER_VALUE, 0);
    let (pairs, _) = out[start..].as_chunks_mut::<BYTES_PER_VALUE>();
    crate::simd::minhash::digests(signature, 0, pairs);
}

/// Appends the digests of `signature`'s values to `out`, in order (what
/// [`digests`] gives, computed a block at a time by the vectorised kernel).
pub fn digests_into(signature: &[u32], out: &mut Vec<u16>) {
    const BLOCK: usize = 256;
    let mut block = [[0u8; BYTES_PER_VALUE]; BLOCK];
    for (index, values) in signature.chunks(BLOCK).enumerate() {
        let written = &mut block[..values.len()];
        crate::simd::minhash::digests(values, index * BLOCK, written);
        out.extend(written.iter().map(|&pair| u16::from_le_bytes(pair)));
    }
}

/// The compact form of `signature`.
pub fn compact(signature: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    compact_into(signature, &mut out);
    out
}

/// Estimated Jaccard similarity of two compact signatures: the fraction of
/// positions whose digests agree (0 for empty signatures).
pub fn estimate(a: &[u8], b: &[u8]) -> f64 {
    let positions = a.len().max(b.len()) / BYTES_PER_VALUE;
    if positions == 0 {
        return 0.0;
    }
    let equal = a
        .chunks_exact(BYTES_PER_VALUE)
        .zip(b.chunks_exact(BYTES_PER_VALUE))
        .filter(|(x, y)| x == y)
        .count();
    equal as f64 / positions as f64
}

/// Bucket key of band `band` (of `rows` values) of a compact signature:
/// XXH3-64 of its bytes; `None` when the band lies beyond the signature.
#[inline]
pub fn band_key(signature: &[u8], band: usize, rows: usize) -> Option<u64> {
    let start = band.checked_mul(rows)?.checked_mul(BYTES_PER_VALUE)?;
    let end = start.checked_add(rows.checked_mul(BYTES_PER_VALUE)?)?;
    signature.get(start..end).map(xxh3_64)
}

/// True for the compact signature of an empty shingle set.
pub fn is_empty(signature: &[u8]) -> bool {
    signature
        .chunks_exact(BYTES_PER_VALUE)
        .enumerate()
        .all(|(position, v)| v == digest(EMPTY_SLOT, position).to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::{estimate_jaccard, SplitMix64};
    use proptest::prelude::*;

    #[test]
    fn digests_of_distinct_values_rarely_collide() {
        let mut rng = SplitMix64::new(3);
        let trials = 2_000_000u32;
        let collisions = (0..trials)
            .filter(|_| {
                let (a, b) = (rng.next_u64() as u32, rng.next_u64() as u32);
                a != b && digest(a, 0) == digest(b, 0)
            })
            .count();
        // Expected 2e6 / 65536 = 30.5; allow a wide band around it.
        assert!((10..=60).contains(&collisions), "{collisions} collisions");
        // Small classic-MinHash minima spread too: 0..65536 map to many digests.
        let mut seen = vec![false; 1 << 16];
        for v in 0..1u32 << 16 {
            seen[digest(v, 0) as usize] = true;
        }
        let distinct = seen.iter().filter(|&&s| s).count();
        assert!(distinct > 40_000, "{distinct} distinct digests of 0..65536");
    }

    #[test]
    fn repeated_values_collide_at_separate_positions() {
        // The signature of a one-shingle unit repeats one value at every
        // position: two such signatures of distinct values should agree at
        // about 2^-16 of the positions, a position at a time, never all at once.
        let mut rng = SplitMix64::new(5);
        let (pairs, k) = (100_000, 128);
        let (mut agreements, mut most) = (0, 0);
        for _ in 0..pairs {
            let (a, b) = (rng.next_u64() as u32, rng.next_u64() as u32);
            let a_sig = compact(&vec![a; k]);
            let b_sig = compact(&vec![b; k]);
            let agree = a_sig
                .chunks_exact(BYTES_PER_VALUE)
                .zip(b_sig.chunks_exact(BYTES_PER_VALUE))
                .filter(|(x, y)| x == y)
                .count();
            if a != b {
                agreements += agree;
                most = most.max(agree);
            }
            for band in 0..7 {
                let equal_keys = band_key(&a_sig, band, 18) == band_key(&b_sig, band, 18);
                assert_eq!(equal_keys, a == b, "band {band} of {a:#x} and {b:#x}");
            }
        }
        // Expected 1e5 * 128 / 65536 = 195.
        assert!((120..=280).contains(&agreements), "{agreements} agreements");
        // Independent positions: 4 agreements in one pair has probability 6e-13.
        assert!(most <= 3, "a pair agreed at {most} positions");
    }

    proptest! {
        #[test]
        fn the_fast_forms_hold_each_digest_in_order(
            values in proptest::collection::vec(any::<u32>(), 0..700),
            before in proptest::collection::vec(any::<u8>(), 0..5),
        ) {
            // The reference: one digest at a time, little-endian.
            let expected: Vec<u16> = values
                .iter()
                .enumerate()
                .map(|(position, &v)| digest(v, position))
                .collect();
            let mut bytes = before.clone();
            compact_into(&values, &mut bytes);
            prop_assert_eq!(&bytes[..before.len()], &before[..]);
            let written: Vec<u16> = bytes[before.len()..]
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect();
            prop_assert_eq!(&written, &expected);
            let mut words = vec![9u16];
            digests_into(&values, &mut words);
            prop_assert_eq!(words[0], 9);
            prop_assert_eq!(&words[1..], &expected[..]);
        }

        #[test]
        fn compact_estimate_tracks_the_full_estimate(
            seed in any::<u64>(),
            k in 1usize..256,
            agree in 0.0f64..=1.0,
        ) {
            let mut rng = SplitMix64::new(seed);
            let a: Vec<u32> = (0..k).map(|_| rng.next_u64() as u32).collect();
            let b: Vec<u32> = a
                .iter()
                .map(|&v| if (rng.next_u64() as f64 / u64::MAX as f64) < agree { v } else { rng.next_u64() as u32 })
                .collect();
            let full = estimate_jaccard(&a, &b);
            let compacted = estimate(&compact(&a), &compact(&b));
            // Compaction can only add agreements, each with probability 2^-16.
            prop_assert!(compacted >= full);
            prop_assert!(compacted - full <= 3.0 / k as f64);
        }

        #[test]
        fn equal_bands_have_equal_keys(values in proptest::collection::vec(any::<u32>(), 12), rows in 1usize..=4) {
            let a = compact(&values);
            let mut other = values.clone();
            other[11] ^= 1;
            let b = compact(&other);
            for band in 0..12 / rows {
                let touches_last = (band + 1) * rows > 11;
                let (ka, kb) = (band_key(&a, band, rows), band_key(&b, band, rows));
                prop_assert!(ka.is_some());
                if !touches_last {
                    prop_assert_eq!(ka, kb);
                }
            }
            prop_assert_eq!(band_key(&a, 12 / rows, rows + 12), None);
        }
    }

    #[test]
    fn empty_signature_is_recognised() {
        assert!(is_empty(&compact(&[EMPTY_SLOT; 8])));
        assert!(!is_empty(&compact(&[EMPTY_SLOT, 1, EMPTY_SLOT])));
    }
}
