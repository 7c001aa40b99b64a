//! Validated settings for one dedup run.
//!
//! The settings sit below the pipeline that runs them, so a module that only
//! needs to know a run's settings (the saved index) does not depend on the
//! pipeline; `crate::pipeline` re-exports them.
//!
//! The CLI (or any library user) fills a [`DedupConfig`]; [`DedupConfig::validate`]
//! rejects combinations that cannot work before any input is read, naming the
//! setting as this struct names it (`threshold`, `num_perm`), never a command-line
//! flag: front ends word [`Error::InvalidSetting`] in their own terms.
//!
//! Every setting that takes one of a few named values (here [`Algo`], [`UnitKind`],
//! [`Verify`]; elsewhere [`ClusterMode`], [`ParaSep`], the tokenizer, the MinHash
//! variant, the input format) has one name per value: the name `report.json` and
//! the index file store. [`KeepPolicy`], whose values may name a field
//! (`max:meta.timestamp`), is read and written as one such string too. [`parse_name`] reads a value from that name for every such
//! type by one rule, and with the `cli` feature each derives `clap::ValueEnum` with
//! the same names (the tests next to each type hold the two together).

pub use crate::cluster::{ClusterMode, KeepPolicy};
use crate::corpus::ParaSep;
use crate::error::{Error, Result};
use crate::minhash::Variant;
use crate::text::ShingleConfig;

/// Which similarity sketch finds the duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Algo {
    /// MinHash signatures, LSH banding, verification by estimated or exact Jaccard.
    Minhash,
    /// 64-bit weighted SimHash, pairs within a Hamming distance.
    Simhash,
    /// Identical normalised text.
    Exact,
}

/// What is compared: whole records or their paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// A whole record (JSONL line or text file).
    Article,
    /// Each paragraph of each record.
    Paragraph,
}

/// How MinHash candidate pairs are confirmed before they join a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// Estimated Jaccard from the signatures must reach the threshold.
    Signature,
    /// Exact Jaccard of the shingle sets (re-shingled from the input) must reach
    /// the threshold.
    Exact,
    /// Every LSH candidate is taken as a duplicate (the classic, chain-prone way).
    None,
}

pub use crate::setting_names::{name_of, parse_name};

crate::setting_names::by_setting_name!(Algo, UnitKind, Verify);

/// Default Jaccard threshold, over word 4-gram shingle sets.
///
/// Chosen on real text with natural look-alikes (the real-text benchmark in
/// `datasets/realtext/`, procedure and tables in `datasets/labelled/compare.md`):
/// among star-clustered settings, those keeping pair precision at or above 0.99 on
/// every tuning collection (`docs` and `korean`, article and paragraph level), the
/// one with the highest mean F1; confirmed on the held-out `licences` collection
/// and the generated corpora. Lower thresholds find more edited copies but also
/// merge templated pages and licence variants that differ in a few words.
pub const DEFAULT_THRESHOLD: f64 = 0.9;
/// Default tokens per shingle (chosen with [`DEFAULT_THRESHOLD`]).
pub const DEFAULT_NGRAM: usize = 4;
/// Default SimHash Hamming radius (of 64 bits).
pub const DEFAULT_HAMMING: u32 = 12;
/// Largest SimHash Hamming radius: at 32 of 64 bits half of all unrelated pairs
/// would match.
pub const MAX_HAMMING: u32 = 32;

/// How units are cut, shingled and signed: the settings that give a unit's
/// sketch its meaning. A saved index keeps them as its header
/// ([`crate::index::IndexHeader`]), and a run against it takes them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SketchConfig {
    /// Normalisation, tokeniser and n.
    pub shingle: ShingleConfig,
    /// MinHash construction.
    pub minhash_variant: Variant,
    /// MinHash permutations (signature length).
    pub num_perm: usize,
    /// Seed of the MinHash permutations.
    pub seed: u64,
    /// Articles or paragraphs.
    pub unit: UnitKind,
    /// Paragraph convention (for `unit = paragraph`).
    pub para_sep: ParaSep,
    /// Paragraphs with fewer characters (after trimming) are kept but not compared.
    pub min_para_chars: usize,
}

impl Default for SketchConfig {
    fn default() -> Self {
        SketchConfig {
            shingle: ShingleConfig {
                ngram: DEFAULT_NGRAM,
                ..ShingleConfig::default()
            },
            minhash_variant: Variant::OnePermutation,
            num_perm: 128,
            seed: 1,
            unit: UnitKind::Article,
            para_sep: ParaSep::Line,
            min_para_chars: 0,
        }
    }
}

/// Everything one run needs to know.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DedupConfig {
    /// The algorithm.
    pub algo: Algo,
    /// How units are cut, shingled and signed.
    #[serde(flatten)]
    pub sketch: SketchConfig,
    /// Jaccard threshold for MinHash (and for SimHash with exact verification).
    pub threshold: f64,
    /// LSH bands (with `rows`) instead of the automatic choice.
    pub bands: Option<usize>,
    /// LSH rows per band (with `bands`).
    pub rows: Option<usize>,
    /// MinHash candidate verification. SimHash reads only [`Verify::Exact`]: its
    /// Hamming matches must then also reach `threshold` in exact Jaccard.
    pub verify: Verify,
    /// SimHash: largest Hamming distance (of 64 bits) counted as a duplicate.
    pub hamming: u32,
    /// How verified edges become clusters.
    pub cluster: ClusterMode,
    /// Which unit of a cluster is kept.
    pub keep: KeepPolicy,
    /// Skip (and count) records that cannot be read instead of failing.
    pub skip_invalid: bool,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            algo: Algo::Minhash,
            sketch: SketchConfig::default(),
            threshold: DEFAULT_THRESHOLD,
            bands: None,
            rows: None,
            verify: Verify::Exact,
            hamming: DEFAULT_HAMMING,
            cluster: ClusterMode::Star,
            keep: KeepPolicy::Central,
            skip_invalid: false,
        }
    }
}

impl DedupConfig {
    /// Rejects settings that cannot work.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::invalid_setting(
                "threshold",
                self.threshold,
                "in (0, 1]",
            ));
        }
        let most = crate::minhash::oph::MAX_BINS;
        let num_perm = self.sketch.num_perm;
        if num_perm == 0 || num_perm > most {
            return Err(Error::invalid_setting(
                "num_perm",
                num_perm,
                format!("between 1 and {most}"),
            ));
        }
        self.sketch.shingle.validate()?;
        match (self.bands, self.rows) {
            (Some(b), Some(r)) => {
                if b == 0 || r == 0 || b.saturating_mul(r) > num_perm {
                    return Err(Error::Config(format!(
                        "`bands` {b} x `rows` {r} must be positive and at most `num_perm` \
                         {num_perm}"
                    )));
                }
            }
            (None, None) => {}
            _ => {
                return Err(Error::Config(
                    "`bands` and `rows` must be set together".into(),
                ))
            }
        }
        if self.hamming > MAX_HAMMING {
            return Err(Error::invalid_setting(
                "hamming",
                self.hamming,
                format!("at most {MAX_HAMMING} bits of 64"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "cli")]
    #[test]
    fn algo_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<Algo>();
    }

    #[cfg(feature = "cli")]
    #[test]
    fn unit_kind_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<UnitKind>();
    }

    #[cfg(feature = "cli")]
    #[test]
    fn verify_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<Verify>();
    }

    #[test]
    fn rejects_impossible_settings() {
        let ok = DedupConfig::default();
        assert!(ok.validate().is_ok());
        for bad in [
            DedupConfig {
                threshold: 0.0,
                ..ok.clone()
            },
            DedupConfig {
                threshold: 1.5,
                ..ok.clone()
            },
            DedupConfig {
                sketch: SketchConfig {
                    num_perm: 0,
                    ..ok.sketch
                },
                ..ok.clone()
            },
            DedupConfig {
                bands: Some(20),
                rows: Some(10),
                ..ok.clone()
            },
            DedupConfig {
                bands: Some(4),
                rows: None,
                ..ok.clone()
            },
            DedupConfig {
                hamming: 40,
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
