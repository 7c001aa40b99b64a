//! The empirical LSH S-curve: how often pairs of known Jaccard share a band.
//!
//! For a pair with Jaccard `s` between its shingle sets, each MinHash value agrees
//! with probability `s`, so the pair shares at least one of `b` bands of `r` rows
//! with probability `P(s) = 1 - (1 - s^r)^b`
//! ([`crate::minhash::candidate_probability`]). [`band_collision`] is that event
//! for two signatures. [`bin_samples`] groups pairs by their exact Jaccard and sets
//! the observed collision rate of each bin against its expectation: with per-pair
//! probabilities `P_i`, the count of collisions has mean `ΣP_i` and (Poisson-binomial)
//! standard deviation `sqrt(ΣP_i(1-P_i))`, which is the binomial error bar drawn
//! in the plot and used by the statistical test.
//!
//! The rate is measured on band collisions, not on the pipeline's candidate list:
//! LSH candidate generation links each bucket member to the bucket's first member
//! and its predecessor only, so a colliding pair in a bucket of three or more may
//! be joined transitively rather than listed.

use crate::minhash::LshParams;

/// One pair: the exact Jaccard of its shingle sets and whether its signatures
/// share a band.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PairSample {
    /// Exact Jaccard of the two shingle sets.
    pub jaccard: f64,
    /// Do the signatures agree on every row of at least one band?
    pub collided: bool,
}

/// Do signatures `a` and `b` agree on every row of at least one band of `params`?
/// Bands past the end of the shorter signature are not used, as in the index.
pub fn band_collision(a: &[u32], b: &[u32], params: LshParams) -> bool {
    if params.rows == 0 {
        return false;
    }
    (0..params.bands).any(|band| {
        let start = band * params.rows;
        let end = start + params.rows;
        match (a.get(start..end), b.get(start..end)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    })
}

/// One Jaccard bin of the empirical S-curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ScurvePoint {
    /// Lower edge of the bin (inclusive).
    pub lo: f64,
    /// Upper edge of the bin (exclusive, except for the last bin).
    pub hi: f64,
    /// Pairs in the bin.
    pub pairs: u64,
    /// Of those, pairs whose signatures share a band.
    pub collided: u64,
    /// Mean exact Jaccard of the bin's pairs (the plotted x).
    pub mean_jaccard: f64,
    /// `collided / pairs` (the plotted y).
    pub observed: f64,
    /// Mean theoretical probability `P(s)` over the bin's pairs.
    pub expected: f64,
    /// Standard deviation of `observed` under the theory:
    /// `sqrt(Σ P_i (1 - P_i)) / pairs`.
    pub sigma: f64,
}

/// Groups samples into `bins` equal Jaccard bins over `[0, 1]` and compares each
/// non-empty bin with the theoretical curve of `params`.
pub fn bin_samples(samples: &[PairSample], params: LshParams, bins: usize) -> Vec<ScurvePoint> {
    let bins = bins.max(1);
    let mut acc = vec![(0u64, 0u64, 0.0f64, 0.0f64, 0.0f64); bins];
    for s in samples {
        let j = s.jaccard.clamp(0.0, 1.0);
        let i = ((j * bins as f64) as usize).min(bins - 1);
        let p = params.candidate_probability(j);
        let a = &mut acc[i];
        a.0 += 1;
        a.1 += u64::from(s.collided);
        a.2 += j;
        a.3 += p;
        a.4 += p * (1.0 - p);
    }
    acc.iter()
        .enumerate()
        .filter(|(_, a)| a.0 > 0)
        .map(|(i, &(pairs, collided, sum_j, sum_p, var))| {
            let n = pairs as f64;
            ScurvePoint {
                lo: i as f64 / bins as f64,
                hi: (i + 1) as f64 / bins as f64,
                pairs,
                collided,
                mean_jaccard: sum_j / n,
                observed: collided as f64 / n,
                expected: sum_p / n,
                sigma: var.sqrt() / n,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::MinHasher;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Two shingle sets of `union` distinct random hashes sharing `common` of them.
    fn pair(rng: &mut ChaCha8Rng, union: usize, common: usize) -> (Vec<u64>, Vec<u64>) {
        let shared: Vec<u64> = (0..common).map(|_| rng.gen()).collect();
        let rest = union - common;
        let mut a = shared.clone();
        let mut b = shared;
        a.extend((0..rest / 2).map(|_| rng.gen::<u64>()));
        b.extend((0..rest - rest / 2).map(|_| rng.gen::<u64>()));
        (a, b)
    }

    #[test]
    fn collision_needs_a_whole_band() {
        let params = LshParams::new(2, 2);
        assert!(band_collision(&[1, 2, 3, 4], &[1, 2, 9, 9], params));
        assert!(band_collision(&[1, 2, 3, 4], &[9, 9, 3, 4], params));
        assert!(!band_collision(&[1, 2, 3, 4], &[1, 9, 3, 9], params));
        // A band beyond the signature is not used.
        assert!(!band_collision(&[1, 2], &[9, 9], params));
    }

    /// Pairs with a known signature-level Jaccard (`common / union` of random
    /// shingle hashes) collide at the rate of the theoretical S-curve, within
    /// five standard deviations of the binomial count, at several layouts.
    #[test]
    fn empirical_points_fall_within_binomial_error_of_the_curve() {
        let mut rng = ChaCha8Rng::seed_from_u64(20_261_125);
        let union = 100;
        let per_level = 150;
        for (num_perm, params) in [
            (128, LshParams::new(9, 13)),
            (128, LshParams::new(25, 5)),
            (64, LshParams::new(16, 4)),
        ] {
            let hasher = MinHasher::new(num_perm, 7);
            let mut samples = Vec::new();
            for common in (5..=95).step_by(10) {
                for _ in 0..per_level {
                    let (a, b) = pair(&mut rng, union, common);
                    let jaccard = common as f64 / union as f64;
                    let collided = band_collision(&hasher.sign(&a), &hasher.sign(&b), params);
                    samples.push(PairSample { jaccard, collided });
                }
            }
            let points = bin_samples(&samples, params, 20);
            assert_eq!(points.len(), 10);
            for p in points {
                assert_eq!(p.pairs, per_level as u64);
                let tolerance = 5.0 * p.sigma + 1.0 / p.pairs as f64;
                assert!(
                    (p.observed - p.expected).abs() <= tolerance,
                    "{params:?} J={}: observed {} expected {} sigma {}",
                    p.mean_jaccard,
                    p.observed,
                    p.expected,
                    p.sigma
                );
            }
        }
    }

    #[test]
    fn bins_report_mean_and_spread() {
        let params = LshParams::new(1, 1);
        let samples = [
            PairSample {
                jaccard: 0.52,
                collided: true,
            },
            PairSample {
                jaccard: 0.58,
                collided: false,
            },
        ];
        let points = bin_samples(&samples, params, 10);
        assert_eq!(points.len(), 1);
        let p = points[0];
        assert!((p.mean_jaccard - 0.55).abs() < 1e-12);
        assert!((p.observed - 0.5).abs() < 1e-12);
        assert!((p.expected - 0.55).abs() < 1e-12);
        let var: f64 = 0.52 * 0.48 + 0.58 * 0.42;
        assert!((p.sigma - var.sqrt() / 2.0).abs() < 1e-12);
    }
}
