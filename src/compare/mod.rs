//! Side-by-side comparison of algorithms and settings on one labelled corpus.
//!
//! ```text
//! grid (value lists) ──expand──▶ configs ──pipeline::run + eval::evaluate──▶ results
//!        ──▶ compare.md, compare.json, plots (SVG + PNG)
//! ```
//!
//! [`grid`] parses and expands the grid, [`run`] runs it in-process over one
//! opened corpus, [`scurve`] measures the empirical LSH S-curve, [`report`]
//! writes the table and [`plot`] the figures. [`compare`] ties them together.

pub mod grid;
pub mod plot;
pub mod report;
pub mod run;
pub mod scurve;

use std::path::{Path, PathBuf};

use crate::corpus::{Corpus, CorpusOptions};
use crate::error::{Error, Result};
use crate::eval::load_truth;
use crate::pipeline::DedupConfig;

pub use grid::Grid;
pub use report::Summary;
pub use run::RunResult;

/// Everything a comparison needs.
#[derive(Debug, Clone)]
pub struct CompareJob {
    /// Corpus inputs.
    pub inputs: Vec<PathBuf>,
    /// How to read them.
    pub corpus: CorpusOptions,
    /// The ground truth.
    pub truth: PathBuf,
    /// Settings shared by every run (unit, normalisation, seed, ...).
    pub base: DedupConfig,
    /// The grid.
    pub grid: Grid,
    /// Output folder.
    pub out: PathBuf,
    /// Draw the plots.
    pub plots: bool,
}

/// Runs the grid and writes `compare.md`, `compare.json` and the plots into
/// `job.out`; `done` is called after each run.
pub fn compare(job: &CompareJob, done: impl FnMut(&RunResult)) -> Result<Summary> {
    let configs = job.grid.configs(&job.base)?;
    let truth = load_truth(&job.truth)?;
    let corpus = Corpus::open(&job.inputs, job.corpus.clone())?;
    let runs = run::run_grid(&corpus, &truth, &configs, done)?;
    std::fs::create_dir_all(&job.out).map_err(|e| io_error(&job.out, e))?;
    let plots = if job.plots {
        plot::write_plots(&job.out, &runs)?
    } else {
        plot::Plots {
            files: Vec::new(),
            note: Some("not drawn (--no-plots)".into()),
        }
    };
    let summary = Summary {
        corpus: job.inputs.iter().map(|p| p.display().to_string()).collect(),
        truth: job.truth.display().to_string(),
        unit: grid::unit_name(job.base.unit).into(),
        input_bytes: corpus.total_bytes(),
        threads: rayon::current_num_threads(),
        runs,
        plots: plots.files,
        plot_note: plots.note,
    };
    let json = job.out.join("compare.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::Config(format!("cannot serialise {}: {e}", json.display())))?;
    std::fs::write(&json, text + "\n").map_err(|e| io_error(&json, e))?;
    let md = job.out.join("compare.md");
    std::fs::write(&md, report::markdown(&summary)).map_err(|e| io_error(&md, e))?;
    Ok(summary)
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
