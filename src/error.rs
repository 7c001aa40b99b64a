//! The library's error type.
//!
//! Every error that comes from input names the file and, where there is one, the
//! 1-based line (JSONL) or byte offset (plain text) at fault, so a user can open the
//! file and look. The binary prints these with their cause chain and exits non-zero.

use std::fmt;
use std::path::PathBuf;

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Where in an input file a problem sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// The whole file.
    File,
    /// A 1-based line number (JSONL records, or the line holding a bad byte).
    Line(u64),
    /// A 0-based row of a Parquet table.
    Row(u64),
}

/// Everything that can go wrong in a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, mapping or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An input file (or one record in it) is not what its format requires.
    #[error("{}: {message}", display_location(.path, *.location))]
    Input {
        /// The input file.
        path: PathBuf,
        /// Where in the file.
        location: Location,
        /// What is wrong, in words.
        message: String,
    },
    /// The inputs hold nothing to deduplicate (no files left to read, or no
    /// records in them); the message says why.
    #[error("{0}")]
    NoInput(String),
    /// Options that cannot work together or are out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// One setting has a value it cannot take. `name` is the setting's name in
    /// [`crate::config::DedupConfig`] (or the run's options), not a command-line
    /// flag: a front end words it in its own terms (the CLI as its flag).
    ///
    /// Messages of other errors that involve settings (a combination that cannot
    /// work, a limit to raise) name them the same way, in backticks
    /// (`` `num_perm` ``), so a front end can find them and put its own names.
    #[error("invalid setting {name} = {value}: must be {expected}")]
    InvalidSetting {
        /// The setting, as the library names it (`threshold`, `hamming`, ...).
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// What it must be instead, in words that follow "must be"
        /// (`"between 1 and 4096"`).
        expected: String,
    },
    /// Settings given for a run against an index differ from the index's.
    #[error(
        "{}: the index was built with other settings than given: {}. Leave these settings \
         out to use the index's, or build a new index",
        .path.display(),
        .differences.iter().map(|d| format!("{} {} (the index's: {})", d.name, d.given, d.indexed)).collect::<Vec<_>>().join(", ")
    )]
    IndexSettings {
        /// The index.
        path: PathBuf,
        /// Each setting given with another value.
        differences: Vec<SettingDifference>,
    },
    /// A scratch folder is locked by another running process.
    #[error("scratch folder {} is in use by another neardedup run", .0.display())]
    InUse(PathBuf),
    /// An output folder is being written by another running process.
    #[error("output folder {} is in use by another neardedup run", .0.display())]
    OutputInUse(PathBuf),
    /// Another worker of a distributed run failed; this one stops with it.
    #[error("worker {worker} of this distributed run failed in the {stage} stage: {message}")]
    Peer {
        /// The stage in which it failed.
        stage: String,
        /// The failed worker's index.
        worker: usize,
        /// Its error.
        message: String,
    },
    /// Processes of a distributed run disagree, or cannot be started.
    #[error("distributed run: {0}")]
    Distributed(String),
    /// An input of a finished run is gone, or is not the size the run recorded, so
    /// its units can no longer be read as the run read them.
    #[error("{}: {}", .path.display(), describe_change(*.expected, *.got))]
    InputChanged {
        /// The input file.
        path: PathBuf,
        /// Its size in bytes when the run read it.
        expected: u64,
        /// Its size now, or `None` when it is gone.
        got: Option<u64>,
    },
}

/// An error and its causes (each worded by `word`) joined by `: `, each cause
/// once: errors that already show their cause (such as `path: No such file or
/// directory (os error 2)`) do not get it written a second time. How the command
/// line and the Python package word an error for the user.
pub fn join_causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
    word: impl Fn(&'a (dyn std::error::Error + 'static)) -> String,
) -> String {
    let mut message = String::new();
    for cause in std::iter::successors(Some(error), |e| e.source()) {
        let text = word(cause);
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

/// A setting an index fixes, given with another value than the index's (see
/// `crate::index::FIXED_SETTINGS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingDifference {
    /// The setting, as the library names it.
    pub name: &'static str,
    /// The value given, as its option value (`paragraph`, `3`, `false`).
    pub given: String,
    /// The index's value.
    pub indexed: String,
}

fn describe_change(expected: u64, got: Option<u64>) -> String {
    match got {
        Some(got) => format!(
            "input changed since the run ({expected} bytes then, {got} now); \
             re-run dedup before reviewing"
        ),
        None => "input of the run is gone; re-run dedup before reviewing".to_string(),
    }
}

impl Error {
    /// A setting with a value it cannot take (see [`Error::InvalidSetting`]).
    pub fn invalid_setting(
        name: &'static str,
        value: impl fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidSetting {
            name,
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// An input error at a 1-based line of `path`.
    pub fn at_line(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            location: Location::Line(line),
            message: message.into(),
        }
    }

    /// An input error at a 0-based row of the Parquet table at `path`.
    pub fn at_row(path: impl Into<PathBuf>, row: u64, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            location: Location::Row(row),
            message: message.into(),
        }
    }

    /// Moves this error's line or row `lines` further down its file: for
    /// errors found in a piece of a file whose place in it was not yet known.
    /// Errors without a line or row are left as they are.
    pub(crate) fn move_down(&mut self, lines: u64) {
        if let Error::Input {
            location: Location::Line(n) | Location::Row(n),
            ..
        } = self
        {
            *n += lines;
        }
    }

    /// An input error about a whole file.
    pub fn in_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            location: Location::File,
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

fn display_location(path: &std::path::Path, location: Location) -> impl fmt::Display + '_ {
    struct Shown<'a>(&'a std::path::Path, Location);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.1 {
                Location::File => write!(f, "{}", self.0.display()),
                Location::Line(line) => write!(f, "{}:{}", self.0.display(), line),
                Location::Row(row) => write!(f, "{}: row {}", self.0.display(), row),
            }
        }
    }
    Shown(path, location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_error_names_file_and_line() {
        let e = Error::at_line("data/x.jsonl", 17, "invalid JSON: EOF");
        assert_eq!(e.to_string(), "data/x.jsonl:17: invalid JSON: EOF");
        let e = Error::in_file("a.bin", "binary file");
        assert_eq!(e.to_string(), "a.bin: binary file");
        let e = Error::at_row("t.parquet", 4, "missing text field");
        assert_eq!(e.to_string(), "t.parquet: row 4: missing text field");
        let e = Error::InputChanged {
            path: "in.txt".into(),
            expected: 10,
            got: Some(12),
        };
        assert_eq!(
            e.to_string(),
            "in.txt: input changed since the run (10 bytes then, 12 now); \
             re-run dedup before reviewing"
        );
    }

    #[test]
    fn moving_an_error_down_moves_its_line_or_row_only() {
        let moved = |mut e: Error| {
            e.move_down(10);
            e.to_string()
        };
        assert_eq!(
            moved(Error::at_line("a.jsonl", 3, "bad")),
            "a.jsonl:13: bad"
        );
        assert_eq!(
            moved(Error::at_row("t.parquet", 0, "bad")),
            "t.parquet: row 10: bad"
        );
        assert_eq!(moved(Error::in_file("a.txt", "bad")), "a.txt: bad");
        assert_eq!(
            moved(Error::Config("c".into())),
            Error::Config("c".into()).to_string()
        );
    }
}
