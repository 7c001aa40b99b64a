//! Deterministic generator of labelled near-duplicate corpora, for measuring a
//! detector against a known ground truth.
//!
//! Originals are built from real public-domain text ([`Sources`]: an English
//! King James Bible excerpt and Korean statutes, written by
//! `scripts/fetch-text-sources` into `datasets/sources/`). Derived records are
//! made from them by realistic [`Edit`]s at controlled rates, and the true
//! word-5-gram Jaccard of every derived record with its original is computed exactly
//! (with the project's own [`Shingler`], default settings)
//! and recorded. Originals whose Jaccard with an earlier original is 0.2 or more
//! are dropped, so records of different clusters really are different.
//!
//! Two levels ([`Level`]):
//! - **article**: one record per original or copy; copies are whole-document edits.
//! - **paragraph**: articles whose paragraphs (the non-empty lines of the text)
//!   repeat within the same article and across articles, exactly or edited.
//!
//! # Output
//! `corpus.jsonl`, one record per line: `{"id": "doc-00000007", "text": "..."}`. The
//! text's paragraphs are joined by `"\n"`; every line is non-empty after trimming.
//!
//! `truth.jsonl`, one line per unit:
//! - article level: `{"id": ..., "cluster": <id of the original>, "jaccard": <true
//!   J to the original>, "edit": <label>}`;
//! - paragraph level: `{"id": <article id>, "para": <0-based index among the
//!   article's non-empty lines>, "cluster": "<article id>#<para>" of the original
//!   paragraph, "jaccard": ..., "edit": ...}`.
//!
//! Originals have `"jaccard": 1.0` and `"edit": "original"`; each cluster has exactly
//! one. Other labels: `exact`, `noise`, `reorder`, `boilerplate`, `truncate:<kept
//! fraction>`, `substitute:<rate>`, `insert:<rate>`, `delete:<rate>`,
//! `mixed:<rate>`, and at paragraph level `body-repeat:exact|noise`.
//!
//! # Determinism and scale
//! Everything is drawn from one `ChaCha8Rng` seeded with [`GenConfig::seed`]: the
//! same sources, configuration and seed give the same bytes. A [`Generator`] makes
//! batches of [`GenConfig::originals`] originals (or articles) with their copies,
//! shuffled within the batch so duplicates are not adjacent; [`generate`] is one
//! batch, [`generate_to_files`] streams batches to disk until a byte target is met.
//! When a language's source text is used up, the next pass re-cuts it and rewrites
//! it through a fresh [`cipher::Cipher`] (a one-to-one remap of word tokens within
//! frequency bands), so originals of different passes do not duplicate each other.
//! Pass 0 is the real text as it is.

mod article;
pub mod cipher;
mod edits;
mod paragraph;
mod similarity;
mod sources;

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::pipeline::{Progress, Total};
use crate::text::Shingler;
use cipher::{Cipher, CipherVocab};
pub use edits::Edit;
pub use paragraph::MIN_PARAGRAPH_WORDS;
pub use similarity::ShingleSet;
pub use sources::{SourceDoc, SourceLanguage, Sources};

/// Originals (and pool paragraphs) must have Jaccard below this with every earlier
/// one; the rest are dropped.
pub const DISSIMILAR_BELOW: f64 = 0.2;

/// The `edit` label of originals.
pub const ORIGINAL: &str = "original";

/// Which source language(s) originals are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English only.
    #[serde(alias = "en")]
    English,
    /// Korean only.
    #[serde(alias = "ko")]
    Korean,
    /// Each original (or article) English or Korean with equal chance.
    Mixed,
}

crate::setting_names::by_setting_name!(Language);

/// The unit the ground truth is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Whole records.
    Article,
    /// Paragraphs (non-empty lines) of records.
    Paragraph,
}

crate::setting_names::by_setting_name!(Level);

/// What to generate (serialisable, so a run can record it next to its output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenConfig {
    /// Seed of the one random generator everything is drawn from.
    pub seed: u64,
    /// Source language(s).
    pub language: Language,
    /// Article- or paragraph-level corpus.
    pub level: Level,
    /// Per batch: originals (article level) or articles (paragraph level).
    pub originals: usize,
    /// Article level: each original gets 0..=`max_copies` derived copies. Paragraph
    /// level: each article gets 0..=`max_copies` repeated paragraphs (and, when this
    /// is not 0, sometimes its whole body twice).
    pub max_copies: usize,
    /// Lowest rate of the word-level edits (insert, delete, substitute, mixed).
    pub min_rate: f64,
    /// Highest rate of the word-level edits; rates are drawn log-uniformly between.
    pub max_rate: f64,
    /// Prefix of record ids; ids are the prefix and an 8-digit sequence number.
    pub id_prefix: String,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 0,
            language: Language::Mixed,
            level: Level::Article,
            originals: 100,
            max_copies: 4,
            min_rate: 0.01,
            max_rate: 0.3,
            id_prefix: "doc-".into(),
        }
    }
}

impl GenConfig {
    /// Checks ranges: at least one original, `0 < min_rate <= max_rate <= 1`.
    pub fn validate(&self) -> Result<()> {
        if self.originals == 0 {
            return Err(Error::Config("originals must be at least 1".into()));
        }
        let rates_ok =
            self.min_rate > 0.0 && self.min_rate <= self.max_rate && self.max_rate <= 1.0;
        if !rates_ok {
            return Err(Error::Config(format!(
                "edit rates must satisfy 0 < min ({}) <= max ({}) <= 1",
                self.min_rate, self.max_rate
            )));
        }
        Ok(())
    }
}

/// A range of edit rates, sampled log-uniformly so low and high rates (and thus high
/// and low Jaccard) are both well represented.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rates {
    min: f64,
    max: f64,
}

impl Rates {
    pub(crate) fn new(min: f64, max: f64) -> Rates {
        Rates { min, max }
    }

    pub(crate) fn sample<R: Rng>(self, rng: &mut R) -> f64 {
        if self.max <= self.min {
            return self.min;
        }
        let (lo, hi) = (self.min.ln(), self.max.ln());
        rng.gen_range(lo..hi).exp()
    }
}

/// One corpus record: `{"id": ..., "text": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GenRecord {
    /// Unique id.
    pub id: String,
    /// The text; paragraphs separated by `"\n"`.
    pub text: String,
}

/// One ground-truth row (see the module docs for the format).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TruthRow {
    /// The record's id.
    pub id: String,
    /// Paragraph index (paragraph level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub para: Option<u32>,
    /// The cluster: the original's id, or `"<id>#<para>"` at paragraph level.
    pub cluster: String,
    /// True Jaccard with the cluster's original.
    pub jaccard: f64,
    /// Edit label.
    pub edit: String,
}

/// One batch of records and their truth rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generated {
    /// Corpus records, in output order.
    pub records: Vec<GenRecord>,
    /// Truth rows, in record order (and paragraph order within a record).
    pub truth: Vec<TruthRow>,
}

impl Generated {
    /// Writes the records as JSONL; returns the bytes written.
    pub fn write_corpus<W: Write>(&self, out: &mut W) -> std::io::Result<u64> {
        write_jsonl(&self.records, out)
    }

    /// Writes the truth rows as JSONL; returns the bytes written.
    pub fn write_truth<W: Write>(&self, out: &mut W) -> std::io::Result<u64> {
        write_jsonl(&self.truth, out)
    }
}

/// Writes each item as one JSON line; returns the bytes written.
pub fn write_jsonl<T: Serialize, W: Write>(items: &[T], out: &mut W) -> std::io::Result<u64> {
    let mut line = Vec::new();
    let mut written = 0u64;
    for item in items {
        line.clear();
        serde_json::to_writer(&mut line, item).map_err(std::io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
        written += line.len() as u64;
    }
    Ok(written)
}

/// The cluster name of paragraph `para` of record `id`.
pub fn paragraph_cluster(id: &str, para: u32) -> String {
    format!("{id}#{para}")
}

/// One language's sources and draw state.
#[derive(Debug)]
pub(crate) struct LanguageState {
    /// Which language.
    pub language: SourceLanguage,
    /// Its documents.
    pub docs: Vec<SourceDoc>,
    /// Words for insertions and substitutions.
    pub vocab: Vec<String>,
    /// The current pass's rewrite (the identity in pass 0).
    pub cipher: Cipher,
    /// The tokens later passes' ciphers permute.
    cipher_vocab: CipherVocab,
    /// Passes started so far.
    passes: u32,
    /// Article level: originals of the current pass not yet used.
    originals: VecDeque<Vec<String>>,
    /// Paragraph level: the paragraph pool, plain text.
    pool: Vec<String>,
    /// Next pool paragraph to hand out in this pass.
    pool_pos: usize,
}

impl LanguageState {
    /// Prepares a language; an error when the sources have no text in it.
    pub(crate) fn new<R: Rng>(
        sources: &Sources,
        language: SourceLanguage,
        level: Level,
        shingler: &Shingler,
        rng: &mut R,
    ) -> Result<LanguageState> {
        let docs = sources.docs(language).to_vec();
        if docs.is_empty() {
            return Err(Error::Config(format!(
                "the sources have no {language:?} text (expected {})",
                match language {
                    SourceLanguage::English => sources::ENGLISH_FILE,
                    SourceLanguage::Korean => sources::KOREAN_FILE,
                }
            )));
        }
        let pool = match level {
            Level::Article => Vec::new(),
            Level::Paragraph => {
                let pool = paragraph::build_pool(&docs, language, shingler, rng);
                if pool.len() < 8 {
                    return Err(Error::Config(format!(
                        "the {language:?} sources give only {} usable paragraphs",
                        pool.len()
                    )));
                }
                pool
            }
        };
        let cipher_vocab = CipherVocab::new(
            docs.iter()
                .flat_map(|d| std::iter::once(&d.title).chain(&d.paragraphs))
                .map(String::as_str),
        );
        Ok(LanguageState {
            language,
            vocab: sources::vocabulary(&docs),
            cipher_vocab,
            docs,
            cipher: Cipher::identity(),
            passes: 0,
            originals: VecDeque::new(),
            pool,
            pool_pos: 0,
        })
    }

    /// Starts the next pass: the identity for the first, a fresh cipher after.
    fn start_pass<R: Rng>(&mut self, rng: &mut R) {
        self.cipher = if self.passes == 0 {
            Cipher::identity()
        } else {
            Cipher::new(&self.cipher_vocab, rng)
        };
        self.passes += 1;
        self.pool_pos = 0;
    }

    /// The next article-level original.
    fn next_original<R: Rng>(&mut self, shingler: &Shingler, rng: &mut R) -> Result<Vec<String>> {
        if self.originals.is_empty() {
            self.start_pass(rng);
            self.originals = article::build_pass(self, shingler, rng).into();
        }
        self.originals.pop_front().ok_or_else(|| {
            Error::Config(format!(
                "the {:?} sources are too short for one original",
                self.language
            ))
        })
    }

    /// The next `n` consecutive pool paragraphs, rewritten for the current pass.
    fn next_paragraphs<R: Rng>(&mut self, n: usize, rng: &mut R) -> Vec<String> {
        if self.passes == 0 || self.pool_pos + n > self.pool.len() {
            self.start_pass(rng);
        }
        let end = (self.pool_pos + n).min(self.pool.len());
        let taken = self.pool[self.pool_pos..end]
            .iter()
            .map(|p| self.cipher.apply(p))
            .collect();
        self.pool_pos = end;
        taken
    }
}

/// Counts of what [`generate_to_files`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GenStats {
    /// Batches generated.
    pub batches: u64,
    /// Corpus records written.
    pub records: u64,
    /// Truth rows written (units).
    pub units: u64,
    /// Bytes of corpus JSONL.
    pub corpus_bytes: u64,
    /// Bytes of truth JSONL.
    pub truth_bytes: u64,
}

/// Produces batches of labelled records; see the module docs.
#[derive(Debug)]
pub struct Generator {
    config: GenConfig,
    rng: ChaCha8Rng,
    shingler: Shingler,
    english: Option<LanguageState>,
    korean: Option<LanguageState>,
    next_id: u64,
    /// Paragraph level: cluster name of each boilerplate line's first occurrence.
    boilerplate_clusters: HashMap<(SourceLanguage, usize), String>,
}

impl Generator {
    /// Checks the configuration and prepares the languages it needs.
    pub fn new(sources: &Sources, config: GenConfig) -> Result<Generator> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let shingler = similarity::truth_shingler()?;
        let wants = |l: SourceLanguage| match config.language {
            Language::English => l == SourceLanguage::English,
            Language::Korean => l == SourceLanguage::Korean,
            Language::Mixed => true,
        };
        let mut prepare = |l: SourceLanguage| -> Result<Option<LanguageState>> {
            if wants(l) {
                LanguageState::new(sources, l, config.level, &shingler, &mut rng).map(Some)
            } else {
                Ok(None)
            }
        };
        let english = prepare(SourceLanguage::English)?;
        let korean = prepare(SourceLanguage::Korean)?;
        Ok(Generator {
            config,
            rng,
            shingler,
            english,
            korean,
            next_id: 0,
            boilerplate_clusters: HashMap::new(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &GenConfig {
        &self.config
    }

    /// Picks the language of the next original.
    fn pick_language(&mut self) -> Result<SourceLanguage> {
        let language = match (&self.english, &self.korean) {
            (Some(_), Some(_)) => {
                if self.rng.gen_bool(0.5) {
                    SourceLanguage::Korean
                } else {
                    SourceLanguage::English
                }
            }
            (Some(_), None) => SourceLanguage::English,
            (None, Some(_)) => SourceLanguage::Korean,
            (None, None) => return Err(Error::Config("no source language selected".into())),
        };
        Ok(language)
    }

    fn next_id(&mut self) -> String {
        let id = format!("{}{:08}", self.config.id_prefix, self.next_id);
        self.next_id += 1;
        id
    }

    /// The next batch: `originals` originals (or articles) with their copies.
    pub fn next_batch(&mut self) -> Result<Generated> {
        match self.config.level {
            Level::Article => self.article_batch(),
            Level::Paragraph => self.paragraph_batch(),
        }
    }

    fn article_batch(&mut self) -> Result<Generated> {
        let rates = Rates::new(self.config.min_rate, self.config.max_rate);
        let mut items = Vec::new();
        for _ in 0..self.config.originals {
            let language = self.pick_language()?;
            let state = state_mut(&mut self.english, &mut self.korean, language)?;
            let original = state.next_original(&self.shingler, &mut self.rng)?;
            article::original_with_copies(
                original,
                state,
                &self.shingler,
                self.config.max_copies,
                rates,
                &mut self.rng,
                &mut items,
            );
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.shuffle(&mut self.rng);
        let mut ids = vec![String::new(); items.len()];
        for &i in &order {
            ids[i] = self.next_id();
        }
        let mut out = Generated::default();
        for &i in &order {
            let item = &items[i];
            out.records.push(GenRecord {
                id: ids[i].clone(),
                text: item.paragraphs.join("\n"),
            });
            out.truth.push(TruthRow {
                id: ids[i].clone(),
                para: None,
                cluster: ids[item.original].clone(),
                jaccard: item.jaccard,
                edit: item.edit.clone(),
            });
        }
        Ok(out)
    }

    fn paragraph_batch(&mut self) -> Result<Generated> {
        let rates = Rates::new(self.config.min_rate, self.config.max_rate);
        let mut articles: Vec<paragraph::ParaArticle> = Vec::new();
        for _ in 0..self.config.originals {
            let language = self.pick_language()?;
            let state = state_mut(&mut self.english, &mut self.korean, language)?;
            let n = paragraph::fresh_count(&mut self.rng);
            let inputs = paragraph::ArticleInputs {
                language,
                fresh: state.next_paragraphs(n, &mut self.rng),
                vocab: &state.vocab,
                max_copies: self.config.max_copies,
                rates,
            };
            paragraph::build_article(inputs, &self.shingler, &mut articles, &mut self.rng);
        }
        let mut order: Vec<usize> = (0..articles.len()).collect();
        order.shuffle(&mut self.rng);
        let mut ids = vec![String::new(); articles.len()];
        for &a in &order {
            ids[a] = self.next_id();
        }
        // Paragraph index of every slot: position in its article's reading order.
        let positions: Vec<Vec<u32>> = articles
            .iter()
            .map(|article| {
                let mut pos = vec![0u32; article.slots.len()];
                for (k, &slot) in article.order.iter().enumerate() {
                    pos[slot] = u32::try_from(k).unwrap_or(u32::MAX);
                }
                pos
            })
            .collect();
        let mut out = Generated::default();
        for &a in &order {
            let article = &articles[a];
            let mut lines = Vec::with_capacity(article.order.len());
            for (k, &s) in article.order.iter().enumerate() {
                let slot = &article.slots[s];
                let para = u32::try_from(k).unwrap_or(u32::MAX);
                let own = paragraph_cluster(&ids[a], para);
                let (cluster, edit) = match slot.origin {
                    paragraph::Origin::Fresh => (own, slot.edit.clone()),
                    paragraph::Origin::Copy {
                        article: src,
                        slot: src_slot,
                    } => (
                        paragraph_cluster(&ids[src], positions[src][src_slot]),
                        slot.edit.clone(),
                    ),
                    paragraph::Origin::Boilerplate { line } => {
                        match self.boilerplate_clusters.get(&(article.language, line)) {
                            Some(first) => (first.clone(), slot.edit.clone()),
                            None => {
                                self.boilerplate_clusters
                                    .insert((article.language, line), own.clone());
                                (own, ORIGINAL.to_owned())
                            }
                        }
                    }
                };
                lines.push(slot.text.as_str());
                out.truth.push(TruthRow {
                    id: ids[a].clone(),
                    para: Some(para),
                    cluster,
                    jaccard: slot.jaccard,
                    edit,
                });
            }
            out.records.push(GenRecord {
                id: ids[a].clone(),
                text: lines.join("\n"),
            });
        }
        Ok(out)
    }
}

/// The prepared state of `language` (borrowing only the two state fields, so the
/// generator's random source can be borrowed alongside).
fn state_mut<'a>(
    english: &'a mut Option<LanguageState>,
    korean: &'a mut Option<LanguageState>,
    language: SourceLanguage,
) -> Result<&'a mut LanguageState> {
    let state = match language {
        SourceLanguage::English => english.as_mut(),
        SourceLanguage::Korean => korean.as_mut(),
    };
    state.ok_or_else(|| Error::Config(format!("{language:?} was not prepared")))
}

/// One batch with a fresh [`Generator`].
pub fn generate(sources: &Sources, config: &GenConfig) -> Result<Generated> {
    Generator::new(sources, config.clone())?.next_batch()
}

/// Streams batches to two writers until the corpus reaches `target_bytes` (at least
/// one batch; the last batch may overshoot by up to one batch). I/O errors name the
/// writers as `corpus_name` and `truth_name`. Memory stays at one batch.
/// `progress` sees one stage, `generate`, advanced by the corpus bytes written.
pub fn generate_to_writers<C: Write, T: Write>(
    sources: &Sources,
    config: &GenConfig,
    target_bytes: u64,
    corpus: (&Path, &mut C),
    truth: (&Path, &mut T),
    progress: &dyn Progress,
) -> Result<GenStats> {
    let (corpus_name, corpus) = corpus;
    let (truth_name, truth) = truth;
    let mut generator = Generator::new(sources, config.clone())?;
    let mut stats = GenStats::default();
    progress.stage("generate", Some(Total::Bytes(target_bytes)));
    loop {
        let batch = generator.next_batch()?;
        stats.batches += 1;
        stats.records += batch.records.len() as u64;
        stats.units += batch.truth.len() as u64;
        let written = batch
            .write_corpus(corpus)
            .map_err(|e| Error::io(corpus_name, e))?;
        stats.corpus_bytes += written;
        progress.advance(written);
        stats.truth_bytes += batch
            .write_truth(truth)
            .map_err(|e| Error::io(truth_name, e))?;
        if stats.corpus_bytes >= target_bytes {
            break;
        }
    }
    corpus.flush().map_err(|e| Error::io(corpus_name, e))?;
    truth.flush().map_err(|e| Error::io(truth_name, e))?;
    progress.finish_stage();
    Ok(stats)
}

/// [`generate_to_writers`] into two files (created or truncated, buffered).
pub fn generate_to_files(
    sources: &Sources,
    config: &GenConfig,
    target_bytes: u64,
    corpus_path: &Path,
    truth_path: &Path,
    progress: &dyn Progress,
) -> Result<GenStats> {
    let open = |path: &Path| -> Result<BufWriter<File>> {
        File::create(path)
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .map_err(|e| Error::io(path, e))
    };
    let mut corpus = open(corpus_path)?;
    let mut truth = open(truth_path)?;
    generate_to_writers(
        sources,
        config,
        target_bytes,
        (corpus_path, &mut corpus),
        (truth_path, &mut truth),
        progress,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    #[cfg(feature = "cli")]
    #[test]
    fn language_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<Language>();
    }

    #[cfg(feature = "cli")]
    #[test]
    fn level_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<Level>();
    }

    fn committed() -> Sources {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
        Sources::load(&dir).expect("committed sources")
    }

    fn config(level: Level, language: Language, originals: usize, seed: u64) -> GenConfig {
        GenConfig {
            seed,
            language,
            level,
            originals,
            ..GenConfig::default()
        }
    }

    fn bytes(generated: &Generated) -> (Vec<u8>, Vec<u8>) {
        let (mut corpus, mut truth) = (Vec::new(), Vec::new());
        generated
            .write_corpus(&mut corpus)
            .expect("in-memory write");
        generated.write_truth(&mut truth).expect("in-memory write");
        (corpus, truth)
    }

    /// Independent Jaccard: std HashSets of the shingler's hashes.
    fn reference_jaccard(shingler: &Shingler, a: &str, b: &str) -> f64 {
        let sa: HashSet<u64> = shingler.shingles(a).into_iter().collect();
        let sb: HashSet<u64> = shingler.shingles(b).into_iter().collect();
        sa.intersection(&sb).count() as f64 / sa.union(&sb).count() as f64
    }

    fn paragraphs(text: &str) -> Vec<&str> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let sources = committed();
        for level in [Level::Article, Level::Paragraph] {
            let a = generate(&sources, &config(level, Language::Mixed, 40, 7)).expect("generates");
            let b = generate(&sources, &config(level, Language::Mixed, 40, 7)).expect("generates");
            let c = generate(&sources, &config(level, Language::Mixed, 40, 8)).expect("generates");
            assert_eq!(bytes(&a), bytes(&b), "{level:?}");
            assert_ne!(bytes(&a).0, bytes(&c).0, "{level:?}");
            assert_ne!(bytes(&a).1, bytes(&c).1, "{level:?}");
        }
    }

    #[test]
    fn article_truth_is_consistent_and_exact() {
        let sources = committed();
        let shingler = similarity::truth_shingler().expect("default config");
        let generated =
            generate(&sources, &config(Level::Article, Language::Mixed, 60, 1)).expect("generates");
        assert_eq!(generated.records.len(), generated.truth.len());
        let text: HashMap<&str, &str> = generated
            .records
            .iter()
            .map(|r| (r.id.as_str(), r.text.as_str()))
            .collect();
        assert_eq!(text.len(), generated.records.len(), "ids are unique");
        let mut originals_per_cluster: BTreeMap<&str, usize> = BTreeMap::new();
        for (record, row) in generated.records.iter().zip(&generated.truth) {
            assert_eq!(record.id, row.id, "truth follows record order");
            assert!(row.para.is_none());
            let lines = record.text.split('\n');
            assert!(lines.clone().all(|l| !l.trim().is_empty()), "{}", record.id);
            let original = text[row.cluster.as_str()];
            if row.edit == ORIGINAL {
                assert_eq!(row.cluster, row.id);
                assert_eq!(row.jaccard, 1.0);
                *originals_per_cluster
                    .entry(row.cluster.as_str())
                    .or_insert(0) += 1;
            } else {
                let want = reference_jaccard(&shingler, &record.text, original);
                assert!(
                    (row.jaccard - want).abs() < 1e-12,
                    "{}: {} vs {want}",
                    row.id,
                    row.jaccard
                );
            }
        }
        assert_eq!(originals_per_cluster.len(), 60);
        assert!(originals_per_cluster.values().all(|&n| n == 1));
        // Duplicates are not left next to their originals: records of one cluster
        // are spread over the batch.
        let adjacent = generated
            .truth
            .windows(2)
            .filter(|w| w[0].cluster == w[1].cluster)
            .count();
        assert!(
            adjacent * 5 < generated.truth.len(),
            "{adjacent} adjacent pairs"
        );
    }

    #[test]
    fn paragraph_truth_numbers_the_non_empty_lines_and_is_exact() {
        let sources = committed();
        let shingler = similarity::truth_shingler().expect("default config");
        let generated = generate(&sources, &config(Level::Paragraph, Language::Mixed, 60, 2))
            .expect("generates");
        let mut units: HashMap<String, &str> = HashMap::new();
        let mut expected_rows = 0;
        for record in &generated.records {
            let paras = paragraphs(&record.text);
            assert_eq!(
                paras.len(),
                record.text.split('\n').count(),
                "no empty line in {}",
                record.id
            );
            for (k, p) in paras.iter().enumerate() {
                units.insert(paragraph_cluster(&record.id, k as u32), p);
            }
            expected_rows += paras.len();
        }
        assert_eq!(generated.truth.len(), expected_rows);
        let mut originals: HashMap<&str, usize> = HashMap::new();
        let (mut within, mut across, mut boilerplate) = (0, 0, 0);
        for row in &generated.truth {
            let para = row.para.expect("paragraph rows carry para");
            let own = paragraph_cluster(&row.id, para);
            let original = units[row.cluster.as_str()];
            if row.edit == ORIGINAL {
                assert_eq!(row.cluster, own);
                *originals.entry(row.cluster.as_str()).or_insert(0) += 1;
            } else {
                let want = reference_jaccard(&shingler, units[own.as_str()], original);
                assert!(
                    (row.jaccard - want).abs() < 1e-12,
                    "{own}: {} vs {want}",
                    row.jaccard
                );
                if row.edit == "boilerplate" {
                    boilerplate += 1;
                } else if row.cluster.starts_with(&format!("{}#", row.id)) {
                    within += 1;
                } else {
                    across += 1;
                }
            }
        }
        assert!(originals.values().all(|&n| n == 1));
        for row in &generated.truth {
            assert!(
                originals.contains_key(row.cluster.as_str()),
                "cluster {} has its original",
                row.cluster
            );
        }
        assert!(
            within > 20 && across > 20 && boilerplate > 0,
            "{within} {across} {boilerplate}"
        );
    }

    /// More originals than one pass supplies: later passes are ciphered, and still no
    /// two originals of the batch come near the threshold.
    #[test]
    fn originals_stay_dissimilar_across_passes() {
        let sources = committed();
        let shingler = similarity::truth_shingler().expect("default config");
        let mut cfg = config(Level::Article, Language::Korean, 90, 3);
        cfg.max_copies = 0;
        let generated = generate(&sources, &cfg).expect("generates");
        let sets: Vec<ShingleSet> = generated
            .records
            .iter()
            .map(|r| ShingleSet::of(&shingler, &r.text))
            .collect();
        let mut worst: f64 = 0.0;
        for i in 0..sets.len() {
            for j in 0..i {
                worst = worst.max(sets[i].jaccard(&sets[j]));
            }
        }
        assert!(worst < DISSIMILAR_BELOW, "max pairwise J {worst}");
        let hangul_ratio = |t: &str| {
            let hangul = t.chars().filter(|c| ('가'..='힣').contains(c)).count();
            hangul as f64 / t.chars().filter(|c| c.is_alphanumeric()).count().max(1) as f64
        };
        assert!(
            generated
                .records
                .iter()
                .all(|r| hangul_ratio(&r.text) > 0.5),
            "ciphered text stays Korean"
        );
    }

    /// Brute force over every pair of units in different clusters: originals are
    /// below 0.2 by construction and edits only remove shared text or add unrelated
    /// words, so no cross-cluster pair may come anywhere near a detector's threshold.
    #[test]
    fn units_of_different_clusters_stay_dissimilar() {
        let sources = committed();
        let shingler = similarity::truth_shingler().expect("default config");
        for level in [Level::Article, Level::Paragraph] {
            let generated =
                generate(&sources, &config(level, Language::Mixed, 80, 9)).expect("generates");
            let mut units: Vec<(String, &str)> = Vec::new();
            let mut rows = generated.truth.iter();
            for record in &generated.records {
                let texts: Vec<String> = match level {
                    Level::Article => vec![record.text.clone()],
                    Level::Paragraph => record.text.split('\n').map(str::to_owned).collect(),
                };
                for text in texts {
                    let row = rows.next().expect("one truth row per unit");
                    units.push((text, row.cluster.as_str()));
                }
            }
            let sets: Vec<ShingleSet> = units
                .iter()
                .map(|u| ShingleSet::of(&shingler, &u.0))
                .collect();
            for i in 0..sets.len() {
                for j in 0..i {
                    if units[i].1 != units[j].1 {
                        let jaccard = sets[i].jaccard(&sets[j]);
                        assert!(
                            jaccard < DISSIMILAR_BELOW + 0.1,
                            "{level:?}: {:?} and {:?} (clusters {} / {}) have J {jaccard}",
                            units[i].0,
                            units[j].0,
                            units[i].1,
                            units[j].1
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn jaccard_spreads_over_the_buckets() {
        let sources = committed();
        let generated = generate(&sources, &config(Level::Article, Language::Mixed, 200, 4))
            .expect("generates");
        let mut buckets = [0usize; 10];
        for row in generated.truth.iter().filter(|r| r.edit != ORIGINAL) {
            buckets[((row.jaccard * 10.0) as usize).min(9)] += 1;
        }
        println!("derived records per true-Jaccard bucket: {buckets:?}");
        let derived: usize = buckets.iter().sum();
        assert!(derived > 200);
        assert!(buckets[9] * 5 > derived, "many copies at J >= 0.9");
        assert!(
            buckets[..5].iter().sum::<usize>() * 5 > derived,
            "many copies at J < 0.5"
        );
        assert!(
            buckets.iter().filter(|&&n| n > 0).count() >= 9,
            "{buckets:?}"
        );
    }

    #[test]
    fn streaming_reaches_the_target_with_unique_ids() {
        let sources = committed();
        let cfg = config(Level::Article, Language::English, 20, 5);
        let (mut corpus, mut truth) = (Vec::new(), Vec::new());
        let stats = generate_to_writers(
            &sources,
            &cfg,
            300_000,
            (Path::new("corpus"), &mut corpus),
            (Path::new("truth"), &mut truth),
            &crate::pipeline::NoProgress,
        )
        .expect("streams");
        assert!(stats.batches >= 3, "{stats:?}");
        assert_eq!(stats.corpus_bytes, corpus.len() as u64);
        assert_eq!(stats.truth_bytes, truth.len() as u64);
        assert!(stats.corpus_bytes >= 300_000);
        let ids: HashSet<String> = corpus
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_slice(l).expect("valid JSON line");
                v["id"].as_str().expect("string id").to_owned()
            })
            .collect();
        assert_eq!(ids.len() as u64, stats.records);
        // The first batch of the stream is the batch `generate` makes.
        let first = generate(&sources, &cfg).expect("generates");
        assert!(corpus.starts_with(&bytes(&first).0));
    }

    #[test]
    fn files_are_written_and_bad_configs_are_refused() {
        let sources = committed();
        let dir = tempfile::tempdir().expect("temp dir");
        let (c, t) = (
            dir.path().join("corpus.jsonl"),
            dir.path().join("truth.jsonl"),
        );
        let stats = generate_to_files(
            &sources,
            &config(Level::Paragraph, Language::Korean, 5, 6),
            0,
            &c,
            &t,
            &crate::pipeline::NoProgress,
        )
        .expect("writes");
        assert_eq!(stats.batches, 1);
        assert_eq!(
            std::fs::metadata(&c).expect("corpus exists").len(),
            stats.corpus_bytes
        );

        let missing = dir.path().join("no/such/dir/corpus.jsonl");
        let err = generate_to_files(
            &sources,
            &config(Level::Article, Language::English, 1, 0),
            0,
            &missing,
            &t,
            &crate::pipeline::NoProgress,
        )
        .expect_err("unwritable path");
        assert!(err.to_string().contains("no/such/dir"), "{err}");

        assert!(generate(&sources, &config(Level::Article, Language::English, 0, 0)).is_err());
        let mut bad_rates = config(Level::Article, Language::English, 5, 0);
        bad_rates.min_rate = 0.5;
        bad_rates.max_rate = 0.1;
        assert!(generate(&sources, &bad_rates).is_err());
        let english_only = Sources {
            korean: Vec::new(),
            ..sources
        };
        let err = generate(
            &english_only,
            &config(Level::Article, Language::Korean, 5, 0),
        )
        .expect_err("no Korean");
        assert!(err.to_string().contains(sources::KOREAN_FILE), "{err}");
    }

    #[test]
    fn parses_cli_spellings() {
        let json = serde_json::to_value(GenConfig::default()).expect("serialisable");
        assert_eq!(json["language"], "mixed");
        assert_eq!(json["level"], "article");
        assert_eq!("ko".parse::<Language>(), Ok(Language::Korean));
        assert_eq!("mixed".parse::<Language>(), Ok(Language::Mixed));
        assert_eq!("paragraph".parse::<Level>(), Ok(Level::Paragraph));
        assert!("fr".parse::<Language>().is_err());
    }
}
