//! `neardedup eval`: score a run's `clusters.jsonl` against a ground truth.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use neardedup::eval::{evaluate, load_predictions, load_truth};

/// Options of `neardedup eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Ground truth (`truth.jsonl`: `id`, optional `para`, `cluster`, `jaccard`, `edit`).
    #[arg(long, value_name = "TRUTH.jsonl")]
    truth: PathBuf,

    /// Predictions: a run's `clusters.jsonl`.
    #[arg(value_name = "PRED.jsonl")]
    predictions: PathBuf,

    /// Print the figures as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `neardedup eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let truth = load_truth(&args.truth)?;
    let predictions = load_predictions(&args.predictions)?;
    let report = evaluate(&truth, &predictions)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", report.summary())?;
    }
    Ok(())
}
