//! `report.json`: what a run was asked to do, what it found, and what it cost.

use std::path::PathBuf;

use serde::Serialize;

use super::records::{RecordOutput, Written};
use super::writers::DedupedCounts;
use crate::corpus::{Corpus, Format, SkippedFiles};
use crate::memory::MemoryPeaks;
use crate::minhash::LshParams;
use crate::pipeline::{DedupConfig, DedupOutcome, InvalidRecords, Resumed, StageTiming, Stats};

/// The contents of `report.json`: what a finished run returns to a program, and
/// what the command line summarises.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Version of neardedup that wrote the report.
    pub version: &'static str,
    /// Input files read, in order.
    pub inputs: Vec<PathBuf>,
    /// Total bytes of those inputs.
    pub input_bytes: u64,
    /// How the inputs were read, so that `neardedup review` can read them again.
    pub corpus: CorpusReport,
    /// The run's settings.
    pub parameters: DedupConfig,
    /// Worker threads.
    pub threads: usize,
    /// LSH bands and rows actually used (MinHash).
    pub lsh: Option<LshReport>,
    /// Counts.
    pub counts: Stats,
    /// How the candidate pairs were settled (see [`crate::pipeline::Settled`]).
    pub verified_by: crate::pipeline::Settled,
    /// Units given the sketch of an earlier unit with the same bytes instead
    /// of being sketched again (see [`crate::pipeline::repeats`]). Like
    /// `verified_by`, it depends on how the run was spread: each process
    /// remembers what it sketched, within its memo's size, and shards taken
    /// from an interrupted run's checkpoints count none.
    pub repeats_reused: u64,
    /// Share of unit bytes that dedup removes.
    pub duplicate_bytes_fraction: f64,
    /// What the record outputs hold.
    pub deduped: DedupedCounts,
    /// How the records were written: mode, format, one file or one per input.
    pub output: RecordOutput,
    /// The record outputs written (per input file, or one), and `removed.EXT`,
    /// each with its number of records.
    pub outputs: Vec<Written>,
    /// Files passed over.
    pub skipped_files: SkippedFiles,
    /// Records passed over (with the skip-invalid setting).
    pub invalid_records: InvalidRecords,
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
    pub resumed: Resumed,
    /// How a distributed run was spread; absent for a single-process run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distributed: Option<DistributedReport>,
}

/// What a distributed run adds to the report.
#[derive(Debug, Clone, Serialize)]
pub struct DistributedReport {
    /// Processes of the run.
    pub processes: usize,
    /// Workers in each process.
    pub workers_per_process: usize,
    /// The clusters and pairs part files of each worker, in worker order.
    pub parts: Vec<Vec<String>>,
    /// Bytes sent between processes, per stage (stages in run order).
    pub exchanged_bytes: serde_json::Map<String, serde_json::Value>,
    /// Bytes sent between processes in the whole run.
    pub exchanged_bytes_total: u64,
    /// Rounds of label propagation the cluster stage took.
    pub label_propagation_rounds: u32,
    /// Peak resident memory of each worker's process, in worker order.
    pub peak_rss_bytes_per_worker: Vec<u64>,
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
#[derive(Debug, Clone, Serialize)]
pub struct CorpusReport {
    /// JSONL field holding the text.
    pub text_field: String,
    /// JSONL field holding the id, if one was named.
    pub id_field: Option<String>,
    /// The format forced for every file, if one was.
    pub format: Option<Format>,
    /// Bytes of each input, in the order of `inputs`.
    pub input_sizes: Vec<u64>,
}

/// LSH band layout in the report.
#[derive(Debug, Clone, Serialize)]
pub struct LshReport {
    /// Bands.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
    /// `bands * rows`, the permutations actually used by the index.
    pub used_permutations: usize,
}

impl Report {
    /// Writes the report as `report.json` holds it: pretty JSON and a newline.
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> crate::error::Result<()> {
        use crate::error::Error;
        serde_json::to_writer_pretty(&mut *w, self)
            .map_err(|e| Error::io("report.json", e.into()))?;
        w.write_all(b"\n").map_err(|e| Error::io("report.json", e))
    }

    /// Builds the report of a finished run.
    pub fn new(
        corpus: &Corpus,
        config: &DedupConfig,
        outcome: &DedupOutcome,
        deduped: DedupedCounts,
        output: (RecordOutput, Vec<Written>),
        costs: RunCosts,
    ) -> Self {
        let stats = &outcome.stats;
        Report {
            version: env!("CARGO_PKG_VERSION"),
            inputs: corpus.files().iter().map(|f| f.path.clone()).collect(),
            input_bytes: corpus.total_bytes(),
            corpus: CorpusReport {
                text_field: corpus.options().text_field.clone(),
                id_field: corpus.options().id_field.clone(),
                format: corpus.options().format,
                input_sizes: corpus
                    .files()
                    .iter()
                    .map(|f| f.bytes.len() as u64)
                    .collect(),
            },
            parameters: config.clone(),
            threads: costs.threads,
            lsh: outcome.lsh.map(|LshParams { bands, rows }| LshReport {
                bands,
                rows,
                used_permutations: bands * rows,
            }),
            counts: stats.clone(),
            verified_by: stats.verified_by,
            repeats_reused: outcome.repeats_reused,
            duplicate_bytes_fraction: if stats.unit_bytes == 0 {
                0.0
            } else {
                stats.duplicate_bytes as f64 / stats.unit_bytes as f64
            },
            deduped,
            output: output.0,
            outputs: output.1,
            skipped_files: corpus.skipped().clone(),
            invalid_records: outcome.invalid.clone(),
            timings: costs.timings,
            wall_seconds: costs.wall_seconds,
            memory: costs.memory,
            memory_budget_bytes: costs.memory_budget,
            scratch_bytes: outcome.scratch_bytes,
            resumed: outcome.resumed.clone(),
            distributed: None,
        }
    }
}
