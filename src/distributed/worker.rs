//! One worker's part of a distributed run: clear what earlier runs left in the
//! output folder, run the stages ([`crate::pipeline::engine`]) over the timely
//! exchange, and write this worker's output parts.

use serde::{Deserialize, Serialize};

use super::collective::TimelyExchange;
use super::Job;
use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::exchange::{Exchange, WireSize};
use crate::index::IndexedUnit;
use crate::output::parts;
use crate::pipeline::engine::WorkerOutcome;
use crate::pipeline::{engine, Progress};

/// What process 0 knows at the end of a run, for its summary.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The report written to `report.json`.
    pub report: crate::output::report::Report,
    /// With [`Job::save_index`]: every unit of the run, in order, and their
    /// compact signatures back to back.
    pub indexed: Option<(Vec<IndexedUnit>, Vec<u8>)>,
    /// Things to tell the user that are not errors.
    pub notes: Vec<String>,
}

/// A unit's name and signature on its way to worker 0, for the saved index.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ToIndex {
    unit: u32,
    id: String,
    para: Option<u32>,
    signature: Vec<u8>,
}

impl WireSize for ToIndex {
    fn wire_size(&self) -> usize {
        4 + 8 + self.id.len() + 5 + 8 + self.signature.len()
    }
}

/// Units of a run already in the index it compares against: how many, and the
/// first few (as `id` or `id paragraph N`), from one worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AlreadyIndexed {
    count: u64,
    examples: Vec<String>,
}

impl WireSize for AlreadyIndexed {
    fn wire_size(&self) -> usize {
        8 + self.examples.wire_size()
    }
}

/// Runs this worker's part of `job`; `Some` on worker 0.
pub(super) fn run(
    ex: &mut TimelyExchange<'_>,
    corpus: &Corpus,
    job: &Job,
    progress: &dyn Progress,
) -> Result<Option<RunSummary>> {
    let cleared = parts::clear_stale(ex, &job.out);
    ex.agree("start", cleared)?;
    let run = engine::Job {
        corpus,
        config: &job.config,
        index: job.index.as_deref(),
        work_dir: Some(job.work_dir.clone()),
        memory_budget: job.memory_budget,
        shard_bytes: job.shard_bytes,
        keep_signatures: job.save_index,
        log_stages: job.log_stages,
    };
    let mut worker = engine::run(ex, &run, progress)?;
    let notes = check_not_indexed(ex, job, &worker)?;
    let indexed = if job.save_index {
        gather_for_index(ex, &mut worker)?
    } else {
        None
    };
    let summary = parts::write(ex, corpus, &job.out, &job.config, job.memory_budget, worker)?;
    Ok(summary.map(|report| RunSummary {
        report,
        indexed,
        notes,
    }))
}

/// Units already in the index compared against: refused on every worker when
/// the run saves the index (they would be indexed twice), a note otherwise.
fn check_not_indexed(
    ex: &mut TimelyExchange<'_>,
    job: &Job,
    worker: &WorkerOutcome,
) -> Result<Vec<String>> {
    const SHOWN: usize = 5;
    let Some(index) = &job.index else {
        return Ok(Vec::new());
    };
    let outcome = &worker.outcome;
    let again = index.already_indexed(
        outcome
            .units
            .iter()
            .map(|u| (&outcome.records[u.record as usize].id, u.para)),
    );
    let examples = again
        .iter()
        .take(SHOWN)
        .map(|&i| {
            let unit = &outcome.units[i];
            let id = &outcome.records[unit.record as usize].id;
            match unit.para {
                Some(para) => format!("{id} paragraph {para}"),
                None => id.to_string(),
            }
        })
        .collect();
    let all = ex.all_gather(AlreadyIndexed {
        count: again.len() as u64,
        examples,
    });
    let count: u64 = all.iter().map(|a| a.count).sum();
    if count == 0 {
        return Ok(Vec::new());
    }
    let examples: Vec<String> = all
        .into_iter()
        .flat_map(|a| a.examples)
        .take(SHOWN)
        .collect();
    let more = if count as usize > examples.len() {
        ", ..."
    } else {
        ""
    };
    let what = format!(
        "{count} of the {} units of this run are already in the index (same id and \
         paragraph), e.g. {}{more}",
        outcome.stats.units,
        examples.join(", ")
    );
    if job.save_index {
        return Err(Error::Config(format!(
            "{what}: was this corpus added before? Nothing was written. Ids must be unique \
             across everything an index holds (see the id field)"
        )));
    }
    Ok(vec![format!(
        "{what}: if they are the indexed units themselves, they are reported as \
         duplicates of themselves"
    )])
}

/// Sends every unit's name and compact signature to worker 0, which returns
/// them in unit order.
fn gather_for_index(
    ex: &mut TimelyExchange<'_>,
    worker: &mut WorkerOutcome,
) -> Result<Option<(Vec<IndexedUnit>, Vec<u8>)>> {
    let outcome = &mut worker.outcome;
    let signatures = std::mem::take(&mut outcome.signatures);
    let size = signatures.len() / outcome.units.len().max(1);
    let mine: Vec<ToIndex> = outcome
        .units
        .iter()
        .zip(outcome.first_unit..)
        .enumerate()
        .map(|(i, (meta, unit))| ToIndex {
            unit,
            id: outcome.records[meta.record as usize].id.to_string(),
            para: meta.para,
            signature: signatures[i * size..(i + 1) * size].to_vec(),
        })
        .collect();
    let mut all = ex.shuffle(mine, |_| 0);
    if ex.index() != 0 {
        return Ok(None);
    }
    all.sort_unstable_by_key(|t| t.unit);
    let mut units = Vec::with_capacity(all.len());
    let mut bytes = Vec::with_capacity(all.len() * size);
    for t in all {
        let id = serde_json::from_str(&t.id).map_err(|e| {
            Error::Distributed(format!("a unit id did not survive the exchange: {e}"))
        })?;
        units.push(IndexedUnit { id, para: t.para });
        bytes.extend_from_slice(&t.signature);
    }
    Ok(Some((units, bytes)))
}
