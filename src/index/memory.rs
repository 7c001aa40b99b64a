//! An index a program keeps in memory: insert texts, query texts, save and load.
//!
//! [`Index`] holds a [`SignatureIndex`] (the ids and compact signatures a saved
//! index file holds) and, beside it, one LSH bucket table per band. A query
//! sketches its text with the index's [`MinHasher`], collects every unit that
//! shares a band bucket with it, and keeps those whose signature estimate
//! reaches the threshold, judged by the rule runs judge indexed pairs by
//! ([`judge_estimate`]). Banding is the runs' choice for the same settings
//! ([`crate::pipeline::lsh_params`]), so an `Index` and
//! `neardedup dedup --against` agree on what is a candidate.
//!
//! Unlike a run, which emits a linear number of pairs per bucket, a query
//! compares the text with every member of its buckets: it finds every indexed
//! unit that shares a band with it.
//!
//! [`Index::save`] writes the file format of `neardedup index`
//! ([`SignatureIndex::write`]: a temporary file, synced, then renamed), and
//! [`Index::load`] reads files written by either.

use std::collections::HashMap;
use std::path::Path;

use super::{IndexedUnit, SignatureIndex};
use crate::corpus::RecordId;
use crate::error::{Error, Result};
use crate::lsh::usable_bands;
use crate::minhash::compact;
use crate::pipeline::verify::{judge_estimate, Judgement};
use crate::pipeline::{lsh_params, DedupConfig, Verify};
use crate::sketch::{MinHasher, Signature};

/// One indexed unit that a queried text duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The unit's id, as inserted (or as the index file holds it).
    pub id: RecordId,
    /// Its paragraph number, for units of a paragraph-level index file.
    pub para: Option<u32>,
    /// Estimated Jaccard similarity of the two texts.
    pub similarity: f32,
}

/// MinHash signatures of inserted texts, with their LSH buckets in memory.
///
/// ```
/// use neardedup::{DedupConfig, Index};
///
/// let mut index = Index::new(&DedupConfig { threshold: 0.5, ..DedupConfig::default() })?;
/// index.insert(1, "the committee approved the annual budget after a long debate on tuesday")?;
/// index.insert(2, "heavy rain is expected across the northern region later this week")?;
/// let found = index.query("the committee approved the annual budget after a long debate on monday");
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].id, 1.into());
/// # Ok::<(), neardedup::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Index {
    hasher: MinHasher,
    threshold: f64,
    /// How a candidate is judged; indexed units have no text, so
    /// [`Verify::Exact`] judges by signature, as runs against an index do.
    verify: Verify,
    rows: usize,
    /// For each band, the units (by position in `saved`) in each bucket.
    buckets: Vec<HashMap<u64, Vec<u32>>>,
    saved: SignatureIndex,
}

impl Index {
    /// An empty index for texts sketched and judged as a MinHash run with
    /// `config` would (its shingling, MinHash settings, threshold, banding and
    /// verification); the settings are checked as a run checks them.
    pub fn new(config: &DedupConfig) -> Result<Index> {
        Index::from_saved(SignatureIndex::new(config), config)
    }

    /// Loads an index file written by [`Index::save`] or `neardedup index`, with
    /// the sketch settings its header records and the default threshold and
    /// banding ([`DedupConfig::default`]).
    pub fn load(path: &Path) -> Result<Index> {
        let saved = SignatureIndex::read(path)?;
        let mut config = DedupConfig::default();
        saved.header.apply_to(&mut config);
        Index::from_saved(saved, &config)
    }

    /// Loads an index file for queries judged as `config` says (threshold,
    /// banding, verification); refused, naming the file, when the file's
    /// signatures were made with other sketch settings than `config`'s.
    pub fn load_with(path: &Path, config: &DedupConfig) -> Result<Index> {
        let saved = SignatureIndex::read(path)?;
        saved.check_compatible(config, path)?;
        Index::from_saved(saved, config)
    }

    /// An index over the units of `saved`, judged as `config` says; `config`
    /// must make signatures comparable with them.
    pub fn from_saved(saved: SignatureIndex, config: &DedupConfig) -> Result<Index> {
        config.validate()?;
        if let Some(why) = saved.incompatibility(config) {
            return Err(Error::Config(why));
        }
        let params = lsh_params(config)?;
        let width = saved.header.num_perm * compact::BYTES_PER_VALUE;
        if saved.signatures.len() != saved.units.len() * width {
            return Err(Error::Config(format!(
                "{} signature bytes for {} units of {} permutations",
                saved.signatures.len(),
                saved.units.len(),
                saved.header.num_perm
            )));
        }
        let mut index = Index {
            hasher: MinHasher::new(config.sketch)?,
            threshold: config.threshold,
            verify: match config.verify {
                Verify::None => Verify::None,
                Verify::Signature | Verify::Exact => Verify::Signature,
            },
            rows: params.rows,
            buckets: vec![HashMap::new(); usable_bands(params, config.sketch.num_perm)],
            saved: SignatureIndex {
                header: saved.header,
                units: Vec::with_capacity(saved.units.len()),
                signatures: Vec::with_capacity(saved.signatures.len()),
            },
        };
        for (unit, signature) in saved.units.into_iter().zip(saved.signatures.chunks(width)) {
            index.push(unit, signature)?;
        }
        Ok(index)
    }

    /// The sketcher of this index's texts, to sketch texts once and both query
    /// and insert their signatures.
    pub fn hasher(&self) -> &MinHasher {
        &self.hasher
    }

    /// Number of indexed units.
    pub fn len(&self) -> usize {
        self.saved.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.saved.is_empty()
    }

    /// The ids and signatures held, as a saved index holds them.
    pub fn signatures(&self) -> &SignatureIndex {
        &self.saved
    }

    /// Adds `text` under `id`. Ids are not checked for uniqueness: a query
    /// reports every unit it matches.
    pub fn insert(&mut self, id: impl Into<RecordId>, text: &str) -> Result<()> {
        let signature = self.hasher.sketch(text);
        self.insert_signature(id, &signature)
    }

    /// Adds a signature made by [`Index::hasher`] (or with the same settings)
    /// under `id`; refused when its length is not the index's.
    pub fn insert_signature(
        &mut self,
        id: impl Into<RecordId>,
        signature: &Signature,
    ) -> Result<()> {
        self.check_length(signature)?;
        let unit = IndexedUnit {
            id: id.into(),
            para: None,
        };
        self.push(unit, signature.bytes())
    }

    /// Adds `text` under `id` unless it duplicates indexed units: `None` when
    /// it was added, or the units it duplicates (and it was not added).
    pub fn insert_if_new(
        &mut self,
        id: impl Into<RecordId>,
        text: &str,
    ) -> Result<Option<Vec<Match>>> {
        let signature = self.hasher.sketch(text);
        self.insert_signature_if_new(id, &signature)
    }

    /// Adds `signature` under `id` unless it duplicates indexed units, as
    /// [`Index::insert_if_new`] adds a text.
    pub fn insert_signature_if_new(
        &mut self,
        id: impl Into<RecordId>,
        signature: &Signature,
    ) -> Result<Option<Vec<Match>>> {
        let found = self.query_signature(signature)?;
        if !found.is_empty() {
            return Ok(Some(found));
        }
        self.insert_signature(id, signature)?;
        Ok(None)
    }

    /// The indexed units `text` duplicates, most similar first (ties in
    /// insertion order).
    pub fn query(&self, text: &str) -> Vec<Match> {
        self.matches(&self.hasher.sketch(text))
    }

    /// The indexed units a text with `signature` duplicates, as [`Index::query`];
    /// refused when its length is not the index's.
    pub fn query_signature(&self, signature: &Signature) -> Result<Vec<Match>> {
        self.check_length(signature)?;
        Ok(self.matches(signature))
    }

    /// Writes the index to `path` in the format of `neardedup index`, replacing
    /// the file all at once (see [`SignatureIndex::write`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.saved.write(path)
    }

    /// Bytes per signature.
    fn width(&self) -> usize {
        self.saved.header.num_perm * compact::BYTES_PER_VALUE
    }

    fn check_length(&self, signature: &Signature) -> Result<()> {
        if signature.num_perm() != self.saved.header.num_perm {
            return Err(Error::Config(format!(
                "a signature of {} values for an index of {}",
                signature.num_perm(),
                self.saved.header.num_perm
            )));
        }
        Ok(())
    }

    /// Appends a unit and buckets its signature (of the right length); units
    /// without shingles are kept but in no bucket, as in runs.
    fn push(&mut self, unit: IndexedUnit, signature: &[u8]) -> Result<()> {
        let position = u32::try_from(self.saved.len())
            .map_err(|_| Error::Config("more than 2^32 units in one index".into()))?;
        self.saved.append(vec![unit], signature)?;
        if !compact::is_empty(signature) {
            for (band, table) in self.buckets.iter_mut().enumerate() {
                if let Some(key) = compact::band_key(signature, band, self.rows) {
                    table.entry(key).or_default().push(position);
                }
            }
        }
        Ok(())
    }

    /// The judged matches of a signature of the right length.
    fn matches(&self, signature: &Signature) -> Vec<Match> {
        let bytes = signature.bytes();
        if compact::is_empty(bytes) {
            return Vec::new();
        }
        let mut candidates: Vec<u32> = self
            .buckets
            .iter()
            .enumerate()
            .filter_map(|(band, table)| table.get(&compact::band_key(bytes, band, self.rows)?))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let width = self.width();
        let mut found: Vec<Match> = candidates
            .into_iter()
            .filter_map(|position| {
                let at = position as usize;
                let other = &self.saved.signatures[at * width..(at + 1) * width];
                let estimate = compact::estimate(bytes, other) as f32;
                let k = self.saved.header.num_perm;
                match judge_estimate(self.verify, self.threshold, k, estimate) {
                    Judgement::Keep(similarity) => Some(Match {
                        id: self.saved.units[at].id.clone(),
                        para: self.saved.units[at].para,
                        similarity,
                    }),
                    Judgement::Doubtful | Judgement::Drop => None,
                }
            })
            .collect();
        // Stable: equal similarities stay in insertion order.
        found.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SketchConfig;
    use crate::minhash::LshParams;
    use proptest::prelude::*;

    /// Settings under which short texts over a small vocabulary collide often.
    fn config() -> DedupConfig {
        let mut config = DedupConfig {
            threshold: 0.5,
            ..DedupConfig::default()
        };
        config.sketch.num_perm = 32;
        config.sketch.shingle.ngram = 1;
        config
    }

    /// Texts of 1 to 12 words from a vocabulary of 8 (some empty of shingles).
    fn texts(count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<String>> {
        const WORDS: [&str; 8] = ["강", "산", "river", "stone", "lamp", "seven", "north", "이"];
        prop::collection::vec(
            prop::collection::vec(0..WORDS.len(), 0..12)
                .prop_map(|w| w.iter().map(|&i| WORDS[i]).collect::<Vec<_>>().join(" ")),
            count,
        )
    }

    /// The slow, obvious answer: every inserted signature that shares a band
    /// with the query's (neither being empty) and whose estimate is kept.
    fn brute_force(
        signatures: &[Signature],
        query: &Signature,
        params: LshParams,
        config: &DedupConfig,
    ) -> Vec<(u64, f32)> {
        let (k, rows) = (config.sketch.num_perm, params.rows);
        let bands = usable_bands(params, k);
        let mut found: Vec<(u64, f32)> = signatures
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.is_empty_set() && !query.is_empty_set())
            .filter(|(_, s)| {
                (0..bands).any(|b| {
                    compact::band_key(s.bytes(), b, rows)
                        == compact::band_key(query.bytes(), b, rows)
                })
            })
            .map(|(i, s)| (i as u64, query.jaccard(s) as f32))
            .filter(|&(_, e)| f64::from(e) >= config.threshold)
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        found
    }

    fn ids(found: &[Match]) -> Vec<(u64, f32)> {
        found
            .iter()
            .map(|m| match m.id {
                RecordId::Int(n) => (n, m.similarity),
                _ => panic!("integer ids inserted"),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn queries_find_what_a_scan_over_every_signature_finds(
            inserted in texts(0..40),
            queries in texts(1..10),
        ) {
            let config = config();
            let params = lsh_params(&config).expect("valid");
            let mut index = Index::new(&config).expect("valid");
            let mut signatures = Vec::new();
            for (i, text) in inserted.iter().enumerate() {
                index.insert(i as u64, text).expect("insert");
                signatures.push(index.hasher().sketch(text));
            }
            prop_assert_eq!(index.len(), inserted.len());
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("memory.ndx");
            index.save(&path).expect("save");
            let loaded = Index::load_with(&path, &config).expect("load");
            prop_assert_eq!(loaded.signatures(), index.signatures());
            for text in queries.iter().chain(&inserted) {
                let expected = brute_force(&signatures, &index.hasher().sketch(text), params, &config);
                prop_assert_eq!(ids(&index.query(text)), expected.clone());
                prop_assert_eq!(ids(&loaded.query(text)), expected);
            }
        }
    }

    #[test]
    fn insert_if_new_refuses_duplicates_and_keeps_the_rest() {
        let mut index = Index::new(&config()).expect("valid");
        assert_eq!(
            index
                .insert_if_new(1, "river stone lamp seven")
                .expect("ok"),
            None
        );
        let again = index
            .insert_if_new(2, "river stone lamp seven north")
            .expect("ok")
            .expect("a duplicate");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, RecordId::from(1));
        assert_eq!(index.len(), 1, "the duplicate is not added");
        assert_eq!(index.insert_if_new(3, "강 산 이").expect("ok"), None);
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn texts_without_shingles_match_nothing() {
        let mut index = Index::new(&DedupConfig::default()).expect("valid");
        index.insert(1, "").expect("insert");
        index.insert(2, " ").expect("insert");
        assert_eq!(index.len(), 2);
        assert!(index.query("").is_empty());
        assert!(index.query(" \t").is_empty());
    }

    #[test]
    fn wrong_lengths_and_settings_are_refused() {
        let mut index = Index::new(&config()).expect("valid");
        let other = MinHasher::new(SketchConfig {
            num_perm: 16,
            ..config().sketch
        })
        .expect("valid");
        let short = other.sketch("river stone");
        assert!(index.insert_signature(1, &short).is_err());
        assert!(index.query_signature(&short).is_err());
        assert!(Index::new(&DedupConfig {
            algo: crate::pipeline::Algo::Simhash,
            ..DedupConfig::default()
        })
        .is_err());
        assert!(Index::new(&DedupConfig {
            threshold: 2.0,
            ..DedupConfig::default()
        })
        .is_err());

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("i.ndx");
        index.insert(1, "river stone").expect("insert");
        index.save(&path).expect("save");
        let err = Index::load_with(&path, &DedupConfig::default()).expect_err("other n");
        assert!(err.to_string().contains("i.ndx"), "{err}");
        let loaded = Index::load(&path).expect("settings from the header");
        assert_eq!(loaded.hasher().config().shingle.ngram, 1);
        assert_eq!(loaded.len(), 1);
    }
}
