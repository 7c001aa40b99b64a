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
        index_path: job.index_path.as_deref(),
        refuse_indexed: job.save_index,
        work_dir: Some(job.work_dir.clone()),
        memory_budget: job.memory_budget,
        shard_bytes: job.shard_bytes,
        keep_signatures: job.save_index,
        log_stages: job.log_stages,
    };
    let mut worker = engine::run(ex, &run, progress)?;
    let indexed = if job.save_index {
        gather_for_index(ex, &mut worker)?
    } else {
        None
    };
    let summary = parts::write(
        ex,
        corpus,
        &job.out,
        &job.config,
        &job.output,
        job.memory_budget,
        worker,
    )?;
    Ok(summary.map(|report| RunSummary { report, indexed }))
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
