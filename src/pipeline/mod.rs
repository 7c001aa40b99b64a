//! One dedup run, end to end: sketch (shard by shard), index, verify, cluster.
//!
//! ```text
//! corpus ──sketch (parallel, per shard)──▶ units + sketches (checkpointed)
//!        ──index──▶ candidate pairs (checkpointed) ──verify──▶ duplicate edges
//!        (checkpointed) ──union-find──▶ cluster labels
//! ```
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
//! units in input order, each unit's cluster label (the index of the first unit of its
//! cluster), the verified edges with their similarity, counts and stage timings.
//! Nothing here prints or writes output files.

pub use crate::config;
pub mod progress;
pub mod resume;
pub mod scan;
pub mod shard;
pub mod sketch;
pub mod verify;

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

pub use config::{Algo, ClusterMode, DedupConfig, UnitKind, Verify};
pub use progress::{NoProgress, Progress, Total};
pub use resume::Resumed;
pub use scan::{InvalidRecords, UnitMeta, UnitSplit};

use crate::corpus::{Corpus, RecordMeta, CHUNK_BYTES};
use crate::error::{Error, Result};
use crate::index::{IndexedUnit, SignatureIndex};
use crate::minhash::{compact, optimal_params, LshParams};
use crate::text::Shingler;
use crate::work::WorkDir;
use resume::{checkpointed, Pairs};
use sketch::{Signatures, SketchPlan, Sketched};
use verify::UnitTexts;

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
    /// Units that are not the first of their cluster (what dedup removes).
    pub duplicate_units: u64,
    /// `duplicate_units / units`.
    pub duplicate_fraction: f64,
    /// Candidate pairs before verification.
    pub candidate_pairs: u64,
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
    /// For each unit, the number of the first unit of its cluster (in the whole
    /// run: see [`Self::first_unit`]).
    pub labels: Vec<u32>,
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
    /// Is `units[unit]` kept by dedup (the first of its cluster, and not a
    /// duplicate of an indexed unit)?
    pub fn is_kept(&self, unit: u32) -> bool {
        self.labels[unit as usize] == self.first_unit + unit
            && !matches!(self.index_matches.get(unit as usize), Some(Some(_)))
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

/// Smallest default shard: per-shard costs (a checkpoint file, a pause between
/// shards) stay small next to the shard's work.
const MIN_DEFAULT_SHARD_BYTES: u64 = 16 << 20;

impl RunOptions<'_> {
    /// Input bytes per shard.
    pub fn shard_bytes(&self) -> u64 {
        self.shard_bytes
            .unwrap_or_else(|| (self.memory_budget / 4).max(MIN_DEFAULT_SHARD_BYTES))
            .max(1)
    }
}

/// Runs deduplication of `corpus` under `config`, in a temporary scratch folder
/// with the default memory budget.
pub fn run(corpus: &Corpus, config: &DedupConfig, progress: &dyn Progress) -> Result<DedupOutcome> {
    run_with(corpus, config, &RunOptions::default(), progress)
}

/// Runs deduplication of `corpus` under `config` as `options` say.
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
    let index = options.index;
    if let Some(why) = index.and_then(|index| index.incompatibility(config)) {
        return Err(Error::Config(why));
    }
    let shingler = Shingler::new(config.shingle)?;
    let shard_bytes = options.shard_bytes();
    let chunks =
        corpus.cut_chunks(CHUNK_BYTES.min(usize::try_from(shard_bytes).unwrap_or(usize::MAX)));
    let shards = shard::plan(&chunks, shard_bytes);
    let fingerprint = run_fingerprint(corpus, config, index)?;
    let work = match &options.work_dir {
        Some(dir) => WorkDir::open(dir, fingerprint)?,
        None => WorkDir::temporary(fingerprint)?,
    };
    let mut run = Run {
        resumed: Resumed::default(),
        timings: Vec::new(),
        clock: Instant::now(),
    };
    let plan = SketchPlan::new(corpus, &chunks, &shards, config, 1);
    let sketched =
        sketch::sketch_units(&plan, &work, &mut run.resumed, progress, config, &shingler)?;
    if sketched.records.is_empty() {
        let example = sketched.invalid.examples.first().map(String::as_str);
        return Err(corpus.no_records_error(sketched.invalid.count, example));
    }
    let duplicate_ids = corpus.check_unique_ids(&sketched.records)?;
    run.lap("read+sketch");
    let budget = options.memory_budget.max(1);
    let (sketched, found, lsh, signatures) = match config.algo {
        Algo::Minhash => {
            let k = config.num_perm;
            let params = lsh_params(config)?;
            let prior: &[u8] = index.map_or(&[], |index| &index.signatures);
            let signatures = Signatures::new(prior, &sketched.shards, k * compact::BYTES_PER_VALUE);
            let found = minhash_stages(
                &mut run,
                &work,
                config,
                params,
                &signatures,
                &sketched,
                UnitTexts {
                    corpus,
                    records: &sketched.records,
                    units: &sketched.units,
                    shingler: &shingler,
                    budget_bytes: budget / 2,
                },
                budget,
                progress,
            )?;
            let kept = if options.keep_signatures {
                signatures.run_signatures()
            } else {
                Vec::new()
            };
            (sketched, found, Some(params), kept)
        }
        Algo::Simhash => {
            let found = checkpointed(&work, "hamming", &mut run.resumed, || {
                progress.stage("hamming search", None);
                let fingerprints: Vec<u64> = sketched.all_words();
                let found = simhash_edges(&sketched.units, &fingerprints, config.hamming, budget)?;
                progress.finish_stage();
                Ok(found)
            })?;
            run.lap("candidates");
            let found = if config.verify == Verify::Exact {
                let texts = UnitTexts {
                    corpus,
                    records: &sketched.records,
                    units: &sketched.units,
                    shingler: &shingler,
                    budget_bytes: budget / 2,
                };
                let verified = checkpointed(&work, "edges", &mut run.resumed, || {
                    let pairs: Vec<(u32, u32)> = found.edges.iter().map(|e| (e.a, e.b)).collect();
                    progress.stage("verify", Some(Total::Items(pairs.len() as u64, "pairs")));
                    let kept = verify::verify_exact(&texts, &pairs, config.threshold, progress)?;
                    progress.finish_stage();
                    Ok(resume::Edges {
                        candidates: found.candidates,
                        edges: kept
                            .into_iter()
                            .map(|(a, b, similarity)| Edge { a, b, similarity })
                            .collect(),
                        index_edges: Vec::new(),
                    })
                })?;
                run.lap("verify");
                verified
            } else {
                found
            };
            (sketched, found, None, Vec::new())
        }
        Algo::Exact => {
            let words: Vec<u128> = sketched.all_words();
            let keys: Vec<Option<u128>> = words
                .iter()
                .zip(&sketched.units)
                .map(|(&key, unit)| (unit.features > 0).then_some(key))
                .collect();
            drop(words);
            let firsts = crate::exact::first_with_same_key(&keys);
            let edges: Vec<Edge> = firsts
                .iter()
                .enumerate()
                .filter(|&(i, &first)| first as usize != i)
                .map(|(i, &first)| Edge {
                    a: first,
                    b: i as u32,
                    similarity: 1.0,
                })
                .collect();
            run.lap("candidates");
            let found = resume::Edges {
                candidates: edges.len() as u64,
                edges,
                index_edges: Vec::new(),
            };
            (sketched, found, None, Vec::new())
        }
    };

    progress.stage("cluster", None);
    let prior = index.map_or(0, SignatureIndex::len);
    let units_len = sketched.units.len();
    let (labels, kept_similarity, index_matches) = if prior == 0 {
        let (labels, similarity) =
            config
                .cluster
                .labels(units_len, &edge_triples(&found.edges, 0), 0);
        (labels, similarity, Vec::new())
    } else {
        labels_against_index(
            config.cluster,
            prior,
            units_len,
            &found.edges,
            &found.index_edges,
        )
    };
    progress.finish_stage();
    run.lap("cluster");
    let index_matches: Vec<Option<IndexedUnit>> = match index {
        Some(index) => index_matches
            .into_iter()
            .map(|m| m.map(|i| index.units[i as usize].clone()))
            .collect(),
        None => Vec::new(),
    };
    let index_pairs = match index {
        Some(index) => found
            .index_edges
            .iter()
            .map(|e| (index.units[e.a as usize].clone(), e.b, e.similarity))
            .collect(),
        None => Vec::new(),
    };
    let scratch_bytes = work.disk_bytes();
    let mut outcome = DedupOutcome {
        records: sketched.records,
        units: sketched.units,
        labels,
        kept_similarity,
        first_unit: 0,
        edges: found.edges,
        foreign_units: std::collections::HashMap::new(),
        signatures,
        index_matches,
        index_pairs,
        invalid: sketched.invalid,
        lsh,
        timings: run.timings,
        resumed: run.resumed,
        scratch_bytes,
        stats: Stats::default(),
    };
    outcome.stats = summarise(&outcome, found.candidates);
    outcome.stats.duplicate_ids = duplicate_ids;
    Ok(outcome)
}

/// Bookkeeping of a run in progress.
struct Run {
    resumed: Resumed,
    timings: Vec<StageTiming>,
    clock: Instant,
}

impl Run {
    /// Ends a stage: records its wall time and peak allocated memory.
    fn lap(&mut self, stage: &'static str) {
        self.timings.push(StageTiming {
            stage,
            seconds: self.clock.elapsed().as_secs_f64(),
            memory: crate::memory::take_stage_peaks(),
        });
        self.clock = Instant::now();
    }
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
            optimal_params(config.threshold, config.num_perm, fp_weight, fn_weight)
                .map_err(|e| Error::Config(e.to_string()))
        }
    }
}

/// MinHash after sketching: candidates by LSH (bands bucketed a pass at a time
/// within `budget`), then verification; both checkpointed.
#[allow(clippy::too_many_arguments)]
fn minhash_stages(
    run: &mut Run,
    work: &WorkDir,
    config: &DedupConfig,
    params: LshParams,
    signatures: &Signatures<'_>,
    sketched: &Sketched,
    texts: UnitTexts<'_>,
    budget: u64,
    progress: &dyn Progress,
) -> Result<resume::Edges> {
    let k = config.num_perm;
    let prior = signatures.prior_units();
    let total_units = u32::try_from(prior as usize + sketched.units.len())
        .map_err(|_| Error::Config("more than 2^32 units in one run".into()))?;
    let candidates = checkpointed(work, "candidates", &mut run.resumed, || {
        let bands = crate::lsh::usable_bands(params, k);
        let per_band = (total_units as u64).max(1) * crate::lsh::BAND_BYTES_PER_UNIT as u64;
        let bands_per_pass = usize::try_from(budget / per_band)
            .unwrap_or(usize::MAX)
            .clamp(1, bands.max(1));
        progress.stage("candidates", Some(Total::Items(bands as u64, "bands")));
        // Units with no features (indexed ones: an empty signature) are in no
        // bucket; decided once, not once per band.
        let mut featureless = Vec::with_capacity(total_units as usize);
        signatures.for_each(|unit, signature| {
            featureless.push(if unit < prior {
                compact::is_empty(signature)
            } else {
                sketched.units[(unit - prior) as usize].features == 0
            });
        });
        let pairs = crate::lsh::candidate_pairs_by_key(
            total_units,
            bands,
            bands_per_pass,
            |band, out| {
                signatures.for_each(|unit, signature| {
                    if !featureless[unit as usize] {
                        if let Some(key) = compact::band_key(signature, band, params.rows) {
                            out.push((key, unit));
                        }
                    }
                });
            },
            || progress.advance(1),
        );
        progress.finish_stage();
        Ok(Pairs(pairs))
    })?
    .0;
    run.lap("candidates");
    let found = checkpointed(work, "edges", &mut run.resumed, || {
        // Pairs of two indexed units were settled when the index was built; pairs
        // with an indexed unit (numbered first, so `a < prior`) are judged by their
        // estimate; pairs of new units as the configuration says.
        let (with_index, new_pairs): (Vec<_>, Vec<_>) = candidates
            .iter()
            .filter(|&&(_, b)| b >= prior)
            .partition(|&&(a, _)| a < prior);
        let new_pairs: Vec<(u32, u32)> = new_pairs
            .into_iter()
            .map(|(a, b)| (a - prior, b - prior))
            .collect();
        // Indexed units have no text: their pairs are settled by the estimate.
        let index_verify = match config.verify {
            Verify::None => Verify::None,
            Verify::Signature | Verify::Exact => Verify::Signature,
        };
        let index_edges = with_index
            .par_iter()
            .filter_map(|&(a, b)| {
                let estimate = compact::estimate(signatures.get(a), signatures.get(b)) as f32;
                match verify::judge_estimate(index_verify, config.threshold, k, estimate) {
                    verify::Judgement::Keep(similarity) => Some(Edge {
                        a,
                        b: b - prior,
                        similarity,
                    }),
                    verify::Judgement::Doubtful | verify::Judgement::Drop => None,
                }
            })
            .collect();
        let edges =
            verify::verify_minhash(&new_pairs, signatures, prior, config, &texts, progress)?;
        Ok(resume::Edges {
            candidates: (new_pairs.len() + with_index.len()) as u64,
            edges: edges
                .into_iter()
                .map(|(a, b, similarity)| Edge { a, b, similarity })
                .collect(),
            index_edges,
        })
    })?;
    run.lap("verify");
    Ok(found)
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
    let mut h = Xxh3::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&serde_json::to_vec(config).map_err(|e| Error::Config(e.to_string()))?);
    h.update(format!("{:?}", corpus.options()).as_bytes());
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
    }
    if let Some(index) = index {
        h.update(&(index.len() as u64).to_le_bytes());
        h.update(&index.signatures);
        h.update(&serde_json::to_vec(&index.units).map_err(|e| Error::Config(e.to_string()))?);
    }
    Ok(h.digest())
}

/// `(a, b, similarity)` of each edge, with `shift` added to both units.
fn edge_triples(edges: &[Edge], shift: u32) -> Vec<(u32, u32, f32)> {
    edges
        .iter()
        .map(|e| (e.a + shift, e.b + shift, e.similarity))
        .collect()
}

/// Clusters new units together with indexed ones (numbered first, and kept
/// before any new unit) under `mode`: returns each new unit's label (the kept
/// unit of its cluster, or the first new unit of a cluster that keeps an indexed
/// unit), its
/// similarity to the kept unit of its cluster, and, for units whose cluster is
/// kept as an indexed unit, that indexed unit.
fn labels_against_index(
    mode: crate::cluster::ClusterMode,
    prior: usize,
    units: usize,
    new_edges: &[Edge],
    index_edges: &[Edge],
) -> (Vec<u32>, Vec<Option<f32>>, Vec<Option<u32>>) {
    let shift = prior as u32;
    let mut edges = edge_triples(new_edges, shift);
    edges.extend(index_edges.iter().map(|e| (e.a, e.b + shift, e.similarity)));
    let (roots, similarity) = mode.labels(prior + units, &edges, shift);
    // A cluster kept as an indexed unit is labelled by its first new unit.
    let mut first_new: Vec<Option<u32>> = vec![None; prior];
    let mut labels = Vec::with_capacity(units);
    let mut matches = Vec::with_capacity(units);
    for u in 0..units as u32 {
        let root = roots[(u + shift) as usize];
        if root < shift {
            labels.push(*first_new[root as usize].get_or_insert(u));
            matches.push(Some(root));
        } else {
            labels.push(root - shift);
            matches.push(None);
        }
    }
    (labels, similarity[prior..].to_vec(), matches)
}

/// SimHash edges: identical fingerprints join their first unit, distinct
/// fingerprints within `hamming` bits join through their first units. A radius
/// whose pairs would not fit `budget` is refused (see [`crate::simhash::budget`]).
fn simhash_edges(
    units: &[UnitMeta],
    fingerprints: &[u64],
    hamming: u32,
    budget: u64,
) -> Result<resume::Edges> {
    use crate::simhash::budget::{check_radius, max_pairs, too_many_pairs, DistanceSample};
    let indexed: Vec<u32> = (0..units.len() as u32)
        .filter(|&u| units[u as usize].features > 0)
        .collect();
    let fps: Vec<u64> = indexed.iter().map(|&u| fingerprints[u as usize]).collect();
    let collapsed = crate::simhash::Collapsed::new(&fps);
    let first_unit = |d: usize| indexed[collapsed.members_of(d)[0] as usize];
    let mut edges = Vec::new();
    for d in 0..collapsed.len() {
        let members = collapsed.members_of(d);
        let first = indexed[members[0] as usize];
        edges.extend(members[1..].iter().map(|&m| Edge {
            a: first,
            b: indexed[m as usize],
            similarity: 1.0,
        }));
    }
    let distinct = collapsed.distinct.len() as u64;
    let sample = DistanceSample::of(&collapsed.distinct);
    check_radius(&sample, distinct, hamming, budget)?;
    let limit = max_pairs(budget);
    let near =
        crate::simhash::near_distinct_pairs_at_most(&collapsed.distinct, hamming, None, limit)
            .ok_or_else(|| {
                too_many_pairs(&sample, distinct, hamming, budget, limit, "found more than")
            })?;
    let candidates = (edges.len() + near.len()) as u64;
    edges.extend(near.into_iter().map(|(i, j, distance)| {
        let (a, b) = (first_unit(i as usize), first_unit(j as usize));
        Edge {
            a: a.min(b),
            b: a.max(b),
            similarity: 1.0 - distance as f32 / 64.0,
        }
    }));
    edges.sort_by_key(|e| (e.a, e.b));
    Ok(resume::Edges {
        candidates,
        edges,
        index_edges: Vec::new(),
    })
}

fn summarise(outcome: &DedupOutcome, candidates: u64) -> Stats {
    let (records, units, labels) = (&outcome.records, &outcome.units, &outcome.labels);
    // Labels are unit numbers, so a plain array counts cluster sizes (and keeps
    // the run free of randomly seeded hashing, for repeatable instruction counts).
    let mut cluster_sizes = vec![0u32; labels.len()];
    for &l in labels {
        cluster_sizes[l as usize] += 1;
    }
    let dropped = |i: usize| !outcome.is_kept(i as u32);
    let duplicate_units = (0..units.len()).filter(|&i| dropped(i)).count() as u64;
    let unit_bytes: u64 = units.iter().map(|u| u.len as u64).sum();
    let duplicate_bytes: u64 = units
        .iter()
        .enumerate()
        .filter(|&(i, _)| dropped(i))
        .map(|(_, u)| u.len as u64)
        .sum();
    Stats {
        records: records.len() as u64,
        units: units.len() as u64,
        featureless_units: units.iter().filter(|u| u.features == 0).count() as u64,
        clusters: cluster_sizes.iter().filter(|&&n| n > 0).count() as u64,
        duplicate_clusters: cluster_sizes.iter().filter(|&&n| n > 1).count() as u64,
        largest_cluster: cluster_sizes.iter().copied().max().unwrap_or(0).into(),
        duplicate_units,
        duplicate_fraction: if units.is_empty() {
            0.0
        } else {
            duplicate_units as f64 / units.len() as f64
        },
        duplicate_ids: 0,
        candidate_pairs: candidates,
        edges: (outcome.edges.len() + outcome.index_pairs.len()) as u64,
        unit_bytes,
        duplicate_bytes,
    }
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
