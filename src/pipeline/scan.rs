//! The parallel pass over (a shard of) the input: records → units → sketches.
//!
//! Chunks of the mapped corpus (see [`crate::corpus::Corpus::chunks`]) are handed to
//! rayon workers; each worker decodes its records, splits them into units and calls
//! the sketch function on each unit's text, writing the sketch words into a
//! chunk-local buffer. Chunk outputs are concatenated in input order, so unit numbers
//! do not depend on the thread count.
//!
//! A bad record either stops the run (reporting the first bad record in input order,
//! whatever order the workers met them in) or, with `skip_invalid`, is counted and
//! passed over.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::config::UnitKind;
use super::progress::Progress;
use crate::corpus::{paragraphs, Chunk, Corpus, ParaSep, RecordMeta};
use crate::error::{Error, Result};

/// How records are cut into units.
#[derive(Debug, Clone, Copy)]
pub struct UnitSplit {
    /// Article or paragraph.
    pub kind: UnitKind,
    /// Paragraph convention.
    pub para_sep: ParaSep,
    /// Shorter paragraphs are not units.
    pub min_para_chars: usize,
}

/// One unit: which record, which paragraph, where its text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMeta {
    /// Index into the run's records.
    pub record: u32,
    /// Paragraph number within the record (paragraph units only).
    pub para: Option<u32>,
    /// Byte offset of the unit's text in the record's text.
    pub start: usize,
    /// Byte length of the unit's text.
    pub len: usize,
    /// Number of features the sketch saw (0 means the unit can match nothing).
    pub features: u32,
    /// [`crate::exact::shingles_key`] of the unit's shingles (0 when it has none,
    /// or when the sketch does not shingle): units with equal keys have equal
    /// shingle sets, which settles their pair without re-reading either text.
    pub content: u64,
}

impl UnitMeta {
    /// What makes two units copies of each other to the run: units with the
    /// same copy key have equal shingle sequences (equal [`Self::content`] keys
    /// and feature counts), so every similarity the run measures is 1 between
    /// them. `None` for a unit without a content key.
    pub fn copy_key(&self) -> Option<(u64, u32)> {
        (self.content != 0).then_some((self.content, self.features))
    }
}

/// What sketching one unit tells besides its sketch words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitSketch {
    /// Features seen ([`UnitMeta::features`]).
    pub features: u32,
    /// Key of its shingle sequence ([`UnitMeta::content`]).
    pub content: u64,
}

/// Records that were skipped under `skip_invalid`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct InvalidRecords {
    /// How many.
    pub count: u64,
    /// The first few messages, each naming file and line.
    pub examples: Vec<String>,
}

/// How many skipped-record messages are kept for the report.
const MAX_INVALID_EXAMPLES: usize = 10;

impl InvalidRecords {
    /// Counts `count` more skipped records, keeping messages from `examples`
    /// while fewer than the report's maximum are kept.
    pub fn absorb(&mut self, count: u64, examples: impl IntoIterator<Item = String>) {
        self.count += count;
        let room = MAX_INVALID_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(examples.into_iter().take(room));
    }
}

/// What the pass produced.
#[derive(Debug)]
pub struct Scanned<W> {
    /// Every readable record, in input order.
    pub records: Vec<RecordMeta>,
    /// Every unit, in input order.
    pub units: Vec<UnitMeta>,
    /// Sketch words, `words_per_unit` per unit, in unit order.
    pub sketches: Vec<W>,
    /// Records passed over.
    pub invalid: InvalidRecords,
    /// The line number right after the last chunk.
    pub next_line: u64,
}

/// A unit found in a record and its text, waiting for its sketch.
type Unit<'a> = (UnitMeta, &'a str);

/// What one work item (a run of consecutive chunks) produced.
struct ChunkOut<W> {
    records: Vec<RecordMeta>,
    units: Vec<UnitMeta>,
    sketches: Vec<W>,
    errors: Vec<Error>,
    pieces: Vec<Piece>,
}

/// One chunk of a work item, as far as line numbers go. A chunk that neither
/// starts its file nor the pass is scanned before the line it starts on is
/// known (that would take counting the line breaks of every chunk before it):
/// its records are numbered from line 1 and moved down once the pass is over.
struct Piece {
    /// Whether the chunk starts its file.
    starts_file: bool,
    /// The line its records were numbered from.
    numbered_from: u64,
    /// Its line breaks.
    newlines: u64,
    /// Where its records and errors end in the work item's lists.
    records_end: usize,
    errors_end: usize,
}

/// Runs the pass over `chunks`, consecutive pieces of the corpus; the first
/// starts on line `first_line` unless it starts its file (their own
/// `first_line` is not read). `sketch(state, text, out)` appends exactly
/// `words_per_unit` words for the unit's text to `out` and returns its feature
/// count and content key; `init` makes one state (scratch buffers) per worker.
/// `ahead(state, text)` is told of each unit's text before the unit before it
/// in its record is sketched, so that it can fetch what the text's sketch will
/// need. Progress advances by each chunk's bytes.
#[allow(clippy::too_many_arguments)]
pub fn scan<W, S>(
    corpus: &Corpus,
    chunks: &[Chunk],
    first_line: u64,
    split: UnitSplit,
    skip_invalid: bool,
    progress: &dyn Progress,
    init: impl Fn() -> S + Sync + Send,
    ahead: impl Fn(&mut S, &str) + Sync + Send,
    sketch: impl Fn(&mut S, &str, &mut Vec<W>) -> UnitSketch + Sync + Send,
) -> Result<Scanned<W>>
where
    W: Send,
{
    let first_failed = AtomicUsize::new(usize::MAX);
    let outs: Vec<ChunkOut<W>> = batches(chunks)
        .into_par_iter()
        .enumerate()
        .map_init(&init, |state, (index, batch)| {
            let mut out = ChunkOut {
                records: Vec::new(),
                units: Vec::new(),
                sketches: Vec::new(),
                errors: Vec::new(),
                pieces: Vec::new(),
            };
            for (at, chunk) in batch.clone().zip(&chunks[batch]) {
                // A chunk after one that already failed cannot change the
                // reported error.
                if !skip_invalid
                    && (!out.errors.is_empty() || index > first_failed.load(Ordering::Relaxed))
                {
                    break;
                }
                let starts_file = chunk.start == 0;
                let numbered_from = if at == 0 && !starts_file {
                    first_line
                } else {
                    1
                };
                let chunk = Chunk {
                    first_line: numbered_from,
                    ..*chunk
                };
                let newlines = corpus.for_each_record(chunk, |record| match record {
                    Err(e) => out.errors.push(e),
                    Ok((meta, text)) => {
                        if !skip_invalid && !out.errors.is_empty() {
                            return;
                        }
                        let record =
                            u32::try_from(out.records.len()).expect("chunk record count fits u32");
                        let sketch_unit =
                            |state: &mut S, out: &mut ChunkOut<W>, (unit, unit_text): Unit<'_>| {
                                let UnitSketch { features, content } =
                                    sketch(state, unit_text, &mut out.sketches);
                                out.units.push(UnitMeta {
                                    features,
                                    content,
                                    ..unit
                                });
                            };
                        // Each unit is announced to `ahead` just before the unit
                        // before it is sketched, so that what its own sketch
                        // needs can arrive meanwhile.
                        let mut pending = None;
                        push_units(&text, record, split, |unit, unit_text| {
                            ahead(state, unit_text);
                            if let Some(before) = pending.replace((unit, unit_text)) {
                                sketch_unit(state, &mut out, before);
                            }
                        });
                        if let Some(last) = pending {
                            sketch_unit(state, &mut out, last);
                        }
                        out.records.push(meta);
                    }
                });
                out.pieces.push(Piece {
                    starts_file,
                    numbered_from,
                    newlines,
                    records_end: out.records.len(),
                    errors_end: out.errors.len(),
                });
                progress.advance((chunk.end - chunk.start) as u64);
            }
            if !out.errors.is_empty() {
                first_failed.fetch_min(index, Ordering::Relaxed);
            }
            out
        })
        .collect();
    merge(corpus, outs, first_line, skip_invalid)
}

/// Consecutive chunks are scanned together as one work item until they hold
/// this many bytes: a corpus of many small files (one chunk each) then pays
/// for one work item's buffers per batch rather than per file, while a JSONL
/// chunk (about [`crate::corpus::CHUNK_BYTES`]) stays a work item of its own.
const BATCH_BYTES: usize = 256 << 10;

/// `chunks` cut into runs of consecutive chunks of at least [`BATCH_BYTES`]
/// each (the last may hold less).
fn batches(chunks: &[Chunk]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, chunk) in chunks.iter().enumerate() {
        bytes += chunk.end - chunk.start;
        if bytes >= BATCH_BYTES {
            batches.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < chunks.len() {
        batches.push(start..chunks.len());
    }
    batches
}

/// Calls `emit` for each unit of one record's text.
fn push_units<'t>(
    text: &'t str,
    record: u32,
    split: UnitSplit,
    mut emit: impl FnMut(UnitMeta, &'t str),
) {
    match split.kind {
        UnitKind::Article => emit(
            UnitMeta {
                record,
                para: None,
                start: 0,
                len: text.len(),
                features: 0,
                content: 0,
            },
            text,
        ),
        UnitKind::Paragraph => {
            for p in paragraphs(text, split.para_sep) {
                let unit_text = &text[p.span.clone()];
                if split.min_para_chars > 0 && unit_text.chars().count() < split.min_para_chars {
                    continue;
                }
                emit(
                    UnitMeta {
                        record,
                        para: Some(p.index),
                        start: p.span.start,
                        len: p.span.len(),
                        features: 0,
                        content: 0,
                    },
                    unit_text,
                );
            }
        }
    }
}

/// Concatenates chunk outputs in order, renumbering records globally and
/// moving the records and errors of each chunk to the lines it holds (see
/// [`Piece`]).
fn merge<W>(
    corpus: &Corpus,
    outs: Vec<ChunkOut<W>>,
    first_line: u64,
    skip_invalid: bool,
) -> Result<Scanned<W>> {
    let mut invalid = InvalidRecords::default();
    let mut records = Vec::with_capacity(outs.iter().map(|o| o.records.len()).sum());
    let mut units = Vec::with_capacity(outs.iter().map(|o| o.units.len()).sum());
    let mut sketches = Vec::with_capacity(outs.iter().map(|o| o.sketches.len()).sum());
    let mut next_line = first_line;
    for mut out in outs {
        let (mut records_start, mut errors_start) = (0, 0);
        for piece in &out.pieces {
            let starts_on = if piece.starts_file { 1 } else { next_line };
            corpus.move_lines_down(
                &mut out.records[records_start..piece.records_end],
                &mut out.errors[errors_start..piece.errors_end],
                starts_on - piece.numbered_from,
            );
            next_line = starts_on + piece.newlines;
            (records_start, errors_start) = (piece.records_end, piece.errors_end);
        }
        if !skip_invalid {
            if let Some(first) = out.errors.into_iter().next() {
                return Err(first);
            }
        } else {
            invalid.absorb(
                out.errors.len() as u64,
                out.errors.iter().map(|e| e.to_string()),
            );
        }
        let base = u32::try_from(records.len())
            .map_err(|_| Error::Config("more than 2^32 records in one run".into()))?;
        units.extend(out.units.into_iter().map(|mut u| {
            u.record += base;
            u
        }));
        records.extend(out.records);
        sketches.extend(out.sketches);
    }
    if units.len() > u32::MAX as usize {
        return Err(Error::Config("more than 2^32 units in one run".into()));
    }
    Ok(Scanned {
        records,
        units,
        sketches,
        invalid,
        next_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::CorpusOptions;
    use crate::pipeline::NoProgress;

    #[test]
    fn batches_cover_every_chunk_once_in_order() {
        let chunk = |file, len| Chunk {
            file,
            start: 0,
            end: len,
            first_line: 1,
        };
        let mut chunks: Vec<Chunk> = (0..5000).map(|f| chunk(f, 100)).collect();
        chunks.push(chunk(5000, 4 << 20));
        chunks.push(chunk(5001, 10));
        let cut = batches(&chunks);
        assert_eq!(cut.first().map(|b| b.start), Some(0));
        assert!(cut
            .windows(2)
            .all(|w| w[0].end == w[1].start && !w[0].is_empty()));
        assert_eq!(cut.last().map(|b| b.end), Some(chunks.len()));
        assert!(cut.len() > 1, "small files spread over several work items");
        assert!(
            cut.iter().any(|b| b.end == 5001),
            "a large chunk closes its batch"
        );
    }

    /// The lines of one test file: records (some with escapes), blank lines
    /// and broken ones, with `\n` or `\r\n` endings, the last maybe without.
    fn jsonl_lines(kinds: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            match kind % 5 {
                0 | 1 => bytes.extend(format!("{{\"text\":\"record {i}\"}}\n").bytes()),
                2 => bytes.extend(format!("{{\"text\":\"a\\nb \\\"{i}\\\"\"}}\r\n").bytes()),
                3 => bytes.extend(b"  \n"),
                _ => bytes.extend(b"{not json\n"),
            }
        }
        if kinds.len() % 3 == 1 {
            bytes.pop();
        }
        bytes
    }

    /// Records (file, line, id) and errors of `chunks` read one by one with
    /// the line numbers they carry: the slow, obvious reading.
    fn read_numbered(corpus: &Corpus, chunks: &[Chunk]) -> (Vec<String>, Vec<String>) {
        let (mut records, mut errors) = (Vec::new(), Vec::new());
        for &chunk in chunks {
            corpus.for_each_record(chunk, |record| match record {
                Ok((meta, _)) => records.push(format!("{} {} {}", meta.file, meta.line, meta.id)),
                Err(e) => errors.push(e.to_string()),
            });
        }
        (records, errors)
    }

    proptest::proptest! {
        /// Chunks scanned before anyone counts their lines end up with the
        /// records, ids and error lines that numbering them first gives, for
        /// one file or several, from the first chunk or from any later one.
        #[test]
        fn lines_counted_while_scanning_match_lines_counted_first(
            files in proptest::collection::vec(proptest::collection::vec(0u8..5, 1..40), 1..3),
            max_bytes in 1usize..120,
            from in 0usize..200,
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let paths: Vec<std::path::PathBuf> = files
                .iter()
                .enumerate()
                .map(|(f, kinds)| {
                    let path = dir.path().join(format!("{f}.jsonl"));
                    std::fs::write(&path, jsonl_lines(kinds)).expect("write");
                    path
                })
                .collect();
            let Ok(corpus) = Corpus::open(&paths, CorpusOptions::default()) else {
                return Ok(());
            };
            let numbered = corpus.chunks_of(max_bytes);
            let from = from % numbered.len();
            let (want_records, want_errors) = read_numbered(&corpus, &numbered[from..]);
            let split = UnitSplit {
                kind: UnitKind::Article,
                para_sep: crate::corpus::ParaSep::Line,
                min_para_chars: 0,
            };
            let unnumbered = corpus.cut_chunks(max_bytes);
            let run = |skip| {
                scan(
                    &corpus,
                    &unnumbered[from..],
                    numbered[from].first_line,
                    split,
                    skip,
                    &NoProgress,
                    || (),
                    |_, _| {},
                    |_, _, _: &mut Vec<u8>| UnitSketch::default(),
                )
            };
            let scanned = run(true).expect("bad records are skipped");
            let records: Vec<String> = scanned
                .records
                .iter()
                .map(|m| format!("{} {} {}", m.file, m.line, m.id))
                .collect();
            proptest::prop_assert_eq!(records, want_records);
            proptest::prop_assert_eq!(scanned.invalid.count, want_errors.len() as u64);
            let kept = scanned.invalid.examples.len();
            proptest::prop_assert_eq!(&scanned.invalid.examples[..], &want_errors[..kept]);
            let last = numbered.last().expect("a chunk");
            let newlines = corpus.newlines_in(last);
            proptest::prop_assert_eq!(scanned.next_line, last.first_line + newlines);
            match run(false) {
                Ok(_) => proptest::prop_assert!(want_errors.is_empty()),
                Err(e) => proptest::prop_assert_eq!(Some(&e.to_string()), want_errors.first()),
            }
        }
    }

    /// Every unit's text is announced to `ahead` before it is sketched, and
    /// no later than just before the unit ahead of it in its record is
    /// sketched; units are sketched in record order.
    #[test]
    fn each_unit_is_announced_just_before_its_turn() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.jsonl");
        let lines = [
            r#"{"text":"a1\n\na2\n\na3"}"#,
            r#"{"text":"b1"}"#,
            r#"{"text":"c1\n\nc2"}"#,
        ];
        std::fs::write(&path, lines.join("\n")).expect("write");
        let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open");
        let split = UnitSplit {
            kind: UnitKind::Paragraph,
            para_sep: crate::corpus::ParaSep::Blank,
            min_para_chars: 0,
        };
        let events = std::sync::Mutex::new(Vec::new());
        scan(
            &corpus,
            &corpus.chunks(),
            1,
            split,
            false,
            &NoProgress,
            || (),
            |_, text| events.lock().expect("lock").push(format!("ahead {text}")),
            |_, text, _: &mut Vec<u8>| {
                events.lock().expect("lock").push(format!("sketch {text}"));
                UnitSketch::default()
            },
        )
        .expect("scan");
        let events = events.into_inner().expect("lock");
        let want = [
            "ahead a1",
            "ahead a2",
            "sketch a1",
            "ahead a3",
            "sketch a2",
            "sketch a3",
            "ahead b1",
            "sketch b1",
            "ahead c1",
            "ahead c2",
            "sketch c1",
            "sketch c2",
        ];
        assert_eq!(events, want);
    }

    /// Many one-record files scanned in batches: records in input order, and the
    /// first bad file (in input order) is the one reported.
    #[test]
    fn many_small_files_keep_input_order_and_the_first_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths: Vec<std::path::PathBuf> = (0..3000)
            .map(|i| {
                let path = dir.path().join(format!("{i:05}.jsonl"));
                let line = if i == 1700 || i == 2900 {
                    "not json\n".to_string()
                } else {
                    format!("{{\"text\":\"file {i}\"}}\n")
                };
                std::fs::write(&path, line).expect("write");
                path
            })
            .collect();
        let corpus = Corpus::open(&paths, CorpusOptions::default()).expect("open");
        let split = UnitSplit {
            kind: UnitKind::Article,
            para_sep: crate::corpus::ParaSep::Line,
            min_para_chars: 0,
        };
        let chunks = corpus.chunks();
        let run = |skip| {
            scan(
                &corpus,
                &chunks,
                1,
                split,
                skip,
                &NoProgress,
                || (),
                |_, _| {},
                |_, _, _: &mut Vec<u8>| UnitSketch::default(),
            )
        };
        let err = run(false).expect_err("bad file").to_string();
        assert!(err.contains("01700.jsonl:1:"), "{err}");
        let scanned = run(true).expect("skips");
        assert_eq!(scanned.records.len(), 2998);
        assert_eq!(scanned.invalid.count, 2);
        let files: Vec<u32> = scanned.records.iter().map(|r| r.file).collect();
        assert!(files.windows(2).all(|w| w[0] < w[1]), "input order");
    }
}
