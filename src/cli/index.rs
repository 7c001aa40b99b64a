//! `neardedup index build|add`: maintain a saved MinHash index for incremental runs.
//!
//! Both are `neardedup dedup` runs with the index flags set: `build` is
//! `dedup --save-index INDEX`, `add` is `dedup --against INDEX --save-index INDEX`
//! (the new corpus is deduplicated against the index, then appended to it). Their
//! other options and outputs are those of `dedup`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::dedup::{self, DedupArgs};

/// Options of `neardedup index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    #[command(subcommand)]
    action: IndexAction,
}

#[derive(Debug, Subcommand)]
enum IndexAction {
    /// Sketch a corpus and save its index (replacing INDEX if it exists).
    Build {
        /// The index file to write.
        #[arg(long, value_name = "INDEX")]
        index: PathBuf,
        #[command(flatten)]
        run: Box<DedupArgs>,
    },
    /// Deduplicate a corpus against INDEX, then add its units to INDEX (the
    /// index's shingling and MinHash settings are used).
    Add {
        /// The index file to extend.
        #[arg(long, value_name = "INDEX")]
        index: PathBuf,
        #[command(flatten)]
        run: Box<DedupArgs>,
    },
}

/// Runs `neardedup index build|add`.
pub fn run(args: IndexArgs) -> anyhow::Result<()> {
    match args.action {
        IndexAction::Build { index, run } => dedup::run(run.with_index(None, Some(index))),
        IndexAction::Add { index, run } => {
            dedup::run(run.with_index(Some(index.clone()), Some(index)))
        }
    }
}
