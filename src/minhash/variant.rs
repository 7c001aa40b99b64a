//! Choosing a MinHash construction at run time.
//!
//! Both constructions produce signatures with the same layout and meaning (the
//! fraction of equal positions estimates Jaccard), so everything downstream (LSH
//! banding, verification) works with either:
//! - [`Variant::Classic`]: `k` independent hash functions per shingle
//!   ([`MinHasher`], the datasketch construction): the reference;
//! - [`Variant::OnePermutation`]: one hash per shingle with optimal densification
//!   ([`OnePermHasher`]): about `k` times fewer hash evaluations.

use super::{MinHasher, OnePermHasher};

/// Which MinHash construction to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// k independent hash functions per shingle.
    Classic,
    /// One permutation, densified.
    #[serde(rename = "oph")]
    #[cfg_attr(feature = "cli", value(name = "oph"))]
    OnePermutation,
}

crate::setting_names::by_setting_name!(Variant);

/// A signer of either construction.
#[derive(Debug, Clone)]
pub enum Signer {
    /// `k` independent hash functions.
    Classic(MinHasher),
    /// One permutation, densified.
    OnePermutation(OnePermHasher),
}

impl Signer {
    /// Builds the signer for `variant` with signature length `num_perm`.
    ///
    /// # Panics
    ///
    /// Panics on a `num_perm` the variant cannot take (0, or above
    /// [`super::oph::MAX_BINS`] for one-permutation hashing); validate first.
    pub fn new(variant: Variant, num_perm: usize, seed: u64) -> Self {
        match variant {
            Variant::Classic => Signer::Classic(MinHasher::new(num_perm, seed)),
            Variant::OnePermutation => Signer::OnePermutation(OnePermHasher::new(num_perm, seed)),
        }
    }

    /// Signature length.
    pub fn num_perm(&self) -> usize {
        match self {
            Signer::Classic(s) => s.num_perm(),
            Signer::OnePermutation(s) => s.num_perm(),
        }
    }

    /// Writes the signature of `shingles` into `out` (length `num_perm`).
    pub fn sign_into(&self, shingles: &[u64], out: &mut [u32]) {
        match self {
            Signer::Classic(s) => s.sign_into(shingles, out),
            Signer::OnePermutation(s) => s.sign_into(shingles, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "cli")]
    #[test]
    fn variant_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<Variant>();
    }

    #[test]
    fn both_variants_parse_and_sign() {
        for name in ["classic", "oph"] {
            let variant: Variant = name.parse().expect("known variant");
            let signer = Signer::new(variant, 32, 1);
            let mut out = vec![0; 32];
            signer.sign_into(&[1, 2, 3], &mut out);
            assert_eq!(signer.num_perm(), 32);
            assert!(out.iter().all(|&v| v != u32::MAX), "{name}");
        }
        assert!("fast".parse::<Variant>().is_err());
    }
}
