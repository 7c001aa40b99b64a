//! Command-line glue: clap definitions, one `run` per subcommand, one exit path.
//!
//! Errors from any subcommand come back here and are printed once, with their
//! cause chain, as `neardedup: error: ...`; the exit code is 1 for a failed run and 2
//! for a usage error (clap's own). A closed stdout (e.g. piping into `head`) is not
//! an error.

mod compare;
mod dedup;
mod eval;
mod gen;
mod index;
mod limits;
mod progress;
mod review;
mod size;

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Near-duplicate detection for paragraphs and articles in large text corpora.
#[derive(Debug, Parser)]
#[command(name = "neardedup", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find near-duplicate articles or paragraphs and write clusters, pairs, a
    /// deduplicated corpus and a report.
    Dedup(Box<dedup::DedupArgs>),
    /// Score a run's clusters.jsonl against a ground truth: pair precision, recall,
    /// F1, adjusted Rand index and recall by true Jaccard.
    Eval(eval::EvalArgs),
    /// Write a labelled near-duplicate corpus (corpus.jsonl + truth.jsonl) built
    /// from real English and Korean text.
    Gen(gen::GenArgs),
    /// Run a grid of algorithms and settings on a labelled corpus and write
    /// compare.md, compare.json and plots (S-curve, precision-recall, time).
    Compare(Box<compare::CompareArgs>),
    /// Build or extend a saved MinHash index for incremental runs (`index build`,
    /// `index add`); see also `dedup --against`.
    Index(index::IndexArgs),
    /// Write one self-contained HTML page to check a finished run's duplicates
    /// before deleting anything: summary, histograms and sampled pairs side by
    /// side with the differing words highlighted.
    Review(review::ReviewArgs),
}

/// Parses arguments, runs the subcommand, and turns the outcome into an exit code.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches)
        .map_err(|e| e.format(&mut Cli::command()))
        .unwrap_or_else(|e| e.exit());
    // Runs that use a saved index need to know which options were typed, not
    // only their values (see `DedupArgs::note_given`).
    let typed = innermost(&matches);
    let result = match cli.command {
        Command::Dedup(mut args) => {
            args.note_given(typed);
            dedup::run(*args)
        }
        Command::Eval(args) => eval::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Compare(args) => compare::run(*args),
        Command::Index(mut args) => {
            args.note_given(typed);
            index::run(args)
        }
        Command::Review(args) => review::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("neardedup: error: {}", error_message(&err));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes joined by `: `, each cause once: errors that already
/// show their cause (such as `path: No such file or directory (os error 2)`) do not
/// get it printed a second time.
fn error_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// The matches of the subcommand that was run (`index add`'s, not `index`'s).
fn innermost(matches: &ArgMatches) -> &ArgMatches {
    match matches.subcommand() {
        Some((_, sub)) => innermost(sub),
        None => matches,
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_is_printed_once() {
        let io = std::io::Error::from_raw_os_error(2);
        let err = anyhow::Error::from(neardedup::error::Error::io("/no/such/file", io))
            .context("cannot read the inputs");
        let message = error_message(&err);
        assert_eq!(message.matches("os error 2").count(), 1, "{message}");
        assert!(
            message.starts_with("cannot read the inputs: /no/such/file: "),
            "{message}"
        );
    }
}
