//! A distributed run's output folder: one part of each line file per worker,
//! the same record outputs as one process writes, and `report.json` from
//! worker 0.
//!
//! Worker `w` of `n` writes `clusters-w-of-n.jsonl` and `pairs-w-of-n.jsonl`
//! (five-digit numbers). Workers hold contiguous shares of the input in worker
//! order, so concatenating the `clusters` parts in order gives the
//! single-process file; `pairs` parts hold the edges whose later unit the
//! worker owns, each part sorted.
//!
//! Record outputs ([`records`]) are the single-process files, byte for byte:
//! each is written whole by one worker, into its machine's output folder. A
//! per-input-file output belongs to the first worker holding records of that
//! file; the records other workers hold of it (a file cut between shares)
//! travel to that worker as JSON lines, which it appends in worker order after
//! its own, before encoding (compressing, or converting to Parquet) the file.
//! `removed.EXT` and a single output file belong to worker 0, which receives
//! every other worker's lines. What travels is held in memory by the worker
//! that receives it: one file's tail for a file cut between shares, the whole
//! removed (or single) output for worker 0.
//!
//! All or nothing: each worker writes into its own hidden staging folder; once
//! every worker has (a barrier), each moves its files into place; after a
//! second barrier worker 0 writes `report.json`, naming every part and record
//! output. A run that fails or loses a process never writes `report.json`, and
//! at its start a run removes the report, the parts and the record outputs of
//! earlier runs, so a folder with a report holds one complete run.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::exchange::{Exchange, WireSize};
use crate::memory::MemoryPeaks;
use crate::output::records::{self, Emitter, Layout, RecordOutput, Written};
use crate::output::report::{DistributedReport, Report, RunCosts};
use crate::output::writers::{self, DedupedCounts};
use crate::output::{
    remove_earlier_outputs, remove_if_present, remove_stale_staging, write_synced, Staging,
};
use crate::pipeline::engine::WorkerOutcome;
use crate::pipeline::DedupConfig;
use crate::pipeline::{DedupOutcome, InvalidRecords, Resumed, StageTiming};

/// The kinds of part files removed at the start of a run: the line files
/// ([`writers::LINE_FILES`]) each worker writes a part of, and the
/// `deduped` parts of runs that wrote their records in parts.
const STALE_KINDS: [&str; 3] = ["clusters", "pairs", "deduped"];

/// File name of worker `worker`'s part of `kind` (`clusters` or `pairs`) in a
/// run of `workers` workers.
pub fn part_name(kind: &str, worker: usize, workers: usize) -> String {
    format!("{kind}-{worker:05}-of-{workers:05}.jsonl")
}

/// Whether `name` is a part file of some run (`KIND-NNNNN-of-NNNNN.jsonl`), or
/// a temporary one.
fn is_part(name: &str) -> bool {
    let name = name.strip_prefix('.').unwrap_or(name);
    let name = name.split(".tmp").next().unwrap_or(name);
    STALE_KINDS.iter().any(|kind| {
        name.strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(".jsonl"))
            .is_some_and(|rest| {
                let bytes = rest.as_bytes();
                bytes.len() == 14
                    && &rest[5..9] == "-of-"
                    && bytes[..5].iter().chain(&bytes[9..]).all(u8::is_ascii_digit)
            })
    })
}

/// Removes what earlier runs left in the output folder: `report.json` first,
/// then the line files, record outputs and every part file (the first worker
/// of each process, for its own machine's folder). Run by every worker before
/// a barrier.
pub fn clear_stale<E: Exchange>(ex: &E, out: &Path) -> Result<()> {
    fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    if !ex.first_in_process() {
        return Ok(());
    }
    remove_stale_staging(out);
    remove_earlier_outputs(out)?;
    let entries = fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        if entry.file_name().to_str().is_some_and(is_part) {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

/// Lines of a record output travelling to the worker that writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Piece {
    /// The worker that writes the output.
    to: usize,
    /// The worker the lines come from.
    from: usize,
    /// The output's path relative to the output folder.
    name: PathBuf,
    /// JSON lines, each ending in a newline.
    lines: Vec<u8>,
}

impl WireSize for Piece {
    fn wire_size(&self) -> usize {
        16 + self.name.as_os_str().len() + self.lines.len()
    }
}

/// The record outputs of a run, from this worker: it writes those it owns
/// (its staging folder), and sends the lines of the others to their owners.
fn write_records<E: Exchange>(
    ex: &mut E,
    staging: &Staging,
    emitter: &Emitter<'_>,
    layout: &Layout,
    removes: bool,
) -> Result<(Vec<Written>, DedupedCounts)> {
    let me = ex.index();
    let groups = records::file_groups(emitter.outcome);
    let mut mine: Vec<String> = groups
        .iter()
        .map(|g| layout.target(g.file).name.to_string_lossy().into_owned())
        .collect();
    mine.dedup();
    let everyone = ex.all_gather(mine);
    let mut owners: std::collections::HashMap<PathBuf, usize> = Default::default();
    for (worker, names) in everyone.into_iter().enumerate() {
        for name in names {
            owners.entry(PathBuf::from(name)).or_insert(worker);
        }
    }
    let owner = move |name: &Path| owners.get(name).copied().unwrap_or(0);
    let owned = |name: &Path| owner(name) == me;
    // `removes`: whether removed units are written at all (not in annotate
    // mode, nor with `--omit removed`).
    let removed_here = removes && me == 0;
    // A worker that fails here still takes part in the shuffle (the others
    // wait for it), then reports its error.
    let (pieces, mut counts, failed) =
        match records::pieces(layout, emitter, &groups, &owned, removes && me != 0) {
            Ok((pieces, counts)) => (pieces, counts, None),
            Err(e) => (Vec::new(), DedupedCounts::default(), Some(e)),
        };
    let removed_name = layout.removed().name.clone();
    let pieces: Vec<Piece> = pieces
        .into_iter()
        .map(|(name, lines)| Piece {
            to: if name == removed_name {
                0
            } else {
                owner(&name)
            },
            from: me,
            name,
            lines,
        })
        .collect();
    let mut arrived = ex.shuffle(pieces, |p: &Piece| p.to);
    if let Some(e) = failed {
        return Err(e);
    }
    arrived.sort_by_key(|p| p.from);
    let mut received = records::Received::new();
    for piece in arrived {
        received.entry(piece.name).or_default().push(piece.lines);
    }
    let (mut written, own_counts) = records::write(
        staging,
        layout,
        emitter,
        &groups,
        &owned,
        &received,
        removed_here,
    )?;
    counts.add(&own_counts);
    for file in &mut written {
        file.worker = Some(me);
    }
    Ok((written, counts))
}

/// Writes this worker's parts and record outputs, puts them in place once
/// every worker has, and on worker 0 writes `report.json`; returns the report
/// on worker 0.
pub fn write<E: Exchange>(
    ex: &mut E,
    corpus: &Corpus,
    out: &Path,
    config: &DedupConfig,
    output: &RecordOutput,
    memory_budget: u64,
    worker: WorkerOutcome,
) -> Result<Option<Report>> {
    let WorkerOutcome {
        outcome,
        mut exchanged,
        label_rounds,
    } = worker;
    let outcome = &outcome;
    let writing = std::time::Instant::now();
    let sent_before = ex.remote_bytes();
    let (me, workers) = (ex.index(), ex.peers());
    let layout = Layout::new(corpus, output)?;
    let emitter = Emitter {
        corpus,
        outcome,
        unit: config.sketch.unit,
        para_sep: config.sketch.para_sep,
        mode: output.mode,
    };
    let staging = Staging::new(out, Some(me));
    let staging = ex.agree("write", staging)?;
    let written = write_records(ex, &staging, &emitter, &layout, output.writes_removed()).and_then(
        |records| {
            writers::write_line_files(
                &|kind, fill| staging.write(Path::new(&part_name(kind, me, workers)), |w| fill(w)),
                outcome,
                output.line_files(),
                || Ok(records),
            )
        },
    );
    let (written, deduped) = ex.agree("write", written)?;
    let placed = staging.commit();
    ex.agree("write", placed)?;
    let mut timings = outcome.timings.clone();
    timings.push(StageTiming {
        stage: "write",
        seconds: writing.elapsed().as_secs_f64(),
        memory: if ex.first_in_process() {
            crate::memory::take_stage_peaks()
        } else {
            crate::memory::StagePeaks::default()
        },
    });
    exchanged.push(("write", ex.remote_bytes() - sent_before));

    let all_counts = ex.all_gather(Tally {
        invalid: outcome.invalid.count,
        invalid_examples: outcome.invalid.examples.clone(),
        shards: outcome.resumed.shards as u64,
        shards_reused: outcome.resumed.shards_reused as u64,
        scratch_bytes: outcome.scratch_bytes,
        repeats_reused: outcome.repeats_reused,
    });
    let all_deduped = ex.all_gather(vec![
        deduped.records_written,
        deduped.records_dropped,
        deduped.paragraphs_dropped,
    ]);
    let all_written = ex.all_gather(written);
    let seconds: Vec<Vec<u64>> =
        ex.all_gather(timings.iter().map(|t| (t.seconds * 1e6) as u64).collect());
    let stage_names: Vec<&str> = exchanged.iter().map(|&(stage, _)| stage).collect();
    let exchanged: Vec<Vec<u64>> =
        ex.all_gather(exchanged.iter().map(|&(_, bytes)| bytes).collect());
    let memory = crate::memory::peak_rss_bytes().unwrap_or(0);
    let rss: Vec<u64> = ex.all_gather(memory);
    if me != 0 {
        return Ok(None);
    }

    let sum = |f: fn(&Tally) -> u64| all_counts.iter().map(f).sum::<u64>();
    let deduped_total = DedupedCounts {
        records_written: all_deduped.iter().map(|d| d[0]).sum(),
        records_dropped: all_deduped.iter().map(|d| d[1]).sum(),
        paragraphs_dropped: all_deduped.iter().map(|d| d[2]).sum(),
    };
    // In the order one process lists them: per-file outputs by input, then
    // `removed` (worker 0's, listed last).
    let mut outputs: Vec<Written> = all_written.into_iter().flatten().collect();
    let removed = layout.removed().name.to_string_lossy().into_owned();
    outputs.sort_by_key(|w| w.path == removed);
    // Stages end at barriers, so each stage's wall time is the slowest
    // worker's.
    let timings: Vec<StageTiming> = timings
        .iter()
        .enumerate()
        .map(|(i, t)| StageTiming {
            stage: t.stage,
            seconds: seconds.iter().map(|s| s[i]).max().unwrap_or(0) as f64 / 1e6,
            memory: t.memory,
        })
        .collect();
    let whole = DedupOutcome {
        records: Vec::new(),
        units: Vec::new(),
        labels: Vec::new(),
        cluster_sizes: Vec::new(),
        keep: outcome.keep.clone(),
        kept_similarity: Vec::new(),
        first_unit: 0,
        edges: Vec::new(),
        foreign_units: Default::default(),
        index_matches: Vec::new(),
        index_pairs: Vec::new(),
        signatures: Vec::new(),
        invalid: merged_invalid(&all_counts),
        repeats_reused: sum(|c| c.repeats_reused),
        lsh: outcome.lsh,
        timings: Vec::new(),
        // Later stages are reused by every worker or by none.
        resumed: Resumed {
            shards: sum(|c| c.shards) as usize,
            shards_reused: sum(|c| c.shards_reused) as usize,
            stages_reused: outcome.resumed.stages_reused.clone(),
            discarded: outcome.resumed.discarded.clone(),
        },
        scratch_bytes: sum(|c| c.scratch_bytes),
        stats: outcome.stats.clone(),
    };
    let costs = RunCosts {
        wall_seconds: timings.iter().map(|t| t.seconds).sum(),
        timings,
        threads: rayon::current_num_threads(),
        memory: MemoryPeaks {
            peak_rss_bytes: rss.iter().copied().max(),
            peak_anon_bytes: None,
            peak_file_bytes: None,
        },
        memory_budget,
    };
    let mut report = Report::new(
        corpus,
        config,
        &whole,
        deduped_total,
        (output.clone(), outputs),
        costs,
    );
    let per_process = ex.peers() / ex.workers_per_process();
    report.distributed = Some(DistributedReport {
        processes: per_process,
        workers_per_process: ex.workers_per_process(),
        parts: (0..workers)
            .map(|w| {
                output
                    .line_files()
                    .map(|kind| part_name(kind, w, workers))
                    .collect()
            })
            .collect(),
        exchanged_bytes: stage_names
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let bytes: u64 = exchanged.iter().map(|e| e[i]).sum();
                (stage.to_string(), bytes.into())
            })
            .collect(),
        exchanged_bytes_total: exchanged.iter().flatten().sum::<u64>(),
        label_propagation_rounds: label_rounds,
        peak_rss_bytes_per_worker: rss,
    });
    let path = out.join("report.json");
    let temporary = out.join(format!(".report.json.tmp{}", std::process::id()));
    write_synced(&temporary, &temporary, |w| report.write_to(w))?;
    fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))?;
    Ok(Some(report))
}

/// What each worker tells worker 0 for the report besides the run's counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tally {
    invalid: u64,
    invalid_examples: Vec<String>,
    shards: u64,
    shards_reused: u64,
    scratch_bytes: u64,
    repeats_reused: u64,
}

impl WireSize for Tally {
    fn wire_size(&self) -> usize {
        8 * 5 + self.invalid_examples.wire_size()
    }
}

/// Merges skipped-record counts from every worker.
fn merged_invalid(all: &[Tally]) -> InvalidRecords {
    let mut invalid = InvalidRecords::default();
    for t in all {
        invalid.absorb(t.invalid, t.invalid_examples.iter().cloned());
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_are_recognised_and_nothing_else() {
        let name = part_name("clusters", 3, 12);
        assert_eq!(name, "clusters-00003-of-00012.jsonl");
        assert!(is_part(&name));
        assert!(is_part(&format!(".{name}.tmp4242")));
        assert!(is_part("deduped-00000-of-00001.jsonl"));
        assert!(!is_part("clusters.jsonl"));
        assert!(!is_part("clusters-3-of-12.jsonl"));
        assert!(!is_part("notes-00000-of-00001.jsonl"));
        assert!(!is_part("corpus.jsonl"));
    }
}
