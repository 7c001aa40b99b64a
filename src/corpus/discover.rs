//! Turning the paths a user typed into an ordered list of input files.
//!
//! A file path is taken as given; a directory is walked recursively in sorted order
//! (hidden entries skipped) so that runs are reproducible. A path that does not exist
//! is an error naming it. The format comes from `--format` or else the extension:
//! `.jsonl`, `.ndjson` and `.json` are JSON Lines, anything else is plain text, one
//! article per file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How a file's records are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// The whole file is one article.
    Text,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "jsonl" => Ok(Format::Jsonl),
            "text" => Ok(Format::Text),
            other => Err(format!("unknown format {other:?} (expected jsonl or text)")),
        }
    }
}

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// How to read it.
    pub format: Format,
    /// Named on the command line (true) or found inside a directory (false). Bad
    /// files named explicitly are errors; bad files found in a directory are skipped.
    pub explicit: bool,
}

/// Expands `inputs` (files and directories) into files, in a deterministic order.
pub fn discover(inputs: &[PathBuf], forced: Option<Format>) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(input)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
            for entry in walker {
                let entry = entry.map_err(|e| {
                    let path = e.path().unwrap_or(input).to_path_buf();
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("directory walk failed"));
                    Error::io(path, io)
                })?;
                if entry.file_type().is_file() {
                    let path = entry.into_path();
                    let format = forced.unwrap_or_else(|| format_of(&path));
                    files.push(InputFile {
                        path,
                        format,
                        explicit: false,
                    });
                }
            }
        } else {
            files.push(InputFile {
                path: input.clone(),
                format: forced.unwrap_or_else(|| format_of(input)),
                explicit: true,
            });
        }
    }
    Ok(files)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

/// The format implied by a file's extension.
pub fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext)
            if ext.eq_ignore_ascii_case("jsonl")
                || ext.eq_ignore_ascii_case("ndjson")
                || ext.eq_ignore_ascii_case("json") =>
        {
            Format::Jsonl
        }
        _ => Format::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_path_is_an_error_naming_it() {
        let err = discover(&[PathBuf::from("/no/such/corpus.jsonl")], None).expect_err("missing");
        assert!(
            err.to_string().starts_with("/no/such/corpus.jsonl:"),
            "{err}"
        );
    }

    #[test]
    fn directories_are_walked_sorted_without_hidden_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["b.txt", "a.jsonl", ".hidden.txt", "sub/c.txt"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, "x").expect("write");
        }
        let found = discover(&[dir.path().to_path_buf()], None).expect("walk");
        let names: Vec<_> = found
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(dir.path())
                    .expect("under dir")
                    .to_path_buf()
            })
            .collect();
        assert_eq!(
            names,
            [PathBuf::from("a.jsonl"), "b.txt".into(), "sub/c.txt".into()]
        );
        assert_eq!(found[0].format, Format::Jsonl);
        assert_eq!(found[1].format, Format::Text);
        assert!(found.iter().all(|f| !f.explicit));
    }
}
