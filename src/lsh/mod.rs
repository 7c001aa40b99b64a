//! Locality-sensitive hashing over MinHash signatures: which units to
//! compare, and which comparisons to keep.
//!
//! This module owns the all-units stage of MinHash deduplication. Given the
//! signatures of `n` units stored flat (`&[u32]` of length `n * num_perm`,
//! unit `i` at `[i * num_perm, (i + 1) * num_perm)`) and banding parameters
//! from `crate::minhash::optimal_params`:
//!
//! 1. [`candidate_pairs`] buckets units by each band's key ([`band_key`])
//!    and emits, per bucket, a linear number of pairs (star + chain; the
//!    [`candidates`] module explains what that does and does not cover),
//!    skipping empty-set signatures;
//! 2. [`verify_by_signature`] keeps the pairs whose full signatures agree on
//!    at least the threshold fraction of positions.
//!
//! Unit indices are `u32` throughout.

mod bands;
pub mod candidates;
mod verify;

pub use bands::{band_key, band_slice, usable_bands};
pub use candidates::{bucket_pairs, candidate_pairs, candidate_pairs_by_key, BAND_BYTES_PER_UNIT};
pub use verify::{judge_estimate, settled_by_estimate, verify_by_signature, Judgement};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::test_sets::{distinct_values, exact_jaccard, random_set_pair};
    use crate::minhash::{LshParams, MinHasher, SplitMix64};
    use std::collections::{BTreeSet, HashSet};

    /// Signs every set into one flat signature array.
    fn sign_all(h: &MinHasher, sets: &[Vec<u64>]) -> Vec<u32> {
        let k = h.num_perm();
        let mut sigs = vec![0u32; sets.len() * k];
        for (set, out) in sets.iter().zip(sigs.chunks_exact_mut(k)) {
            h.sign_into(set, out);
        }
        sigs
    }

    #[test]
    fn end_to_end_recovers_planted_near_duplicates() {
        let num_perm = 128;
        let threshold = 0.8;
        let h = MinHasher::new(num_perm, 77);
        let params = LshParams::for_threshold(threshold, num_perm).expect("valid threshold");
        let mut rng = SplitMix64::new(4242);
        let mut taken = HashSet::new();

        // 400 unrelated random sets of 150..250 values.
        let mut sets: Vec<Vec<u64>> = (0..400)
            .map(|_| {
                let size = 150 + (rng.next_u64() % 100) as usize;
                distinct_values(&mut rng, size, &mut taken)
            })
            .collect();
        // Plant clusters of three: a base and two variants with 2..=4 of
        // 200 values replaced, so every pair in a cluster has J >= 0.9.
        let mut planted = BTreeSet::new();
        for _ in 0..30 {
            let base = distinct_values(&mut rng, 200, &mut taken);
            let base_idx = sets.len() as u32;
            sets.push(base.clone());
            for v in 0..2u32 {
                let replace = 2 + (rng.next_u64() % 3) as usize;
                let mut variant = base.clone();
                let fresh = distinct_values(&mut rng, replace, &mut taken);
                for (i, value) in fresh.into_iter().enumerate() {
                    let pos = (i * 37 + v as usize * 11) % variant.len();
                    variant[pos] = value;
                }
                sets.push(variant);
            }
            let ids = [base_idx, base_idx + 1, base_idx + 2];
            for (i, &a) in ids.iter().enumerate() {
                for &b in &ids[i + 1..] {
                    let j = exact_jaccard(&sets[a as usize], &sets[b as usize]);
                    assert!(j >= 0.9, "planted pair has J = {j}");
                    planted.insert((a, b));
                }
            }
        }
        // Shuffle unit order so clusters are not contiguous.
        let mut order: Vec<usize> = (0..sets.len()).collect();
        for i in (1..order.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let mut position = vec![0u32; sets.len()];
        for (new, &old) in order.iter().enumerate() {
            position[old] = new as u32;
        }
        let shuffled: Vec<Vec<u64>> = order.iter().map(|&old| sets[old].clone()).collect();
        let planted: BTreeSet<(u32, u32)> = planted
            .iter()
            .map(|&(a, b)| {
                let (x, y) = (position[a as usize], position[b as usize]);
                (x.min(y), x.max(y))
            })
            .collect();

        let sigs = sign_all(&h, &shuffled);
        let candidates = candidate_pairs(&sigs, num_perm, params);
        let verified = verify_by_signature(&sigs, num_perm, &candidates, threshold);

        let found: BTreeSet<(u32, u32)> = verified.iter().map(|&(a, b, _)| (a, b)).collect();
        let recovered = planted.intersection(&found).count();
        assert!(
            recovered * 100 >= planted.len() * 95,
            "recovered {recovered} of {} planted pairs",
            planted.len()
        );
        for &(a, b, est) in &verified {
            let j = exact_jaccard(&shuffled[a as usize], &shuffled[b as usize]);
            assert!(
                j >= 0.5,
                "pair ({a}, {b}) kept with J = {j}, estimate {est}"
            );
            assert!(f64::from(est) >= threshold);
        }
    }

    #[test]
    fn empirical_candidate_rate_follows_s_curve() {
        let num_perm = 128;
        let h = MinHasher::new(num_perm, 555);
        let pairs_per_level = 300;
        let params_list = [LshParams::new(20, 5), LshParams::new(16, 8)];
        for params in params_list {
            for (level, target) in [0.3, 0.5, 0.6, 0.7, 0.85].into_iter().enumerate() {
                // Union of 200 values with an exact overlap fixes J for every pair.
                let shared = (200.0 * target) as usize;
                let only = (200 - shared) / 2;
                let mut sets = Vec::with_capacity(2 * pairs_per_level);
                let mut expected = 0.0;
                let mut variance = 0.0;
                for i in 0..pairs_per_level {
                    let seed = 1_000_000 * (level as u64 + 1) + i as u64;
                    let (a, b) = random_set_pair(seed, shared, only, 200 - shared - only);
                    let p = params.candidate_probability(exact_jaccard(&a, &b));
                    expected += p;
                    variance += p * (1.0 - p);
                    sets.push(a);
                    sets.push(b);
                }
                let sigs = sign_all(&h, &sets);
                let candidates: HashSet<(u32, u32)> = candidate_pairs(&sigs, num_perm, params)
                    .into_iter()
                    .collect();
                let hits = (0..pairs_per_level as u32)
                    .filter(|&i| candidates.contains(&(2 * i, 2 * i + 1)))
                    .count() as f64;
                let tolerance = 4.5 * variance.sqrt() + 1.0;
                assert!(
                    (hits - expected).abs() <= tolerance,
                    "{params:?} J={target}: {hits} hits, expected {expected:.1} ± {tolerance:.1}"
                );
            }
        }
    }
}
