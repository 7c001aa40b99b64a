//! One worker's part of a distributed run, stage by stage (see the module
//! documentation of [`super`]).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::collective::{Exchange, WireSize};
use super::{components, parts, Job};
use crate::cluster::{similarity_to_labels, ClusterMode};
use crate::corpus::{Chunk, Corpus, RecordMeta, CHUNK_BYTES};
use crate::error::{Error, Result};
use crate::index::IndexedUnit;
use crate::minhash::{compact, LshParams};
use crate::pipeline::scan::{InvalidRecords, UnitMeta};
use crate::pipeline::sketch::{self, Signatures, SketchPlan, Sketched};
use crate::pipeline::verify::{self, Judgement, UnitTexts};
use crate::pipeline::{shard, Algo, DedupConfig, Edge, NoProgress, Resumed, StageTiming, Verify};
use crate::text::Shingler;
use crate::work::WorkDir;

/// What process 0 knows at the end of a run, for its summary.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The report written to `report.json`, as JSON.
    pub report: serde_json::Value,
}

/// A candidate pair `(a, b, similarity known before verification)`; the
/// similarity is NaN where only verification will tell.
type Candidate = (u32, u32, f32);

/// A key of one LSH band or block table on its way to the worker that owns it:
/// `(band or table, key or fingerprint, unit)`.
type TableKey = (u32, u64, u32);

/// One band's keys split by owner: `(key, unit)` bucketed here, and the
/// [`TableKey`]s sent to other workers.
type SplitBand = (Vec<(u64, u32)>, Vec<TableKey>);

/// Spreads a key over workers: a multiplicative hash, high bits.
fn spread(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32
}

/// The worker that buckets `key` of band `band`.
fn band_owner(band: u32, key: u64, peers: usize) -> usize {
    (spread(key ^ u64::from(band).wrapping_mul(0xA24B_AED4_963E_E407)) % peers as u64) as usize
}

/// Which worker owns each run-wide unit number: `bases[w]` is worker `w`'s first
/// unit (workers with no units share the next one's base).
#[derive(Clone)]
pub(super) struct Owners(Arc<Vec<u32>>);

impl Owners {
    /// Owners of units numbered from `bases[w]` on worker `w` (non-decreasing).
    pub(super) fn new(bases: Vec<u32>) -> Self {
        Owners(Arc::new(bases))
    }

    /// The worker that owns `unit`.
    pub(super) fn of(&self, unit: u32) -> usize {
        self.0.partition_point(|&base| base <= unit) - 1
    }
}

/// Where a unit is and how it is named: what a worker needs of a unit it does
/// not own to verify a pair with it exactly and to write the pair out.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UnitLoc {
    file: u32,
    record_start: u64,
    record_len: u64,
    line: u64,
    /// The record id, as JSON text.
    id: String,
    para: Option<u32>,
    start: u64,
    len: u64,
    features: u32,
}

/// A candidate pair on its way to the owner of `b`, with what `b`'s owner needs
/// of `a`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attached {
    a: u32,
    b: u32,
    /// Similarity known before verification (SimHash distance, exact match).
    similarity: f32,
    /// `a`'s compact signature (MinHash).
    signature: Vec<u8>,
    loc: UnitLoc,
}

impl WireSize for Attached {
    fn wire_size(&self) -> usize {
        12 + 8 + self.signature.len() + 8 * 5 + 4 + 5 + 4 + 8 + self.loc.id.len()
    }
}

impl WireSize for Counts {
    fn wire_size(&self) -> usize {
        8 * 16
            + self
                .invalid_examples
                .iter()
                .map(|e| 8 + e.len())
                .sum::<usize>()
    }
}

/// Per-worker counts gathered for the report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Counts {
    pub(super) records: u64,
    pub(super) units: u64,
    pub(super) featureless_units: u64,
    pub(super) clusters: u64,
    pub(super) duplicate_clusters: u64,
    pub(super) largest_cluster: u64,
    pub(super) duplicate_units: u64,
    pub(super) candidate_pairs: u64,
    pub(super) edges: u64,
    pub(super) unit_bytes: u64,
    pub(super) duplicate_bytes: u64,
    pub(super) invalid: u64,
    pub(super) invalid_examples: Vec<String>,
    pub(super) shards: u64,
    pub(super) shards_reused: u64,
    pub(super) scratch_bytes: u64,
    pub(super) duplicate_ids: u64,
}

/// Stage clock of one worker.
pub(super) struct Clock {
    pub(super) timings: Vec<StageTiming>,
    /// Bytes sent to other processes, per stage.
    pub(super) exchanged: Vec<(&'static str, u64)>,
    started: Instant,
    sent_before: u64,
    /// Whether this worker reads the process's memory peaks and logs its stages
    /// (one per process).
    reads_memory: bool,
    /// Whether stages are logged.
    log: bool,
    /// Rounds of label propagation the cluster stage took.
    pub(super) label_rounds: u32,
}

impl Clock {
    pub(super) fn lap(&mut self, stage: &'static str, ex: &Exchange<'_>) {
        let memory = if self.reads_memory {
            crate::memory::take_stage_peaks()
        } else {
            crate::memory::StagePeaks::default()
        };
        self.timings.push(StageTiming {
            stage,
            seconds: self.started.elapsed().as_secs_f64(),
            memory,
        });
        let sent = ex.remote_bytes() - self.sent_before;
        self.exchanged.push((stage, sent));
        self.sent_before = ex.remote_bytes();
        if self.log && self.reads_memory {
            eprintln!(
                "neardedup: process {}: {stage} done in {:.2}s, {:.1} MB sent to other processes",
                ex.process(),
                self.started.elapsed().as_secs_f64(),
                sent as f64 / 1e6
            );
        }
        self.started = Instant::now();
    }
}

/// Runs this worker's part of `job`; `Some` on worker 0.
pub(super) fn run(ex: &mut Exchange<'_>, corpus: &Corpus, job: &Job) -> Result<Option<RunSummary>> {
    let mut clock = Clock {
        timings: Vec::new(),
        exchanged: Vec::new(),
        started: Instant::now(),
        sent_before: 0,
        reads_memory: ex.index().is_multiple_of(ex.workers_per_process()),
        log: job.log_stages,
        label_rounds: 0,
    };
    let config = &job.config;
    let inputs = input_signature(corpus, config)?;
    let seen = ex.all_gather(inputs);
    if let Some(w) = seen.iter().position(|&s| s != inputs) {
        return Err(Error::Distributed(format!(
            "worker {w} sees different inputs or settings than worker {}: every process \
             must be given the same input files (same names, sizes and order) and options",
            ex.index()
        )));
    }
    let budgets = ex.all_gather(job.memory_budget);
    let budget = budgets.into_iter().min().unwrap_or(1).max(1);
    ex.agree("start", parts::clear_stale(ex, &job.out))?;
    // Until here every worker waited for the slowest process to connect and
    // start (timely polls for connections once a second).
    clock.lap("connect", ex);

    let shingler = Shingler::new(config.shingle)?;
    let (chunks, shards) = plan_shards(corpus, job, ex.peers(), budget);
    let mine = share(&chunks, &shards, ex.index(), ex.peers());
    let first_line = first_line(ex, corpus, &chunks, &shards[mine.clone()]);
    let work = ex.agree("start", open_work_dir(ex, corpus, job))?;
    let plan = SketchPlan::new(corpus, &chunks, &shards[mine], config, first_line);
    let mut resumed = Resumed::default();
    let sketched = sketch::sketch_units(&plan, &work, &mut resumed, &NoProgress, config, &shingler);
    let sketched = ex.agree("sketch", sketched)?;
    let duplicate_ids = super::inputs::check_records(ex, corpus, &sketched)?;
    clock.lap("read+sketch", ex);

    let counts = ex.all_gather(sketched.units.len() as u64);
    let total: u64 = counts.iter().sum();
    if total > u64::from(u32::MAX) {
        return Err(Error::Config("more than 2^32 units in one run".into()));
    }
    let mut bases = Vec::with_capacity(counts.len());
    let mut next = 0u32;
    for c in &counts {
        bases.push(next);
        next += *c as u32;
    }
    let share = Share {
        first_unit: bases[ex.index()],
        owners: Owners::new(bases),
        total_units: total as u32,
        sketched,
    };

    let (candidates, lsh) = match config.algo {
        Algo::Minhash => {
            let params = crate::pipeline::lsh_params(config)?;
            (
                minhash_candidates(ex, &share, config.num_perm, params, budget),
                Some(params),
            )
        }
        Algo::Simhash => (
            simhash_candidates(ex, &share, config.hamming, budget)?,
            None,
        ),
        Algo::Exact => (exact_candidates(ex, &share), None),
    };
    let candidate_count = candidates.len() as u64;
    clock.lap("candidates", ex);

    let verified = verify(ex, corpus, &share, config, &shingler, candidates, budget);
    let (edges, mut foreign) = ex.agree("verify", verified)?;
    clock.lap("verify", ex);

    let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.a, e.b)).collect();
    let (component, rounds) = components::labels(
        ex,
        &pairs,
        &share.owners,
        share.first_unit,
        share.sketched.units.len(),
    );
    clock.label_rounds = rounds;
    let (labels, kept_similarity) = match config.cluster {
        ClusterMode::Star => {
            let name = |unit: u32| {
                let meta = &share.sketched.units[share.local(unit)];
                IndexedUnit {
                    id: share.sketched.records[meta.record as usize].id.clone(),
                    para: meta.para,
                }
            };
            let starred = components::star_labels(
                ex,
                &edges,
                &component,
                &share.owners,
                share.first_unit,
                &name,
            );
            let (labels, similarity, named) = ex.agree("cluster", starred)?;
            foreign.extend(named);
            (labels, similarity)
        }
        ClusterMode::Components => {
            let similarity = similarity_to_labels(
                &component,
                share.first_unit,
                edges.iter().map(|e| (e.a, e.b, e.similarity)),
            );
            (component, similarity)
        }
    };
    clock.lap("cluster", ex);

    let mut counts = Counts {
        candidate_pairs: candidate_count,
        edges: edges.len() as u64,
        shards: resumed.shards as u64,
        shards_reused: resumed.shards_reused as u64,
        // Every worker knows the run's total; worker 0 reports it.
        duplicate_ids: if ex.index() == 0 { duplicate_ids } else { 0 },
        ..Counts::default()
    };
    let Share {
        first_unit,
        owners,
        sketched,
        ..
    } = share;
    let Sketched {
        records,
        units,
        invalid,
        shards: sketch_words,
    } = sketched;
    drop(sketch_words);
    counts.invalid = invalid.count;
    counts.invalid_examples = invalid.examples.clone();
    counts.scratch_bytes = work.disk_bytes();
    let outcome = crate::pipeline::DedupOutcome {
        records,
        units,
        labels,
        kept_similarity,
        first_unit,
        edges,
        foreign_units: foreign,
        index_matches: Vec::new(),
        index_pairs: Vec::new(),
        signatures: Vec::new(),
        invalid,
        lsh,
        timings: Vec::new(),
        resumed,
        scratch_bytes: 0,
        stats: crate::pipeline::Stats::default(),
    };
    count_clusters(ex, &outcome, &owners, &mut counts);
    let written = parts::write(ex, corpus, job, &outcome, counts, clock, lsh)?;
    drop(work);
    Ok(written)
}

/// What every process must agree on: the settings, how records are read, and
/// each input's name, size and position.
fn input_signature(corpus: &Corpus, config: &DedupConfig) -> Result<u64> {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&serde_json::to_vec(config).map_err(|e| Error::Config(e.to_string()))?);
    h.update(format!("{:?}", corpus.options()).as_bytes());
    for file in corpus.files() {
        let name = file.path.file_name().unwrap_or_default();
        h.update(name.as_encoded_bytes());
        h.update(&[0]);
        h.update(&(file.bytes.len() as u64).to_le_bytes());
    }
    Ok(h.digest())
}

/// The run's chunks and shards: the same on every process. Shards are small
/// enough that every worker gets some when the input allows.
fn plan_shards(
    corpus: &Corpus,
    job: &Job,
    peers: usize,
    budget: u64,
) -> (Vec<Chunk>, Vec<Range<usize>>) {
    let even = corpus.total_bytes().div_ceil(peers as u64 * 2).max(1);
    let shard_bytes = job
        .shard_bytes
        .unwrap_or_else(|| (budget / 4).max(16 << 20))
        .min(even)
        .max(1);
    let chunks =
        corpus.cut_chunks(CHUNK_BYTES.min(usize::try_from(shard_bytes).unwrap_or(usize::MAX)));
    let shards = shard::plan(&chunks, shard_bytes);
    (chunks, shards)
}

/// The contiguous range of `shards` that worker `index` of `peers` sketches:
/// shards go to the worker whose even share of the input bytes their start
/// falls in.
fn share(chunks: &[Chunk], shards: &[Range<usize>], index: usize, peers: usize) -> Range<usize> {
    let bytes = |range: &Range<usize>| -> u64 {
        chunks[range.clone()]
            .iter()
            .map(|c| (c.end - c.start) as u64)
            .sum()
    };
    let total: u64 = shards.iter().map(bytes).sum();
    let mut owner_of = Vec::with_capacity(shards.len());
    let mut offset = 0u64;
    for shard in shards {
        let owner = if total == 0 {
            0
        } else {
            ((u128::from(offset) * peers as u128) / u128::from(total)) as usize
        };
        owner_of.push(owner.min(peers - 1));
        offset += bytes(shard);
    }
    let start = owner_of.partition_point(|&o| o < index);
    let end = owner_of.partition_point(|&o| o <= index);
    start..end
}

/// The line number this worker's first chunk starts at: one plus the newlines
/// that earlier workers' shares hold in the same file.
fn first_line(
    ex: &mut Exchange<'_>,
    corpus: &Corpus,
    chunks: &[Chunk],
    mine: &[Range<usize>],
) -> u64 {
    let my_chunks: Vec<Chunk> = mine
        .iter()
        .flat_map(|range| chunks[range.clone()].iter().copied())
        .collect();
    // Newlines per file in this share: (file, newlines), files ascending.
    let mut per_file: Vec<(u64, u64)> = Vec::new();
    for chunk in &my_chunks {
        let newlines = corpus.newlines_in(chunk);
        match per_file.last_mut() {
            Some((file, n)) if *file == u64::from(chunk.file) => *n += newlines,
            _ => per_file.push((u64::from(chunk.file), newlines)),
        }
    }
    let all = ex.all_gather(per_file);
    match my_chunks.first() {
        Some(first) if first.start > 0 => {
            1 + all[..ex.index()]
                .iter()
                .flatten()
                .filter(|&&(file, _)| file == u64::from(first.file))
                .map(|&(_, n)| n)
                .sum::<u64>()
        }
        _ => 1,
    }
}

fn open_work_dir(ex: &Exchange<'_>, corpus: &Corpus, job: &Job) -> Result<Arc<WorkDir>> {
    let fingerprint = input_signature(corpus, &job.config)?;
    let dir = job.work_dir.join(format!("worker-{:05}", ex.index()));
    Ok(Arc::new(WorkDir::open(&dir, fingerprint)?))
}

/// This worker's units after sketching, and how units are numbered run-wide.
struct Share {
    sketched: Sketched,
    first_unit: u32,
    owners: Owners,
    total_units: u32,
}

impl Share {
    fn local(&self, unit: u32) -> usize {
        (unit - self.first_unit) as usize
    }

    fn loc(&self, unit: u32) -> UnitLoc {
        let meta = &self.sketched.units[self.local(unit)];
        let record = &self.sketched.records[meta.record as usize];
        UnitLoc {
            file: record.file,
            record_start: record.start as u64,
            record_len: record.len as u64,
            line: record.line,
            id: record.id.to_string(),
            para: meta.para,
            start: meta.start as u64,
            len: meta.len as u64,
            features: meta.features,
        }
    }
}

/// MinHash candidates: band keys go to the worker owning `(band, key)`, which
/// forms the buckets and their star and chain pairs; pairs go to the worker
/// owning the pair, which keeps each once. Bands are sent a pass at a time so a
/// worker's buckets fit the memory budget. Returns the distinct pairs this
/// worker owns, with no prior similarity.
fn minhash_candidates(
    ex: &mut Exchange<'_>,
    share: &Share,
    k: usize,
    params: LshParams,
    budget: u64,
) -> Vec<Candidate> {
    let bands = crate::lsh::usable_bands(params, k);
    let peers = ex.peers();
    let per_band =
        (u64::from(share.total_units) / peers as u64 + 1) * crate::lsh::BAND_BYTES_PER_UNIT as u64;
    let bands_per_pass = usize::try_from(budget / per_band)
        .unwrap_or(usize::MAX)
        .clamp(1, bands.max(1));
    let signatures = Signatures::new(&[], &share.sketched.shards, k * compact::BYTES_PER_VALUE);
    let units = &share.sketched.units;
    let mut mine: Vec<u64> = Vec::new();
    let band_list: Vec<usize> = (0..bands).collect();
    for pass in band_list.chunks(bands_per_pass) {
        // Each band's keys, split into those this worker owns (bucketed here
        // directly) and those sent to their owners.
        let me = ex.index();
        let split: Vec<SplitBand> = pass
            .par_iter()
            .map(|&band| {
                let mut own = Vec::with_capacity(units.len() / peers + 1);
                let mut others = Vec::with_capacity(units.len() - units.len() / peers);
                signatures.for_each(|local, signature| {
                    if units[local as usize].features > 0 {
                        if let Some(key) = compact::band_key(signature, band, params.rows) {
                            let unit = share.first_unit + local;
                            if band_owner(band as u32, key, peers) == me {
                                own.push((key, unit));
                            } else {
                                others.push((band as u32, key, unit));
                            }
                        }
                    }
                });
                (own, others)
            })
            .collect();
        let (mut by_band, others): (Vec<_>, Vec<_>) = split.into_iter().unzip();
        let got = ex.shuffle(others.concat(), move |&(band, key, _): &TableKey| {
            band_owner(band, key, peers)
        });
        let first_band = pass[0] as u32;
        for (band, key, unit) in got {
            by_band[(band - first_band) as usize].push((key, unit));
        }
        let mut pairs: Vec<u64> = by_band
            .into_par_iter()
            .flat_map_iter(crate::lsh::candidates::band_pairs)
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        let got = ex.shuffle(pairs, move |&pair: &u64| {
            (spread(pair) % peers as u64) as usize
        });
        mine.extend(got);
        mine.par_sort_unstable();
        mine.dedup();
    }
    mine.into_iter()
        .map(|packed| {
            let (a, b) = crate::lsh::candidates::unpack(packed);
            (a, b, f32::NAN)
        })
        .collect()
}

/// SimHash candidates: fingerprints go to the worker owning their value, which
/// joins identical ones to their first unit and keeps one representative; the
/// representatives go to the workers owning their buckets of the block tables
/// (see [`BucketPlace`]), which pair representatives within the Hamming radius.
/// A radius whose pairs would not fit the memory budget is refused by every
/// worker alike, from their samples' merged distances (see
/// [`crate::simhash::budget`]).
fn simhash_candidates(
    ex: &mut Exchange<'_>,
    share: &Share,
    hamming: u32,
    budget: u64,
) -> Result<Vec<Candidate>> {
    let peers = ex.peers() as u64;
    let fingerprints: Vec<u64> = share.sketched.all_words();
    let own: Vec<(u64, u32)> = fingerprints
        .iter()
        .zip(&share.sketched.units)
        .zip(share.first_unit..)
        .filter(|((_, meta), _)| meta.features > 0)
        .map(|((&fp, _), unit)| (fp, unit))
        .collect();
    let mut got = ex.shuffle(own, move |&(fp, _): &(u64, u32)| {
        (spread(fp) % peers) as usize
    });
    got.sort_unstable();
    let mut edges = Vec::new();
    let mut representatives: Vec<(u64, u32)> = Vec::new();
    for group in got.chunk_by(|x, y| x.0 == y.0) {
        let first = group[0].1;
        representatives.push((group[0].0, first));
        edges.extend(group[1..].iter().map(|&(_, unit)| (first, unit, 1.0f32)));
    }
    drop(got);
    let distinct: u64 = ex.all_gather(representatives.len() as u64).iter().sum();
    if hamming == 0 {
        return Ok(edges);
    }
    let own_fingerprints: Vec<u64> = representatives.iter().map(|&(fp, _)| fp).collect();
    let own_sample = crate::simhash::budget::DistanceSample::of(&own_fingerprints);
    let mut sample = crate::simhash::budget::DistanceSample::default();
    for counts in ex.all_gather(own_sample.counts.to_vec()) {
        let mut theirs = crate::simhash::budget::DistanceSample::default();
        theirs.counts.copy_from_slice(&counts);
        sample.merge(&theirs);
    }
    crate::simhash::budget::check_radius(&sample, distinct, hamming, budget)?;
    let tables = crate::simhash::BlockTables::new(hamming, distinct as usize);
    let place = BucketPlace {
        tables: tables.len(),
        peers: peers as usize,
    };
    // Each representative goes once to every worker that owns one of its
    // buckets (not once per table: with many tables that is every worker).
    let me = ex.index();
    let mut owned_here: Vec<(u64, u32)> = Vec::new();
    let mut outgoing: Vec<TableKey> = Vec::new();
    let mut destinations: Vec<usize> = Vec::new();
    for &(fp, unit) in &representatives {
        destinations.clear();
        destinations.extend((0..tables.len()).map(|t| place.owner(t, tables.key(t, fp))));
        destinations.sort_unstable();
        destinations.dedup();
        for &worker in &destinations {
            if worker == me {
                owned_here.push((fp, unit));
            } else {
                outgoing.push((worker as u32, fp, unit));
            }
        }
    }
    drop(representatives);
    let got = ex.shuffle(outgoing, |&(worker, _, _): &TableKey| worker as usize);
    owned_here.extend(got.into_iter().map(|(_, fp, unit)| (fp, unit)));
    // This worker's tables, a few at a time in parallel, each sorted by key and
    // scanned bucket by bucket.
    let mine: Vec<usize> = (0..tables.len())
        .filter(|&t| place.may_own(t, me))
        .collect();
    let near: Vec<(u32, u32, u32)> = mine
        .par_iter()
        .flat_map_iter(|&t| {
            let mut keyed: Vec<(u64, u32, u64)> = owned_here
                .iter()
                .map(|&(fp, unit)| (tables.key(t, fp), unit, fp))
                .filter(|&(key, _, _)| place.owner(t, key) == me)
                .collect();
            keyed.sort_unstable();
            let mut near = Vec::new();
            let mut bucket: Vec<(u64, u32)> = Vec::new();
            for run in keyed.chunk_by(|x, y| x.0 == y.0) {
                if run.len() < 2 {
                    continue;
                }
                bucket.clear();
                bucket.extend(run.iter().map(|&(_, unit, fp)| (fp, unit)));
                tables.bucket_pairs(t, &bucket, &mut near);
            }
            near
        })
        .collect();
    edges.extend(
        near.into_iter()
            .map(|(a, b, distance)| (a, b, 1.0 - distance as f32 / 64.0)),
    );
    Ok(edges)
}

/// Which worker owns a bucket `(table, key)` of the SimHash block tables.
///
/// With at least as many tables as workers, whole tables are spread over the
/// workers (table `t` on worker `t % peers`): a representative then reaches each
/// worker once, whatever the number of tables (radius 12 takes hundreds). With
/// fewer tables, each table's keys are split by hash over `peers / tables`
/// workers, so every worker still gets a share.
#[derive(Debug, Clone, Copy)]
struct BucketPlace {
    tables: usize,
    peers: usize,
}

impl BucketPlace {
    fn per_table(&self) -> usize {
        (self.peers / self.tables.max(1)).max(1)
    }

    fn owner(&self, table: usize, key: u64) -> usize {
        if self.tables >= self.peers {
            table % self.peers
        } else {
            let split = self.per_table();
            (table * split + (spread(key) % split as u64) as usize) % self.peers
        }
    }

    /// Whether `worker` owns any bucket of `table`.
    fn may_own(&self, table: usize, worker: usize) -> bool {
        if self.tables >= self.peers {
            table % self.peers == worker
        } else {
            let split = self.per_table();
            (0..split).any(|s| (table * split + s) % self.peers == worker)
        }
    }
}

/// Exact matching: text keys go to the worker owning the key, which joins each
/// unit to the first unit with the same key.
fn exact_candidates(ex: &mut Exchange<'_>, share: &Share) -> Vec<Candidate> {
    let peers = ex.peers() as u64;
    let keys: Vec<u128> = share.sketched.all_words();
    let own: Vec<(u64, u64, u32)> = keys
        .iter()
        .zip(&share.sketched.units)
        .zip(share.first_unit..)
        .filter(|((_, meta), _)| meta.features > 0)
        .map(|((&key, _), unit)| ((key >> 64) as u64, key as u64, unit))
        .collect();
    let mut got = ex.shuffle(own, move |&(high, low, _): &(u64, u64, u32)| {
        (spread(high ^ low) % peers) as usize
    });
    got.sort_unstable();
    let mut edges = Vec::new();
    for group in got.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        let first = group[0].2;
        edges.extend(group[1..].iter().map(|&(_, _, unit)| (first, unit, 1.0f32)));
    }
    edges
}

impl WireSize for (u64, u64, u32) {
    fn wire_size(&self) -> usize {
        20
    }
}

/// Verification: each candidate goes to the owner of `a`, which attaches `a`'s
/// signature and location, then to the owner of `b`, which judges it as the
/// single-process run does (pairs whose units one worker owns stay there).
/// Attached pairs travel in rounds small enough for half the memory budget.
/// Returns this worker's edges (those whose `b` it owns), sorted, and how to
/// name the other workers' units they mention.
fn verify(
    ex: &mut Exchange<'_>,
    corpus: &Corpus,
    share: &Share,
    config: &DedupConfig,
    shingler: &Shingler,
    candidates: Vec<Candidate>,
    budget: u64,
) -> Result<(Vec<Edge>, HashMap<u32, IndexedUnit>)> {
    let owners = share.owners.clone();
    let at_a = ex.shuffle(candidates, move |&(a, _, _): &Candidate| owners.of(a));
    let k = config.num_perm;
    let signatures = Signatures::new(&[], &share.sketched.shards, k * compact::BYTES_PER_VALUE);
    let me = ex.index();
    let (mut local, outgoing): (Vec<Candidate>, Vec<Candidate>) = at_a
        .into_iter()
        .partition(|&(_, b, _)| share.owners.of(b) == me);
    local.sort_unstable_by_key(|&(a, b, _)| (a, b));
    let judge = Judge {
        config,
        signatures: &signatures,
        first_unit: share.first_unit,
    };
    let texts_budget = budget / 2;

    // Pairs of this worker's own units.
    let judged: Vec<Judgement> = local
        .par_iter()
        .map(|&(a, b, similarity)| judge.pair(judge.own_signature(a), b, similarity))
        .collect();
    // Keeps the pairs judged by their known similarity and settles the
    // doubtful ones by exact Jaccard; `pair(i)` and `loc(i)` say what the i-th
    // judged pair is and where its `a` unit is.
    let settle = |judged: Vec<Judgement>,
                  pair: &dyn Fn(usize) -> (u32, u32),
                  loc: &dyn Fn(usize) -> UnitLoc|
     -> Result<Vec<Candidate>> {
        let mut kept: Vec<Candidate> = Vec::new();
        let mut doubtful: Vec<(u32, u32, UnitLoc)> = Vec::new();
        for (i, judgement) in judged.into_iter().enumerate() {
            let (a, b) = pair(i);
            match judgement {
                Judgement::Keep(similarity) => kept.push((a, b, similarity)),
                Judgement::Doubtful => doubtful.push((a, b, loc(i))),
                Judgement::Drop => {}
            }
        }
        kept.extend(verify_exact(
            corpus,
            share,
            shingler,
            &doubtful,
            config.threshold,
            texts_budget,
        )?);
        Ok(kept)
    };
    let mut accepted = settle(judged, &|i| (local[i].0, local[i].1), &|i| {
        share.loc(local[i].0)
    })?;
    drop(local);

    // Pairs with another worker's `b`, in rounds.
    let attached_bytes = (k * compact::BYTES_PER_VALUE + 128) as u64;
    let my_rounds = (outgoing.len() as u64 * attached_bytes).div_ceil(texts_budget.max(1));
    let rounds = ex
        .all_gather(my_rounds)
        .into_iter()
        .max()
        .unwrap_or(0)
        .max(1);
    let per_round = outgoing.len().div_ceil(rounds as usize).max(1);
    let mut named = HashMap::new();
    for round in 0..rounds as usize {
        let part = outgoing.get(round * per_round..).unwrap_or(&[]);
        let attached: Vec<Attached> = part[..per_round.min(part.len())]
            .iter()
            .map(|&(a, b, similarity)| Attached {
                a,
                b,
                similarity,
                signature: match config.algo {
                    Algo::Minhash => judge.own_signature(a).to_vec(),
                    Algo::Simhash | Algo::Exact => Vec::new(),
                },
                loc: share.loc(a),
            })
            .collect();
        let owners = share.owners.clone();
        let foreign = ex.shuffle(attached, move |p: &Attached| owners.of(p.b));
        let judged: Vec<Judgement> = foreign
            .par_iter()
            .map(|p| judge.pair(&p.signature, p.b, p.similarity))
            .collect();
        let mut kept = settle(judged, &|i| (foreign[i].a, foreign[i].b), &|i| {
            foreign[i].loc.clone()
        })?;
        kept.sort_unstable_by_key(|&(a, b, _)| (a, b));
        // Names of the other workers' units that kept edges mention.
        for p in &foreign {
            if kept
                .binary_search_by_key(&(p.a, p.b), |&(a, b, _)| (a, b))
                .is_ok()
            {
                let id = serde_json::from_str(&p.loc.id).map_err(|e| {
                    Error::Distributed(format!("a unit id did not survive the exchange: {e}"))
                })?;
                named.insert(
                    p.a,
                    IndexedUnit {
                        id,
                        para: p.loc.para,
                    },
                );
            }
        }
        accepted.extend(kept);
    }
    accepted.sort_unstable_by_key(|&(a, b, _)| (a, b));
    let edges = accepted
        .into_iter()
        .map(|(a, b, similarity)| Edge { a, b, similarity })
        .collect();
    Ok((edges, named))
}

/// How a worker judges a candidate pair by what is known before exact
/// verification, as a single process does.
struct Judge<'a> {
    config: &'a DedupConfig,
    signatures: &'a Signatures<'a>,
    first_unit: u32,
}

impl Judge<'_> {
    /// The compact signature of this worker's unit `unit` (MinHash).
    fn own_signature(&self, unit: u32) -> &[u8] {
        match self.config.algo {
            Algo::Minhash => self.signatures.get(unit - self.first_unit),
            Algo::Simhash | Algo::Exact => &[],
        }
    }

    /// Judges `(a, b)` from `a`'s signature, `b` (this worker's) and the
    /// similarity the candidate stage found.
    fn pair(&self, signature_a: &[u8], b: u32, similarity: f32) -> Judgement {
        let (config, threshold) = (self.config, self.config.threshold);
        match config.algo {
            Algo::Minhash => {
                let own = self.own_signature(b);
                let estimate = compact::estimate(signature_a, own) as f32;
                verify::judge_estimate(config.verify, threshold, config.num_perm, estimate)
            }
            Algo::Simhash if config.verify == Verify::Exact => Judgement::Doubtful,
            Algo::Simhash | Algo::Exact => Judgement::Keep(similarity),
        }
    }
}

/// Exact Jaccard of the `doubtful` pairs `(a, b, where a is)`: `a` units are
/// read from the input through their locations, `b` units are this worker's.
fn verify_exact(
    corpus: &Corpus,
    share: &Share,
    shingler: &Shingler,
    doubtful: &[(u32, u32, UnitLoc)],
    threshold: f64,
    texts_budget: u64,
) -> Result<Vec<Candidate>> {
    if doubtful.is_empty() {
        return Ok(Vec::new());
    }
    // Only the units of doubtful pairs are listed, with their record's place
    // (its id is not needed to read the text).
    let mut records: Vec<RecordMeta> = Vec::new();
    let mut units: Vec<UnitMeta> = Vec::new();
    let mut listed: HashMap<u32, u32> = HashMap::new();
    let mut list = |unit: u32, loc: &dyn Fn() -> UnitLoc| -> u32 {
        *listed.entry(unit).or_insert_with(|| {
            let loc = loc();
            records.push(RecordMeta {
                file: loc.file,
                start: loc.record_start as usize,
                len: loc.record_len as usize,
                line: loc.line,
                // Not written anywhere: this record only locates text.
                id: crate::corpus::RecordId::Int(0),
            });
            units.push(UnitMeta {
                record: (records.len() - 1) as u32,
                para: loc.para,
                start: loc.start as usize,
                len: loc.len as usize,
                features: loc.features,
            });
            (units.len() - 1) as u32
        })
    };
    let mut pairs = Vec::with_capacity(doubtful.len());
    for (a, b, loc) in doubtful {
        let a = list(*a, &|| loc.clone());
        let b = list(*b, &|| share.loc(*b));
        pairs.push((a, b));
    }
    let texts = UnitTexts {
        corpus,
        records: &records,
        units: &units,
        shingler,
        budget_bytes: texts_budget,
    };
    let kept = verify::verify_exact(&texts, &pairs, threshold, &NoProgress)?;
    // Back to run-wide numbers.
    let position: HashMap<(u32, u32), usize> = pairs
        .iter()
        .enumerate()
        .map(|(p, &pair)| (pair, p))
        .collect();
    Ok(kept
        .into_iter()
        .map(|(a, b, similarity)| {
            let (a, b, _) = &doubtful[position[&(a, b)]];
            (*a, *b, similarity)
        })
        .collect())
}

/// Cluster counts of this worker's units: heads of clusters, duplicates, and
/// clusters with duplicates (counted by the owner of each cluster's label).
fn count_clusters(
    ex: &mut Exchange<'_>,
    outcome: &crate::pipeline::DedupOutcome,
    owners: &Owners,
    counts: &mut Counts,
) {
    let first = outcome.first_unit;
    let mut duplicate_labels = Vec::new();
    for (i, (unit, &label)) in outcome.units.iter().zip(&outcome.labels).enumerate() {
        counts.units += 1;
        counts.unit_bytes += unit.len as u64;
        if unit.features == 0 {
            counts.featureless_units += 1;
        }
        if label == first + i as u32 {
            counts.clusters += 1;
        } else {
            counts.duplicate_units += 1;
            counts.duplicate_bytes += unit.len as u64;
            duplicate_labels.push(label);
        }
    }
    counts.records = outcome.records.len() as u64;
    // One label per removed unit: the owner of a label counts its cluster's size.
    let owners = owners.clone();
    let mut got = ex.shuffle(duplicate_labels, move |&label: &u32| owners.of(label));
    got.sort_unstable();
    let sizes: Vec<usize> = got
        .chunk_by(|a, b| a == b)
        .map(|run| run.len() + 1)
        .collect();
    counts.duplicate_clusters = sizes.len() as u64;
    counts.largest_cluster = sizes
        .into_iter()
        .max()
        .unwrap_or(usize::from(counts.units > 0)) as u64;
}

/// Merges skipped-record counts from every worker.
pub(super) fn merged_invalid(all: &[Counts]) -> InvalidRecords {
    let mut invalid = InvalidRecords::default();
    for c in all {
        invalid.absorb(c.invalid, c.invalid_examples.iter().cloned());
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chunk(file: u32, start: usize, end: usize) -> Chunk {
        Chunk {
            file,
            start,
            end,
            first_line: 0,
        }
    }

    #[test]
    fn owners_skip_workers_without_units() {
        // Worker 1 has no units: [0, 5) on 0, [5, 9) on 2, [9, ..) on 3.
        let owners = Owners::new(vec![0, 5, 5, 9]);
        let found: Vec<usize> = [0, 4, 5, 8, 9, 100].iter().map(|&u| owners.of(u)).collect();
        assert_eq!(found, vec![0, 0, 2, 2, 3, 3]);
    }

    proptest! {
        #[test]
        fn every_bucket_has_one_owner_that_knows_it(
            tables in 1usize..40,
            peers in 1usize..20,
            table_seed in 0usize..1000,
            key in any::<u64>(),
        ) {
            let place = BucketPlace { tables, peers };
            let table = table_seed % tables;
            let owner = place.owner(table, key);
            prop_assert!(owner < peers);
            prop_assert!(place.may_own(table, owner));
        }

        #[test]
        fn shares_are_contiguous_cover_every_shard_and_are_balanced(
            sizes in proptest::collection::vec(1usize..1000, 1..60),
            peers in 1usize..9,
        ) {
            let mut chunks = Vec::new();
            let mut at = 0;
            for size in &sizes {
                chunks.push(chunk(0, at, at + size));
                at += size;
            }
            let shards: Vec<Range<usize>> = (0..chunks.len()).map(|i| i..i + 1).collect();
            let shares: Vec<Range<usize>> = (0..peers).map(|w| share(&chunks, &shards, w, peers)).collect();
            let mut next = 0;
            for range in &shares {
                prop_assert_eq!(range.start, next);
                next = range.end;
            }
            prop_assert_eq!(next, shards.len());
            // No share is more than one shard over its even part of the bytes.
            let largest = *sizes.iter().max().expect("shards") as u64;
            let total: u64 = sizes.iter().map(|&s| s as u64).sum();
            for range in &shares {
                let bytes: u64 = sizes[range.clone()].iter().map(|&s| s as u64).sum();
                prop_assert!(bytes <= total / peers as u64 + largest + 1);
            }
        }
    }
}
