//! Turning the paths a user typed into an ordered list of input files.
//!
//! A file path is taken as given; a directory is walked recursively in sorted order
//! so that runs are reproducible. Symbolic links are followed, to files and to
//! folders alike. Hidden entries (names starting with `.`) are not descended into
//! and are counted ([`Discovered::hidden`]). Everything else found must be a file
//! to read: a path that does not exist, a dangling link, a link that loops back
//! to a folder containing it, and anything in a folder that is not a regular
//! file (a named pipe, a socket, a device) are errors naming the path. A named
//! pipe given on the command line (process substitution) is read to its end, and
//! `-` is standard input. The format comes from `--format` or else the name,
//! once a compression suffix (`.gz`, `.zst`, `.bz2`, `.xz`) is taken off:
//! `.jsonl`, `.ndjson`, `.json` and `.parquet` hold records (Parquet rows are read
//! as JSON lines), anything else is plain text, one article per file.
//!
//! Each file also gets the name its outputs take ([`InputFile::relative`]): its
//! path under the folder given, or its file name when named directly; when two
//! inputs would get one name, the later ones are told apart by the number of the
//! input they came from.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How a file's records are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// The whole file is one article.
    Text,
}

crate::setting_names::by_setting_name!(Format);

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// How to read it.
    pub format: Format,
    /// Named on the command line (true) or found inside a directory (false).
    /// Either way a file that cannot be read is an error or, when asked for, a
    /// counted skip.
    pub explicit: bool,
    /// Its name relative to the input it was found under: unique in a run.
    pub relative: PathBuf,
}

/// The path that stands for standard input.
pub const STDIN: &str = "-";

/// Whether `path` stands for standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The files to read, in order.
    pub files: Vec<InputFile>,
    /// Hidden entries under the directories given, passed over.
    pub hidden: Vec<PathBuf>,
}

/// Expands `inputs` (files and directories) into files, in a deterministic order.
pub fn discover(inputs: &[PathBuf], forced: Option<Format>) -> Result<Discovered> {
    let mut found = Discovered::default();
    let several = inputs.len() > 1;
    let mut taken = std::collections::HashSet::new();
    let mut name = |relative: PathBuf, input: usize| -> PathBuf {
        let relative = if taken.contains(&relative) {
            Path::new(&format!("input-{}", input + 1)).join(relative)
        } else {
            relative
        };
        taken.insert(relative.clone());
        relative
    };
    for (number, input) in inputs.iter().enumerate() {
        if is_stdin(input) {
            if found.files.iter().any(|f| is_stdin(&f.path)) {
                return Err(Error::in_file(input, "standard input is given twice"));
            }
            found.files.push(InputFile {
                path: input.clone(),
                format: forced.unwrap_or(Format::Jsonl),
                explicit: true,
                relative: name(PathBuf::from("stdin"), number),
            });
            continue;
        }
        let meta = std::fs::metadata(input).map_err(|e| not_found(input, e))?;
        if meta.is_dir() {
            let hidden = std::cell::RefCell::new(Vec::new());
            let walker = walkdir::WalkDir::new(input)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    let keep = e.depth() == 0 || !is_hidden(e.file_name());
                    if !keep {
                        hidden.borrow_mut().push(e.path().to_path_buf());
                    }
                    keep
                });
            let mut hidden_links = Vec::new();
            for entry in walker {
                let entry = match entry {
                    Ok(entry) => entry,
                    // A hidden entry that cannot be followed (an editor's lock
                    // link, say) is passed over like any hidden entry.
                    Err(e) if e.depth() > 0 && e.path().is_some_and(is_hidden_path) => {
                        hidden_links.extend(e.path().map(Path::to_path_buf));
                        continue;
                    }
                    Err(e) => return Err(walk_error(input, e)),
                };
                let kind = entry.file_type();
                if kind.is_dir() {
                    continue;
                }
                if !kind.is_file() {
                    return Err(Error::in_file(
                        entry.path(),
                        format!("{}, not a file to read", special_kind(&kind)),
                    ));
                }
                let path = entry.into_path();
                let format = forced.unwrap_or_else(|| format_of(&path));
                let under = path.strip_prefix(input).unwrap_or(&path);
                let relative = match input.file_name() {
                    Some(folder) if several => Path::new(folder).join(under),
                    _ => under.to_path_buf(),
                };
                found.files.push(InputFile {
                    relative: name(relative, number),
                    path,
                    format,
                    explicit: false,
                });
            }
            found.hidden.extend(hidden.into_inner());
            found.hidden.extend(hidden_links);
        } else if meta.is_file() || is_stream(&meta.file_type()) {
            let relative = input
                .file_name()
                .map_or_else(|| input.clone(), PathBuf::from);
            found.files.push(InputFile {
                path: input.clone(),
                format: forced.unwrap_or_else(|| format_of(input)),
                explicit: true,
                relative: name(relative, number),
            });
        } else {
            return Err(Error::in_file(
                input,
                format!("{}, not a file to read", special_kind(&meta.file_type())),
            ));
        }
    }
    Ok(found)
}

/// The error for a path whose metadata cannot be read: a dangling link is named
/// as one.
fn not_found(path: &Path, error: std::io::Error) -> Error {
    if error.kind() == std::io::ErrorKind::NotFound {
        if let Ok(target) = std::fs::read_link(path) {
            return Error::in_file(
                path,
                format!(
                    "dangling symbolic link: its target {} does not exist",
                    target.display()
                ),
            );
        }
    }
    Error::io(path, error)
}

/// The error for a failed step of walking the directory `input`.
fn walk_error(input: &Path, error: walkdir::Error) -> Error {
    let path = error.path().unwrap_or(input).to_path_buf();
    if let Some(ancestor) = error.loop_ancestor() {
        return Error::in_file(
            &path,
            format!(
                "symbolic link loop: it leads back to {}, a folder that contains it",
                ancestor.display()
            ),
        );
    }
    let io = error
        .into_io_error()
        .unwrap_or_else(|| std::io::Error::other("directory walk failed"));
    not_found(&path, io)
}

/// A named pipe or a character device: read to its end when named on the
/// command line (`neardedup dedup <(zcat crawl.jsonl.gz)`), never when found
/// in a folder, where reading one could wait forever.
fn is_stream(kind: &std::fs::FileType) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        kind.is_fifo() || kind.is_char_device()
    }
    #[cfg(not(unix))]
    {
        let _ = kind;
        false
    }
}

/// What a file type that is neither a file nor a folder is, in words.
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    let _ = kind;
    "not a regular file"
}

fn is_hidden_path(path: &Path) -> bool {
    path.file_name().is_some_and(is_hidden)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

/// The format implied by a file's name, a compression suffix taken off
/// (`a.jsonl.gz` holds JSON lines; Parquet rows are read as JSON lines).
pub fn format_of(path: &Path) -> Format {
    let container = super::Container::of_name(path);
    let path = match container {
        super::Container::Plain | super::Container::Parquet => path,
        _ => Path::new(path.file_stem().unwrap_or_default()),
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext)
            if ["jsonl", "ndjson", "json", "parquet"]
                .iter()
                .any(|known| ext.eq_ignore_ascii_case(known)) =>
        {
            Format::Jsonl
        }
        _ => Format::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "cli")]
    #[test]
    fn format_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<Format>();
    }

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
        let discovered = discover(&[dir.path().to_path_buf()], None).expect("walk");
        assert_eq!(discovered.hidden, [dir.path().join(".hidden.txt")]);
        let found = discovered.files;
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

    #[test]
    fn every_file_gets_a_unique_output_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "jan/a.jsonl.gz",
            "jan/sub/b.txt",
            "feb/a.jsonl.gz",
            "c.parquet",
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, "x").expect("write");
        }
        let one = discover(&[dir.path().join("jan")], None).expect("walk");
        let names: Vec<&Path> = one.files.iter().map(|f| f.relative.as_path()).collect();
        assert_eq!(names, [Path::new("a.jsonl.gz"), Path::new("sub/b.txt")]);
        let inputs = [
            dir.path().join("jan"),
            dir.path().join("feb"),
            dir.path().join("c.parquet"),
            dir.path().join("jan/a.jsonl.gz"),
            PathBuf::from(STDIN),
        ];
        let several = discover(&inputs, None).expect("walk");
        let names: Vec<&Path> = several.files.iter().map(|f| f.relative.as_path()).collect();
        assert_eq!(
            names,
            [
                Path::new("jan/a.jsonl.gz"),
                Path::new("jan/sub/b.txt"),
                Path::new("feb/a.jsonl.gz"),
                Path::new("c.parquet"),
                Path::new("a.jsonl.gz"),
                Path::new("stdin"),
            ]
        );
        let formats: Vec<Format> = several.files.iter().map(|f| f.format).collect();
        assert_eq!(
            formats,
            [
                Format::Jsonl,
                Format::Text,
                Format::Jsonl,
                Format::Jsonl,
                Format::Jsonl,
                Format::Jsonl
            ]
        );
    }

    #[cfg(unix)]
    fn symlink(target: &Path, link: &Path) {
        std::os::unix::fs::symlink(target, link).expect("symlink");
    }

    #[cfg(unix)]
    #[test]
    fn links_to_files_and_folders_are_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(outside.join("deep")).expect("mkdir");
        std::fs::write(outside.join("big.jsonl"), "x").expect("write");
        std::fs::write(outside.join("deep/c.txt"), "x").expect("write");
        let input = dir.path().join("in");
        std::fs::create_dir(&input).expect("mkdir");
        std::fs::write(input.join("a.txt"), "x").expect("write");
        symlink(&outside.join("big.jsonl"), &input.join("b.jsonl"));
        symlink(&outside.join("deep"), &input.join("d"));
        let found = discover(std::slice::from_ref(&input), None).expect("walk");
        let names: Vec<_> = found
            .files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(&input)
                    .expect("under input")
                    .to_path_buf()
            })
            .collect();
        assert_eq!(
            names,
            [PathBuf::from("a.txt"), "b.jsonl".into(), "d/c.txt".into()]
        );
    }

    #[cfg(unix)]
    #[test]
    fn dangling_links_and_link_loops_are_errors_naming_the_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in");
        std::fs::create_dir(&input).expect("mkdir");
        symlink(Path::new("gone.txt"), &input.join("broken.txt"));
        let err = discover(std::slice::from_ref(&input), None).expect_err("dangling");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: dangling symbolic link: its target gone.txt does not exist",
                input.join("broken.txt").display()
            )
        );
        let err = discover(&[input.join("broken.txt")], None).expect_err("dangling, named");
        assert!(err.to_string().contains("dangling symbolic link"), "{err}");

        std::fs::remove_file(input.join("broken.txt")).expect("rm");
        std::fs::create_dir(input.join("sub")).expect("mkdir");
        symlink(&input, &input.join("sub/up"));
        let err = discover(std::slice::from_ref(&input), None).expect_err("loop");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:", input.join("sub/up").display())),
            "{shown}"
        );
        assert!(shown.contains("symbolic link loop"), "{shown}");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_in_a_folder_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.txt");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let err = discover(&[dir.path().to_path_buf()], None).expect_err("fifo");
        assert!(
            err.to_string()
                .contains("a named pipe (FIFO), not a file to read"),
            "{err}"
        );
        let named = discover(std::slice::from_ref(&fifo), None).expect("named, it is read");
        assert_eq!(named.files.len(), 1);
    }
}
