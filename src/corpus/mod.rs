//! Input corpora: finding the files, mapping them, and cutting them into records.
//!
//! A corpus is a list of input files, each memory-mapped or, if small, read into
//! memory (see [`source`]). A record is a byte span of one file: one line of a JSONL
//! file, or a whole plain-text file (one article per file). Records are found in
//! parallel by cutting each file into chunks at newline boundaries
//! ([`Corpus::chunks`]), and each record's text is decoded only when a stage needs it,
//! per record, never per file.
//!
//! Every input file found is read or reported: a file that cannot be opened is an
//! error; so is one that cannot be read as text (compressed, an archive, UTF-16,
//! binary, invalid UTF-8), unless [`CorpusOptions::skip_invalid`] says to skip and
//! count it ([`SkippedFiles`]). Empty files are skipped and counted. The same file
//! reached twice (named twice, or through a folder and a link) is an error, as its
//! records would be compared with themselves. A UTF-8 byte-order mark at the start
//! of a file is passed over.
//!
//! Compressed files, Parquet tables and streams (standard input, named pipes)
//! are first decoded into unnamed files in a scratch folder ([`container`],
//! [`parquet`]) and then mapped like any other input, in parallel across files.
//!
//! When no id field is named, records that carry an `id` (a string or an
//! integer, in the first record read) are known by it ([`Corpus::found_id_field`]);
//! otherwise by line number.
//!
//! Paragraph splitting ([`split`]) turns a record's text into paragraph units.

pub mod container;
mod discover;
pub mod id;
pub mod jsonl;
mod lines;
pub mod parquet;
pub mod source;
pub mod split;

use std::borrow::Cow;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{self, Error, Result};
pub use container::Container;
pub use discover::{discover, is_stdin, Format, InputFile, STDIN};
pub use id::RecordId;
pub use source::FileBytes;
pub use split::{paragraphs, ParaSep, Paragraph};

/// Target size of one parallel work chunk of a JSONL file. Big enough that the
/// per-chunk overhead (a work item's buffers, one step of the merge) vanishes,
/// small enough that 2-64 cores all get work on a file of a few hundred MB and
/// that the last chunks of a pass leave cores idle only briefly.
pub const CHUNK_BYTES: usize = 1 << 20;

/// How records are read out of the input files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusOptions {
    /// JSONL field holding the text.
    pub text_field: String,
    /// JSONL field holding the id; `None` numbers records by line instead.
    pub id_field: Option<String>,
    /// Force a format for every file instead of going by extension.
    pub format: Option<Format>,
    /// Skip and count files that cannot be read as text (compressed, archives,
    /// other encodings, binary, invalid UTF-8) instead of stopping at the first.
    pub skip_invalid: bool,
    /// Let two records have the same id (from `id_field`); by default that is an
    /// error naming both (see [`id::duplicates`]).
    pub allow_duplicate_ids: bool,
    /// Without `id_field`: use the records' `id` field when they have one
    /// (see [`Corpus::found_id_field`]); `false` numbers records by line.
    pub ids_from_records: bool,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            text_field: "text".into(),
            id_field: None,
            format: None,
            skip_invalid: false,
            allow_duplicate_ids: false,
            ids_from_records: true,
        }
    }
}

/// One input file, mapped.
#[derive(Debug)]
pub struct MappedFile {
    /// Path as the user gave it (or as found under a directory they gave);
    /// `-` for standard input.
    pub path: PathBuf,
    /// How its records are laid out (in `bytes`: Parquet rows are JSON lines).
    pub format: Format,
    /// How the file is stored on disk.
    pub container: Container,
    /// Its name relative to the input it was found under, unique in the run:
    /// what its outputs are called.
    pub relative: PathBuf,
    /// Read from a stream (standard input or a pipe): it cannot be read again.
    pub stream: bool,
    /// The records' bytes (decoded, for a container other than plain).
    pub bytes: FileBytes,
}

/// Files that were passed over, with the reason, so the report can count them.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SkippedFiles {
    /// How many files were skipped, hidden entries aside.
    pub count: u64,
    /// Empty files (nothing to deduplicate).
    pub empty: Vec<PathBuf>,
    /// Files that cannot be read as text, skipped under
    /// [`CorpusOptions::skip_invalid`], each with the reason.
    pub unreadable: Vec<UnreadableFile>,
    /// Hidden entries (names starting with `.`) under the directories given:
    /// not descended into.
    pub hidden: Vec<PathBuf>,
}

/// A file skipped because it cannot be read as text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnreadableFile {
    /// The file.
    pub path: PathBuf,
    /// Why, in words.
    pub reason: String,
}

/// A contiguous piece of one file that one worker parses.
#[derive(Debug, Clone, Copy)]
pub struct Chunk {
    /// Index into [`Corpus::files`].
    pub file: u32,
    /// Byte range within the file.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// 1-based line number of the chunk's first line.
    pub first_line: u64,
}

/// Where a record lives, and its id.
#[derive(Debug, Clone)]
pub struct RecordMeta {
    /// Index into [`Corpus::files`].
    pub file: u32,
    /// Byte offset of the record in its file.
    pub start: usize,
    /// Length of the record in bytes (without the line break).
    pub len: usize,
    /// 1-based line number (1 for plain-text files).
    pub line: u64,
    /// The record's id as it will be written out.
    pub id: RecordId,
}

/// The mapped input files of one run.
#[derive(Debug)]
pub struct Corpus {
    files: Vec<MappedFile>,
    options: CorpusOptions,
    skipped: SkippedFiles,
    multi_file: bool,
    found_id_field: bool,
}

/// The field taken as the records' ids when none is named and they have it.
pub const FOUND_ID_FIELD: &str = "id";

/// An input on its way in: its bytes, or a file (none for standard input) to
/// decode, and whether it is a stream.
enum Opened {
    Ready(FileBytes, Container),
    Decode(Option<std::fs::File>, bool),
}

/// The container of the regular file `file` (at `path`), by its leading bytes.
fn stored_container(file: &std::fs::File, path: &Path) -> Result<Container> {
    let mut head = [0u8; 16];
    let mut got = 0;
    let mut reader = file;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    reader
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Error::io(path, e))?;
    Ok(Container::sniff(&head[..got]))
}

/// Decodes `input` (from `file`, or standard input when `None`) into an unnamed
/// file in `scratch` and maps it; returns the bytes and the container they came
/// in. A stream's container is known by its leading bytes.
fn decode_input(
    input: &InputFile,
    file: Option<std::fs::File>,
    options: &CorpusOptions,
    scratch: &Path,
) -> Result<(FileBytes, Container)> {
    let path = &input.path;
    let mut out = container::scratch_file(scratch, path)?;
    let container = match file {
        Some(file) if file.metadata().is_ok_and(|m| m.is_file()) => {
            let container = stored_container(&file, path)?;
            if container == Container::Parquet {
                parquet::decode(
                    path,
                    &options.text_field,
                    options.id_field.as_deref(),
                    &mut out,
                )?;
            } else {
                container::decompress(container, &file, path, &mut out)?;
            }
            container
        }
        Some(stream) => decode_stream(stream, path, &mut out)?,
        None => decode_stream(std::io::stdin().lock(), path, &mut out)?,
    };
    let file = container::finish_scratch(out, path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let bytes = if len == 0 {
        FileBytes::Read(Vec::new())
    } else {
        source::map_or_read_file(&file, path, len)?
    };
    Ok((bytes, container))
}

/// Decodes a stream whose container its leading bytes tell.
fn decode_stream(
    stream: impl std::io::Read,
    path: &Path,
    out: &mut impl std::io::Write,
) -> Result<Container> {
    let mut reader = std::io::BufReader::with_capacity(1 << 20, stream);
    let container = Container::sniff(&container::peek(&mut reader, path)?);
    if container == Container::Parquet {
        return Err(Error::in_file(
            path,
            "a Parquet table cannot be read from a stream (its index is at its end): give \
             the file",
        ));
    }
    container::decompress(container, reader, path, out)?;
    Ok(container)
}

/// Whether the first record of the first JSONL file has an `id` that is a
/// string or an integer.
fn first_record_has_id(files: &[MappedFile]) -> bool {
    let Some(file) = files.iter().find(|f| f.format == Format::Jsonl) else {
        return false;
    };
    let bytes: &[u8] = &file.bytes;
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let Some(first) = lines::lines_inclusive(bytes)
        .map(trim_line_end)
        .find(|line| !line.iter().all(u8::is_ascii_whitespace))
    else {
        return false;
    };
    jsonl::parse_object(first).is_ok_and(|record| {
        matches!(
            jsonl::lookup(&record, FOUND_ID_FIELD),
            Some(serde_json::Value::String(_))
        ) || jsonl::lookup(&record, FOUND_ID_FIELD).is_some_and(|v| v.is_i64() || v.is_u64())
    })
}

/// The UTF-8 byte-order mark, passed over at the start of a file.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

impl Corpus {
    /// Finds and opens every input, reading at most the default memory budget's
    /// worth of small files into memory (see [`Corpus::open_within`]).
    pub fn open(inputs: &[PathBuf], options: CorpusOptions) -> Result<Corpus> {
        Corpus::open_within(inputs, options, crate::memory::default_budget_bytes())
    }

    /// [`Corpus::open_in`], decoding into the system's temporary folder.
    pub fn open_within(
        inputs: &[PathBuf],
        options: CorpusOptions,
        memory_budget: u64,
    ) -> Result<Corpus> {
        Corpus::open_in(inputs, options, memory_budget, &std::env::temp_dir())
    }

    /// Finds and opens every input. Paths that do not exist, files that cannot be
    /// opened and the same file reached twice are errors; so are files that cannot
    /// be read as text, unless `options.skip_invalid` skips and counts them. Empty
    /// files are skipped and counted. An input with nothing left to read is an
    /// error.
    ///
    /// Plain files are read into memory or mapped (see [`source::Loader`]); at
    /// most half the available memory, or `memory_budget` bytes if more, is read.
    /// Compressed files, Parquet tables and streams are decoded, in parallel, into
    /// unnamed files in `scratch` (created if needed), which are mapped.
    pub fn open_in(
        inputs: &[PathBuf],
        mut options: CorpusOptions,
        memory_budget: u64,
        scratch: &Path,
    ) -> Result<Corpus> {
        let found = discover(inputs, options.format)?;
        let available = crate::memory::available_bytes().unwrap_or(0);
        let mut loader = source::Loader::new(memory_budget.max(available / 2));
        let mut skipped = SkippedFiles {
            hidden: found.hidden,
            ..SkippedFiles::default()
        };
        let mut identities = std::collections::HashMap::with_capacity(found.files.len());
        let mut opened = Vec::with_capacity(found.files.len());
        for input in found.files {
            if is_stdin(&input.path) {
                opened.push((input, Opened::Decode(None, true)));
                continue;
            }
            let file = std::fs::File::open(&input.path).map_err(|e| Error::io(&input.path, e))?;
            let meta = file.metadata().map_err(|e| Error::io(&input.path, e))?;
            if let Some(first) = identities.insert(identity(&input.path, &meta), input.path.clone())
            {
                let how = if first == input.path {
                    "is given twice".to_string()
                } else {
                    format!(
                        "is the same file as {} (reached again through a folder or a link)",
                        first.display()
                    )
                };
                return Err(Error::in_file(
                    &input.path,
                    format!("{how}: its records would be compared with themselves; give it once"),
                ));
            }
            if !meta.is_file() {
                opened.push((input, Opened::Decode(Some(file), true)));
                continue;
            }
            let container = stored_container(&file, &input.path)?;
            if container.is_decoded() {
                opened.push((input, Opened::Decode(Some(file), false)));
                continue;
            }
            let bytes = loader.load(&file, &input.path, meta.len())?;
            opened.push((input, Opened::Ready(bytes, Container::Plain)));
        }
        let decoded: Vec<Option<Result<(FileBytes, Container)>>> = opened
            .par_iter_mut()
            .map(|(input, opened)| match opened {
                Opened::Decode(file, _) => {
                    Some(decode_input(input, file.take(), &options, scratch))
                }
                Opened::Ready(..) => None,
            })
            .collect();
        let mut files = Vec::with_capacity(opened.len());
        for ((input, opened), decoded) in opened.into_iter().zip(decoded) {
            let (bytes, container, stream) = match (opened, decoded) {
                (Opened::Ready(bytes, container), _) => (bytes, container, false),
                (Opened::Decode(_, stream), Some(Ok((bytes, container)))) => {
                    loader.adopt(&bytes);
                    (bytes, container, stream)
                }
                (Opened::Decode(..), Some(Err(e))) => {
                    if !options.skip_invalid {
                        return Err(e);
                    }
                    let shown = e.to_string();
                    let prefix = format!("{}: ", input.path.display());
                    skipped.unreadable.push(UnreadableFile {
                        reason: shown.strip_prefix(&prefix).unwrap_or(&shown).to_string(),
                        path: input.path,
                    });
                    continue;
                }
                (Opened::Decode(..), None) => unreachable!("every decode has a result"),
            };
            if admit(&input.path, input.format, &bytes, &options, &mut skipped)? {
                files.push(MappedFile {
                    path: input.path,
                    format: input.format,
                    container,
                    relative: input.relative,
                    stream,
                    bytes,
                });
            } else {
                loader.release(&bytes);
            }
        }
        let found_id =
            options.id_field.is_none() && options.ids_from_records && first_record_has_id(&files);
        if found_id {
            options.id_field = Some(FOUND_ID_FIELD.into());
        }
        let mut corpus = Corpus::from_admitted(files, options, skipped, inputs)?;
        corpus.found_id_field = found_id;
        Ok(corpus)
    }

    /// A corpus of files already in memory, each given as (name, format, bytes),
    /// checked and read exactly as [`Corpus::open`] checks and reads files
    /// (`options.format`, when set, overrides the formats given). For callers that
    /// hold their text in memory, and for tests and fuzzing of the record readers
    /// without a file system.
    pub fn from_memory(
        files: impl IntoIterator<Item = (PathBuf, Format, Vec<u8>)>,
        options: CorpusOptions,
    ) -> Result<Corpus> {
        let mut kept = Vec::new();
        let mut names = Vec::new();
        let mut skipped = SkippedFiles::default();
        for (path, format, bytes) in files {
            let format = options.format.unwrap_or(format);
            let bytes = FileBytes::Read(bytes);
            names.push(path.clone());
            if admit(&path, format, &bytes, &options, &mut skipped)? {
                kept.push(MappedFile {
                    relative: path.file_name().map_or_else(|| path.clone(), PathBuf::from),
                    path,
                    format,
                    container: Container::Plain,
                    stream: false,
                    bytes,
                });
            }
        }
        Corpus::from_admitted(kept, options, skipped, &names)
    }

    /// The corpus of the admitted `files`; an error when none is left (the
    /// message names `inputs` and what was skipped).
    fn from_admitted(
        files: Vec<MappedFile>,
        options: CorpusOptions,
        mut skipped: SkippedFiles,
        inputs: &[PathBuf],
    ) -> Result<Corpus> {
        skipped.count = (skipped.empty.len() + skipped.unreadable.len()) as u64;
        if files.is_empty() {
            return Err(Error::NoInput(nothing_to_read(inputs, &skipped)));
        }
        let multi_file = files.len() > 1;
        Ok(Corpus {
            files,
            options,
            skipped,
            multi_file,
            found_id_field: false,
        })
    }

    /// Whether the records' ids come from their `id` field because no id field
    /// was named and the first record has one (a string or an integer).
    pub fn found_id_field(&self) -> bool {
        self.found_id_field
    }

    /// The files that hold records, in input order.
    pub fn files(&self) -> &[MappedFile] {
        &self.files
    }

    /// Files that were skipped and why.
    pub fn skipped(&self) -> &SkippedFiles {
        &self.skipped
    }

    /// The reading options.
    pub fn options(&self) -> &CorpusOptions {
        &self.options
    }

    /// Total bytes of all mapped inputs.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes.len() as u64).sum()
    }

    /// Cuts every file into parallel work chunks, in input order. A plain-text file is
    /// one chunk; a JSONL file is cut at newlines into pieces of about
    /// `CHUNK_BYTES`, each knowing the line number it starts at.
    pub fn chunks(&self) -> Vec<Chunk> {
        self.chunks_of(CHUNK_BYTES)
    }

    /// Like [`Corpus::chunks`], with JSONL files cut into pieces of about
    /// `max_bytes` (at least one line each).
    pub fn chunks_of(&self, max_bytes: usize) -> Vec<Chunk> {
        let mut chunks = self.cut_chunks(max_bytes);
        self.number_lines(&mut chunks);
        chunks
    }

    /// Cuts every file into work chunks of about `max_bytes` like
    /// [`Corpus::chunks_of`], touching only the bytes around each cut, and leaves
    /// `first_line` at 0: the scan of a run numbers lines as it reads them.
    pub fn cut_chunks(&self, max_bytes: usize) -> Vec<Chunk> {
        let max_bytes = max_bytes.max(1);
        let mut chunks = Vec::new();
        for (index, file) in self.files.iter().enumerate() {
            let index = u32::try_from(index).expect("fewer than 2^32 input files");
            let bytes: &[u8] = &file.bytes;
            if file.format == Format::Text {
                chunks.push(Chunk {
                    file: index,
                    start: 0,
                    end: bytes.len(),
                    first_line: 0,
                });
                continue;
            }
            let mut start = 0;
            while start < bytes.len() {
                let mut end = (start + max_bytes).min(bytes.len());
                if end < bytes.len() {
                    end = match lines::find_newline(&bytes[end..]) {
                        Some(p) => end + p + 1,
                        None => bytes.len(),
                    };
                }
                chunks.push(Chunk {
                    file: index,
                    start,
                    end,
                    first_line: 0,
                });
                start = end;
            }
        }
        chunks
    }

    /// Sets `first_line` of `chunks` (from [`Corpus::cut_chunks`], covering
    /// whole files). Newlines are counted in parallel on the current rayon pool.
    fn number_lines(&self, chunks: &mut [Chunk]) {
        let newlines: Vec<u64> = chunks.par_iter().map(|c| self.newlines_in(c)).collect();
        let mut line = 1;
        for (chunk, newlines) in chunks.iter_mut().zip(newlines) {
            if chunk.start == 0 {
                line = 1;
            }
            chunk.first_line = line;
            line += newlines;
        }
    }

    /// Line breaks in `chunk` (none in plain-text files, where a record is a
    /// whole file).
    pub fn newlines_in(&self, chunk: &Chunk) -> u64 {
        let file = &self.files[chunk.file as usize];
        if file.format == Format::Text {
            return 0;
        }
        let bytes: &[u8] = &file.bytes;
        lines::count_newlines(&bytes[chunk.start..chunk.end]) as u64
    }

    /// Calls `on_record` for every record of `chunk`, in order, with its metadata and
    /// text, numbering lines from `chunk.first_line`. A record that cannot be read
    /// is handed over as `Err` (naming file and line) so the caller decides whether
    /// to stop or to count and skip it. Returns the line breaks in the chunk, so
    /// that a caller who numbered a chunk before knowing where it starts can move
    /// it down later (see [`Corpus::move_lines_down`]).
    pub fn for_each_record(
        &self,
        chunk: Chunk,
        mut on_record: impl FnMut(Result<(RecordMeta, Cow<'_, str>)>),
    ) -> u64 {
        let file = &self.files[chunk.file as usize];
        let bytes: &[u8] = &file.bytes[chunk.start..chunk.end];
        match file.format {
            Format::Text => {
                // Validated as UTF-8 when the corpus was opened.
                let text = match std::str::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(_) => {
                        on_record(Err(Error::in_file(&file.path, "not valid UTF-8")));
                        return 0;
                    }
                };
                let bom = if chunk.start == 0 && text.starts_with('\u{feff}') {
                    UTF8_BOM.len()
                } else {
                    0
                };
                let text = &text[bom..];
                let meta = RecordMeta {
                    file: chunk.file,
                    start: chunk.start + bom,
                    len: text.len(),
                    line: 1,
                    id: RecordId::from_string(&file.path.display().to_string()),
                };
                on_record(Ok((meta, Cow::Borrowed(text))));
                0
            }
            Format::Jsonl => {
                let mut offset = 0;
                let mut newlines = 0;
                let lines = lines::lines_inclusive(bytes);
                for (this_line, raw) in (chunk.first_line..).zip(lines) {
                    let mut start = chunk.start + offset;
                    offset += raw.len();
                    newlines += u64::from(raw.last() == Some(&b'\n'));
                    let mut content = trim_line_end(raw);
                    if start == 0 && content.starts_with(UTF8_BOM) {
                        start = UTF8_BOM.len();
                        content = &content[UTF8_BOM.len()..];
                    }
                    if content.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let result =
                        self.parse_jsonl_line(&file.path, content, this_line)
                            .map(|(id, text)| {
                                let meta = RecordMeta {
                                    file: chunk.file,
                                    start,
                                    len: content.len(),
                                    line: this_line,
                                    id,
                                };
                                (meta, text)
                            });
                    on_record(result);
                }
                newlines
            }
        }
    }

    /// Moves `records` and `errors`, all read from one piece of a file that was
    /// numbered as if it started on a line `lines` higher up, down to where they
    /// are: their lines (or rows) grow by `lines`, and ids made from line numbers
    /// are made again.
    pub fn move_lines_down(&self, records: &mut [RecordMeta], errors: &mut [Error], lines: u64) {
        if lines == 0 {
            return;
        }
        for record in records.iter_mut() {
            record.line += lines;
            let file = &self.files[record.file as usize];
            if file.format == Format::Jsonl && self.options.id_field.is_none() {
                record.id = self.line_id(&file.path, record.line);
            }
        }
        for error in errors {
            error.move_down(lines);
        }
    }

    /// The id of the JSONL record on `line` of `path` when records have no id
    /// field: its line number, with the file's path when there are several.
    fn line_id(&self, path: &Path, line: u64) -> RecordId {
        if self.multi_file {
            RecordId::from_string(&format!("{}:{}", path.display(), line))
        } else {
            RecordId::Int(line)
        }
    }

    fn parse_jsonl_line<'a>(
        &self,
        path: &Path,
        content: &'a [u8],
        line: u64,
    ) -> Result<(RecordId, Cow<'a, str>)> {
        let fields = jsonl::extract(
            content,
            &self.options.text_field,
            self.options.id_field.as_deref(),
        )
        .map_err(|message| self.record_error(path, line, message))?;
        let id = match fields.id {
            Some(id) => id,
            None => self.line_id(path, line),
        };
        Ok((id, fields.text))
    }

    /// Where `record` is, as messages name it: `path:line` in a JSONL file,
    /// `path row N` in a Parquet table (rows counted from 0), the path of a
    /// plain-text file.
    pub fn place(&self, record: &RecordMeta) -> String {
        let file = &self.files[record.file as usize];
        match (file.format, file.container) {
            (Format::Jsonl, Container::Parquet) => {
                format!("{} row {}", file.path.display(), record.line - 1)
            }
            (Format::Jsonl, _) => format!("{}:{}", file.path.display(), record.line),
            (Format::Text, _) => file.path.display().to_string(),
        }
    }

    /// The error `message` about the record on `line` of the file at `path`:
    /// `path:line: message`, or `path: row N: message` for a Parquet table.
    pub(crate) fn record_error(&self, path: &Path, line: u64, message: impl Into<String>) -> Error {
        let parquet = self
            .files
            .iter()
            .any(|f| f.path == path && f.container == Container::Parquet);
        if parquet {
            Error::at_row(path, line - 1, message)
        } else {
            Error::at_line(path, line, message)
        }
    }

    /// The value at the dotted field path `path` of a JSONL (or Parquet)
    /// record, `None` when the record has no such field. Plain-text records
    /// have no fields: asking is an error.
    pub fn record_field(
        &self,
        record: &RecordMeta,
        path: &str,
    ) -> Result<Option<serde_json::Value>> {
        let file = &self.files[record.file as usize];
        if file.format == Format::Text {
            return Err(Error::in_file(
                &file.path,
                format!("a plain-text article has no fields: field `{path}` cannot be read"),
            ));
        }
        let object = jsonl::parse_object(self.record_bytes(record))
            .map_err(|m| self.record_error(&file.path, record.line, m))?;
        Ok(jsonl::lookup(&object, path).cloned())
    }

    /// Reads the id of `record` again from its bytes (for records known only by
    /// where they are).
    pub fn read_id(&self, record: &RecordMeta) -> Result<RecordId> {
        let file = &self.files[record.file as usize];
        match file.format {
            Format::Text => Ok(RecordId::from_string(&file.path.display().to_string())),
            Format::Jsonl => self
                .parse_jsonl_line(&file.path, self.record_bytes(record), record.line)
                .map(|(id, _)| id),
        }
    }

    /// Checks that no two of `records` (all the run's records, in input order)
    /// have the same id. Ids only repeat when they come from an id field (line
    /// numbers, `path:line` and paths are unique, as no file is read twice), so
    /// without one nothing is checked. Returns how many records have the id of an
    /// earlier one: 0, or with [`CorpusOptions::allow_duplicate_ids`] any number;
    /// without it a repeated id is an error naming both records.
    pub fn check_unique_ids(&self, records: &[RecordMeta]) -> Result<u64> {
        if self.options.id_field.is_none() {
            return Ok(0);
        }
        let ids: Vec<&RecordId> = records.iter().map(|r| &r.id).collect();
        let found = id::duplicates(&ids);
        match found.first {
            Some((earlier, later)) if !self.options.allow_duplicate_ids => {
                Err(self.duplicate_id_error(&records[earlier], &records[later]))
            }
            _ => Ok(found.count),
        }
    }

    /// The error for `later` having the id of `earlier`.
    pub fn duplicate_id_error(&self, earlier: &RecordMeta, later: &RecordMeta) -> Error {
        let field = self.options.id_field.as_deref().unwrap_or("id");
        Error::Input {
            path: self.path(later.file).to_path_buf(),
            location: match self.files[later.file as usize].format {
                Format::Jsonl => error::Location::Line(later.line),
                Format::Text => error::Location::File,
            },
            message: format!(
                "duplicate id {}: {} has it too (field {field:?}), so the outputs could not \
                 tell the two records apart. Make the ids unique, leave out `id_field` to \
                 name records by file and line, or set `allow_duplicate_ids` to go on \
                 anyway",
                later.id,
                self.place(earlier),
            ),
        }
    }

    /// The error for a run whose inputs gave no record: `invalid` records were
    /// skipped (under `--skip-invalid`), the first for the reason `example`.
    pub fn no_records_error(&self, invalid: u64, example: Option<&str>) -> Error {
        let files: Vec<String> = self
            .files
            .iter()
            .take(3)
            .map(|f| f.path.display().to_string())
            .collect();
        let more = if self.files.len() > 3 { ", ..." } else { "" };
        let what = format!("{}{more}", files.join(", "));
        Error::NoInput(if invalid > 0 {
            format!(
                "no records to deduplicate in {what}: all {invalid} record(s) could not be \
                 read and were skipped (`skip_invalid`); the first: {}",
                example.unwrap_or("?")
            )
        } else {
            format!("no records to deduplicate in {what}: every line is blank")
        })
    }

    /// The raw bytes of a record (one JSONL line without its line break, or a file).
    pub fn record_bytes(&self, record: &RecordMeta) -> &[u8] {
        &self.files[record.file as usize].bytes[record.start..record.start + record.len]
    }

    /// Decodes a record's text again (for writing outputs after the sketch pass).
    pub fn record_text(&self, record: &RecordMeta) -> Result<Cow<'_, str>> {
        let file = &self.files[record.file as usize];
        let bytes = self.record_bytes(record);
        match file.format {
            Format::Text => std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|_| Error::in_file(&file.path, "not valid UTF-8")),
            Format::Jsonl => self
                .parse_jsonl_line(&file.path, bytes, record.line)
                .map(|(_, text)| text),
        }
    }

    /// The path of file `index`.
    pub fn path(&self, index: u32) -> &Path {
        &self.files[index as usize].path
    }
}

/// Identifies the file behind `path` (with metadata `meta`) whatever path
/// reaches it: device and inode on Unix, the canonical path elsewhere.
fn identity(path: &Path, meta: &std::fs::Metadata) -> (u64, u64, PathBuf) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        (meta.dev(), meta.ino(), PathBuf::new())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        (0, 0, canonical)
    }
}

/// Why nothing is left to read of `inputs`.
/// Whether an opened file holds records to read: an empty file is skipped and
/// counted; a file that cannot be read as `format` is an error naming it, or
/// under `skip_invalid` skipped and counted. The rule for every way a corpus
/// is opened.
fn admit(
    path: &Path,
    format: Format,
    bytes: &FileBytes,
    options: &CorpusOptions,
    skipped: &mut SkippedFiles,
) -> Result<bool> {
    if bytes.is_empty() {
        skipped.empty.push(path.to_path_buf());
        return Ok(false);
    }
    if let Some(problem) = source::sniff(bytes, format) {
        if !options.skip_invalid {
            return Err(problem.into_error(path, bytes));
        }
        skipped.unreadable.push(UnreadableFile {
            reason: problem.reason(bytes),
            path: path.to_path_buf(),
        });
        return Ok(false);
    }
    Ok(true)
}

fn nothing_to_read(inputs: &[PathBuf], skipped: &SkippedFiles) -> String {
    let mut why = Vec::new();
    if !skipped.empty.is_empty() {
        why.push(format!("{} empty file(s) skipped", skipped.empty.len()));
    }
    if !skipped.unreadable.is_empty() {
        let first = &skipped.unreadable[0];
        why.push(format!(
            "{} file(s) that cannot be read as text skipped (`skip_invalid`; first: {}: {})",
            skipped.unreadable.len(),
            first.path.display(),
            first.reason
        ));
    }
    if !skipped.hidden.is_empty() {
        why.push(format!(
            "{} hidden entries passed over",
            skipped.hidden.len()
        ));
    }
    if why.is_empty() {
        let shown: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        why.push(format!("no files in {}", shown.join(", ")));
    }
    format!("no input text: {}; nothing left to read", why.join(", "))
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(content))
            .expect("write fixture");
        path
    }

    fn collect(corpus: &Corpus) -> Vec<Result<(RecordMeta, String)>> {
        let mut out = Vec::new();
        for chunk in corpus.chunks() {
            corpus.for_each_record(chunk, |r| out.push(r.map(|(m, t)| (m, t.into_owned()))));
        }
        out
    }

    #[test]
    fn jsonl_records_carry_line_numbers_and_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            dir.path(),
            "a.jsonl",
            b"{\"text\":\"first\"}\n\n{\"text\":\"third \\\"q\\\"\"}\r\n",
        );
        let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open");
        let records = collect(&corpus);
        assert_eq!(records.len(), 2, "blank line skipped");
        let (meta, text) = records[1].as_ref().expect("ok");
        assert_eq!(meta.line, 3);
        assert_eq!(meta.id, RecordId::Int(3));
        assert_eq!(text, "third \"q\"");
        assert_eq!(corpus.record_text(meta).expect("reparse"), "third \"q\"");
    }

    #[test]
    fn chunks_cover_every_byte_once_and_count_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut content = Vec::new();
        for i in 0..300_000 {
            writeln!(content, "{{\"text\":\"record number {i}\"}}").expect("vec write");
        }
        let path = write(dir.path(), "big.jsonl", &content);
        let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open");
        let chunks = corpus.chunks();
        assert!(chunks.len() > 1, "file larger than one chunk");
        let mut expected_start = 0;
        for c in &chunks {
            assert_eq!(c.start, expected_start);
            expected_start = c.end;
        }
        assert_eq!(expected_start, content.len());
        let records = collect(&corpus);
        assert_eq!(records.len(), 300_000);
        for (i, r) in records.iter().enumerate() {
            let (meta, text) = r.as_ref().expect("ok");
            assert_eq!(meta.line, i as u64 + 1);
            assert_eq!(text, &format!("record number {i}"));
        }
    }

    #[test]
    fn small_chunks_of_several_files_number_lines_per_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut paths = Vec::new();
        let mut contents = Vec::new();
        for (f, lines) in [(0, 40), (1, 7), (2, 55)] {
            let mut content = Vec::new();
            for i in 0..lines {
                writeln!(
                    content,
                    "{{\"text\":\"file {f} line {i} {}\"}}",
                    "x".repeat(i % 13)
                )
                .expect("vec write");
            }
            paths.push(write(dir.path(), &format!("{f}.jsonl"), &content));
            contents.push(content);
        }
        let corpus = Corpus::open(&paths, CorpusOptions::default()).expect("open");
        for max in [1, 50, 333, 1 << 20] {
            let chunks = corpus.chunks_of(max);
            for c in &chunks {
                let before = &contents[c.file as usize][..c.start];
                let newlines = before.iter().filter(|&&b| b == b'\n').count() as u64;
                assert_eq!(c.first_line, newlines + 1, "max {max}, chunk {c:?}");
            }
            let files: Vec<u32> = chunks.iter().map(|c| c.file).collect();
            assert!(
                files.windows(2).all(|w| w[0] <= w[1]),
                "chunks in input order"
            );
        }
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            dir.path(),
            "bad.jsonl",
            b"{\"text\":\"ok\"}\n{\"text\": oops}\n",
        );
        let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open");
        let records = collect(&corpus);
        let err = records[1].as_ref().expect_err("malformed");
        let shown = err.to_string();
        assert!(shown.contains("bad.jsonl:2:"), "{shown}");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let jsonl = write(
            dir.path(),
            "a.jsonl",
            "\u{feff}{\"text\":\"first\"}\n{\"text\":\"second\"}\n".as_bytes(),
        );
        let text = write(dir.path(), "b.txt", "\u{feff}본문".as_bytes());
        let corpus = Corpus::open(&[jsonl, text], CorpusOptions::default()).expect("open");
        let records = collect(&corpus);
        let texts: Vec<&str> = records
            .iter()
            .map(|r| r.as_ref().expect("readable").1.as_str())
            .collect();
        assert_eq!(texts, ["first", "second", "본문"]);
        let (first, _) = records[0].as_ref().expect("ok");
        assert_eq!(corpus.record_bytes(first), b"{\"text\":\"first\"}");
        let (article, _) = records[2].as_ref().expect("ok");
        assert_eq!(corpus.record_text(article).expect("text"), "본문");
    }

    #[test]
    fn unreadable_files_are_errors_or_skipped_and_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gz = write(dir.path(), "a.txt.gz", b"\x1f\x8b\x08\x00rest");
        let good = write(dir.path(), "b.txt", b"text");
        let inputs = [gz.clone(), good];
        let err = Corpus::open(&inputs, CorpusOptions::default()).expect_err("gzip");
        assert!(
            err.to_string()
                .starts_with(&format!("{}: the gzip stream is cut short", gz.display())),
            "{err}"
        );
        let options = CorpusOptions {
            skip_invalid: true,
            ..CorpusOptions::default()
        };
        let corpus = Corpus::open(&inputs, options.clone()).expect("skips");
        assert_eq!(corpus.files().len(), 1);
        assert_eq!(corpus.skipped().count, 1);
        assert_eq!(corpus.skipped().unreadable[0].path, gz);
        let err = Corpus::open(&inputs[..1], options).expect_err("nothing left");
        assert!(
            err.to_string()
                .starts_with("no input text: 1 file(s) that cannot"),
            "{err}"
        );
    }

    #[test]
    fn the_same_file_twice_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "a.txt", b"text");
        let again = dir.path().join("hard-link.txt");
        std::fs::hard_link(&path, &again).expect("hard link");
        let err =
            Corpus::open(&[path.clone(), again], CorpusOptions::default()).expect_err("twice");
        assert!(err
            .to_string()
            .contains(&format!("is the same file as {}", path.display())));
    }

    #[test]
    fn repeated_ids_from_an_id_field_are_an_error_unless_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            dir.path(),
            "a.jsonl",
            b"{\"id\":1,\"text\":\"a\"}\n{\"id\":2,\"text\":\"b\"}\n{\"id\":1,\"text\":\"c\"}\n",
        );
        let mut options = CorpusOptions {
            id_field: Some("id".into()),
            ..CorpusOptions::default()
        };
        let corpus = Corpus::open(std::slice::from_ref(&path), options.clone()).expect("open");
        let records: Vec<RecordMeta> = collect(&corpus)
            .into_iter()
            .map(|r| r.expect("ok").0)
            .collect();
        let err = corpus.check_unique_ids(&records).expect_err("id 1 twice");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!(
                "{}:3: duplicate id 1: {}:1 has it too",
                path.display(),
                path.display()
            )),
            "{shown}"
        );
        options.allow_duplicate_ids = true;
        let corpus = Corpus::open(&[path], options).expect("open");
        assert_eq!(corpus.check_unique_ids(&records).expect("allowed"), 1);
    }

    #[test]
    fn compressed_files_and_parquet_tables_read_like_the_plain_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let texts = ["첫째 기사", "second \"one\"", "third"];
        let mut plain = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let line = serde_json::json!({"id": i + 1, "text": text, "meta": {"source": format!("site-{}", (i + 1) % 3)}});
            writeln!(plain, "{line}").expect("vec write");
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).expect("gzip");
        let forms = [
            ("a.jsonl", plain.clone()),
            ("a.jsonl.gz", gz.finish().expect("gzip")),
            (
                "a.jsonl.zst",
                zstd::encode_all(&plain[..], 1).expect("zstd"),
            ),
            ("a.parquet", parquet::tests::table(&[1, 2, 3], &texts, 2)),
        ];
        let scratch = dir.path().join("scratch");
        let mut seen = Vec::new();
        for (name, bytes) in forms {
            let path = write(dir.path(), name, &bytes);
            let corpus =
                Corpus::open_in(&[path], CorpusOptions::default(), 1 << 30, &scratch).expect(name);
            assert!(corpus.found_id_field(), "{name}");
            let file = &corpus.files()[0];
            assert_eq!(file.relative, Path::new(name));
            assert_eq!(file.format, Format::Jsonl);
            let records = collect(&corpus);
            let shown: Vec<String> = records
                .iter()
                .map(|r| {
                    let (meta, text) = r.as_ref().expect("readable");
                    let source = corpus.record_field(meta, "meta.source").expect("field");
                    format!("{} {} {}", meta.id, text, source.expect("present"))
                })
                .collect();
            seen.push((name, shown));
        }
        for (name, shown) in &seen[1..] {
            assert_eq!(shown, &seen[0].1, "{name}");
        }
        assert_eq!(seen[0].1[1], "2 second \"one\" \"site-2\"");
        let left: Vec<_> = std::fs::read_dir(&scratch).expect("scratch").collect();
        assert!(left.is_empty(), "decoded copies are unnamed files");
    }

    #[test]
    fn found_id_fields_name_records_unless_turned_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            dir.path(),
            "a.jsonl",
            b"{\"id\":\"x7\",\"text\":\"a\"}\n{\"id\":\"x9\",\"text\":\"b\"}\n",
        );
        let corpus =
            Corpus::open(std::slice::from_ref(&path), CorpusOptions::default()).expect("open");
        assert_eq!(corpus.options().id_field.as_deref(), Some(FOUND_ID_FIELD));
        let ids: Vec<String> = collect(&corpus)
            .into_iter()
            .map(|r| r.expect("ok").0.id.to_string())
            .collect();
        assert_eq!(ids, ["\"x7\"", "\"x9\""]);
        let lines = CorpusOptions {
            ids_from_records: false,
            ..CorpusOptions::default()
        };
        let corpus = Corpus::open(std::slice::from_ref(&path), lines).expect("open");
        assert!(!corpus.found_id_field());
        let ids: Vec<RecordId> = collect(&corpus)
            .into_iter()
            .map(|r| r.expect("ok").0.id)
            .collect();
        assert_eq!(ids, [RecordId::Int(1), RecordId::Int(2)]);
        let object_ids = write(
            dir.path(),
            "b.jsonl",
            b"{\"id\":{\"k\":1},\"text\":\"a\"}\n",
        );
        let corpus = Corpus::open(&[object_ids], CorpusOptions::default()).expect("open");
        assert!(!corpus.found_id_field(), "an object is not an id");
        let text = write(dir.path(), "c.txt", b"text");
        let corpus = Corpus::open(&[text], CorpusOptions::default()).expect("open");
        let record = collect(&corpus).remove(0).expect("ok").0;
        let err = corpus.record_field(&record, "date").expect_err("no fields");
        assert!(err.to_string().contains("has no fields"), "{err}");
    }

    #[test]
    fn empty_files_are_skipped_and_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = write(dir.path(), "empty.txt", b"");
        let full = write(dir.path(), "full.txt", "본문".as_bytes());
        let corpus = Corpus::open(&[empty.clone(), full], CorpusOptions::default()).expect("open");
        assert_eq!(corpus.files().len(), 1);
        assert_eq!(corpus.skipped().empty, vec![empty]);
    }

    #[test]
    fn files_in_memory_read_like_files_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let content = b"{\"text\":\"a\",\"id\":1}\n\n{\"text\": oops}\r\n{\"id\":2}";
        let path = write(dir.path(), "m.jsonl", content);
        let options = CorpusOptions {
            id_field: Some("id".into()),
            ..CorpusOptions::default()
        };
        let on_disk = Corpus::open(std::slice::from_ref(&path), options.clone()).expect("open");
        let in_memory =
            Corpus::from_memory([(path, Format::Jsonl, content.to_vec())], options).expect("admit");
        let shown = |c: &Corpus| -> Vec<String> {
            collect(c)
                .into_iter()
                .map(|r| match r {
                    Ok((m, t)) => format!("{} {} {} {} {t}", m.start, m.len, m.line, m.id),
                    Err(e) => e.to_string(),
                })
                .collect()
        };
        assert_eq!(shown(&in_memory), shown(&on_disk));
        assert_eq!(shown(&in_memory).len(), 3);
    }

    #[test]
    fn files_in_memory_are_checked_like_files_on_disk() {
        let forced = CorpusOptions {
            format: Some(Format::Text),
            ..CorpusOptions::default()
        };
        let err = Corpus::from_memory(
            [("b.jsonl".into(), Format::Jsonl, b"ab\0cd".to_vec())],
            forced,
        )
        .expect_err("forced to text, and binary");
        assert!(err.to_string().starts_with("b.jsonl: binary file"), "{err}");
        let corpus = Corpus::from_memory(
            [
                ("e.txt".into(), Format::Text, Vec::new()),
                ("f.txt".into(), Format::Text, b"text".to_vec()),
            ],
            CorpusOptions::default(),
        )
        .expect("admit");
        assert_eq!(corpus.files().len(), 1);
        assert_eq!(corpus.skipped().empty, vec![PathBuf::from("e.txt")]);
        let err = Corpus::from_memory(
            [("e.txt".into(), Format::Text, Vec::new())],
            CorpusOptions::default(),
        )
        .expect_err("nothing to read");
        assert!(err.to_string().contains("no input text"), "{err}");
    }
}
