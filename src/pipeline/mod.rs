//! The stages of a dedup run, written once for one process and for many.
//!
//! ```text
//! corpus ──sketch (parallel, per shard)──▶ units + sketches (checkpointed)     sketch, scan, shard
//!        ──check records, number units run-wide──▶ shares                       records, share
//!        ──candidates──▶ pairs that may be duplicates (checkpointed)            candidates
//!        ──verify──▶ duplicate edges (checkpointed)                             settle, verify
//!        ──cluster──▶ labels: star clusters or components                       components
//! ```
//!
//! [`engine::run`] puts the stages in order for one worker. Every stage after
//! sketching talks to the other workers only through an
//! [`Exchange`](crate::exchange::Exchange): a single-process run ([`run_with`]) is
//! the one-worker case, whose exchange hands every item back; a distributed run
//! ([`crate::distributed`]) runs the same code on each of its workers over timely.
//! Checkpoints, resume and progress therefore work alike in both.
//!
//! Large intermediates live in a scratch folder ([`crate::work`]): the sketch of
//! each shard of the input, the candidate pairs and the verified edges. What stays
//! in memory is per-unit state (records, units, labels) plus working structures
//! sized by the run's memory budget ([`RunOptions::memory_budget`]). Because every
//! stage's result is a checkpoint, a run restarted with the same scratch folder,
//! inputs and settings picks up where the last one stopped and produces the same
//! results.
//!
//! The result ([`DedupOutcome`]) holds everything the writers need: the records and
//! units in input order, each unit's cluster label (the number of the unit its
//! cluster keeps, chosen by the keep policy) and cluster size, whether it is kept
//! ([`DedupOutcome::is_kept`]), the verified edges with their similarity, counts
//! and stage timings. Nothing here prints or writes output files ([`crate::dedup`] does).

pub mod candidates;
pub mod components;
pub use crate::config;
pub mod engine;
pub mod progress;
pub mod records;
pub mod repeats;
pub mod resume;
pub mod scan;
pub mod settle;
pub mod shard;
pub mod share;
pub mod sketch;
pub mod verify;

use std::path::PathBuf;

use xxhash_rust::xxh3::Xxh3;

pub use config::{Algo, ClusterMode, DedupConfig, KeepPolicy, UnitKind, Verify};
pub use progress::{NoProgress, Progress, Total};
pub use resume::Resumed;
pub use scan::{InvalidRecords, UnitMeta, UnitSplit};

use crate::corpus::{Corpus, RecordMeta};
use crate::error::{Error, Result};
use crate::exchange::Local;
use crate::index::{IndexedUnit, SignatureIndex};
use crate::minhash::{optimal_params, LshParams};

/// LSH false-positive and false-negative weights for the automatic band choice
/// when candidates are verified: a false positive then costs one check, while a
/// false negative loses a duplicate for good, so misses weigh four times as much.
/// At threshold 0.9 with 128 permutations this gives 7 bands of 18 rows, which
/// makes a pair at Jaccard 0.95 a candidate with probability 0.97 (equal
/// weights, the datasketch choice, give 5 x 24 rows and 0.82).
const LSH_VERIFIED_WEIGHTS: (f64, f64) = (0.2, 0.8);
/// The weights when candidates are taken unverified (`--verify none`): every
/// false positive is then a wrong deletion, so both errors weigh the same (as
/// in the datasketch reference).
const LSH_UNVERIFIED_WEIGHTS: (f64, f64) = (0.5, 0.5);

/// A confirmed duplicate pair of units.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Edge {
    /// The earlier unit.
    pub a: u32,
    /// The later unit.
    pub b: u32,
    /// Estimated or exact Jaccard (MinHash), 1 - distance/64 (SimHash), 1 (exact).
    pub similarity: f32,
}

/// Wall time and peak memory of one stage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageTiming {
    /// Stage name.
    pub stage: &'static str,
    /// Seconds.
    pub seconds: f64,
    /// Largest allocated (anonymous) and mapped (file-backed) resident memory
    /// seen during the stage, in bytes, where they can be read.
    #[serde(flatten)]
    pub memory: crate::memory::StagePeaks,
}

/// How a worker's candidate pairs were settled (`report.json`: `verified_by`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settled {
    /// By what the candidate stage knew: the signature estimate (MinHash), the
    /// fingerprint distance (SimHash without exact verification), the key (exact).
    pub estimate: u64,
    /// Doubtful pairs of units with equal shingle sequences: kept at Jaccard 1.
    pub equal_shingles: u64,
    /// Doubtful pairs whose two shingle sequences an earlier pair had: they take
    /// its Jaccard.
    pub repeated: u64,
    /// Doubtful pairs whose shingle sets were built and compared.
    pub jaccard: u64,
}

impl std::ops::Add for Settled {
    type Output = Settled;

    fn add(self, other: Settled) -> Settled {
        Settled {
            estimate: self.estimate + other.estimate,
            equal_shingles: self.equal_shingles + other.equal_shingles,
            repeated: self.repeated + other.repeated,
            jaccard: self.jaccard + other.jaccard,
        }
    }
}

/// Counts that summarise a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Records read.
    pub records: u64,
    /// Units compared.
    pub units: u64,
    /// Units with no features (empty after normalisation): never matched.
    pub featureless_units: u64,
    /// Clusters, singletons included.
    pub clusters: u64,
    /// Clusters with two or more units.
    pub duplicate_clusters: u64,
    /// Units in the largest cluster.
    pub largest_cluster: u64,
    /// Units that dedup removes: those not kept for their cluster (under
    /// `drop-all`, every unit of a cluster of two or more).
    pub duplicate_units: u64,
    /// `duplicate_units / units`.
    pub duplicate_fraction: f64,
    /// Candidate pairs before verification.
    pub candidate_pairs: u64,
    /// How the candidate pairs were settled: by their estimate, by equal
    /// shingle sequences, by an earlier pair's Jaccard, or by their own. Written
    /// as `verified_by` beside the counts: how pairs split between the last two
    /// depends on which worker holds them, so runs spread differently agree on
    /// every count but this one.
    #[serde(skip)]
    pub verified_by: Settled,
    /// Verified duplicate edges.
    pub edges: u64,
    /// Bytes of unit text.
    pub unit_bytes: u64,
    /// Bytes of unit text in duplicate units.
    pub duplicate_bytes: u64,
    /// Records whose id an earlier record has too: 0 unless duplicate ids are
    /// allowed ([`crate::corpus::CorpusOptions::allow_duplicate_ids`]).
    pub duplicate_ids: u64,
}

/// Everything a run found.
#[derive(Debug)]
pub struct DedupOutcome {
    /// Records in input order.
    pub records: Vec<RecordMeta>,
    /// Units in input order.
    pub units: Vec<UnitMeta>,
    /// For each unit, the number of the unit its cluster keeps (in the whole
    /// run: see [`Self::first_unit`]; for a cluster kept as an indexed unit,
    /// its first unit of this run).
    pub labels: Vec<u32>,
    /// For each unit, how many units of the run its cluster holds (the units
    /// other workers hold included, in a distributed run).
    pub cluster_sizes: Vec<u32>,
    /// Which unit of a cluster is kept (see [`Self::is_kept`]).
    pub keep: KeepPolicy,
    /// For each unit that is not kept, its similarity to the kept unit of its
    /// cluster where a verified edge gives it (always, with star clustering);
    /// `None` for kept units.
    pub kept_similarity: Vec<Option<f32>>,
    /// The run-wide number of `units[0]`: 0, except for one worker's share of a
    /// distributed run ([`crate::distributed`]), whose labels and edges use
    /// run-wide unit numbers.
    pub first_unit: u32,
    /// Verified duplicate edges, sorted.
    pub edges: Vec<Edge>,
    /// Units that edges name but that are not in `units` (another worker's, in a
    /// distributed run), by run-wide number: how output files name them.
    pub foreign_units: std::collections::HashMap<u32, IndexedUnit>,
    /// With `--against`: for each unit, the indexed unit its cluster starts with,
    /// if any (such a unit is a duplicate of indexed text). Empty otherwise.
    pub index_matches: Vec<Option<IndexedUnit>>,
    /// With `--against`: verified pairs of an indexed unit and a unit.
    pub index_pairs: Vec<(IndexedUnit, u32, f32)>,
    /// MinHash with [`RunOptions::keep_signatures`]: every unit's compact
    /// signature (see [`crate::minhash::compact`]), back to back; what
    /// `--save-index` stores. Empty otherwise.
    pub signatures: Vec<u8>,
    /// Records skipped under `skip_invalid`.
    pub invalid: InvalidRecords,
    /// Units given the sketch of an earlier unit with the same bytes instead
    /// of being sketched (see [`repeats`]).
    pub repeats_reused: u64,
    /// LSH bands and rows used (MinHash only).
    pub lsh: Option<LshParams>,
    /// Per-stage wall times.
    pub timings: Vec<StageTiming>,
    /// What was taken from an interrupted earlier run.
    pub resumed: Resumed,
    /// Bytes of checkpoints in the scratch folder at the end of the run.
    pub scratch_bytes: u64,
    /// Summary counts.
    pub stats: Stats,
}

impl DedupOutcome {
    /// Is `units[unit]` kept by dedup: the unit its cluster keeps, not a
    /// duplicate of an indexed unit, and not dropped with its whole cluster
    /// (see [`KeepPolicy::keeps`])?
    pub fn is_kept(&self, unit: u32) -> bool {
        let at = unit as usize;
        self.keep.keeps(
            self.labels[at] == self.first_unit + unit,
            matches!(self.index_matches.get(at), Some(Some(_))),
            self.cluster_sizes.get(at).copied().unwrap_or(1),
        )
    }
}

/// Where and within what memory a run works.
#[derive(Debug, Clone)]
pub struct RunOptions<'a> {
    /// A saved index to deduplicate against (see [`run_with`]).
    pub index: Option<&'a SignatureIndex>,
    /// Scratch folder for checkpoints; a run restarted with the same folder,
    /// inputs and settings resumes from them. `None`: a temporary folder,
    /// removed at the end.
    pub work_dir: Option<PathBuf>,
    /// Memory the run's large working structures may take, in bytes: it sets
    /// the shard size, how many LSH bands are bucketed at once and the batch
    /// size of exact verification. Records, units and cluster labels (tens of
    /// bytes per unit) come on top.
    pub memory_budget: u64,
    /// Input bytes per shard (`None`: a quarter of the budget, at least 16 MiB).
    pub shard_bytes: Option<u64>,
    /// Keep the run's compact signatures in the outcome (for saving an index).
    pub keep_signatures: bool,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            index: None,
            work_dir: None,
            memory_budget: crate::memory::default_budget_bytes(),
            shard_bytes: None,
            keep_signatures: false,
        }
    }
}

/// Runs deduplication of `corpus` under `config`, in a temporary scratch folder
/// with the default memory budget.
pub fn run(corpus: &Corpus, config: &DedupConfig, progress: &dyn Progress) -> Result<DedupOutcome> {
    run_with(corpus, config, &RunOptions::default(), progress)
}

/// Runs deduplication of `corpus` under `config` as `options` say, in this
/// process: the one-worker case of [`engine::run`].
///
/// With `options.index`, units are also compared with the units of a saved
/// [`SignatureIndex`]: a unit that duplicates an indexed unit is flagged (see
/// [`DedupOutcome::index_matches`]) and not kept. Indexed units come first in
/// input order. Pairs with an indexed unit are verified by signature estimate
/// (the index holds no text); pairs of new units as `config` says.
pub fn run_with(
    corpus: &Corpus,
    config: &DedupConfig,
    options: &RunOptions<'_>,
    progress: &dyn Progress,
) -> Result<DedupOutcome> {
    config.validate()?;
    if let Some(why) = options
        .index
        .and_then(|index| index.incompatibility(config))
    {
        return Err(Error::Config(why));
    }
    let job = engine::Job {
        corpus,
        config,
        index: options.index,
        index_path: None,
        refuse_indexed: false,
        work_dir: options.work_dir.clone(),
        memory_budget: options.memory_budget,
        shard_bytes: options.shard_bytes,
        keep_signatures: options.keep_signatures,
        log_stages: false,
    };
    Ok(engine::run(&mut Local, &job, progress)?.outcome)
}

/// The LSH bands and rows of a MinHash run: those given, or the choice from
/// the threshold.
pub fn lsh_params(config: &DedupConfig) -> Result<LshParams> {
    match (config.bands, config.rows) {
        (Some(bands), Some(rows)) => Ok(LshParams { bands, rows }),
        _ => {
            let (fp_weight, fn_weight) = match config.verify {
                Verify::Exact | Verify::Signature => LSH_VERIFIED_WEIGHTS,
                Verify::None => LSH_UNVERIFIED_WEIGHTS,
            };
            optimal_params(
                config.threshold,
                config.sketch.num_perm,
                fp_weight,
                fn_weight,
            )
            .map_err(|e| Error::Config(e.to_string()))
        }
    }
}

/// A hash started with what decides a run's results besides its inputs: the
/// program version, the settings and how records are read.
fn settings_hash(corpus: &Corpus, config: &DedupConfig) -> Result<Xxh3> {
    let mut h = Xxh3::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&serde_json::to_vec(config).map_err(|e| Error::Config(e.to_string()))?);
    h.update(format!("{:?}", corpus.options()).as_bytes());
    Ok(h)
}

/// A hash of everything that decides a run's results: the program version, the
/// settings, how records are read, each input file's path, size and modification
/// time, and the index compared against. Checkpoints carry it, so a restarted run
/// only reuses checkpoints of the same command on the same inputs.
fn run_fingerprint(
    corpus: &Corpus,
    config: &DedupConfig,
    index: Option<&SignatureIndex>,
) -> Result<u64> {
    let mut h = settings_hash(corpus, config)?;
    for file in corpus.files() {
        // A file removed since it was mapped is still readable through the map; it
        // just has no modification time any more.
        let modified = std::fs::metadata(&file.path)
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        h.update(file.path.as_os_str().as_encoded_bytes());
        h.update(&[0]);
        h.update(&(file.bytes.len() as u64).to_le_bytes());
        h.update(&modified.to_le_bytes());
        // A stream has no lasting modification time: its contents say whether
        // it is the same input.
        if file.stream {
            h.update(&xxhash_rust::xxh3::xxh3_64(&file.bytes).to_le_bytes());
        }
    }
    if let Some(index) = index {
        h.update(&(index.len() as u64).to_le_bytes());
        h.update(&index.signatures);
        h.update(&serde_json::to_vec(&index.units).map_err(|e| Error::Config(e.to_string()))?);
    }
    Ok(h.digest())
}

/// What every process of a distributed run must agree on: the program version,
/// the settings, how records are read, each input's name, size and position, and
/// the index compared against. Unlike [`run_fingerprint`] it leaves out where
/// the files are and when they changed, which differ between machines.
pub(crate) fn input_signature(
    corpus: &Corpus,
    config: &DedupConfig,
    index: Option<&SignatureIndex>,
) -> Result<u64> {
    let mut h = settings_hash(corpus, config)?;
    for file in corpus.files() {
        let name = file.path.file_name().unwrap_or_default();
        h.update(name.as_encoded_bytes());
        h.update(&[0]);
        h.update(&(file.bytes.len() as u64).to_le_bytes());
    }
    if let Some(index) = index {
        h.update(&(index.len() as u64).to_le_bytes());
        h.update(&xxhash_rust::xxh3::xxh3_64(&index.signatures).to_le_bytes());
    }
    Ok(h.digest())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::CorpusOptions;

    fn corpus_in(dir: &std::path::Path) -> Corpus {
        let path = dir.join("c.jsonl");
        let line = |i: u32| {
            format!(
                "{{\"text\":\"the same words in the same order make record {}\"}}\n",
                i % 3
            )
        };
        std::fs::write(&path, (0..30).map(line).collect::<String>()).expect("write");
        Corpus::open(&[path], CorpusOptions::default()).expect("open")
    }

    #[test]
    fn a_mapped_input_removed_from_disk_still_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let corpus = corpus_in(dir.path());
        let expected = run(&corpus, &DedupConfig::default(), &NoProgress).expect("run");
        std::fs::remove_file(dir.path().join("c.jsonl")).expect("remove");
        let outcome = run(&corpus, &DedupConfig::default(), &NoProgress).expect("run");
        assert_eq!(outcome.labels, expected.labels);
        // Thirty records, three texts one word apart (below the default
        // threshold of each other): three clusters of ten.
        assert_eq!(outcome.stats.duplicate_units, 27);
    }

    #[test]
    fn fingerprints_follow_settings_and_inputs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let corpus = corpus_in(dir.path());
        let config = DedupConfig::default();
        let base = run_fingerprint(&corpus, &config, None).expect("fingerprint");
        assert_eq!(
            run_fingerprint(&corpus, &config, None).expect("again"),
            base
        );
        let other = DedupConfig {
            threshold: 0.5,
            ..DedupConfig::default()
        };
        assert_ne!(run_fingerprint(&corpus, &other, None).expect("other"), base);
        let moved = tempfile::tempdir().expect("tempdir");
        let elsewhere = corpus_in(moved.path());
        assert_ne!(
            run_fingerprint(&elsewhere, &config, None).expect("path"),
            base
        );
    }
}
