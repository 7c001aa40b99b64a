//! The parameter grid of a comparison: comma-separated value lists per setting, and
//! their expansion into one [`DedupConfig`] per run.
//!
//! Only the settings an algorithm reads multiply its runs: MinHash runs over
//! threshold × num_perm × ngram × tokenizer × verify; SimHash over hamming × ngram ×
//! tokenizer × verify (× threshold when SimHash candidates are verified by exact
//! Jaccard); exact hashing reads none of them and runs once.

use std::str::FromStr;

use crate::config::{Algo, ClusterMode, DedupConfig, Verify};
use crate::error::{Error, Result};
use crate::text::Tokenizer;

/// The value lists of a comparison grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Algorithms, in run order.
    pub algos: Vec<Algo>,
    /// Jaccard thresholds (MinHash, and SimHash with exact verification).
    pub thresholds: Vec<f64>,
    /// MinHash signature lengths.
    pub num_perms: Vec<usize>,
    /// Tokens per shingle.
    pub ngrams: Vec<usize>,
    /// Tokenizers.
    pub tokenizers: Vec<Tokenizer>,
    /// SimHash Hamming radii.
    pub hammings: Vec<u32>,
    /// Candidate verification modes (MinHash; SimHash reads only `exact`).
    pub verifies: Vec<Verify>,
    /// Clustering rules; every run of the other settings is made once per rule.
    pub clusters: Vec<ClusterMode>,
}

/// Parses a comma-separated list (`"0.5, 0.7"`) of values of the setting `name`
/// (as [`DedupConfig`] names it: `threshold`, `num_perm`), which errors name.
pub fn parse_list<T: FromStr>(name: &'static str, text: &str) -> Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    let mut out = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(Error::invalid_setting(
                name,
                text,
                "a comma-separated list with no empty item",
            ));
        }
        out.push(item.parse::<T>().map_err(|e| {
            Error::invalid_setting(name, text, format!("a list of valid values: {item:?}: {e}"))
        })?);
    }
    Ok(out)
}

impl Grid {
    /// Expands the grid into run configurations, each a copy of `base` with the
    /// grid's settings applied, every one validated.
    pub fn configs(&self, base: &DedupConfig) -> Result<Vec<DedupConfig>> {
        for (name, empty) in [
            ("algo", self.algos.is_empty()),
            ("threshold", self.thresholds.is_empty()),
            ("num_perm", self.num_perms.is_empty()),
            ("ngram", self.ngrams.is_empty()),
            ("tokenizer", self.tokenizers.is_empty()),
            ("hamming", self.hammings.is_empty()),
            ("verify", self.verifies.is_empty()),
            ("cluster", self.clusters.is_empty()),
        ] {
            if empty {
                return Err(Error::invalid_setting(
                    name,
                    "",
                    "a list of one or more values",
                ));
            }
        }
        let mut out = Vec::new();
        for &algo in &self.algos {
            match algo {
                Algo::Exact => out.push(DedupConfig {
                    algo,
                    ..base.clone()
                }),
                Algo::Minhash => {
                    for (&tokenizer, &ngram) in self.shingles() {
                        for &num_perm in &self.num_perms {
                            for &verify in &self.verifies {
                                for &threshold in &self.thresholds {
                                    let mut c = base.clone();
                                    c.algo = algo;
                                    c.sketch.shingle.tokenizer = tokenizer;
                                    c.sketch.shingle.ngram = ngram;
                                    c.sketch.num_perm = num_perm;
                                    c.verify = verify;
                                    c.threshold = threshold;
                                    out.push(c);
                                }
                            }
                        }
                    }
                }
                Algo::Simhash => {
                    // SimHash reads only `exact`; every other mode keeps all matches.
                    let mut verifies: Vec<Verify> = Vec::new();
                    for &v in &self.verifies {
                        let v = if v == Verify::Exact {
                            Verify::Exact
                        } else {
                            Verify::None
                        };
                        if !verifies.contains(&v) {
                            verifies.push(v);
                        }
                    }
                    for (&tokenizer, &ngram) in self.shingles() {
                        for &verify in &verifies {
                            let thresholds: &[f64] = if verify == Verify::Exact {
                                &self.thresholds
                            } else {
                                &self.thresholds[..1]
                            };
                            for &threshold in thresholds {
                                for &hamming in &self.hammings {
                                    let mut c = base.clone();
                                    c.algo = algo;
                                    c.sketch.shingle.tokenizer = tokenizer;
                                    c.sketch.shingle.ngram = ngram;
                                    c.verify = verify;
                                    c.threshold = threshold;
                                    c.hamming = hamming;
                                    out.push(c);
                                }
                            }
                        }
                    }
                }
            }
        }
        let out: Vec<DedupConfig> = out
            .into_iter()
            .flat_map(|c| {
                self.clusters.iter().map(move |&cluster| DedupConfig {
                    cluster,
                    ..c.clone()
                })
            })
            .collect();
        for c in &out {
            c.validate()?;
        }
        Ok(out)
    }

    /// Every (tokenizer, ngram) combination.
    fn shingles(&self) -> impl Iterator<Item = (&Tokenizer, &usize)> {
        self.tokenizers
            .iter()
            .flat_map(move |t| self.ngrams.iter().map(move |n| (t, n)))
    }
}

/// A short label of a run's settings, e.g. `t=0.5 k=128 word-3 verify=exact`;
/// runs clustered by connected components end in ` components`.
pub fn describe(config: &DedupConfig) -> String {
    let settings = describe_sketch(config);
    match config.cluster {
        ClusterMode::Star => settings,
        ClusterMode::Components => format!("{settings} components"),
    }
}

fn describe_sketch(config: &DedupConfig) -> String {
    let shingle = format!(
        "{}-{}",
        tokenizer_name(config.sketch.shingle.tokenizer),
        config.sketch.shingle.ngram
    );
    match config.algo {
        Algo::Minhash => format!(
            "t={} k={} {shingle} verify={}",
            config.threshold,
            config.sketch.num_perm,
            verify_name(config.verify)
        ),
        Algo::Simhash => {
            if config.verify == Verify::Exact {
                format!(
                    "h={} {shingle} verify=exact t={}",
                    config.hamming, config.threshold
                )
            } else {
                format!("h={} {shingle}", config.hamming)
            }
        }
        Algo::Exact => "normalised text".into(),
    }
}

/// `minhash`, `simhash` or `exact`.
pub fn algo_name(algo: Algo) -> &'static str {
    match algo {
        Algo::Minhash => "minhash",
        Algo::Simhash => "simhash",
        Algo::Exact => "exact",
    }
}

/// `article` or `paragraph`.
pub fn unit_name(unit: crate::pipeline::UnitKind) -> &'static str {
    match unit {
        crate::pipeline::UnitKind::Article => "article",
        crate::pipeline::UnitKind::Paragraph => "paragraph",
    }
}

/// `word`, `whitespace` or `char`.
pub fn tokenizer_name(tokenizer: Tokenizer) -> &'static str {
    match tokenizer {
        Tokenizer::Word => "word",
        Tokenizer::Whitespace => "whitespace",
        Tokenizer::Char => "char",
    }
}

/// `signature`, `exact` or `none`.
pub fn verify_name(verify: Verify) -> &'static str {
    match verify {
        Verify::Signature => "signature",
        Verify::Exact => "exact",
        Verify::None => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            algos: parse_list("algo", "minhash,simhash,exact").unwrap(),
            thresholds: parse_list("threshold", "0.5, 0.7,0.9").unwrap(),
            num_perms: parse_list("num_perm", "128").unwrap(),
            ngrams: parse_list("ngram", "3,5").unwrap(),
            tokenizers: parse_list("tokenizer", "word,char").unwrap(),
            hammings: parse_list("hamming", "3,6,10").unwrap(),
            verifies: parse_list("verify", "signature").unwrap(),
            clusters: parse_list("cluster", "star").unwrap(),
        }
    }

    #[test]
    fn lists_parse_and_bad_items_name_the_setting() {
        let g = grid();
        assert_eq!(g.thresholds, vec![0.5, 0.7, 0.9]);
        assert_eq!(g.tokenizers, vec![Tokenizer::Word, Tokenizer::Char]);
        let err = parse_list::<f64>("threshold", "0.5,x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("threshold") && err.contains("\"x\""), "{err}");
        let err = parse_list::<Algo>("algo", "minhash,,exact")
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty item"), "{err}");
        assert!(parse_list::<Algo>("algo", "bloom").is_err());
    }

    #[test]
    fn expansion_multiplies_only_what_each_algorithm_reads() {
        let configs = grid().configs(&DedupConfig::default()).unwrap();
        let count = |algo| configs.iter().filter(|c| c.algo == algo).count();
        // 3 thresholds x 1 num_perm x 2 ngrams x 2 tokenizers.
        assert_eq!(count(Algo::Minhash), 12);
        // 3 radii x 2 ngrams x 2 tokenizers, no verification.
        assert_eq!(count(Algo::Simhash), 12);
        assert_eq!(count(Algo::Exact), 1);
        assert!(configs
            .iter()
            .filter(|c| c.algo == Algo::Simhash)
            .all(|c| c.verify == Verify::None));
        let mut g = grid();
        g.verifies = vec![
            Verify::Exact,
            Verify::Signature,
            Verify::None,
            Verify::Exact,
        ];
        let configs = g.configs(&DedupConfig::default()).unwrap();
        // MinHash: every listed mode (4 x 12); SimHash: unverified once, exact once.
        assert_eq!(
            configs.iter().filter(|c| c.algo == Algo::Minhash).count(),
            48
        );
        assert_eq!(
            configs.iter().filter(|c| c.algo == Algo::Simhash).count(),
            48
        );
        g.verifies = vec![Verify::Signature, Verify::Exact];
        let configs = g.configs(&DedupConfig::default()).unwrap();
        // SimHash: unverified (12) plus exact-verified at each threshold (36).
        assert_eq!(
            configs.iter().filter(|c| c.algo == Algo::Simhash).count(),
            48
        );
    }

    #[test]
    fn invalid_values_are_rejected_before_running() {
        let mut g = grid();
        g.thresholds = vec![1.5];
        assert!(g.configs(&DedupConfig::default()).is_err());
        g.thresholds = vec![];
        assert!(g.configs(&DedupConfig::default()).is_err());
    }

    #[test]
    fn labels_name_the_settings() {
        let configs = grid().configs(&DedupConfig::default()).unwrap();
        assert_eq!(describe(&configs[0]), "t=0.5 k=128 word-3 verify=signature");
        let last = configs.last().unwrap();
        assert_eq!(describe(last), "normalised text");
    }
}
