//! MinHash signatures and the choice of LSH banding parameters.
//!
//! This module owns everything that happens to one document's shingle set
//! before documents are compared with each other:
//!
//! * [`MinHasher`] turns a set of 64-bit shingle hashes into a signature of
//!   `num_perm` `u32` values; the fraction of equal positions between two
//!   signatures ([`estimate_jaccard`]) estimates the Jaccard similarity of
//!   the underlying sets.
//! * [`optimal_params`] picks how to cut a signature into `bands` of `rows`
//!   values for locality-sensitive hashing, so that pairs above a Jaccard
//!   threshold very likely share a band and pairs below it rarely do.
//!
//! Candidate generation and verification over many signatures live in
//! `crate::lsh`.

pub mod compact;
pub mod digest;
pub(crate) mod family;
pub mod oph;
pub mod params;
pub mod signer;
pub mod variant;

pub use oph::OnePermHasher;
pub use params::{
    candidate_probability, false_negative_area, false_positive_area, optimal_params, LshParams,
    ParamsError, DEFAULT_FN_WEIGHT, DEFAULT_FP_WEIGHT,
};
pub use signer::{
    estimate_jaccard, is_empty_signature, MinHasher, SplitMix64, EMPTY_SLOT, MERSENNE_61,
};
pub use variant::{Signer, Variant};

/// Deterministic generators of shingle-hash sets with a known overlap, shared
/// by the statistical tests of this module and of `crate::lsh`.
#[cfg(test)]
pub(crate) mod test_sets {
    use super::SplitMix64;
    use std::collections::HashSet;

    /// Draws `count` distinct random `u64` values from `rng`, none of which is
    /// in `taken`; every value drawn is added to `taken`.
    pub(crate) fn distinct_values(
        rng: &mut SplitMix64,
        count: usize,
        taken: &mut HashSet<u64>,
    ) -> Vec<u64> {
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let v = rng.next_u64();
            if taken.insert(v) {
                out.push(v);
            }
        }
        out
    }

    /// Builds two sets of distinct random values: `shared` values in both,
    /// `only_a` values only in the first and `only_b` only in the second.
    /// Their Jaccard similarity is exactly
    /// `shared / (shared + only_a + only_b)`.
    pub(crate) fn random_set_pair(
        seed: u64,
        shared: usize,
        only_a: usize,
        only_b: usize,
    ) -> (Vec<u64>, Vec<u64>) {
        let mut rng = SplitMix64::new(seed);
        let mut taken = HashSet::new();
        let common = distinct_values(&mut rng, shared, &mut taken);
        let mut a = common.clone();
        a.extend(distinct_values(&mut rng, only_a, &mut taken));
        let mut b = common;
        b.extend(distinct_values(&mut rng, only_b, &mut taken));
        (a, b)
    }

    /// Builds two sets whose union has `union_size` values and whose Jaccard
    /// similarity is as close to `target` as that size allows.
    pub(crate) fn sets_with_overlap(
        seed: u64,
        union_size: usize,
        target: f64,
    ) -> (Vec<u64>, Vec<u64>) {
        let shared = ((union_size as f64) * target.clamp(0.0, 1.0)).round() as usize;
        let rest = union_size - shared.min(union_size);
        random_set_pair(seed, shared, rest / 2, rest - rest / 2)
    }

    /// Exact Jaccard similarity of two sets given as value lists (repeats are
    /// ignored). Two empty sets give 0.0.
    pub(crate) fn exact_jaccard(a: &[u64], b: &[u64]) -> f64 {
        let sa: HashSet<u64> = a.iter().copied().collect();
        let sb: HashSet<u64> = b.iter().copied().collect();
        let union = sa.union(&sb).count();
        if union == 0 {
            return 0.0;
        }
        sa.intersection(&sb).count() as f64 / union as f64
    }
}
