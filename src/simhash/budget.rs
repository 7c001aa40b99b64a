//! How many pairs a Hamming-radius search will return, estimated before it runs.
//!
//! The number of fingerprint pairs within radius `k` grows steeply with `k`: for
//! unrelated 64-bit fingerprints about 1 pair in 10^7 is within 6 bits, 1 in 30
//! within 24 bits and half of all pairs within 32. Every pair found is held in
//! memory until clustering, so a large radius on a large corpus would exhaust
//! the machine long before it finished. A sample of pairs of the run's own
//! fingerprints gives the distribution of distances; from it the search's
//! output is estimated for every radius, and a radius whose pairs would not fit
//! the memory budget is refused before the search starts, naming the largest
//! radius that fits. The search itself also stops at the same limit
//! ([`super::near_distinct_pairs_at_most`]), for inputs the sample misjudged.

use crate::error::{Error, Result};

/// Memory one found pair costs until the run has clustered it: the pair, its
/// edge, and their sorting and clustering copies.
pub const BYTES_PER_PAIR: u64 = 32;

/// Pairs drawn for the estimate; smaller inputs are counted exactly.
const SAMPLE_PAIRS: u64 = 1 << 17;

/// Distances between sampled pairs of distinct fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistanceSample {
    /// Sampled pairs at each distance 0..=64.
    pub counts: [u64; 65],
}

impl Default for DistanceSample {
    fn default() -> Self {
        DistanceSample { counts: [0; 65] }
    }
}

impl DistanceSample {
    /// The distances of all pairs of `distinct` when there are few, otherwise of
    /// a fixed pseudo-random sample of pairs (the same input gives the same
    /// sample).
    pub fn of(distinct: &[u64]) -> DistanceSample {
        let mut sample = DistanceSample::default();
        let n = distinct.len() as u64;
        if n < 2 {
            return sample;
        }
        if pairs_among(n) <= u128::from(SAMPLE_PAIRS) {
            for (p, &a) in distinct.iter().enumerate() {
                for &b in &distinct[p + 1..] {
                    sample.counts[(a ^ b).count_ones() as usize] += 1;
                }
            }
            return sample;
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ n;
        let mut draw = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut drawn = 0;
        while drawn < SAMPLE_PAIRS {
            let i = (draw() % n) as usize;
            let j = (draw() % n) as usize;
            if i != j {
                sample.counts[(distinct[i] ^ distinct[j]).count_ones() as usize] += 1;
                drawn += 1;
            }
        }
        sample
    }

    /// Adds another sample's counts (samples of parts of one input).
    pub fn merge(&mut self, other: &DistanceSample) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
    }

    /// Estimated pairs among `n` distinct fingerprints at distance 1 to `k`.
    pub fn estimated_pairs(&self, n: u64, k: u32) -> u64 {
        let sampled: u64 = self.counts.iter().sum();
        if sampled == 0 {
            return 0;
        }
        let within: u64 = self.counts[1..=(k.min(64) as usize)].iter().sum();
        let estimate = pairs_among(n) * u128::from(within) / u128::from(sampled);
        u64::try_from(estimate).unwrap_or(u64::MAX)
    }

    /// The largest radius from 1 to 64 whose estimated pairs are at most
    /// `max_pairs`, if any.
    pub fn largest_radius_within(&self, n: u64, max_pairs: u64) -> Option<u32> {
        (1..=64)
            .take_while(|&k| self.estimated_pairs(n, k) <= max_pairs)
            .last()
    }
}

/// Most pairs a search may hold within `budget` bytes.
pub fn max_pairs(budget: u64) -> u64 {
    budget / BYTES_PER_PAIR
}

/// Refuses radius `k` over `n` distinct fingerprints when the estimated pairs
/// would not fit `budget` bytes, naming the largest radius that fits.
pub fn check_radius(sample: &DistanceSample, n: u64, k: u32, budget: u64) -> Result<()> {
    let estimate = sample.estimated_pairs(n, k);
    if estimate <= max_pairs(budget) {
        return Ok(());
    }
    Err(too_many_pairs(
        sample,
        n,
        k,
        budget,
        estimate,
        "would find about",
    ))
}

/// The error for a radius search whose pairs do not fit `budget`: `found` pairs
/// (`verb` says whether estimated or counted).
pub fn too_many_pairs(
    sample: &DistanceSample,
    n: u64,
    k: u32,
    budget: u64,
    found: u64,
    verb: &str,
) -> Error {
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    let fits = match sample
        .largest_radius_within(n, max_pairs(budget))
        .filter(|&r| r < k)
    {
        Some(r) => format!(
            "the largest radius that fits is `hamming` {r} (about {} pairs)",
            sample.estimated_pairs(n, r)
        ),
        None => "no radius of 1 or more fits".to_string(),
    };
    Error::Config(format!(
        "SimHash search at `hamming` {k} over {n} distinct fingerprints {verb} {found} \
         pairs ({:.0} MiB), more than the memory budget of {:.0} MiB holds; {fits}: \
         lower `hamming` or raise `memory_budget`",
        mib(found.saturating_mul(BYTES_PER_PAIR)),
        mib(budget)
    ))
}

fn pairs_among(n: u64) -> u128 {
    u128::from(n) * u128::from(n.saturating_sub(1)) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> Vec<u64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                state ^ (state >> 29)
            })
            .collect()
    }

    #[test]
    fn small_inputs_are_counted_exactly() {
        let fps = random(300, 7);
        let sample = DistanceSample::of(&fps);
        for k in [3, 16, 24, 32] {
            let exact = crate::simhash::near_distinct_pairs(&fps, k, None).len() as u64;
            assert_eq!(sample.estimated_pairs(300, k), exact, "k = {k}");
        }
    }

    #[test]
    fn the_estimate_of_a_large_input_is_close_to_the_count() {
        let fps = random(20_000, 11);
        let sample = DistanceSample::of(&fps);
        let exact = crate::simhash::near_distinct_pairs(&fps, 24, None).len() as f64;
        let estimate = sample.estimated_pairs(20_000, 24) as f64;
        assert!(
            (estimate / exact - 1.0).abs() < 0.1,
            "{estimate} vs {exact}"
        );
    }

    #[test]
    fn a_radius_past_the_budget_is_refused_naming_one_that_fits() {
        let fps = random(100_000, 3);
        let sample = DistanceSample::of(&fps);
        let budget = 64 << 20;
        let err = check_radius(&sample, 100_000, 32, budget).expect_err("half of all pairs");
        let message = err.to_string();
        let fits = sample
            .largest_radius_within(100_000, max_pairs(budget))
            .expect("some radius fits");
        assert!(fits < 32 && fits > 3, "{fits}");
        assert!(
            message.contains(&format!("`hamming` {fits} (about")),
            "{message}"
        );
        assert!(check_radius(&sample, 100_000, fits, budget).is_ok());
    }

    #[test]
    fn samples_of_parts_merge_by_adding_counts() {
        let fps = random(100, 5);
        let mut whole = DistanceSample::of(&fps[..50]);
        whole.merge(&DistanceSample::of(&fps[50..]));
        let pairs: u64 = whole.counts.iter().sum();
        assert_eq!(pairs, 2 * (50 * 49 / 2));
    }
}
