//! Judging LSH candidates by their full signatures: the one rule every run uses.
//!
//! Sharing one band only says two units *might* be similar; a single band
//! match is likely even well below the threshold. [`judge_estimate`] is the
//! second filter: it judges a pair by the estimated Jaccard of its complete
//! signatures, keeping, dropping, or (with exact verification) leaving it to the
//! exact Jaccard when the estimate is too close to the threshold to tell. Runs
//! call it through [`crate::pipeline::verify`]; [`verify_by_signature`] applies it
//! to plain signature arrays.

use crate::config::Verify;
use crate::minhash::estimate_jaccard;
use rayon::prelude::*;

/// How many standard deviations of a `k`-value signature estimate separate a pair
/// settled by its estimate from the threshold. Six binomial deviations also cover
/// the somewhat larger spread of densified one-permutation estimates on short
/// units (at most twice the variance in the tests), leaving an error chance per
/// pair far below 1e-4.
const VERIFY_MARGIN_SIGMAS: f64 = 6.0;

/// Estimates below the first bound prove a pair is under `threshold`, estimates at
/// or above the second prove it reaches it; only pairs in between need the exact
/// Jaccard.
pub fn settled_by_estimate(threshold: f64, k: usize) -> (f64, f64) {
    let k = k as f64;
    let margin = VERIFY_MARGIN_SIGMAS * (threshold * (1.0 - threshold) / k).sqrt() + 1.0 / k;
    (threshold - margin, threshold + margin)
}

/// What a pair's signature estimate says about it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Judgement {
    /// A duplicate, with this similarity.
    Keep(f32),
    /// Too close to the threshold to tell: exact Jaccard decides.
    Doubtful,
    /// Not a duplicate.
    Drop,
}

/// The one rule that judges a MinHash pair by its signature `estimate` (of `k`
/// values) against `threshold`, as `verify` says: `None` keeps every candidate,
/// `Signature` keeps estimates at or above the threshold, `Exact` keeps or drops
/// the pairs the estimate settles ([`settled_by_estimate`]) and leaves the rest
/// doubtful. Single-process, indexed and distributed runs all judge through it.
pub fn judge_estimate(verify: Verify, threshold: f64, k: usize, estimate: f32) -> Judgement {
    let value = f64::from(estimate);
    match verify {
        Verify::None => Judgement::Keep(estimate),
        Verify::Signature if value >= threshold => Judgement::Keep(estimate),
        Verify::Signature => Judgement::Drop,
        Verify::Exact => {
            let (floor, ceiling) = settled_by_estimate(threshold, k);
            if value >= ceiling {
                Judgement::Keep(estimate)
            } else if value >= floor {
                Judgement::Doubtful
            } else {
                Judgement::Drop
            }
        }
    }
}

/// Keeps the candidate pairs whose estimated Jaccard similarity (fraction of
/// equal signature positions) is at least `threshold`, returning
/// `(first, second, estimate)` in the order of `candidates`.
///
/// `signatures` holds signatures of `num_perm` values back to back (unit `i`
/// at `[i * num_perm, (i + 1) * num_perm)`). Pairs naming a unit outside
/// `signatures`, and everything when `num_perm` is 0, are dropped.
pub fn verify_by_signature(
    signatures: &[u32],
    num_perm: usize,
    candidates: &[(u32, u32)],
    threshold: f64,
) -> Vec<(u32, u32, f32)> {
    if num_perm == 0 {
        return Vec::new();
    }
    let signature = |unit: u32| {
        let start = (unit as usize).checked_mul(num_perm)?;
        signatures.get(start..start.checked_add(num_perm)?)
    };
    candidates
        .par_iter()
        .filter_map(|&(a, b)| {
            let estimate = estimate_jaccard(signature(a)?, signature(b)?) as f32;
            match judge_estimate(Verify::Signature, threshold, num_perm, estimate) {
                Judgement::Keep(similarity) => Some((a, b, similarity)),
                Judgement::Doubtful | Judgement::Drop => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settled_band_narrows_with_more_permutations_and_brackets_the_threshold() {
        let (lo128, hi128) = settled_by_estimate(0.3, 128);
        let (lo512, hi512) = settled_by_estimate(0.3, 512);
        assert!(lo128 < lo512 && lo512 < 0.3 && 0.3 < hi512 && hi512 < hi128);
    }

    #[test]
    fn keeps_pairs_at_or_above_threshold_in_order() {
        let num_perm = 4;
        #[rustfmt::skip]
        let sigs: Vec<u32> = vec![
            1, 2, 3, 4, // 0
            1, 2, 3, 9, // 1: 3/4 with 0
            1, 9, 9, 9, // 2: 1/4 with 0
            1, 2, 3, 4, // 3: identical to 0
        ];
        let candidates = [(2, 3), (0, 3), (0, 2), (1, 3), (0, 1)];
        let got = verify_by_signature(&sigs, num_perm, &candidates, 0.75);
        assert_eq!(got, vec![(0, 3, 1.0), (1, 3, 0.75), (0, 1, 0.75)]);
        let all = verify_by_signature(&sigs, num_perm, &candidates, 0.0);
        let order: Vec<(u32, u32)> = all.iter().map(|&(a, b, _)| (a, b)).collect();
        assert_eq!(order, candidates.to_vec());
        assert_eq!(all[0].2, 0.25);
    }

    #[test]
    fn out_of_range_units_are_dropped() {
        let sigs = vec![7u32; 8];
        let got = verify_by_signature(&sigs, 4, &[(0, 1), (0, 2), (5, 1)], 0.5);
        assert_eq!(got, vec![(0, 1, 1.0)]);
        assert!(verify_by_signature(&sigs, 0, &[(0, 1)], 0.5).is_empty());
        assert!(verify_by_signature(&sigs, 4, &[(u32::MAX, 0)], 0.0).is_empty());
    }

    #[test]
    fn large_input_order_preserved() {
        let num_perm = 2;
        let n = 5_000u32;
        // Unit i has signature [i % 3, 0]; pairs agree fully when i ≡ j mod 3.
        let sigs: Vec<u32> = (0..n).flat_map(|i| [i % 3, 0]).collect();
        let candidates: Vec<(u32, u32)> = (0..n - 1).rev().map(|i| (i, i + 1)).collect();
        let got = verify_by_signature(&sigs, num_perm, &candidates, 0.5);
        assert_eq!(got.len(), candidates.len());
        assert!(got
            .iter()
            .zip(&candidates)
            .all(|(g, c)| (g.0, g.1) == *c && g.2 == 0.5));
        assert!(verify_by_signature(&sigs, num_perm, &candidates, 0.6).is_empty());
    }
}
