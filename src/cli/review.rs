//! `neardedup review`: a self-contained HTML page to look at a run's duplicates
//! before deleting anything.

use std::path::PathBuf;

use clap::Args;
use neardedup::review::{review, PairSource, ReviewOptions, DEFAULT_SAMPLE};

/// Options of `neardedup review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Output folder of a finished `neardedup dedup --out` run.
    #[arg(value_name = "RUN_DIR")]
    run_dir: PathBuf,

    /// Page to write [default: RUN_DIR/review.html].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Pairs shown per similarity band.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLE)]
    sample: usize,

    /// Seed of the sample (the same seed gives the same page).
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
}

/// Runs `neardedup review`.
pub fn run(args: ReviewArgs) -> anyhow::Result<()> {
    let options = ReviewOptions {
        out: args.out,
        sample: args.sample,
        seed: args.seed,
    };
    let reviewed = review(&args.run_dir, &options)?;
    let what = match reviewed.source {
        PairSource::KeptUnit => "duplicate-to-kept pairs",
        PairSource::Edges => "duplicate edges",
    };
    eprintln!(
        "neardedup: wrote {}: {} of {} {what} shown, from {} similarity bands",
        reviewed.path.display(),
        reviewed.shown,
        reviewed.pairs,
        reviewed.bands
    );
    Ok(())
}
