//! Input corpora: finding the files, mapping them, and cutting them into records.
//!
//! A corpus is a list of input files, each memory-mapped (with a plain read as the
//! fallback) and never copied whole. A record is a byte span of one file: one line of
//! a JSONL file, or a whole plain-text file (one article per file). Records are found
//! in parallel by cutting each mapping into chunks at newline boundaries
//! ([`Corpus::chunks`]), and each record's text is decoded only when a stage needs it,
//! per record, never per file.
//!
//! Paragraph splitting ([`split`]) turns a record's text into paragraph units.

pub mod discover;
pub mod id;
pub mod jsonl;
pub mod lines;
pub mod source;
pub mod split;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
pub use discover::{discover, Format, InputFile};
pub use id::RecordId;
pub use source::FileBytes;
pub use split::{paragraphs, ParaSep, Paragraph};

/// Target size of one parallel work chunk of a JSONL file. Big enough that the
/// per-chunk overhead vanishes, small enough that 2-64 cores all get work on a file
/// of a few hundred MB.
pub const CHUNK_BYTES: usize = 4 << 20;

/// How records are read out of the input files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusOptions {
    /// JSONL field holding the text.
    pub text_field: String,
    /// JSONL field holding the id; `None` numbers records by line instead.
    pub id_field: Option<String>,
    /// Force a format for every file instead of going by extension.
    pub format: Option<Format>,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            text_field: "text".into(),
            id_field: None,
            format: None,
        }
    }
}

/// One input file, mapped.
#[derive(Debug)]
pub struct MappedFile {
    /// Path as the user gave it (or as found under a directory they gave).
    pub path: PathBuf,
    /// How its records are laid out.
    pub format: Format,
    /// The bytes.
    pub bytes: FileBytes,
}

/// Files that were passed over, with the reason, so the report can count them.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SkippedFiles {
    /// Empty files (nothing to deduplicate).
    pub empty: Vec<PathBuf>,
    /// Files under a directory input that look binary or are not UTF-8.
    pub binary: Vec<PathBuf>,
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
}

impl Corpus {
    /// Finds and maps every input. Paths that do not exist, unreadable files and
    /// binary files named directly are errors; empty files are skipped and counted,
    /// as are binary files found inside a directory.
    pub fn open(inputs: &[PathBuf], options: CorpusOptions) -> Result<Corpus> {
        let found = discover(inputs, options.format)?;
        let mut files = Vec::with_capacity(found.len());
        let mut skipped = SkippedFiles::default();
        for input in found {
            let bytes = FileBytes::open(&input.path)?;
            if bytes.is_empty() {
                skipped.empty.push(input.path);
                continue;
            }
            if input.format == Format::Text {
                if let Some(problem) = source::binary_or_invalid_utf8(&bytes) {
                    if input.explicit {
                        return Err(problem.into_error(&input.path, &bytes));
                    }
                    skipped.binary.push(input.path);
                    continue;
                }
            }
            files.push(MappedFile {
                path: input.path,
                format: input.format,
                bytes,
            });
        }
        let multi_file = files.len() > 1;
        Ok(Corpus {
            files,
            options,
            skipped,
            multi_file,
        })
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
        self.number_lines(&mut chunks, 1);
        chunks
    }

    /// Cuts every file into work chunks of about `max_bytes` like
    /// [`Corpus::chunks_of`], touching only the bytes around each cut, and leaves
    /// `first_line` at 0 for [`Corpus::number_lines`] to set.
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

    /// Sets `first_line` of consecutive `chunks` (from [`Corpus::cut_chunks`]),
    /// given the line number the first one starts at if it does not start its
    /// file; returns the line number right after the last chunk. Newlines are
    /// counted in parallel on the current rayon pool, which also brings those bytes
    /// of the mapped input into memory on every core.
    pub fn number_lines(&self, chunks: &mut [Chunk], mut line: u64) -> u64 {
        let newlines: Vec<u64> = chunks
            .par_iter()
            .map(|c| {
                let file = &self.files[c.file as usize];
                if file.format == Format::Text {
                    return 0;
                }
                let bytes: &[u8] = &file.bytes;
                lines::count_newlines(&bytes[c.start..c.end]) as u64
            })
            .collect();
        for (chunk, newlines) in chunks.iter_mut().zip(newlines) {
            if chunk.start == 0 {
                line = 1;
            }
            chunk.first_line = line;
            line += newlines;
        }
        line
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
    /// text. A record that cannot be read is handed over as `Err` (naming file and
    /// line) so the caller decides whether to stop or to count and skip it.
    pub fn for_each_record(
        &self,
        chunk: Chunk,
        mut on_record: impl FnMut(Result<(RecordMeta, Cow<'_, str>)>),
    ) {
        let file = &self.files[chunk.file as usize];
        let bytes: &[u8] = &file.bytes[chunk.start..chunk.end];
        match file.format {
            Format::Text => {
                // Validated as UTF-8 when the corpus was opened.
                let text = match std::str::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(_) => {
                        on_record(Err(Error::in_file(&file.path, "not valid UTF-8")));
                        return;
                    }
                };
                let meta = RecordMeta {
                    file: chunk.file,
                    start: chunk.start,
                    len: bytes.len(),
                    line: 1,
                    id: RecordId::from_string(&file.path.display().to_string()),
                };
                on_record(Ok((meta, Cow::Borrowed(text))));
            }
            Format::Jsonl => {
                let mut offset = 0;
                let lines = lines::lines_inclusive(bytes);
                for (this_line, raw) in (chunk.first_line..).zip(lines) {
                    let start = chunk.start + offset;
                    offset += raw.len();
                    let content = trim_line_end(raw);
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
            }
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
        .map_err(|message| Error::at_line(path, line, message))?;
        let id = match fields.id {
            Some(id) => id,
            None if self.multi_file => {
                RecordId::from_string(&format!("{}:{}", path.display(), line))
            }
            None => RecordId::Int(line),
        };
        Ok((id, fields.text))
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
    fn empty_files_are_skipped_and_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = write(dir.path(), "empty.txt", b"");
        let full = write(dir.path(), "full.txt", "본문".as_bytes());
        let corpus = Corpus::open(&[empty.clone(), full], CorpusOptions::default()).expect("open");
        assert_eq!(corpus.files().len(), 1);
        assert_eq!(corpus.skipped().empty, vec![empty]);
    }
}
