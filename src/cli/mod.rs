//! Command-line glue: clap definitions, one `run` per subcommand, one exit path.
//!
//! Errors from any subcommand come back here and are printed once, with their
//! cause chain, as `neardedup: error: ...`; the exit code is 1 for a failed run and 2
//! for a usage error (clap's own). A closed stdout (e.g. piping into `head`) is not
//! an error. The library names settings as its structs do (`num_perm`); here they
//! become the flags that set them (`--num-perm`).

mod compare;
mod dedup;
mod eval;
mod gen;
mod index;
mod limits;
mod review;

use std::collections::HashSet;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use neardedup::error::Error;

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
/// get it printed a second time. Library errors are worded with flags
/// ([`in_flags`]).
fn error_message(err: &anyhow::Error) -> String {
    let flags = long_flags(&Cli::command());
    neardedup::error::join_causes(err.as_ref(), |cause| in_flags(cause, &flags))
}

/// Library settings whose flag is not the setting's name with `_` turned into `-`.
const FLAGS_NAMED_OTHERWISE: [(&str, &str); 2] = [
    ("shard_bytes", "--shard-size"),
    ("keep_signatures", "--save-index"),
];

/// The flag that sets the library setting `name`.
fn flag_of(name: &str) -> String {
    match FLAGS_NAMED_OTHERWISE
        .iter()
        .find(|(setting, _)| *setting == name)
    {
        Some((_, flag)) => (*flag).to_string(),
        None => format!("--{}", name.replace('_', "-")),
    }
}

/// Every `--long` flag of `command` and its subcommands.
fn long_flags(command: &clap::Command) -> HashSet<String> {
    let mut flags: HashSet<String> = command
        .get_arguments()
        .filter_map(|arg| arg.get_long())
        .map(|long| format!("--{long}"))
        .collect();
    for sub in command.get_subcommands() {
        flags.extend(long_flags(sub));
    }
    flags
}

/// One error of a chain in the command line's terms: an invalid setting as
/// `--flag must be ..., got value`, and each setting a library message names in
/// backticks (`` `num_perm` ``) as its flag, when there is such a flag.
fn in_flags(cause: &(dyn std::error::Error + 'static), flags: &HashSet<String>) -> String {
    let text = match cause.downcast_ref::<Error>() {
        Some(Error::InvalidSetting {
            name,
            value,
            expected,
        }) => {
            let value = if value.is_empty() { "\"\"" } else { value };
            let flag = flag_of(name);
            format!("{flag} {value} is out of range: {flag} must be {expected}")
        }
        Some(Error::IndexSettings { path, differences }) => {
            let named: Vec<String> = differences.iter().map(flag_difference).collect();
            format!(
                "{}: the index was built with other settings than given: {}. Leave these \
                 options out to use the index's settings, or build a new index",
                path.display(),
                named.join(", ")
            )
        }
        _ => cause.to_string(),
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let quoted = &rest[open + 1..open + 1 + len];
        let flag = flag_of(quoted);
        let is_name = quoted.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        out.push_str(&rest[..open]);
        if is_name && flags.contains(&flag) {
            out.push_str(&flag);
        } else {
            out.push_str(&rest[open..open + len + 2]);
        }
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

/// A setting an index fixes, given otherwise, as the flag that gave it: "--unit
/// paragraph (the index's: article)", or for a switch "--keep-case (the index was
/// built without it)".
fn flag_difference(difference: &neardedup::error::SettingDifference) -> String {
    let switch = match difference.name {
        "nfkc" => Some("--no-nfkc"),
        "lowercase" => Some("--keep-case"),
        "fold_punctuation" => Some("--keep-punctuation"),
        _ => None,
    };
    match switch {
        Some(flag) => format!("{flag} (the index was built without it)"),
        None => format!(
            "{} {} (the index's: {})",
            flag_of(difference.name),
            difference.given,
            difference.indexed
        ),
    }
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

    #[test]
    fn an_invalid_setting_is_worded_as_its_flag() {
        let err = Error::invalid_setting("num_perm", 0, "between 1 and 4096");
        assert_eq!(
            err.to_string(),
            "invalid setting num_perm = 0: must be between 1 and 4096"
        );
        assert_eq!(
            error_message(&err.into()),
            "--num-perm 0 is out of range: --num-perm must be between 1 and 4096"
        );
        let err = Error::invalid_setting("shard_bytes", 1, "at least 4096");
        assert_eq!(
            error_message(&err.into()),
            "--shard-size 1 is out of range: --shard-size must be at least 4096"
        );
        let library = neardedup::pipeline::DedupConfig {
            hamming: 40,
            ..Default::default()
        };
        let err = anyhow::Error::from(library.validate().expect_err("too wide"));
        assert!(
            error_message(&err)
                .starts_with("--hamming 40 is out of range: --hamming must be at most 32"),
            "{}",
            error_message(&err)
        );
    }

    #[test]
    fn settings_named_in_messages_become_flags() {
        let err = Error::Config(
            "`bands` 20 x `rows` 10 must be at most `num_perm` 128; `inputs`, \
             `corpus.text_field` and `no_such_setting` stay"
                .into(),
        );
        assert_eq!(
            error_message(&err.into()),
            "invalid configuration: --bands 20 x --rows 10 must be at most --num-perm 128; \
             `inputs`, `corpus.text_field` and `no_such_setting` stay"
        );
        let err = anyhow::anyhow!("an unpaired ` and `memory_budget`");
        assert_eq!(error_message(&err), "an unpaired ` and `memory_budget`");
    }

    #[test]
    fn a_wrong_value_lists_the_possible_values() {
        for (line, values) in [
            (
                &["dedup", "--algo", "bloom", "in"][..],
                "[possible values: minhash, simhash, exact]",
            ),
            (
                &["dedup", "--minhash-variant", "fast", "in"][..],
                "[possible values: classic, oph]",
            ),
            (
                &["gen", "--language", "en", "--out", "o"][..],
                "[possible values: english, korean, mixed]",
            ),
            (
                &["compare", "--cluster", "star,chain", "--truth", "t", "in"][..],
                "[possible values: star, components]",
            ),
        ] {
            let argv = std::iter::once(&"neardedup").chain(line);
            let err = Cli::try_parse_from(argv).expect_err("refused");
            assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
            let message = err.render().to_string();
            assert!(message.contains(line[1]), "{message}");
            assert!(message.contains(values), "{message}");
        }
    }
}
