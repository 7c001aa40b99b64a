//! `report.json`: what a run was asked to do, what it found, and what it cost.

use std::path::PathBuf;

use serde::Serialize;

use super::writers::DedupedCounts;
use crate::corpus::{Corpus, Format, SkippedFiles};
use crate::memory::MemoryPeaks;
use crate::minhash::LshParams;
use crate::pipeline::{DedupConfig, DedupOutcome, InvalidRecords, Resumed, StageTiming, Stats};

/// The contents of `report.json`.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Version of neardedup that wrote the report.
    pub version: &'static str,
    /// Input files read, in order.
    pub inputs: Vec<PathBuf>,
    /// Total bytes of those inputs.
    pub input_bytes: u64,
    /// How the inputs were read, so that `neardedup review` can read them again.
    pub corpus: CorpusReport<'a>,
    /// The run's settings.
    pub parameters: &'a DedupConfig,
    /// Worker threads.
    pub threads: usize,
    /// LSH bands and rows actually used (MinHash).
    pub lsh: Option<LshReport>,
    /// Counts.
    pub counts: &'a Stats,
    /// Share of unit bytes that dedup removes.
    pub duplicate_bytes_fraction: f64,
    /// What `deduped.jsonl` holds.
    pub deduped: DedupedCounts,
    /// Files passed over.
    pub skipped_files: &'a SkippedFiles,
    /// Records passed over under `--skip-invalid`.
    pub invalid_records: &'a InvalidRecords,
    /// Wall time per stage, output writing included.
    pub timings: Vec<StageTiming>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
    /// Peak memory: resident high-water mark (mapped input pages included), and
    /// the sampled peaks of anonymous (allocated) and file-backed (mapped) memory.
    pub memory: MemoryPeaks,
    /// The memory budget the run's working structures were sized to, in bytes.
    pub memory_budget_bytes: u64,
    /// Bytes of checkpoints in the scratch folder at the end of the run (the
    /// run's on-disk intermediates).
    pub scratch_bytes: u64,
    /// What the run took from an interrupted earlier run of the same command.
    pub resumed: &'a Resumed,
}

/// What a run cost, measured outside the pipeline.
#[derive(Debug, Clone)]
pub struct RunCosts {
    /// Wall time per stage, output writing included.
    pub timings: Vec<StageTiming>,
    /// Wall time of the whole run in seconds.
    pub wall_seconds: f64,
    /// Worker threads.
    pub threads: usize,
    /// Peak memory.
    pub memory: MemoryPeaks,
    /// The run's memory budget in bytes.
    pub memory_budget: u64,
}

/// How the inputs were read: enough to cut them into the same units again and to
/// notice when one has changed since the run.
#[derive(Debug, Serialize)]
pub struct CorpusReport<'a> {
    /// JSONL field holding the text.
    pub text_field: &'a str,
    /// JSONL field holding the id, if one was named.
    pub id_field: Option<&'a str>,
    /// The format forced for every file, if one was.
    pub format: Option<Format>,
    /// Bytes of each input, in the order of `inputs`.
    pub input_sizes: Vec<u64>,
}

/// LSH band layout in the report.
#[derive(Debug, Serialize)]
pub struct LshReport {
    /// Bands.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
    /// `bands * rows`, the permutations actually used by the index.
    pub used_permutations: usize,
}

impl<'a> Report<'a> {
    /// Builds the report of a finished run.
    pub fn new(
        corpus: &'a Corpus,
        config: &'a DedupConfig,
        outcome: &'a DedupOutcome,
        deduped: DedupedCounts,
        costs: RunCosts,
    ) -> Self {
        let stats = &outcome.stats;
        Report {
            version: env!("CARGO_PKG_VERSION"),
            inputs: corpus.files().iter().map(|f| f.path.clone()).collect(),
            input_bytes: corpus.total_bytes(),
            corpus: CorpusReport {
                text_field: &corpus.options().text_field,
                id_field: corpus.options().id_field.as_deref(),
                format: corpus.options().format,
                input_sizes: corpus
                    .files()
                    .iter()
                    .map(|f| f.bytes.len() as u64)
                    .collect(),
            },
            parameters: config,
            threads: costs.threads,
            lsh: outcome.lsh.map(|LshParams { bands, rows }| LshReport {
                bands,
                rows,
                used_permutations: bands * rows,
            }),
            counts: stats,
            duplicate_bytes_fraction: if stats.unit_bytes == 0 {
                0.0
            } else {
                stats.duplicate_bytes as f64 / stats.unit_bytes as f64
            },
            deduped,
            skipped_files: corpus.skipped(),
            invalid_records: &outcome.invalid,
            timings: costs.timings,
            wall_seconds: costs.wall_seconds,
            memory: costs.memory,
            memory_budget_bytes: costs.memory_budget,
            scratch_bytes: outcome.scratch_bytes,
            resumed: &outcome.resumed,
        }
    }
}
