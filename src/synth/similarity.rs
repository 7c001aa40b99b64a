//! Exact word-5-gram Jaccard similarity, the ground truth's yardstick.
//!
//! Every similarity the generator records or filters on is computed here, on the
//! set of shingle hashes the project's own [`Shingler`] produces (default config:
//! word 5-grams under the default normalisation), so "true Jaccard" in a truth
//! file means exactly what a perfect detector with the default settings would see.

use crate::error::Result;
pub use crate::text::ShingleSet;
use crate::text::{ShingleConfig, Shingler};

/// The shingler the ground truth is defined by: [`ShingleConfig::default`].
pub fn truth_shingler() -> Result<Shingler> {
    Shingler::new(ShingleConfig::default())
}

/// Indices of the sets to keep so that no kept set has Jaccard `>= threshold` with an
/// earlier kept one: a greedy pass in input order, brute force over the kept sets.
///
/// The size ratio bounds the Jaccard (`J <= min/max`), which skips most pairs of very
/// different lengths without a merge.
pub fn keep_dissimilar(sets: &[ShingleSet], threshold: f64) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        let clashes = kept.iter().any(|&k| {
            let other = &sets[k];
            let (small, large) = if set.len() <= other.len() {
                (set.len(), other.len())
            } else {
                (other.len(), set.len())
            };
            if large > 0 && (small as f64) < threshold * large as f64 {
                return false;
            }
            set.jaccard(other) >= threshold
        });
        if !clashes {
            kept.push(i);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn reference_jaccard(shingler: &Shingler, a: &str, b: &str) -> f64 {
        let sa: HashSet<u64> = shingler.shingles(a).into_iter().collect();
        let sb: HashSet<u64> = shingler.shingles(b).into_iter().collect();
        let union = sa.union(&sb).count();
        if union == 0 {
            return 1.0;
        }
        sa.intersection(&sb).count() as f64 / union as f64
    }

    #[test]
    fn jaccard_matches_a_hash_set_reference() {
        let shingler = truth_shingler().expect("default config is valid");
        let texts = [
            "one two three four five six seven eight nine ten",
            "one two three four five six seven EIGHT, nine ten eleven",
            "zero one two three four five six seven",
            "대한민국은 민주공화국이다 대한민국의 주권은 국민에게 있고 모든 권력은 국민으로부터 나온다",
            "대한민국은 민주공화국이다 대한민국의 주권은 국민에게 있고 권력은 국민으로부터 나온다",
            "",
        ];
        for a in texts {
            for b in texts {
                let got = ShingleSet::of(&shingler, a).jaccard(&ShingleSet::of(&shingler, b));
                let want = reference_jaccard(&shingler, a, b);
                assert!(
                    (got - want).abs() < 1e-12,
                    "{a:?} vs {b:?}: {got} != {want}"
                );
            }
        }
    }

    #[test]
    fn one_changed_word_in_ten_gives_the_expected_jaccard() {
        // Ten words give six 5-grams; changing the last word replaces one of them:
        // |A ∩ B| = 5, |A ∪ B| = 7.
        let shingler = truth_shingler().expect("default config is valid");
        let a = ShingleSet::of(&shingler, "a b c d e f g h i j");
        let b = ShingleSet::of(&shingler, "a b c d e f g h i z");
        assert_eq!(a.len(), 6);
        assert!((a.jaccard(&b) - 5.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn keep_dissimilar_drops_later_near_copies_only() {
        let shingler = truth_shingler().expect("default config is valid");
        let texts = [
            "the quick brown fox jumps over the lazy dog near the river bank today",
            "a completely different sentence about rain falling on the quiet town",
            "the quick brown fox jumps over the lazy dog near the river bank tonight",
            "yet another unrelated line concerning ships that sail across the sea",
        ];
        let sets: Vec<ShingleSet> = texts.iter().map(|t| ShingleSet::of(&shingler, t)).collect();
        assert_eq!(keep_dissimilar(&sets, 0.2), vec![0, 1, 3]);
        assert_eq!(keep_dissimilar(&sets, 1.0), vec![0, 1, 2, 3]);
    }
}
