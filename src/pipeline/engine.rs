//! One worker's run, stage by stage: the only place the stages are put in order.
//!
//! ```text
//! sketch own share (checkpointed per shard) ──▶ check records ──▶ number units run-wide
//!   ──▶ candidates (checkpointed) ──▶ verify (checkpointed) ──▶ cluster ──▶ this worker's outcome
//! ```
//!
//! A single-process run calls [`run`] with [`crate::exchange::Local`]; each
//! worker of a distributed run calls it with the timely exchange. Every stage
//! after sketching talks to the other workers only through the
//! [`Exchange`](crate::exchange::Exchange), and stage checkpoints are taken back
//! only when every worker has its own (so a restarted distributed run resumes
//! past the sketch stage too).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::candidates::{self, Candidate};
use super::components;
use super::progress::Progress;
use super::records::check_records;
use super::resume::{self, load_usable, Resumed, Stored};
use super::settle::{self, Settle};
use super::share::{self, Share};
use super::sketch::{self, SignatureWords, Signatures, SketchPlan};
use super::{Algo, DedupConfig, DedupOutcome, Edge, Settled, StageTiming, Stats};
use crate::cluster::{similarity_to_labels, ClusterMode, FieldKinds, KeepPolicy, Key};
use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::exchange::{Exchange, WireSize};
use crate::index::{IndexedUnit, SignatureIndex};
use crate::text::Shingler;
use crate::work::WorkDir;

/// What a run is asked to do, besides the exchange it runs over.
pub struct Job<'a> {
    /// The input (every worker maps all of it).
    pub corpus: &'a Corpus,
    /// The settings.
    pub config: &'a DedupConfig,
    /// A saved index to deduplicate against: its units are numbered first and
    /// kept before any unit of the run.
    pub index: Option<&'a SignatureIndex>,
    /// Where that index is, for messages.
    pub index_path: Option<&'a Path>,
    /// Refuse a run with units already in the index (it is about to be saved
    /// with them again); otherwise they are only warned about.
    pub refuse_indexed: bool,
    /// Scratch folder for checkpoints (each worker of a distributed run uses a
    /// `worker-NNNNN` folder inside it); `None`: a temporary folder.
    pub work_dir: Option<PathBuf>,
    /// Memory for the large working structures, per process (the workers of a
    /// distributed run take the smallest).
    pub memory_budget: u64,
    /// Input bytes per shard (`None`: from the budget).
    pub shard_bytes: Option<u64>,
    /// Keep this worker's compact signatures in the outcome (for saving an index).
    pub keep_signatures: bool,
    /// Note one line per finished stage (first worker of each process of a
    /// distributed run; see [`Progress::note`]).
    pub log_stages: bool,
}

/// One worker's results, with what the distributed report adds.
pub struct WorkerOutcome {
    /// This worker's units, labels and edges; run-wide counts in `stats`.
    pub outcome: DedupOutcome,
    /// Bytes sent to other processes, per stage.
    pub exchanged: Vec<(&'static str, u64)>,
    /// Rounds of label propagation the cluster stage took.
    pub label_rounds: u32,
}

/// Per-worker counts, summed into the run's [`Stats`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counts {
    records: u64,
    units: u64,
    featureless_units: u64,
    clusters: u64,
    duplicate_clusters: u64,
    largest_cluster: u64,
    duplicate_units: u64,
    candidate_pairs: u64,
    verified_by: Settled,
    edges: u64,
    unit_bytes: u64,
    duplicate_bytes: u64,
}

impl WireSize for Counts {
    fn wire_size(&self) -> usize {
        8 * 15
    }
}

/// Stage clock of one worker.
struct Clock {
    timings: Vec<StageTiming>,
    exchanged: Vec<(&'static str, u64)>,
    started: Instant,
    sent_before: u64,
    /// Whether this worker reads the process's memory peaks (one per process).
    reads_memory: bool,
    /// Whether finished stages are logged.
    log: bool,
}

impl Clock {
    fn start<E: Exchange>(ex: &E, log: bool) -> Self {
        Clock {
            timings: Vec::new(),
            exchanged: Vec::new(),
            started: Instant::now(),
            sent_before: 0,
            reads_memory: ex.first_in_process(),
            log: log && ex.first_in_process(),
        }
    }

    /// Ends a stage: records its wall time, peak memory and bytes sent.
    fn lap<E: Exchange>(&mut self, stage: &'static str, ex: &E, progress: &dyn Progress) {
        let memory = if self.reads_memory {
            crate::memory::take_stage_peaks()
        } else {
            crate::memory::StagePeaks::default()
        };
        let seconds = self.started.elapsed().as_secs_f64();
        self.timings.push(StageTiming {
            stage,
            seconds,
            memory,
        });
        let sent = ex.remote_bytes() - self.sent_before;
        self.exchanged.push((stage, sent));
        self.sent_before = ex.remote_bytes();
        if self.log {
            progress.note(&format!(
                "process {}: {stage} done in {seconds:.2}s, {:.1} MB sent to other processes",
                ex.process(),
                sent as f64 / 1e6
            ));
        }
        self.started = Instant::now();
    }
}

/// The sketch stage of a single-process run on its own (what a run's
/// `read+sketch` stage does), its checkpoints in a temporary folder: for
/// benches and profiles of the stage. With `reuse_repeats` a text met before is
/// given its earlier sketch, as in a run (see [`super::repeats`]); without, every
/// unit is sketched.
pub fn sketch_corpus(
    corpus: &Corpus,
    config: &DedupConfig,
    reuse_repeats: bool,
) -> Result<sketch::Sketched> {
    let shingler = Shingler::new(config.sketch.shingle)?;
    let budget = crate::memory::default_budget_bytes();
    let (chunks, shards) = share::plan_shards(corpus, None, 1, budget);
    let words = SignatureWords::for_run(config, false, false)?;
    let memo = if reuse_repeats {
        super::repeats::memo_bytes(budget)
    } else {
        0
    };
    let plan = SketchPlan::new(corpus, &chunks, &shards, config, words, 1, memo);
    let work = WorkDir::temporary(0)?;
    let mut resumed = Resumed::default();
    let progress = super::NoProgress;
    sketch::sketch_units(&plan, &work, &mut resumed, &progress, config, &shingler)
}

/// Runs this worker's part of `job`.
pub fn run<E: Exchange>(
    ex: &mut E,
    job: &Job<'_>,
    progress: &dyn Progress,
) -> Result<WorkerOutcome> {
    let (corpus, config) = (job.corpus, job.config);
    config.validate()?;
    config.keep.check_inputs(corpus)?;
    let mut clock = Clock::start(ex, job.log_stages);
    let budget = if ex.peers() > 1 {
        let inputs = super::input_signature(corpus, config, job.index)?;
        let seen = ex.all_gather(inputs);
        if let Some(w) = seen.iter().position(|&s| s != inputs) {
            return Err(Error::Distributed(format!(
                "worker {w} sees different inputs or settings than worker {}: every process \
                 must be given the same input files (same names, sizes and order), index and \
                 options",
                ex.index()
            )));
        }
        let budget = ex.all_gather(job.memory_budget).into_iter().min();
        // Until here every worker waited for the slowest process to connect and
        // start.
        clock.lap("connect", ex, progress);
        budget.unwrap_or(1).max(1)
    } else {
        job.memory_budget.max(1)
    };

    let shingler = Shingler::new(config.sketch.shingle)?;
    let (chunks, shards) = share::plan_shards(corpus, job.shard_bytes, ex.peers(), budget);
    let mine = share::shards_of(&chunks, &shards, ex.index(), ex.peers());
    let first_line = share::first_line(ex, corpus, &chunks, &shards[mine.clone()]);
    let work = open_work_dir(ex, job);
    let work = ex.agree("start", work)?;
    let words = SignatureWords::for_run(config, job.keep_signatures, job.index.is_some())?;
    let memo = super::repeats::memo_bytes(budget);
    let plan = SketchPlan::new(
        corpus,
        &chunks,
        &shards[mine],
        config,
        words,
        first_line,
        memo,
    );
    let mut resumed = Resumed::default();
    let sketched = sketch::sketch_units(&plan, &work, &mut resumed, progress, config, &shingler);
    let sketched = ex.agree("sketch", sketched)?;
    let duplicate_ids = check_records(ex, corpus, &sketched)?;
    check_keep_field(ex, corpus, &config.keep, &sketched)?;
    clock.lap("read+sketch", ex, progress);

    if let Some(index) = job.index {
        check_not_indexed(ex, job, index, &sketched, progress)?;
    }
    let share = Share::number(ex, sketched, job.index)?;
    let k = config.sketch.num_perm;
    let prior_signatures: &[u8] = match job.index {
        Some(index) if ex.index() == 0 => &index.signatures,
        _ => &[],
    };
    let signatures = Signatures::new(prior_signatures, &share.sketched.shards, words, k);
    let lsh = match config.algo {
        Algo::Minhash => Some(super::lsh_params(config)?),
        Algo::Simhash | Algo::Exact => None,
    };
    let stage_name = match config.algo {
        Algo::Simhash => "hamming",
        Algo::Minhash | Algo::Exact => "candidates",
    };
    let candidates: Vec<Candidate> =
        agreed_checkpoint(ex, &work, stage_name, &mut resumed, |ex| {
            let found = match (config.algo, lsh) {
                (Algo::Minhash, Some(params)) => {
                    candidates::minhash(ex, &share, &signatures, k, params, budget, progress)
                }
                (Algo::Simhash, _) => {
                    candidates::simhash(ex, &share, config.hamming, budget, progress)?
                }
                _ => candidates::exact(ex, &share),
            };
            Ok(as_stored(&found))
        })?
        .edges
        .into_iter()
        .map(|e| (e.a, e.b, e.similarity))
        .collect();
    let candidate_count = candidates.len() as u64;
    clock.lap("candidates", ex, progress);

    let settle = Settle {
        corpus,
        share: &share,
        config,
        shingler: &shingler,
        signatures: &signatures,
        budget,
    };
    let verified = agreed_checkpoint(ex, &work, "edges", &mut resumed, |ex| {
        let verified = settle::verify(ex, &settle, candidates, progress);
        let verified = ex.agree("verify", verified)?;
        Ok(resume::Edges {
            candidates: candidate_count,
            settled: verified.settled,
            edges: verified.edges,
            index_edges: verified.index_edges,
        })
    })?;
    clock.lap("verify", ex, progress);

    progress.stage("cluster", None);
    let clustered = cluster(ex, corpus, &share, config, &verified)?;
    progress.finish_stage();
    let (labels, kept_similarity, index_matches, mut named, label_rounds) = clustered;
    clock.lap("cluster", ex, progress);

    let (counts, cluster_sizes) = count(
        ex,
        &share,
        &config.keep,
        &labels,
        &index_matches,
        candidate_count,
        &verified,
    );
    let stats = run_stats(ex, counts, duplicate_ids);
    // Names of the other workers' units that this worker's edges and labels
    // mention (the kept unit of a cluster may be another worker's).
    let foreign = |unit: u32| unit >= share.prior && unit < share.first_unit;
    let wanted: Vec<u32> = verified
        .edges
        .iter()
        .map(|e| e.a)
        .chain(labels.iter().copied())
        .filter(|&unit| foreign(unit) && !named.contains_key(&unit))
        .collect();
    named.extend(name_units(ex, &share, wanted)?);

    let signatures_kept = if job.keep_signatures {
        signatures.run_signatures()
    } else {
        Vec::new()
    };
    let outcome = into_outcome(
        share,
        labels,
        cluster_sizes,
        config.keep.clone(),
        kept_similarity,
        index_matches,
        verified,
        named,
        signatures_kept,
        lsh,
        stats,
    );
    let outcome = DedupOutcome {
        timings: clock.timings,
        resumed,
        scratch_bytes: work.disk_bytes(),
        ..outcome
    };
    Ok(WorkerOutcome {
        outcome,
        exchanged: clock.exchanged,
        label_rounds,
    })
}

/// Units of a run already in the index it compares against (same id and
/// paragraph): refused on every worker when the run saves the index (they would
/// be indexed twice), a warning otherwise.
fn check_not_indexed<E: Exchange>(
    ex: &mut E,
    job: &Job<'_>,
    index: &SignatureIndex,
    sketched: &sketch::Sketched,
    progress: &dyn Progress,
) -> Result<()> {
    const SHOWN: usize = 5;
    let again = index.already_indexed(
        sketched
            .units
            .iter()
            .map(|u| (&sketched.records[u.record as usize].id, u.para)),
    );
    let examples: Vec<String> = again
        .iter()
        .take(SHOWN)
        .map(|&i| {
            let unit = &sketched.units[i];
            let id = &sketched.records[unit.record as usize].id;
            match unit.para {
                Some(para) => format!("{id} paragraph {para}"),
                None => id.to_string(),
            }
        })
        .collect();
    let all = ex.all_gather((again.len() as u64, sketched.units.len() as u64, examples));
    let count: u64 = all.iter().map(|a| a.0).sum();
    if count == 0 {
        return Ok(());
    }
    let units: u64 = all.iter().map(|a| a.1).sum();
    let examples: Vec<String> = all.into_iter().flat_map(|a| a.2).take(SHOWN).collect();
    let more = if count as usize > examples.len() {
        ", ..."
    } else {
        ""
    };
    let path = job
        .index_path
        .map_or_else(|| "the index".into(), |p| p.display().to_string());
    let what = format!(
        "{path}: {count} of the {units} units of this run are already in the index (same id \
         and paragraph), e.g. {}{more}",
        examples.join(", ")
    );
    if job.refuse_indexed {
        return Err(Error::Config(format!(
            "{what}: was this corpus added before? Nothing was written. Ids must be unique \
             across everything an index holds (see `id_field`)"
        )));
    }
    if ex.index() == 0 {
        progress.warn(&format!(
            "{what}: if they are the indexed units themselves, they are reported as duplicates \
             of themselves"
        ));
    }
    Ok(())
}

/// Checks the field a keep policy ranks by in every record of the run (each
/// worker its own, then together): each value a number, a string, null or
/// absent, and numbers and strings not mixed. Before any pair is searched, so
/// a bad field stops the run early.
fn check_keep_field<E: Exchange>(
    ex: &mut E,
    corpus: &Corpus,
    policy: &KeepPolicy,
    sketched: &sketch::Sketched,
) -> Result<()> {
    if policy.field().is_none() {
        return Ok(());
    }
    let kinds = ex.agree("keep", policy.survey(corpus, &sketched.records))?;
    let all = ex.all_gather(kinds);
    FieldKinds::check_one_kind(policy, corpus, &all)
}

impl WireSize for FieldKinds {
    fn wire_size(&self) -> usize {
        let place = |p: &Option<(u64, crate::cluster::keep::Place)>| {
            1 + p.as_ref().map_or(0, |(_, p)| 8 + 4 + 8 + 8 + p.shown.len())
        };
        place(&self.number) + place(&self.text)
    }
}

/// This worker's scratch folder: the run's folder itself with one worker, a
/// `worker-NNNNN` folder inside it with several. Its checkpoints carry the run's
/// fingerprint and the number of workers (with several, each worker's later
/// stages hold its share only).
fn open_work_dir<E: Exchange>(ex: &E, job: &Job<'_>) -> Result<WorkDir> {
    let mut fingerprint = super::run_fingerprint(job.corpus, job.config, job.index)?;
    if ex.peers() == 1 {
        return match &job.work_dir {
            Some(dir) => WorkDir::open(dir, fingerprint),
            None => WorkDir::temporary(fingerprint),
        };
    }
    fingerprint ^= (ex.peers() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let name = format!("worker-{:05}", ex.index());
    match &job.work_dir {
        Some(dir) => WorkDir::open(&dir.join(name), fingerprint),
        None => WorkDir::temporary(fingerprint),
    }
}

/// Candidates as a stored checkpoint: pairs with the similarity known so far.
fn as_stored(found: &[Candidate]) -> resume::Edges {
    resume::Edges {
        candidates: found.len() as u64,
        settled: Settled::default(),
        edges: found
            .iter()
            .map(|&(a, b, similarity)| Edge { a, b, similarity })
            .collect(),
        index_edges: Vec::new(),
    }
}

/// The value saved as `name` by an earlier run of the same command, when every
/// worker has its own; otherwise every worker computes its part with
/// `compute` and saves it.
fn agreed_checkpoint<E: Exchange, T: Stored>(
    ex: &mut E,
    work: &WorkDir,
    name: &'static str,
    resumed: &mut Resumed,
    compute: impl FnOnce(&mut E) -> Result<T>,
) -> Result<T> {
    let loaded = load_usable(work, name, T::KIND, resumed, |c| T::decode(c.body()));
    let loaded = ex.agree(name, loaded)?;
    let everyone = ex.all_gather(loaded.is_some());
    if let (Some(value), true) = (loaded, everyone.iter().all(|&has| has)) {
        resumed.stages_reused.push(name);
        return Ok(value);
    }
    let value = compute(ex)?;
    let saved = work.save(name, T::KIND, &value.encode());
    ex.agree(name, saved)?;
    Ok(value)
}

/// Cluster labels of the units this worker holds, as the cluster rule says:
/// each own unit's label (run-wide), its similarity to its kept unit, the
/// indexed unit its cluster keeps (if any), and names of other workers' kept
/// units.
type Clustered = (
    Vec<u32>,
    Vec<Option<f32>>,
    Vec<Option<u32>>,
    HashMap<u32, IndexedUnit>,
    u32,
);

fn cluster<E: Exchange>(
    ex: &mut E,
    corpus: &Corpus,
    share: &Share<'_>,
    config: &DedupConfig,
    verified: &resume::Edges,
) -> Result<Clustered> {
    // The index's edges, then the run's; the run's alone are not copied (at
    // 5 GB of paragraphs they are hundreds of MB, held through clustering).
    let edges: Cow<'_, [Edge]> = if verified.index_edges.is_empty() {
        Cow::Borrowed(&verified.edges)
    } else {
        Cow::Owned([&verified.index_edges[..], &verified.edges[..]].concat())
    };
    let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.a, e.b)).collect();
    let (component, rounds) =
        components::labels(ex, &pairs, &share.owners, share.held_from, share.held());
    drop(pairs);
    let policy = &config.keep;
    // Components by input order are labelled already; any other rule clusters
    // whole components at their owners.
    let (held_labels, held_similarity, named) =
        if config.cluster == ClusterMode::Components && !policy.ranks_by_key() {
            let similarity = similarity_to_labels(
                &component,
                share.held_from,
                edges.iter().map(|e| (e.a, e.b, e.similarity)),
            );
            (component, similarity, HashMap::new())
        } else {
            let name = |unit: u32| share.name(unit);
            let key = |unit: u32| -> Result<Key> {
                if share.is_indexed(unit) {
                    return Ok(Key::Missing);
                }
                let meta = &share.sketched.units[share.local(unit)];
                policy.key(
                    corpus,
                    &share.sketched.records[meta.record as usize],
                    meta.len,
                )
            };
            let rule = components::Rule {
                mode: config.cluster,
                policy,
                preferred_below: share.prior,
            };
            let kept = components::kept_labels(
                ex,
                &edges,
                &component,
                &share.owners,
                share.held_from,
                &name,
                &key,
                rule,
            );
            ex.agree("cluster", kept)?
        };
    // Only this worker's own units from here (worker 0 also holds the index's).
    let skip = (share.first_unit - share.held_from) as usize;
    let mut labels = held_labels[skip..].to_vec();
    let similarity = held_similarity[skip..].to_vec();
    // A cluster kept as an indexed unit is labelled by its first unit of the
    // run: the holder of the indexed unit (worker 0) finds it.
    let mut matches = vec![None; labels.len()];
    if share.prior > 0 {
        let kept_by_index: Vec<(u32, u32)> = labels
            .iter()
            .zip(share.first_unit..)
            .filter(|&(&label, _)| share.is_indexed(label))
            .map(|(&label, unit)| (label, unit))
            .collect();
        let owners = share.owners.clone();
        let mut at_index = ex.shuffle(kept_by_index, move |&(label, _): &(u32, u32)| {
            owners.of(label)
        });
        at_index.sort_unstable();
        let mut firsts: Vec<(u32, u32)> = Vec::with_capacity(at_index.len());
        for group in at_index.chunk_by(|x, y| x.0 == y.0) {
            let first = group[0].1;
            firsts.extend(group.iter().map(|&(_, unit)| (unit, first)));
        }
        let owners = share.owners.clone();
        let back = ex.shuffle(firsts, move |&(unit, _): &(u32, u32)| owners.of(unit));
        for (unit, first) in back {
            let at = share.local(unit);
            matches[at] = Some(labels[at]);
            labels[at] = first;
        }
    }
    Ok((labels, similarity, matches, named, rounds))
}

/// This worker's counts (units, cluster heads and duplicates as `policy`
/// decides them; clusters with duplicates and their sizes are counted by the
/// holder of each cluster's label) and each own unit's cluster size, run-wide.
fn count<E: Exchange>(
    ex: &mut E,
    share: &Share<'_>,
    policy: &KeepPolicy,
    labels: &[u32],
    matches: &[Option<u32>],
    candidate_pairs: u64,
    verified: &resume::Edges,
) -> (Counts, Vec<u32>) {
    let mut counts = Counts {
        records: share.sketched.records.len() as u64,
        candidate_pairs,
        verified_by: verified.settled,
        edges: (verified.edges.len() + verified.index_edges.len()) as u64,
        ..Counts::default()
    };
    // Every unit that is not its cluster's label tells the holder of the label,
    // which counts the cluster's units and tells each its cluster's size.
    let members: Vec<(u32, u32)> = labels
        .iter()
        .zip(share.first_unit..)
        .filter(|&(&label, unit)| label != unit)
        .map(|(&label, unit)| (label, unit))
        .collect();
    let owners = share.owners.clone();
    let mut got = ex.shuffle(members, move |&(label, _): &(u32, u32)| owners.of(label));
    got.sort_unstable();
    let mut sizes: Vec<u32> = vec![1; labels.len()];
    let mut told: Vec<(u32, u32)> = Vec::with_capacity(got.len());
    for cluster in got.chunk_by(|a, b| a.0 == b.0) {
        let size = cluster.len() as u32 + 1;
        sizes[share.local(cluster[0].0)] = size;
        told.extend(cluster.iter().map(|&(_, unit)| (unit, size)));
    }
    let clusters_with_duplicates: Vec<u32> = sizes.iter().copied().filter(|&s| s > 1).collect();
    let owners = share.owners.clone();
    for (unit, size) in ex.shuffle(told, move |&(unit, _): &(u32, u32)| owners.of(unit)) {
        sizes[share.local(unit)] = size;
    }
    for (i, (meta, &label)) in share.sketched.units.iter().zip(labels).enumerate() {
        let unit = share.first_unit + i as u32;
        counts.units += 1;
        counts.unit_bytes += meta.len as u64;
        if meta.features == 0 {
            counts.featureless_units += 1;
        }
        if label == unit {
            counts.clusters += 1;
        }
        if !policy.keeps(label == unit, matches[i].is_some(), sizes[i]) {
            counts.duplicate_units += 1;
            counts.duplicate_bytes += meta.len as u64;
        }
    }
    counts.duplicate_clusters = clusters_with_duplicates.len() as u64;
    counts.largest_cluster = clusters_with_duplicates
        .into_iter()
        .max()
        .unwrap_or(u32::from(counts.units > 0)) as u64;
    (counts, sizes)
}

/// The run's counts from every worker's.
fn run_stats<E: Exchange>(ex: &mut E, counts: Counts, duplicate_ids: u64) -> Stats {
    let all = ex.all_gather(counts);
    let sum = |f: fn(&Counts) -> u64| all.iter().map(f).sum::<u64>();
    let units = sum(|c| c.units);
    let duplicate_units = sum(|c| c.duplicate_units);
    Stats {
        records: sum(|c| c.records),
        units,
        featureless_units: sum(|c| c.featureless_units),
        clusters: sum(|c| c.clusters),
        duplicate_clusters: sum(|c| c.duplicate_clusters),
        largest_cluster: all.iter().map(|c| c.largest_cluster).max().unwrap_or(0),
        duplicate_units,
        duplicate_fraction: if units == 0 {
            0.0
        } else {
            duplicate_units as f64 / units as f64
        },
        candidate_pairs: sum(|c| c.candidate_pairs),
        verified_by: all
            .iter()
            .fold(Settled::default(), |total, c| total + c.verified_by),
        edges: sum(|c| c.edges),
        unit_bytes: sum(|c| c.unit_bytes),
        duplicate_bytes: sum(|c| c.duplicate_bytes),
        duplicate_ids,
    }
}

/// Asks the holders of `units` (other workers' units) for their names.
fn name_units<E: Exchange>(
    ex: &mut E,
    share: &Share<'_>,
    mut units: Vec<u32>,
) -> Result<HashMap<u32, IndexedUnit>> {
    if ex.peers() == 1 {
        return Ok(HashMap::new());
    }
    units.sort_unstable();
    units.dedup();
    let me = ex.index() as u32;
    let asks: Vec<(u32, u32)> = units.into_iter().map(|unit| (unit, me)).collect();
    let owners = share.owners.clone();
    let asked = ex.shuffle(asks, move |&(unit, _): &(u32, u32)| owners.of(unit));
    let answers: Vec<(u32, share::NamedUnit)> = asked
        .into_iter()
        .map(|(unit, from)| (from, share.named(unit)))
        .collect();
    let got = ex.shuffle(answers, |(to, _): &(u32, share::NamedUnit)| *to as usize);
    let mut named = HashMap::with_capacity(got.len());
    for (_, unit) in got {
        named.insert(unit.unit, unit.indexed()?);
    }
    Ok(named)
}

/// This worker's outcome in the numbering the outputs use: units of the run from
/// 0 (the index's units are named, not numbered).
#[allow(clippy::too_many_arguments)]
fn into_outcome(
    share: Share<'_>,
    labels: Vec<u32>,
    cluster_sizes: Vec<u32>,
    keep: KeepPolicy,
    kept_similarity: Vec<Option<f32>>,
    matches: Vec<Option<u32>>,
    verified: resume::Edges,
    named: HashMap<u32, IndexedUnit>,
    signatures: Vec<u8>,
    lsh: Option<crate::minhash::LshParams>,
    stats: Stats,
) -> DedupOutcome {
    let prior = share.prior;
    let index = share.index;
    let index_unit = |unit: u32| -> IndexedUnit {
        index
            .map(|index| index.units[unit as usize].clone())
            .expect("indexed units come with an index")
    };
    let first_unit = share.first_unit;
    let sketch::Sketched {
        records,
        units,
        invalid,
        shards,
        repeats_reused,
    } = share.sketched;
    drop(shards);
    let shifted = |e: &Edge| Edge {
        a: e.a - prior,
        b: e.b - prior,
        similarity: e.similarity,
    };
    let index_matches = if prior == 0 {
        Vec::new()
    } else {
        matches.into_iter().map(|m| m.map(index_unit)).collect()
    };
    DedupOutcome {
        records,
        units,
        labels: labels.into_iter().map(|label| label - prior).collect(),
        cluster_sizes,
        keep,
        kept_similarity,
        first_unit: first_unit - prior,
        edges: verified.edges.iter().map(shifted).collect(),
        // Indexed units are named by `index_matches` and `index_pairs`.
        foreign_units: named
            .into_iter()
            .filter(|&(unit, _)| unit >= prior)
            .map(|(unit, name)| (unit - prior, name))
            .collect(),
        index_matches,
        index_pairs: verified
            .index_edges
            .iter()
            .map(|e| (index_unit(e.a), e.b - prior, e.similarity))
            .collect(),
        signatures,
        invalid,
        repeats_reused,
        lsh,
        timings: Vec::new(),
        resumed: Resumed::default(),
        scratch_bytes: 0,
        stats,
    }
}
