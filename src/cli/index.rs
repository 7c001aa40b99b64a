//! `neardedup index build|add`: maintain a saved MinHash index for incremental runs.
//!
//! Both are `neardedup dedup` runs with the index flags set: `build` is
//! `dedup --save-index INDEX`, `add` is `dedup --against INDEX --save-index INDEX`
//! (the new corpus is deduplicated against the index, then appended to it). Their
//! other options and outputs are those of `dedup`.

use std::path::PathBuf;

use clap::{ArgMatches, Args, Subcommand};

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
    /// Deduplicate a corpus against INDEX, then add its units to INDEX.
    ///
    /// The index's unit, paragraph, shingling and MinHash settings are used;
    /// giving one of them with another value (e.g. --unit, --ngram) is an error
    /// naming both values. Units whose id and paragraph are already in INDEX are
    /// refused, and nothing is written: each unit is added once (use --id-field
    /// with ids unique across the corpora). INDEX is replaced only after the
    /// output folder is complete, so a failed run leaves it as it was.
    Add {
        /// The index file to extend.
        #[arg(long, value_name = "INDEX")]
        index: PathBuf,
        #[command(flatten)]
        run: Box<DedupArgs>,
    },
}

impl IndexArgs {
    /// See [`DedupArgs::note_given`]; `matches` are those of `build` or `add`.
    pub fn note_given(&mut self, matches: &ArgMatches) {
        match &mut self.action {
            IndexAction::Build { run, .. } | IndexAction::Add { run, .. } => {
                run.note_given(matches)
            }
        }
    }
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
