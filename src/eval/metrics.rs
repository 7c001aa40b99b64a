//! Pair-counting clustering metrics from a contingency table.
//!
//! Two labelings of the same n units are compared through the table
//! `n_ij = |truth cluster i ∩ predicted cluster j|`. With `C(x) = x(x-1)/2`:
//! - pairs together in both: `Σ_ij C(n_ij)`;
//! - pairs together in the truth: `Σ_i C(a_i)` (`a_i` row sums);
//! - pairs together in the prediction: `Σ_j C(b_j)` (`b_j` column sums).
//!
//! Pair precision, recall and F1 follow, and so does the adjusted Rand index
//! (Hubert & Arabie 1985). Nothing here enumerates pairs: the cost is one pass over
//! the units plus the number of non-empty cells, so a cluster of 100k units costs
//! the same as 100k singletons. Counts are u64/u128 and the index is formed from
//! exact integers before the one final division.

use std::collections::HashMap;

/// `x choose 2`.
pub fn choose2(x: u64) -> u128 {
    let x = u128::from(x);
    x * x.saturating_sub(1) / 2
}

/// The sums of the pair-counting formulas for two labelings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PairCounts {
    /// Number of units.
    pub units: u64,
    /// Pairs in the same truth cluster and the same predicted cluster.
    pub together_in_both: u128,
    /// Pairs in the same truth cluster.
    pub together_in_truth: u128,
    /// Pairs in the same predicted cluster.
    pub together_in_prediction: u128,
}

impl PairCounts {
    /// Counts from two label vectors over the same units (`truth[k]` and
    /// `predicted[k]` label unit k). Labels are arbitrary integers.
    ///
    /// # Panics
    /// If the two vectors differ in length (a caller bug, not an input error).
    pub fn from_labels(truth: &[u64], predicted: &[u64]) -> PairCounts {
        assert_eq!(
            truth.len(),
            predicted.len(),
            "labelings over different units"
        );
        let mut cells: HashMap<(u64, u64), u64> = HashMap::new();
        let mut rows: HashMap<u64, u64> = HashMap::new();
        let mut cols: HashMap<u64, u64> = HashMap::new();
        for (&t, &p) in truth.iter().zip(predicted) {
            *cells.entry((t, p)).or_insert(0) += 1;
            *rows.entry(t).or_insert(0) += 1;
            *cols.entry(p).or_insert(0) += 1;
        }
        let sum = |m: &mut dyn Iterator<Item = u64>| m.map(choose2).sum::<u128>();
        PairCounts {
            units: truth.len() as u64,
            together_in_both: sum(&mut cells.into_values()),
            together_in_truth: sum(&mut rows.into_values()),
            together_in_prediction: sum(&mut cols.into_values()),
        }
    }

    /// All unordered pairs of units.
    pub fn all_pairs(&self) -> u128 {
        choose2(self.units)
    }

    /// Share of predicted pairs that are true pairs; 1.0 when nothing was paired.
    pub fn precision(&self) -> f64 {
        ratio(self.together_in_both, self.together_in_prediction)
    }

    /// Share of true pairs that were predicted; 1.0 when the truth has no pair.
    pub fn recall(&self) -> f64 {
        ratio(self.together_in_both, self.together_in_truth)
    }

    /// Harmonic mean of precision and recall (0 when both are 0).
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Adjusted Rand index: `(index - expected) / (max - expected)` with
    /// `index = Σ C(n_ij)`, `expected = Σ C(a_i) Σ C(b_j) / C(n)`,
    /// `max = (Σ C(a_i) + Σ C(b_j)) / 2`. Multiplying through by `2 C(n)` keeps it
    /// in integers: `(2·index·N - 2·A·B) / ((A + B)·N - 2·A·B)` with `N = C(n)`.
    /// The denominator is 0 only when both labelings are all singletons or both one
    /// cluster, i.e. when they agree; the index is then 1.
    pub fn adjusted_rand_index(&self) -> f64 {
        let n = self.all_pairs();
        let (index, a, b) = (
            self.together_in_both,
            self.together_in_truth,
            self.together_in_prediction,
        );
        // Products of two pair counts can exceed u128 only beyond ~2^32 units; go
        // through f64 there (still one rounding per product).
        match (
            index.checked_mul(n).and_then(|x| x.checked_mul(2)),
            a.checked_mul(b).and_then(|x| x.checked_mul(2)),
            a.checked_add(b).and_then(|x| x.checked_mul(n)),
        ) {
            (Some(two_index_n), Some(two_ab), Some(sum_n)) => {
                let denominator = sum_n - two_ab;
                if denominator == 0 {
                    return 1.0;
                }
                let numerator = two_index_n as f64 - two_ab as f64;
                numerator / denominator as f64
            }
            _ => {
                let (index, a, b, n) = (index as f64, a as f64, b as f64, n as f64);
                let expected = a * b / n;
                let max = (a + b) / 2.0;
                if max == expected {
                    1.0
                } else {
                    (index - expected) / (max - expected)
                }
            }
        }
    }
}

fn ratio(num: u128, den: u128) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force over all unordered pairs.
    fn brute_force(truth: &[u64], predicted: &[u64]) -> (u128, u128, u128) {
        let (mut both, mut t, mut p) = (0, 0, 0);
        for i in 0..truth.len() {
            for j in i + 1..truth.len() {
                let same_t = truth[i] == truth[j];
                let same_p = predicted[i] == predicted[j];
                t += u128::from(same_t);
                p += u128::from(same_p);
                both += u128::from(same_t && same_p);
            }
        }
        (both, t, p)
    }

    /// The pair-counting ARI formula with f64 arithmetic on brute-forced counts.
    fn brute_force_ari(truth: &[u64], predicted: &[u64]) -> f64 {
        let (index, a, b) = brute_force(truth, predicted);
        let n = truth.len() as f64;
        let all = n * (n - 1.0) / 2.0;
        let (index, a, b) = (index as f64, a as f64, b as f64);
        let expected = a * b / all;
        let max = (a + b) / 2.0;
        if max == expected {
            1.0
        } else {
            (index - expected) / (max - expected)
        }
    }

    #[test]
    fn hand_computed_example() {
        // Truth:     {0,1,2} {3,4}      -> C(3)+C(2) = 3+1 = 4 true pairs
        // Predicted: {0,1} {2,3,4}      -> C(2)+C(3) = 1+3 = 4 predicted pairs
        // Cells: (A,x)=2 (A,y)=1 (B,y)=2 -> C(2)+C(1)+C(2) = 1+0+1 = 2 in both.
        let truth = [1, 1, 1, 2, 2];
        let predicted = [10, 10, 20, 20, 20];
        let c = PairCounts::from_labels(&truth, &predicted);
        assert_eq!(
            (
                c.together_in_both,
                c.together_in_truth,
                c.together_in_prediction
            ),
            (2, 4, 4)
        );
        assert_eq!(c.precision(), 0.5);
        assert_eq!(c.recall(), 0.5);
        assert_eq!(c.f1(), 0.5);
        // N = C(5) = 10; expected = 4*4/10 = 1.6; max = (4+4)/2 = 4;
        // ARI = (2 - 1.6) / (4 - 1.6) = 0.4 / 2.4 = 1/6.
        assert!((c.adjusted_rand_index() - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn one_big_cluster_split_in_two() {
        // Truth: 100 000 units in one cluster. Prediction: halves of 50 000.
        // True pairs C(100000) = 4 999 950 000; predicted 2·C(50000) = 2 499 950 000,
        // all of them true: precision 1, recall 2 499 950 000 / 4 999 950 000.
        let n = 100_000u64;
        let truth = vec![0u64; n as usize];
        let predicted: Vec<u64> = (0..n).map(|i| i % 2).collect();
        let c = PairCounts::from_labels(&truth, &predicted);
        assert_eq!(c.together_in_truth, 4_999_950_000);
        assert_eq!(c.together_in_prediction, 2_499_950_000);
        assert_eq!(c.precision(), 1.0);
        assert!((c.recall() - 2_499_950_000.0 / 4_999_950_000.0).abs() < 1e-15);
        // With one truth cluster, A = N, so expected = B and max = (N + B)/2:
        // ARI = (B - B) / ((N + B)/2 - B) = 0.
        assert_eq!(c.adjusted_rand_index(), 0.0);
    }

    #[test]
    fn identical_labelings_score_one_and_degenerate_cases_are_defined() {
        let labels = [3, 3, 7, 9, 9, 9];
        let c = PairCounts::from_labels(&labels, &[0, 0, 1, 2, 2, 2]);
        assert_eq!(
            (c.precision(), c.recall(), c.adjusted_rand_index()),
            (1.0, 1.0, 1.0)
        );
        // All singletons on both sides: no pairs anywhere.
        let c = PairCounts::from_labels(&[1, 2, 3], &[4, 5, 6]);
        assert_eq!(
            (c.precision(), c.recall(), c.adjusted_rand_index()),
            (1.0, 1.0, 1.0)
        );
        // Truth all singletons, prediction one cluster: precision 0 of C(4) = 6.
        let c = PairCounts::from_labels(&[1, 2, 3, 4], &[0, 0, 0, 0]);
        assert_eq!(
            (c.precision(), c.recall(), c.adjusted_rand_index()),
            (0.0, 1.0, 0.0)
        );
        assert_eq!(PairCounts::from_labels(&[], &[]).adjusted_rand_index(), 1.0);
    }

    #[test]
    fn counts_do_not_overflow_at_billions_of_units() {
        // 3 billion units in one cluster: C(n) ≈ 4.5e18 (beyond u64 when doubled),
        // checked through choose2 and the ARI's integer path directly.
        let n = 3_000_000_000u64;
        let all = choose2(n);
        assert_eq!(all, 4_499_999_998_500_000_000);
        let c = PairCounts {
            units: n,
            together_in_both: all / 2,
            together_in_truth: all,
            together_in_prediction: all / 2,
        };
        assert_eq!(c.recall(), 0.5);
        assert_eq!(c.adjusted_rand_index(), 0.0);
    }

    proptest! {
        #[test]
        fn contingency_formulas_match_pair_enumeration(
            labels in proptest::collection::vec((0u64..6, 0u64..6), 0..40)
        ) {
            let truth: Vec<u64> = labels.iter().map(|l| l.0).collect();
            let predicted: Vec<u64> = labels.iter().map(|l| l.1).collect();
            let c = PairCounts::from_labels(&truth, &predicted);
            let (both, t, p) = brute_force(&truth, &predicted);
            prop_assert_eq!((c.together_in_both, c.together_in_truth, c.together_in_prediction), (both, t, p));
            let want_p = if p == 0 { 1.0 } else { both as f64 / p as f64 };
            let want_r = if t == 0 { 1.0 } else { both as f64 / t as f64 };
            prop_assert!((c.precision() - want_p).abs() < 1e-12);
            prop_assert!((c.recall() - want_r).abs() < 1e-12);
            if truth.len() >= 2 {
                prop_assert!((c.adjusted_rand_index() - brute_force_ari(&truth, &predicted)).abs() < 1e-9);
            }
        }
    }
}
