//! Sets of shingle hashes and their exact Jaccard similarity.
//!
//! The slow, obvious yardstick: MinHash estimates are tested against it, exact
//! verification of LSH candidates uses it, and the labelled-corpus generator records
//! every "true Jaccard" with it.

use super::Shingler;

/// A text's distinct shingle hashes, sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShingleSet(Vec<u64>);

impl ShingleSet {
    /// The distinct shingles of `text` under `shingler`.
    pub fn of(shingler: &Shingler, text: &str) -> ShingleSet {
        ShingleSet::from_hashes(shingler.shingles(text))
    }

    /// The set of the given hashes (any order, repeats allowed).
    pub fn from_hashes(mut hashes: Vec<u64>) -> ShingleSet {
        hashes.sort_unstable();
        hashes.dedup();
        ShingleSet(hashes)
    }

    /// Number of distinct shingles.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the text had no token at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sorted hashes.
    pub fn hashes(&self) -> &[u64] {
        &self.0
    }

    /// Size of the intersection with `other` (a linear merge of the two sorted lists).
    pub fn intersection_len(&self, other: &ShingleSet) -> usize {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j, mut common) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    common += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        common
    }

    /// |A ∩ B| / |A ∪ B|; two empty sets count as identical (1.0).
    pub fn jaccard(&self, other: &ShingleSet) -> f64 {
        let common = self.intersection_len(other);
        let union = self.len() + other.len() - common;
        if union == 0 {
            1.0
        } else {
            common as f64 / union as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_of_small_sets() {
        let a = ShingleSet::from_hashes(vec![3, 1, 2, 2]);
        let b = ShingleSet::from_hashes(vec![4, 2, 3]);
        assert_eq!(a.len(), 3);
        assert_eq!(a.intersection_len(&b), 2);
        assert_eq!(a.jaccard(&b), 0.5);
        assert_eq!(a.jaccard(&ShingleSet::default()), 0.0);
        assert_eq!(ShingleSet::default().jaccard(&ShingleSet::default()), 1.0);
    }
}
