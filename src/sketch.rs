//! Sketching one text at a time: [`MinHasher`] and [`SimHasher`].
//!
//! A run sketches a whole corpus in shards ([`crate::pipeline`]); a program that
//! receives documents one by one wants the same sketch of one text in one call.
//! These types hold a [`Shingler`] and a signer built once from their settings and
//! call exactly what a run calls per unit (shingling, then
//! [`crate::minhash::Signer`] and [`crate::minhash::compact`], or
//! [`crate::simhash::fingerprint64`]), so a [`Signature`] made here equals the one
//! a run with the same settings stores in its checkpoints and saved indexes.
//!
//! ```
//! use neardedup::{MinHasher, SimHasher, SketchConfig};
//!
//! let minhash = MinHasher::new(SketchConfig::default())?;
//! let a = minhash.sketch("the quick brown fox jumps over the lazy dog by the river bank");
//! let b = minhash.sketch("the quick brown fox jumps over the lazy dog by the river side");
//! assert!(a.jaccard(&b) > 0.5);
//! assert_eq!(a.bytes().len(), 2 * a.num_perm());
//!
//! let simhash = SimHasher::new(SketchConfig::default().shingle)?;
//! let (x, y) = (simhash.hash("one two three four five six"), simhash.hash("one two three four five six"));
//! assert_eq!(SimHasher::distance(x, y), 0);
//! # Ok::<(), neardedup::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::minhash::compact::{self, BYTES_PER_VALUE};
use crate::minhash::Signer;
use crate::pipeline::DedupConfig;
use crate::text::{ShingleConfig, Shingler};

pub use crate::config::SketchConfig;

/// A run configuration with the sketch settings `sketch` (and defaults
/// otherwise), through which the settings are checked as a run checks them.
fn as_run(sketch: &SketchConfig) -> DedupConfig {
    DedupConfig {
        sketch: *sketch,
        ..DedupConfig::default()
    }
}

/// A compact MinHash signature: one 16-bit digest per value, `2 * num_perm`
/// bytes, the form runs keep in checkpoints and saved indexes (see
/// [`crate::minhash::compact`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    bytes: Vec<u8>,
}

impl Signature {
    /// A signature from its compact bytes (as [`Signature::bytes`] gives them);
    /// refused when they are not a whole, non-zero number of values.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Signature> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(BYTES_PER_VALUE) {
            return Err(Error::Config(format!(
                "a compact signature is a positive multiple of {BYTES_PER_VALUE} bytes, got {}",
                bytes.len()
            )));
        }
        Ok(Signature { bytes })
    }

    /// The compact bytes: value `i`'s digest, little-endian, at `2 i`.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of values (the `num_perm` it was made with).
    pub fn num_perm(&self) -> usize {
        self.bytes.len() / BYTES_PER_VALUE
    }

    /// True for the signature of a text without shingles (no tokens after
    /// normalisation): such a signature matches nothing.
    pub fn is_empty_set(&self) -> bool {
        compact::is_empty(&self.bytes)
    }

    /// Estimated Jaccard similarity of the two texts' shingle sets: the
    /// fraction of positions whose values agree ([`compact::estimate`]).
    pub fn jaccard(&self, other: &Signature) -> f64 {
        compact::estimate(&self.bytes, &other.bytes)
    }
}

/// Turns texts into MinHash [`Signature`]s under one [`SketchConfig`].
#[derive(Debug, Clone)]
pub struct MinHasher {
    config: SketchConfig,
    shingler: Shingler,
    signer: Signer,
}

impl MinHasher {
    /// Checks the settings as a run does (n at least 1, `num_perm` in range)
    /// and builds the shingler and signer once.
    pub fn new(config: SketchConfig) -> Result<MinHasher> {
        as_run(&config).validate()?;
        Ok(MinHasher {
            shingler: Shingler::new(config.shingle)?,
            signer: Signer::new(config.minhash_variant, config.num_perm, config.seed),
            config,
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &SketchConfig {
        &self.config
    }

    /// The signature of `text`, as a run with the same settings makes it.
    pub fn sketch(&self, text: &str) -> Signature {
        self.sign(&self.shingles(text))
    }

    /// The hashed shingles of `text`, as a run with the same settings cuts
    /// them (normalised, tokenised, n-grams hashed to 64 bits).
    pub fn shingles(&self, text: &str) -> Vec<u64> {
        self.shingler.shingles(text)
    }

    /// The signature of a set of hashed shingles (repeats count once), for
    /// callers that cut their own: [`MinHasher::sketch`] signs
    /// [`MinHasher::shingles`].
    pub fn sign(&self, shingles: &[u64]) -> Signature {
        let mut values = vec![0u32; self.config.num_perm];
        self.signer.sign_into(shingles, &mut values);
        Signature {
            bytes: compact::compact(&values),
        }
    }
}

/// Turns texts into 64-bit SimHash fingerprints under one [`ShingleConfig`].
#[derive(Debug, Clone)]
pub struct SimHasher {
    shingler: Shingler,
}

impl SimHasher {
    /// Checks the shingling settings and builds the shingler once.
    pub fn new(shingle: ShingleConfig) -> Result<SimHasher> {
        Ok(SimHasher {
            shingler: Shingler::new(shingle)?,
        })
    }

    /// The fingerprint of `text`, as a `--algo simhash` run makes it.
    pub fn hash(&self, text: &str) -> u64 {
        crate::simhash::fingerprint64(&self.shingler.shingles(text))
    }

    /// Bits in which two fingerprints differ (of 64); a run counts pairs within
    /// its `hamming` setting as duplicates.
    pub fn distance(a: u64, b: u64) -> u32 {
        crate::simhash::hamming(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::{estimate_jaccard, Variant};
    use crate::text::Tokenizer;
    use proptest::prelude::*;

    fn small(minhash_variant: Variant) -> SketchConfig {
        SketchConfig {
            shingle: ShingleConfig {
                ngram: 2,
                tokenizer: Tokenizer::Word,
                ..ShingleConfig::default()
            },
            minhash_variant,
            num_perm: 64,
            seed: 7,
            ..SketchConfig::default()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The facade's signature is the compact form of what the signer makes
        /// of the shingler's output, and its estimate is the full signatures'
        /// estimate up to digest collisions.
        #[test]
        fn sketch_is_the_signers_compact_signature(
            a in "[a-e ]{0,60}",
            b in "[a-e ]{0,60}",
            classic in any::<bool>(),
        ) {
            let config = small(if classic { Variant::Classic } else { Variant::OnePermutation });
            let hasher = MinHasher::new(config).expect("valid");
            let shingler = Shingler::new(config.shingle).expect("valid");
            let signer = Signer::new(config.minhash_variant, config.num_perm, config.seed);
            let full = |t: &str| {
                let mut out = vec![0u32; config.num_perm];
                signer.sign_into(&shingler.shingles(t), &mut out);
                out
            };
            let (sa, sb) = (hasher.sketch(&a), hasher.sketch(&b));
            prop_assert_eq!(sa.bytes(), &compact::compact(&full(&a))[..]);
            prop_assert_eq!(sa.is_empty_set(), shingler.shingles(&a).is_empty());
            let exact = estimate_jaccard(&full(&a), &full(&b));
            prop_assert!(sa.jaccard(&sb) >= exact);
            prop_assert!(sa.jaccard(&sb) - exact <= 3.0 / config.num_perm as f64);
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let zero = SketchConfig {
            num_perm: 0,
            ..SketchConfig::default()
        };
        assert!(MinHasher::new(zero).is_err());
        let mut no_n = SketchConfig::default();
        no_n.shingle.ngram = 0;
        assert!(MinHasher::new(no_n).is_err());
        assert!(SimHasher::new(no_n.shingle).is_err());
        assert!(Signature::from_bytes(vec![1, 2, 3]).is_err());
        assert!(Signature::from_bytes(Vec::new()).is_err());
    }

    #[test]
    fn signatures_round_trip_through_their_bytes() {
        let hasher = MinHasher::new(SketchConfig::default()).expect("valid");
        let s = hasher.sketch("a few words that make several four word shingles here");
        let back = Signature::from_bytes(s.bytes().to_vec()).expect("whole values");
        assert_eq!(back, s);
        assert_eq!(back.num_perm(), 128);
        assert_eq!(s.jaccard(&back), 1.0);
        assert!(hasher.sketch(" \n ").is_empty_set());
        assert!(!hasher.sketch("short").is_empty_set());
    }

    #[test]
    fn simhash_is_the_runs_fingerprint() {
        let config = SketchConfig::default().shingle;
        let hasher = SimHasher::new(config).expect("valid");
        let shingler = Shingler::new(config).expect("valid");
        let text = "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 대상을 수상했다";
        assert_eq!(
            hasher.hash(text),
            crate::simhash::fingerprint64(&shingler.shingles(text))
        );
        let other = hasher
            .hash("시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 최우수상을 수상했다");
        assert_eq!(
            SimHasher::distance(hasher.hash(text), other),
            (hasher.hash(text) ^ other).count_ones()
        );
    }
}
