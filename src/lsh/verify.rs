//! Verification of LSH candidates by full-signature comparison.
//!
//! Sharing one band only says two units *might* be similar; a single band
//! match is likely even well below the threshold. This module owns the
//! second filter: it compares the complete signatures of each candidate pair
//! and keeps those whose estimated Jaccard similarity reaches the threshold.
//! It is cheap (`num_perm` comparisons per pair), runs in parallel and keeps
//! the input order so downstream steps stay deterministic.

use crate::minhash::estimate_jaccard;
use rayon::prelude::*;

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
            let estimate = estimate_jaccard(signature(a)?, signature(b)?);
            (estimate >= threshold).then_some((a, b, estimate as f32))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
