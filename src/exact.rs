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
