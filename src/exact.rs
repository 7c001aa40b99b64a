//! Exact-duplicate detection: a 128-bit hash of each unit's normalised text.
//!
//! The baseline every near-duplicate method is measured against. Two units are
//! duplicates when their normalised texts are byte-identical (up to a 2^-128 chance of
//! a hash collision). Units whose normalised text is empty get no hash and never match.

use xxhash_rust::xxh3::xxh3_128;

/// The exact-match key of a normalised text, or `None` for empty text.
pub fn text_key(normalized: &str) -> Option<u128> {
    (!normalized.is_empty()).then(|| xxh3_128(normalized.as_bytes()))
}

/// A map keyed by [`shingles_key`] values. They are hashes already, so the map
/// uses them as they are instead of hashing them again.
pub type KeyMap<V> = std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<KeyAsHash>>;

/// The hasher of a [`KeyMap`]: a `u64` key is its own hash.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyAsHash(u64);

impl std::hash::Hasher for KeyAsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys come here (`write_u64`); any other key is folded in
        // with a multiply so that it still spreads.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// The key of a unit's shingle sequence, or 0 when it has no shingles: units
/// with equal keys have equal shingle sequences, so equal shingle sets and an
/// exact Jaccard of 1 (short of a 64-bit hash collision between two units that
/// are already candidates with a high estimate). Verification settles such pairs
/// without re-reading their text.
pub fn shingles_key(shingles: &[u64]) -> u64 {
    if shingles.is_empty() {
        return 0;
    }
    // Shingle hashes are already well mixed: one multiply per shingle folds them
    // in order into one of four lanes (shingle `i` into lane `i % 4`, so four
    // independent chains of multiplies run side by side), and xxh3 of the lanes
    // and the count finishes the key.
    const MIX: u64 = 0x9E37_79B9_7F4A_7C15;
    const LANES: usize = 4;
    let fold = |h: u64, s: u64| (h.rotate_left(23) ^ s).wrapping_mul(MIX);
    let mut lanes = [0u64; LANES];
    let mut quads = shingles.chunks_exact(LANES);
    for quad in &mut quads {
        for (lane, &s) in lanes.iter_mut().zip(quad) {
            *lane = fold(*lane, s);
        }
    }
    for (lane, &s) in lanes.iter_mut().zip(quads.remainder()) {
        *lane = fold(*lane, s);
    }
    let mut bytes = [0u8; 8 * (LANES + 1)];
    for (out, value) in bytes
        .chunks_exact_mut(8)
        .zip(lanes.into_iter().chain([shingles.len() as u64]))
    {
        out.copy_from_slice(&value.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes).max(1)
}

/// Groups units by key: returns, for every unit with a key, the index of the first
/// unit (in input order) with the same key. Units without a key map to themselves.
///
/// Sort-based (parallel, and free of randomly seeded hashing, so runs repeat
/// instruction for instruction).
pub fn first_with_same_key(keys: &[Option<u128>]) -> Vec<u32> {
    use rayon::prelude::*;
    let mut keyed: Vec<(u128, u32)> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, key)| key.map(|k| (k, u32::try_from(i).expect("fewer than 2^32 units"))))
        .collect();
    keyed.par_sort_unstable();
    let mut first: Vec<u32> = (0..keys.len() as u32).collect();
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        let head = run[0].1;
        for &(_, unit) in run {
            first[unit as usize] = head;
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shingle_keys_tell_sequences_apart() {
        assert_eq!(shingles_key(&[]), 0);
        let a = [1u64, 2, 3, 4];
        let copy = a.to_vec();
        assert_eq!(shingles_key(&a), shingles_key(&copy));
        assert_ne!(shingles_key(&a), 0);
        for other in [
            &[1u64, 2, 3][..],
            &[1, 2, 4, 3],
            &[1, 2, 3, 4, 4],
            &[0, 1, 2, 3, 4],
        ] {
            assert_ne!(shingles_key(&a), shingles_key(other), "{other:?}");
        }
        // Two shingles that share a lane, swapped.
        assert_ne!(
            shingles_key(&[1, 2, 3, 4, 5, 6, 7, 8]),
            shingles_key(&[5, 2, 3, 4, 1, 6, 7, 8])
        );
        // Many random sequences: no two keys equal.
        let mut keys: Vec<u64> = (0..20_000u64)
            .map(|i| {
                let seq: Vec<u64> = (0..=(i % 7))
                    .map(|j| (i * 31 + j).wrapping_mul(0xA24B_AED4_963E_E407))
                    .collect();
                shingles_key(&seq)
            })
            .collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before);
    }

    #[test]
    fn equal_texts_share_the_first_index() {
        let keys = [
            text_key("a b"),
            text_key("c"),
            text_key("a b"),
            text_key(""),
            text_key(""),
            text_key("c"),
        ];
        assert_eq!(first_with_same_key(&keys), [0, 1, 0, 3, 4, 1]);
    }
}
