//! Runs a grid in-process over one opened corpus and scores every run.
//!
//! Each run is one [`pipeline::run`] on the shared [`Corpus`] (mapped once),
//! scored with [`evaluate`] against the truth. Timings are the pipeline's own
//! stage clocks; the scoring and the S-curve sampling are not timed.
//!
//! Peak memory: the kernel's high-water mark (`VmHWM`) is process-wide, so before
//! each run it is reset by writing `5` to `/proc/self/clear_refs` (Linux 4.0 and
//! later). The figure then is the process's peak resident memory during that run,
//! including what stays resident across runs (the truth, mapped corpus pages,
//! earlier results). Where the reset is refused, the figure is the running
//! process-wide peak, and [`RunResult::peak_rss_reset`] says so.

use std::collections::HashMap;
use std::time::Instant;

use crate::corpus::Corpus;
use crate::error::Result;
use crate::eval::{evaluate, render_id, Predictions, Report, Truth, UnitKey, ORIGINAL};
use crate::minhash::MinHasher;
use crate::pipeline::{self, Algo, DedupConfig, DedupOutcome, NoProgress};
use crate::text::{ShingleSet, Shingler};

use super::grid::{algo_name, describe};
use super::scurve::{band_collision, bin_samples, PairSample, ScurvePoint};

/// Jaccard bins of the empirical S-curve.
pub const SCURVE_BINS: usize = 20;

/// One run of the grid and its scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunResult {
    /// 1-based position in the grid.
    pub run: usize,
    /// `minhash`, `simhash` or `exact`.
    pub algo: &'static str,
    /// Short label of the settings.
    pub settings: String,
    /// The full configuration.
    pub config: DedupConfig,
    /// LSH bands and rows (MinHash).
    pub lsh: Option<(usize, usize)>,
    /// The evaluation against the truth.
    pub eval: Report,
    /// Recall of truth pairs with true Jaccard in `[0.5, 0.7)` (`None`: no pairs).
    pub recall_05_07: Option<f64>,
    /// Recall of truth pairs with true Jaccard `>= 0.9`.
    pub recall_ge_09: Option<f64>,
    /// Candidate pairs before verification.
    pub candidate_pairs: u64,
    /// Verified edges.
    pub edges: u64,
    /// Units in the largest predicted cluster.
    pub largest_cluster: u64,
    /// Input bytes.
    pub input_bytes: u64,
    /// Seconds of the read+sketch stage.
    pub sketch_seconds: f64,
    /// Input megabytes (10^6 bytes) per read+sketch second.
    pub sketch_mb_per_s: f64,
    /// Wall seconds of the whole pipeline run (scoring excluded).
    pub total_seconds: f64,
    /// Per-stage seconds.
    pub stages: Vec<(String, f64)>,
    /// Peak resident memory in bytes (see the module notes).
    pub peak_rss_bytes: Option<u64>,
    /// Was the high-water mark reset before this run?
    pub peak_rss_reset: bool,
    /// MinHash: band-collision rate of the truth's (original, derived) pairs by the
    /// exact Jaccard of their shingle sets under this run's shingling.
    pub scurve: Vec<ScurvePoint>,
}

/// Resets the process's resident-memory high-water mark; false if refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

/// Runs every configuration on `corpus` and scores it against `truth`, calling
/// `done` after each run (for progress output).
pub fn run_grid(
    corpus: &Corpus,
    truth: &Truth,
    configs: &[DedupConfig],
    mut done: impl FnMut(&RunResult),
) -> Result<Vec<RunResult>> {
    let mut out = Vec::with_capacity(configs.len());
    for (i, config) in configs.iter().enumerate() {
        let result = run_one(corpus, truth, config, i + 1)?;
        done(&result);
        out.push(result);
    }
    Ok(out)
}

/// One run, scored.
pub fn run_one(
    corpus: &Corpus,
    truth: &Truth,
    config: &DedupConfig,
    run: usize,
) -> Result<RunResult> {
    let peak_rss_reset = reset_peak_rss();
    let started = Instant::now();
    let outcome = pipeline::run(corpus, config, &NoProgress)?;
    let total_seconds = started.elapsed().as_secs_f64();
    let peak_rss_bytes = crate::memory::peak_rss_bytes();

    let eval = evaluate(truth, &predictions(&outcome)?)?;
    let range_recall = |from: usize, to: usize| {
        let (pairs, found) = eval.buckets.buckets[from..to]
            .iter()
            .fold((0u64, 0u64), |(p, f), b| (p + b.pairs, f + b.found));
        (pairs > 0).then(|| found as f64 / pairs as f64)
    };
    let recall_05_07 = range_recall(5, 7);
    let recall_ge_09 = range_recall(9, eval.buckets.buckets.len());
    let sketch_seconds = outcome
        .timings
        .iter()
        .find(|t| t.stage == "read+sketch")
        .map_or(0.0, |t| t.seconds);
    let input_bytes = corpus.total_bytes();
    let scurve = match (config.algo, outcome.lsh) {
        (Algo::Minhash, Some(params)) => bin_samples(
            &truth_pair_samples(corpus, truth, config, &outcome)?,
            params,
            SCURVE_BINS,
        ),
        _ => Vec::new(),
    };
    Ok(RunResult {
        run,
        algo: algo_name(config.algo),
        settings: describe(config),
        config: config.clone(),
        lsh: outcome.lsh.map(|p| (p.bands, p.rows)),
        recall_05_07,
        recall_ge_09,
        candidate_pairs: outcome.stats.candidate_pairs,
        edges: outcome.stats.edges,
        largest_cluster: outcome.stats.largest_cluster,
        input_bytes,
        sketch_seconds,
        sketch_mb_per_s: if sketch_seconds > 0.0 {
            input_bytes as f64 / 1e6 / sketch_seconds
        } else {
            0.0
        },
        total_seconds,
        stages: outcome
            .timings
            .iter()
            .map(|t| (t.stage.to_string(), t.seconds))
            .collect(),
        peak_rss_bytes,
        peak_rss_reset,
        scurve,
        eval,
    })
}

/// The run's clusters as evaluation predictions, keyed like `clusters.jsonl`.
pub fn predictions(outcome: &DedupOutcome) -> Result<Predictions> {
    Predictions::from_pairs(
        "(in-process run)",
        outcome
            .units
            .iter()
            .zip(&outcome.labels)
            .map(|(unit, &label)| (unit_key(outcome, unit.record, unit.para), label as u64)),
    )
}

fn unit_key(outcome: &DedupOutcome, record: u32, para: Option<u32>) -> UnitKey {
    UnitKey {
        // As the truth file's ids are read (through `serde_json::Value`), so
        // that the two compare alike.
        id: render_id(&outcome.records[record as usize].id.to_value()),
        para,
    }
}

/// For every (original, derived) pair of the truth: the exact Jaccard of the two
/// units' shingle sets under `config`'s shingling and whether their MinHash
/// signatures (the run's permutations) share an LSH band.
pub fn truth_pair_samples(
    corpus: &Corpus,
    truth: &Truth,
    config: &DedupConfig,
    outcome: &DedupOutcome,
) -> Result<Vec<PairSample>> {
    let Some(params) = outcome.lsh else {
        return Ok(Vec::new());
    };
    let shingler = Shingler::new(config.sketch.shingle)?;
    let hasher = MinHasher::new(config.sketch.num_perm, config.sketch.seed);
    let index: HashMap<UnitKey, usize> = outcome
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (unit_key(outcome, u.record, u.para), i))
        .collect();
    let mut originals: HashMap<&str, usize> = HashMap::new();
    for unit in truth.units() {
        if unit.edit == ORIGINAL || unit.key.to_string() == unit.cluster {
            if let Some(&i) = index.get(&unit.key) {
                originals.entry(unit.cluster.as_str()).or_insert(i);
            }
        }
    }
    let pairs: Vec<(usize, usize)> = truth
        .units()
        .iter()
        .filter_map(|unit| {
            let orig = *originals.get(unit.cluster.as_str())?;
            let derived = *index.get(&unit.key)?;
            (orig != derived).then_some((orig, derived))
        })
        .collect();
    let mut sketches: HashMap<usize, (ShingleSet, Vec<u32>)> = HashMap::new();
    for &i in pairs.iter().flat_map(|(a, b)| [a, b]) {
        if sketches.contains_key(&i) {
            continue;
        }
        let unit = &outcome.units[i];
        let text = corpus.record_text(&outcome.records[unit.record as usize])?;
        let shingles = shingler.shingles(&text[unit.start..unit.start + unit.len]);
        let signature = hasher.sign(&shingles);
        sketches.insert(i, (ShingleSet::from_hashes(shingles), signature));
    }
    let mut samples = Vec::with_capacity(pairs.len());
    for (a, b) in pairs {
        let ((set_a, sig_a), (set_b, sig_b)) = (&sketches[&a], &sketches[&b]);
        if set_a.is_empty() || set_b.is_empty() {
            continue;
        }
        samples.push(PairSample {
            jaccard: set_a.jaccard(set_b),
            collided: band_collision(sig_a, sig_b, params),
        });
    }
    Ok(samples)
}
