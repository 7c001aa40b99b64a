//! `neardedup.dedup`: a whole run, as `neardedup dedup` runs it, from Python.
//!
//! Without `out`, the run keeps its results in memory ([`Dedup::search`]);
//! with `out`, it writes the output folder exactly as the command line does
//! ([`Dedup::run`]). Either way the results come back as a [`Result`]: numpy
//! arrays per record and per unit, the verified pairs, and the report as a dict.
//!
//! The run works on its own thread, with the interpreter released and a
//! thread pool of `threads` workers (all cores by default); the calling thread
//! wakes ten times a second to let Python handle signals. On Ctrl-C the run
//! stops at its next progress step (unwinding with [`Interrupted`], so every
//! file and folder it holds is dropped as it would be on an error) and
//! `KeyboardInterrupt` is raised. A run with `work_dir` keeps its checkpoints
//! there, and the same call resumes from them.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use neardedup::corpus::{Corpus, ParaSep};
use neardedup::dedup::Dedup;
use neardedup::output::records::{record_units, Emitter, KeptText, OutputMode};
use neardedup::output::writers::DedupedCounts;
use neardedup::pipeline::{DedupOutcome, Progress, Total, UnitKind};
use neardedup::progress_bar::Bar;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::IntoPython;
use crate::source::{inputs, Inputs};

/// What a run unwinds with when the caller interrupts it.
struct Interrupted;

/// The progress bar of the command line, and the run's way to stop: every
/// progress step first checks whether the caller asked it to.
struct Stoppable<'a> {
    bar: Bar,
    stop: &'a AtomicBool,
}

impl Stoppable<'_> {
    fn check(&self) {
        if self.stop.load(Ordering::Relaxed) {
            resume_unwind(Box::new(Interrupted));
        }
    }
}

impl Progress for Stoppable<'_> {
    fn stage(&self, name: &str, total: Option<Total>) {
        self.check();
        self.bar.stage(name, total);
    }
    fn advance(&self, amount: u64) {
        self.check();
        self.bar.advance(amount);
    }
    fn finish_stage(&self) {
        self.bar.finish_stage();
    }
    fn note(&self, message: &str) {
        self.bar.note(message);
    }
    fn warn(&self, message: &str) {
        self.bar.warn(message);
    }
}

/// Runs `work` on a thread of its own in a pool of `threads` workers (0: one
/// per core), with the interpreter released, until it ends or Ctrl-C stops it.
pub fn interruptible<T: Send>(
    py: Python<'_>,
    threads: usize,
    quiet: bool,
    work: impl FnOnce(&dyn Progress) -> neardedup::Result<T> + Send,
) -> PyResult<T> {
    let stop = AtomicBool::new(false);
    let (done, finished) = mpsc::channel::<()>();
    // Shared with the interpreter-free wait, which needs it `Sync`.
    let finished = std::sync::Mutex::new(finished);
    let mut interrupt: Option<PyErr> = None;
    let ended = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let ended = catch_unwind(AssertUnwindSafe(|| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(|e| {
                        neardedup::Error::Config(format!("could not start worker threads: {e}"))
                    })?;
                let progress = Stoppable {
                    bar: Bar::new(quiet),
                    stop: &stop,
                };
                pool.install(|| work(&progress))
            }));
            let _ = done.send(());
            ended
        });
        loop {
            let waited = py.detach(|| {
                let finished = finished.lock().unwrap_or_else(|p| p.into_inner());
                finished.recv_timeout(Duration::from_millis(100))
            });
            if waited.is_ok() || worker.is_finished() {
                break;
            }
            if interrupt.is_none() {
                if let Err(signal) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    interrupt = Some(signal);
                }
            }
        }
        worker.join()
    });
    let ended = ended.unwrap_or_else(Err);
    match (ended, interrupt) {
        (Ok(Ok(value)), None) => Ok(value),
        (Ok(Err(error)), None) => Err(crate::errors::to_python(py, &error)),
        // Interrupted: the run stopped, or ended before it saw the request.
        (Ok(_), Some(signal)) => Err(signal),
        (Err(payload), signal) if payload.is::<Interrupted>() => {
            Err(signal.unwrap_or_else(|| PyKeyboardInterrupt::new_err("run interrupted")))
        }
        (Err(payload), _) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(PyRuntimeError::new_err(format!(
                "neardedup stopped on an internal error: {message}"
            )))
        }
    }
}

/// Finds near-duplicate articles or paragraphs in `source`.
///
/// `source` is a path (`str` or `os.PathLike`), a list of `pathlib.Path`, a
/// list of `str` texts, or a `pyarrow` array, chunked array or table of texts.
/// Options are the command line's (`neardedup dedup --help`) with `_` for `-`,
/// and the same defaults: `threshold=0.9`, `unit="article"`, `algo="minhash"`,
/// ... (`neardedup.OPTIONS` lists them). With `out`, the output folder is
/// written as the command line writes it.
#[pyfunction]
#[pyo3(signature = (source, *, out = None, threads = 0, progress = true, **options))]
pub fn dedup(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    out: Option<std::path::PathBuf>,
    threads: usize,
    progress: bool,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Result> {
    let text_field = match options
        .map(|o| o.get_item("text_field"))
        .transpose()?
        .flatten()
    {
        Some(field) if !field.is_none() => field.extract::<String>()?,
        _ => "text".to_string(),
    };
    let Inputs { paths, texts } = inputs(source, &text_field)?;
    let mut run = Dedup::new(paths, out.clone().unwrap_or_default());
    crate::options::apply(py, &mut run, options, None)?;
    if texts.is_some() {
        // Texts given in memory are written as `{"text": ...}` lines (the
        // table column they came from is `text_field`), numbered by position.
        run.corpus.text_field = "text".into();
        run.corpus.ids_from_records = false;
    }
    let quiet = !progress;
    let (outcome, report, corpus) = match &out {
        None => {
            let searched = interruptible(py, threads, quiet, |p| run.search(p))?;
            (searched.outcome, searched.report, searched.corpus)
        }
        Some(_) => {
            let finished = interruptible(py, threads, quiet, |p| run.run(p))?;
            let missing = || PyRuntimeError::new_err("a single-process run gives its results");
            (
                finished.outcome.ok_or_else(missing)?,
                finished.report.ok_or_else(missing)?,
                finished.corpus.ok_or_else(missing)?,
            )
        }
    };
    Ok(Result {
        unit: report.parameters.sketch.unit,
        para_sep: report.parameters.sketch.para_sep,
        report: serde_json::to_string(&report)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?,
        outcome,
        corpus,
        out,
        from_texts: texts.is_some(),
        _texts: texts,
    })
}

/// The results of `neardedup.dedup`.
///
/// Records are the inputs' records (or the texts given) in order; units are
/// what was compared: one per record, or with `unit="paragraph"` one per
/// paragraph. Per-record and per-unit values are numpy arrays.
#[pyclass(module = "neardedup")]
pub struct Result {
    outcome: DedupOutcome,
    corpus: Corpus,
    unit: UnitKind,
    para_sep: ParaSep,
    report: String,
    out: Option<std::path::PathBuf>,
    from_texts: bool,
    /// The temporary file of texts given in memory, which the corpus maps.
    _texts: Option<tempfile::TempDir>,
}

impl Result {
    /// What remove mode keeps of each record, in order, passed to `each` with
    /// the emitter that decided it ([`Emitter::kept_text`]: the one rule).
    fn kept_records(
        &self,
        py: Python<'_>,
        mut each: impl FnMut(usize, KeptText, &Emitter<'_>) -> PyResult<()>,
    ) -> PyResult<()> {
        let emitter = Emitter {
            corpus: &self.corpus,
            outcome: &self.outcome,
            unit: self.unit,
            para_sep: self.para_sep,
            mode: OutputMode::Remove,
        };
        let mut counts = DedupedCounts::default();
        for (index, units) in record_units(&self.outcome).into_iter().enumerate() {
            let kept = emitter.kept_text(index, units, &mut counts).py_err(py)?;
            each(index, kept, &emitter)?;
        }
        Ok(())
    }
}

#[pymethods]
impl Result {
    /// Number of records.
    fn __len__(&self) -> usize {
        self.outcome.records.len()
    }

    fn __repr__(&self) -> String {
        let outcome = &self.outcome;
        let removed = (0..outcome.units.len() as u32)
            .filter(|&u| !outcome.is_kept(u))
            .count();
        format!(
            "<neardedup.Result: {} records, {} units, {} units removed, {} pairs>",
            outcome.records.len(),
            outcome.units.len(),
            removed,
            outcome.edges.len()
        )
    }

    /// Per record: whether remove mode writes it (a record survives while any of
    /// its paragraphs does). The mask for `Dataset.filter` or `df[mask]`.
    #[getter]
    fn kept<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<bool>>> {
        let mut kept = Vec::with_capacity(self.outcome.records.len());
        self.kept_records(py, |_, text, _| {
            kept.push(text != KeptText::Dropped);
            Ok(())
        })?;
        Ok(PyArray1::from_vec(py, kept))
    }

    /// Per record: whether it is a duplicate (removed whole); `~kept`.
    #[getter]
    fn duplicate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<bool>>> {
        let kept = self.kept(py)?;
        let flipped: Vec<bool> = kept.readonly().as_slice()?.iter().map(|k| !k).collect();
        Ok(PyArray1::from_vec(py, flipped))
    }

    /// Per record: its id (an int, or a str), as the outputs write it.
    #[getter]
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let outcome = &self.outcome;
        let ids = outcome
            .records
            .iter()
            .enumerate()
            .map(|(at, record)| {
                if self.from_texts {
                    Ok(at.into_pyobject(py)?.into_any())
                } else {
                    crate::index::id_to_python(py, &record.id)
                }
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, ids)
    }

    /// Per unit: the record it belongs to.
    #[getter]
    fn unit_record<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        let units = &self.outcome.units;
        PyArray1::from_vec(py, units.iter().map(|u| u.record).collect())
    }

    /// Per unit: its paragraph number in its record (-1 for article units).
    #[getter]
    fn unit_para<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        let units = &self.outcome.units;
        let paras = units.iter().map(|u| u.para.map_or(-1, i64::from)).collect();
        PyArray1::from_vec(py, paras)
    }

    /// Per unit: whether it is kept.
    #[getter]
    fn unit_kept<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        let outcome = &self.outcome;
        let kept = (0..outcome.units.len() as u32)
            .map(|u| outcome.is_kept(u))
            .collect();
        PyArray1::from_vec(py, kept)
    }

    /// Per unit: its cluster, named by the number of a unit in it (a unit
    /// alone is its own cluster).
    #[getter]
    fn cluster<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        PyArray1::from_vec(py, self.outcome.labels.clone())
    }

    /// Per unit: how many units its cluster holds.
    #[getter]
    fn cluster_size<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        PyArray1::from_vec(py, self.outcome.cluster_sizes.clone())
    }

    /// The verified duplicate pairs: a dict of numpy arrays `a` and `b` (unit
    /// numbers, `a < b`) and `similarity`.
    #[getter]
    fn pairs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let edges = &self.outcome.edges;
        let pairs = PyDict::new(py);
        pairs.set_item(
            "a",
            PyArray1::from_vec(py, edges.iter().map(|e| e.a).collect()),
        )?;
        pairs.set_item(
            "b",
            PyArray1::from_vec(py, edges.iter().map(|e| e.b).collect()),
        )?;
        pairs.set_item(
            "similarity",
            PyArray1::from_vec(py, edges.iter().map(|e| e.similarity).collect()),
        )?;
        Ok(pairs)
    }

    /// The clusters of two or more units, each a list of unit numbers, the
    /// kept unit first.
    fn clusters(&self) -> Vec<Vec<u32>> {
        let outcome = &self.outcome;
        let mut members: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for unit in 0..outcome.units.len() as u32 {
            if outcome.cluster_sizes[unit as usize] > 1 {
                members
                    .entry(outcome.labels[unit as usize])
                    .or_default()
                    .push(unit);
            }
        }
        members
            .into_values()
            .map(|mut cluster| {
                if let Some(kept) = cluster.iter().position(|&u| outcome.is_kept(u)) {
                    let unit = cluster.remove(kept);
                    cluster.insert(0, unit);
                }
                cluster
            })
            .collect()
    }

    /// Per record: its text as remove mode keeps it (without its removed
    /// paragraphs), or `None` for a removed record.
    fn texts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut texts = Vec::with_capacity(self.outcome.records.len());
        self.kept_records(py, |index, kept, emitter| {
            texts.push(match kept {
                KeptText::Dropped => None,
                KeptText::Trimmed(text) => Some(text),
                KeptText::Whole => {
                    let record = &emitter.outcome.records[index];
                    Some(emitter.corpus.record_text(record).py_err(py)?.into_owned())
                }
            });
            Ok(())
        })?;
        PyList::new(py, texts)
    }

    /// The run's report, as `report.json` holds it.
    #[getter]
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (&self.report,))
    }

    /// The output folder written, or `None` for a run kept in memory.
    #[getter]
    fn out(&self) -> Option<std::path::PathBuf> {
        self.out.clone()
    }
}
