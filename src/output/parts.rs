//! A distributed run's output folder: one part of each line file per worker,
//! and `report.json` from worker 0.
//!
//! Worker `w` of `n` writes `clusters-w-of-n.jsonl`, `pairs-w-of-n.jsonl` and
//! `deduped-w-of-n.jsonl` (five-digit numbers). Workers hold contiguous shares
//! of the input in worker order, so concatenating the `clusters` or `deduped`
//! parts in order gives the single-process file; `pairs` parts hold the edges
//! whose later unit the worker owns, each part sorted.
//!
//! All or nothing: parts are written under hidden temporary names and synced;
//! once every worker has (a barrier), each renames its own into place; after a
//! second barrier worker 0 writes `report.json`, naming every part. A run that
//! fails or loses a process never writes `report.json`, and at its start a run
//! removes the report and the parts of earlier runs, so a folder with a report
//! holds one complete run.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::exchange::{Exchange, WireSize};
use crate::memory::MemoryPeaks;
use crate::output::report::{DistributedReport, Report, RunCosts};
use crate::output::writers::{self, DedupedCounts};
use crate::pipeline::engine::WorkerOutcome;
use crate::pipeline::DedupConfig;
use crate::pipeline::{DedupOutcome, InvalidRecords, Resumed, StageTiming};

/// The three line files each worker writes.
const KINDS: [&str; 3] = writers::LINE_FILES;

/// File name of worker `worker`'s part of `kind` (`clusters`, `pairs` or
/// `deduped`) in a run of `workers` workers.
pub fn part_name(kind: &str, worker: usize, workers: usize) -> String {
    format!("{kind}-{worker:05}-of-{workers:05}.jsonl")
}

/// Whether `name` is a part file of some run (`KIND-NNNNN-of-NNNNN.jsonl`), or
/// a temporary one.
fn is_part(name: &str) -> bool {
    let name = name.strip_prefix('.').unwrap_or(name);
    let name = name.split(".tmp").next().unwrap_or(name);
    KINDS.iter().any(|kind| {
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

/// Removes what earlier runs left in the output folder: `report.json` first
/// (worker 0), then every part file (the first worker of each process, for its
/// own machine's folder). Run by every worker before a barrier.
pub fn clear_stale<E: Exchange>(ex: &E, out: &Path) -> Result<()> {
    fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    if ex.index() == 0 {
        for name in [
            "report.json",
            "clusters.jsonl",
            "pairs.jsonl",
            "deduped.jsonl",
        ] {
            remove_if_present(&out.join(name))?;
        }
    }
    if !ex.index().is_multiple_of(ex.workers_per_process()) {
        return Ok(());
    }
    let entries = fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        if entry.file_name().to_str().is_some_and(is_part) {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Writes this worker's parts, puts them in place once every worker has, and on
/// worker 0 writes `report.json`; returns the report on worker 0.
pub fn write<E: Exchange>(
    ex: &mut E,
    corpus: &Corpus,
    out: &Path,
    config: &DedupConfig,
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
    let staged: Vec<(PathBuf, PathBuf)> = KINDS
        .iter()
        .map(|kind| {
            let name = part_name(kind, me, workers);
            let temporary = out.join(format!(".{name}.tmp{}", std::process::id()));
            (temporary, out.join(name))
        })
        .collect();
    let place = |kind: &str| {
        let at = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        &staged[at].0
    };
    let written = writers::write_line_files(
        &|kind, fill| write_synced(place(kind), |w| fill(w)),
        corpus,
        outcome,
        config.sketch.unit,
        config.sketch.para_sep,
    );
    if written.is_err() {
        for (temporary, _) in &staged {
            let _ = fs::remove_file(temporary);
        }
    }
    let deduped = ex.agree("write", written)?;
    let renamed = staged.iter().try_for_each(|(temporary, path)| {
        fs::rename(temporary, path).map_err(|e| Error::io(path, e))
    });
    ex.agree("write", renamed)?;
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
    });
    let all_deduped = ex.all_gather(vec![
        deduped.records_written,
        deduped.records_dropped,
        deduped.paragraphs_dropped,
    ]);
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
    let mut report = Report::new(corpus, config, &whole, deduped_total, costs);
    let per_process = ex.peers() / ex.workers_per_process();
    report.distributed = Some(DistributedReport {
        processes: per_process,
        workers_per_process: ex.workers_per_process(),
        parts: (0..workers)
            .map(|w| {
                KINDS
                    .iter()
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
    write_synced(&temporary, |w| report.write_to(w))?;
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
}

impl WireSize for Tally {
    fn wire_size(&self) -> usize {
        8 * 4 + self.invalid_examples.wire_size()
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

/// Writes `path` through `fill` and syncs it.
fn write_synced(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let file = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    fill(&mut out)?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(path, e))
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
