//! Band keys: the 64-bit bucket identifier of one band of one signature.
//!
//! Two units fall into the same LSH bucket for a band exactly when their
//! band slices are equal. Comparing slices directly would make every bucket
//! lookup cost `rows` comparisons, so each band slice is condensed into one
//! `u64` key (XXH3 of the slice's little-endian bytes). Equal slices always
//! get equal keys; unequal slices collide with probability about `2^-64`,
//! and such a collision only adds a candidate that verification rejects.

use crate::minhash::LshParams;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

/// Values hashed per chunk; bands up to this many rows hash in one call.
const CHUNK_VALUES: usize = 64;

/// Returns the bucket key of one band: XXH3-64 of the band's values as
/// little-endian bytes.
///
/// The key depends only on the values (not on the platform's endianness).
/// Performs no heap allocation.
pub fn band_key(rows: &[u32]) -> u64 {
    let mut buf = [0u8; CHUNK_VALUES * 4];
    if rows.len() <= CHUNK_VALUES {
        let used = fill_le_bytes(rows, &mut buf);
        return xxh3_64(&buf[..used]);
    }
    let mut hasher = Xxh3::new();
    for chunk in rows.chunks(CHUNK_VALUES) {
        let used = fill_le_bytes(chunk, &mut buf);
        hasher.update(&buf[..used]);
    }
    hasher.digest()
}

/// Writes `values` as little-endian bytes into the front of `buf` and
/// returns how many bytes were written. `values` must fit in `buf`.
fn fill_le_bytes(values: &[u32], buf: &mut [u8]) -> usize {
    for (dst, v) in buf.chunks_exact_mut(4).zip(values) {
        dst.copy_from_slice(&v.to_le_bytes());
    }
    values.len() * 4
}

/// Number of bands that can actually be cut from signatures of `num_perm`
/// values: `params.bands`, reduced if `bands * rows` exceeds `num_perm`.
/// Returns 0 when `rows` is 0.
pub fn usable_bands(params: LshParams, num_perm: usize) -> usize {
    num_perm
        .checked_div(params.rows)
        .map_or(0, |fit| fit.min(params.bands))
}

/// Returns band `band` (of `rows` values) of `signature`, or `None` when
/// the band lies beyond the end of the signature.
pub fn band_slice(signature: &[u32], band: usize, rows: usize) -> Option<&[u32]> {
    let start = band.checked_mul(rows)?;
    let end = start.checked_add(rows)?;
    signature.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_is_xxh3_of_little_endian_bytes() {
        for len in [0usize, 1, 5, 63, 64, 65, 128, 200] {
            let values: Vec<u32> = (0..len as u32)
                .map(|i| i.wrapping_mul(2_654_435_761))
                .collect();
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(band_key(&values), xxh3_64(&bytes), "len={len}");
        }
    }

    #[test]
    fn usable_bands_respects_signature_length() {
        assert_eq!(usable_bands(LshParams::new(9, 13), 128), 9);
        assert_eq!(usable_bands(LshParams::new(20, 13), 128), 128 / 13);
        assert_eq!(usable_bands(LshParams::new(5, 0), 128), 0);
        assert_eq!(usable_bands(LshParams::new(5, 4), 0), 0);
    }

    #[test]
    fn band_slice_bounds() {
        let sig: Vec<u32> = (0..10).collect();
        assert_eq!(band_slice(&sig, 0, 3), Some(&sig[0..3]));
        assert_eq!(band_slice(&sig, 2, 3), Some(&sig[6..9]));
        assert_eq!(band_slice(&sig, 3, 3), None);
        assert_eq!(band_slice(&sig, usize::MAX, 2), None);
    }

    proptest! {
        #[test]
        fn equal_slices_equal_keys_and_changes_change_keys(
            values in proptest::collection::vec(any::<u32>(), 1..100),
            pos in any::<usize>(),
            delta in 1u32..,
        ) {
            let copy = values.clone();
            prop_assert_eq!(band_key(&values), band_key(&copy));
            let mut changed = values.clone();
            let i = pos % changed.len();
            changed[i] = changed[i].wrapping_add(delta);
            prop_assert_ne!(band_key(&values), band_key(&changed));
        }
    }
}
