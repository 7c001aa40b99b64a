//! The records a run writes back: the deduplicated (or annotated) corpus, one
//! output file per input file, and the units it removed.
//!
//! **Names.** Input file `F` (named relative to the folder the user gave, see
//! [`MappedFile`]) is written to `deduped/F` (`annotated/F` in annotate mode),
//! its container extension (`.gz`, `.zst`, ...) and record extension
//! (`.jsonl`, `.ndjson`, `.json`, `.parquet`, `.txt`) replaced by the output
//! format's; a plain-text input written as plain text keeps its name. Two
//! inputs that would share an output name are an error naming both, before any
//! work. With [`RecordOutput::single`], every record goes to one
//! `deduped.EXT` (`annotated.EXT`) instead. The format is
//! [`RecordOutput::format`], or by default each input's own: JSONL stays JSONL,
//! `.jsonl.gz` stays gzip, `.jsonl.zst` zstd, Parquet stays Parquet (with the
//! input's schema), a plain-text article stays a plain-text file.
//!
//! **Remove mode** keeps the unit each cluster keeps ([`DedupOutcome::is_kept`],
//! as `--keep` says) and drops the rest:
//! - article units: a kept JSONL record is copied byte for byte (every field
//!   preserved); a kept plain-text article is written as it was, or as
//!   `{"id": path, "text": text}` in a record format;
//! - paragraph units: each record loses its duplicate paragraphs; the remaining
//!   paragraphs are joined with the paragraph separator (a newline, or a blank line
//!   with `--para-sep blank`) and replace the text field, other fields untouched. A
//!   record that lost nothing is copied byte for byte; one that lost every paragraph
//!   is dropped and counted.
//!
//! A JSONL or Parquet output exists for every input file with records, even if
//! none is kept; a plain-text article that is removed leaves no file.
//!
//! **Annotate mode** writes every record, with fields added (replacing fields
//! of the same name; plain-text articles become `{"id", "text", ...}` records):
//! - article units: `cluster_id` (the run-wide number of the cluster's first
//!   unit, as `cluster` in `clusters.jsonl`), `cluster_size` (units in the
//!   cluster), `duplicate` (whether remove mode drops the record) and `kept_id`
//!   (the id of the record kept for the cluster: its own when kept; an indexed
//!   record's with `--against`; `null` when a distributed run with components
//!   cannot name it);
//! - paragraph units: the same four fields as lists with one entry per
//!   paragraph unit of the record, in order, plus `para` (the paragraph
//!   numbers) and `kept_para` (the kept paragraph's number), so that
//!   `duplicate[i]` tells whether paragraph `para[i]` is removed in remove mode.
//!   Paragraphs shorter than `--min-para-chars` are not units and are not
//!   listed.
//!
//! **`removed.EXT`** (remove mode; JSON lines unless a format is asked for)
//! holds every unit dropped, in input order: `file` (the input's relative name), `id`,
//! `para` (paragraph units), `kept_id` and `kept_para` (the unit kept in its
//! place, `indexed: true` when that unit is in the `--against` index),
//! `similarity` (to the kept unit, where a verified edge gives it) and `text`
//! (the unit's text).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::format::{self, Encoding, RecordFormat};
use super::json;
use super::ordered::{write_in_order, Lines};
use super::writers::{
    known_unit_ref, prefetch_label, DedupedCounts, UnitRef, LINES_AHEAD, LINE_FILES,
};
use crate::corpus::{jsonl, paragraphs, Container, Corpus, Format, MappedFile, ParaSep, RecordId};
use crate::error::{Error, Result};
use crate::pipeline::{DedupOutcome, UnitKind};

/// Whether a run removes duplicates or marks them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum OutputMode {
    /// Write the corpus without its duplicates.
    #[default]
    Remove,
    /// Write every record with its cluster, size, and whether it is a duplicate.
    Annotate,
}

crate::setting_names::by_setting_name!(OutputMode);

/// An output file a run can leave out (`--omit`). The records and
/// `report.json` are always written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum OptionalOutput {
    /// `clusters.jsonl`: every unit's cluster (a line per unit).
    Clusters,
    /// `pairs.jsonl`: the verified duplicate pairs.
    Pairs,
    /// `removed.EXT`: every removed unit with its text.
    Removed,
}

crate::setting_names::by_setting_name!(OptionalOutput);

/// What a run writes of its records, and which other outputs it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordOutput {
    /// Remove duplicates or annotate them.
    pub mode: OutputMode,
    /// The format of every record output; `None`: like each input file.
    pub format: Option<RecordFormat>,
    /// One output file for every record instead of one per input file.
    pub single: bool,
    /// Output files not written (none by default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub omit: Vec<OptionalOutput>,
}

impl RecordOutput {
    /// Whether the run writes `file` (it is not omitted).
    pub fn writes(&self, file: OptionalOutput) -> bool {
        !self.omit.contains(&file)
    }

    /// The line files (of [`LINE_FILES`]) the run writes, in order.
    pub fn line_files(&self) -> impl Iterator<Item = &'static str> + '_ {
        LINE_FILES
            .into_iter()
            .zip([OptionalOutput::Clusters, OptionalOutput::Pairs])
            .filter(|&(_, file)| self.writes(file))
            .map(|(kind, _)| kind)
    }

    /// Whether the run writes `removed.EXT`: in remove mode, unless omitted.
    pub fn writes_removed(&self) -> bool {
        self.mode == OutputMode::Remove && self.writes(OptionalOutput::Removed)
    }

    /// The folder (per-file outputs) or file stem (one output) of the records.
    pub fn stem(&self) -> &'static str {
        match self.mode {
            OutputMode::Remove => "deduped",
            OutputMode::Annotate => "annotated",
        }
    }
}

/// One output file of records: its name in the output folder and encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Path relative to the output folder.
    pub name: PathBuf,
    /// How its records are encoded.
    pub encoding: Encoding,
}

/// Where every input file's records go, and the removed units.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Per input file (by index), when each has its own output.
    files: Vec<Target>,
    /// The one output, with [`RecordOutput::single`].
    single: Option<Target>,
    /// `removed.EXT`.
    removed: Target,
    /// Per input file, its relative name (for `removed.EXT`).
    relative: Vec<String>,
}

/// An input file's name relative to the folder the user gave and the record
/// format it is stored in (`None`: plain text).
fn source(file: &MappedFile) -> (PathBuf, Option<RecordFormat>) {
    let format = match (file.format, file.container) {
        (Format::Text, _) => None,
        (Format::Jsonl, Container::Gzip) => Some(RecordFormat::JsonlGz),
        (Format::Jsonl, Container::Zstd) => Some(RecordFormat::JsonlZst),
        (Format::Jsonl, Container::Parquet) => Some(RecordFormat::Parquet),
        // Formats that are read but not written come back as JSON lines.
        (Format::Jsonl, Container::Plain | Container::Bzip2 | Container::Xz) => {
            Some(RecordFormat::Jsonl)
        }
    };
    (file.relative.clone(), format)
}

/// Extensions of how a file is stored, removed from output names.
const CONTAINER_EXTENSIONS: [&str; 4] = [".gz", ".zst", ".bz2", ".xz"];
/// Extensions of how records are laid out, replaced by the output format's.
const RECORD_EXTENSIONS: [&str; 5] = [".jsonl", ".ndjson", ".json", ".parquet", ".txt"];

/// The output name of input `relative` in `encoding`.
fn output_name(relative: &Path, encoding: &Encoding) -> PathBuf {
    let Some(name) = relative.file_name().and_then(|n| n.to_str()) else {
        return relative.to_path_buf();
    };
    let strip = |name: &str, extensions: &[&str]| -> String {
        extensions
            .iter()
            .find_map(|ext| name.strip_suffix(ext).filter(|stem| !stem.is_empty()))
            .unwrap_or(name)
            .to_string()
    };
    let name = strip(name, &CONTAINER_EXTENSIONS);
    let name = match encoding {
        Encoding::Text => name,
        Encoding::Records(format, _) => strip(&name, &RECORD_EXTENSIONS) + format.extension(),
    };
    relative.with_file_name(name)
}

impl Layout {
    /// The outputs of `corpus` under `output`; an error when two inputs would
    /// share an output name.
    pub fn new(corpus: &Corpus, output: &RecordOutput) -> Result<Layout> {
        let annotate = output.mode == OutputMode::Annotate;
        let mut files = Vec::with_capacity(corpus.files().len());
        let mut relative = Vec::with_capacity(corpus.files().len());
        let mut seen: HashMap<PathBuf, &Path> = HashMap::new();
        let mut sources = Vec::new();
        for file in corpus.files() {
            let (name, stored) = source(file);
            sources.push(stored);
            let encoding = match (output.format, stored) {
                (Some(format), _) => Encoding::Records(format, schema_from(format, stored, file)),
                (None, Some(format)) => {
                    Encoding::Records(format, schema_from(format, stored, file))
                }
                (None, None) if annotate => Encoding::Records(RecordFormat::Jsonl, None),
                (None, None) => Encoding::Text,
            };
            let target = Path::new(output.stem()).join(output_name(&name, &encoding));
            if !output.single {
                if let Some(earlier) = seen.insert(target.clone(), &file.path) {
                    return Err(Error::Config(format!(
                        "{} and {} would both be written to {}: rename one, or write one \
                         file of records (single output)",
                        earlier.display(),
                        file.path.display(),
                        target.display()
                    )));
                }
            }
            relative.push(name.to_string_lossy().into_owned());
            files.push(Target {
                name: target,
                encoding,
            });
        }
        let single = output.single.then(|| {
            // Like the inputs when they all agree, else JSON lines.
            let format =
                output
                    .format
                    .unwrap_or_else(|| match sources.first().copied().flatten() {
                        Some(first) if sources.iter().all(|s| *s == Some(first)) => first,
                        _ => RecordFormat::Jsonl,
                    });
            Target {
                name: PathBuf::from(format!("{}{}", output.stem(), format.extension())),
                encoding: Encoding::Records(format, None),
            }
        });
        let removed_format = output.format.unwrap_or(RecordFormat::Jsonl);
        Ok(Layout {
            files,
            single,
            removed: Target {
                name: PathBuf::from(format!("removed{}", removed_format.extension())),
                encoding: Encoding::Records(removed_format, None),
            },
            relative,
        })
    }

    /// Where the records of input file `file` go.
    pub fn target(&self, file: u32) -> &Target {
        self.single
            .as_ref()
            .unwrap_or_else(|| &self.files[file as usize])
    }

    /// Where the removed units go.
    pub fn removed(&self) -> &Target {
        &self.removed
    }
}

/// The input Parquet file whose schema a Parquet output of it keeps (one read
/// from a stream cannot be opened again: its output's schema is inferred).
fn schema_from(
    format: RecordFormat,
    stored: Option<RecordFormat>,
    file: &MappedFile,
) -> Option<PathBuf> {
    (format == RecordFormat::Parquet && stored == Some(RecordFormat::Parquet) && !file.stream)
        .then(|| file.path.clone())
}

/// Records of one input file in a run's outcome: a range of records and of
/// their units.
#[derive(Debug, Clone)]
pub struct FileGroup {
    /// Index into the corpus's files.
    pub file: u32,
    /// Records (indexes into `outcome.records`).
    pub records: Range<usize>,
    /// Units of those records (indexes into `outcome.units`).
    pub units: Range<usize>,
}

/// The records of `outcome`, grouped by input file in order.
pub fn file_groups(outcome: &DedupOutcome) -> Vec<FileGroup> {
    let mut groups: Vec<FileGroup> = Vec::new();
    let units_of = record_units(outcome);
    for ((index, record), units) in outcome.records.iter().enumerate().zip(units_of) {
        match groups.last_mut() {
            Some(group) if group.file == record.file => {
                group.records.end = index + 1;
                group.units.end = units.end;
            }
            _ => groups.push(FileGroup {
                file: record.file,
                records: index..index + 1,
                units,
            }),
        }
    }
    groups
}

/// What remove mode keeps of one record ([`Emitter::kept_text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptText {
    /// The record as it is.
    Whole,
    /// The record's text without its removed paragraphs.
    Trimmed(String),
    /// Nothing: the record is removed.
    Dropped,
}

/// For each record of `outcome`, in order, its units (indexes into
/// `outcome.units`).
pub fn record_units(outcome: &DedupOutcome) -> Vec<Range<usize>> {
    let mut ranges = Vec::with_capacity(outcome.records.len());
    let mut next_unit = 0usize;
    for index in 0..outcome.records.len() {
        let first = next_unit;
        while next_unit < outcome.units.len() && outcome.units[next_unit].record as usize == index {
            next_unit += 1;
        }
        ranges.push(first..next_unit);
    }
    ranges
}

/// Turns the records and units of an outcome into the lines of the outputs.
pub struct Emitter<'a> {
    /// The inputs.
    pub corpus: &'a Corpus,
    /// What the run found.
    pub outcome: &'a DedupOutcome,
    /// Article or paragraph units.
    pub unit: UnitKind,
    /// How paragraphs were cut.
    pub para_sep: ParaSep,
    /// Remove or annotate.
    pub mode: OutputMode,
}

impl Emitter<'_> {
    /// Passes every record of `group` that the output holds to `write`, encoded
    /// for `encoding` (a JSON object, or an article's text), a batch of lines at
    /// a time, and counts. Records are encoded in parallel (see
    /// [`write_in_order`]) and written in order.
    pub fn records(
        &self,
        group: &FileGroup,
        encoding: &Encoding,
        write: &mut dyn FnMut(&Lines) -> Result<()>,
        counts: &mut DedupedCounts,
    ) -> Result<()> {
        let outcome = self.outcome;
        let group_units = &outcome.units[group.units.clone()];
        let batches = write_in_order(
            group.records.clone(),
            RECORDS_PER_BATCH,
            |record| outcome.records[record].len,
            |records, lines| {
                let mut counts = DedupedCounts::default();
                let mut next_unit = group.units.start
                    + group_units.partition_point(|unit| (unit.record as usize) < records.start);
                for index in records {
                    let first = next_unit;
                    while next_unit < group.units.end
                        && outcome.units[next_unit].record as usize == index
                    {
                        next_unit += 1;
                    }
                    let units = first..next_unit;
                    let line = lines.buffer();
                    let written = match self.mode {
                        OutputMode::Remove => {
                            self.kept(index, units, encoding, line, &mut counts)?
                        }
                        OutputMode::Annotate => {
                            self.annotated(index, units, line)?;
                            true
                        }
                    };
                    if written {
                        lines.end_line();
                        counts.records_written += 1;
                    }
                }
                Ok(counts)
            },
            write,
        )?;
        for batch in &batches {
            counts.add(batch);
        }
        Ok(())
    }

    /// Remove mode: writes record `index` into `line` unless it is dropped
    /// whole; whether it is written.
    fn kept(
        &self,
        index: usize,
        units: Range<usize>,
        encoding: &Encoding,
        line: &mut Vec<u8>,
        counts: &mut DedupedCounts,
    ) -> Result<bool> {
        let corpus = self.corpus;
        let record = &self.outcome.records[index];
        let format = corpus.files()[record.file as usize].format;
        let options = corpus.options();
        let bytes = corpus.record_bytes(record);
        // Where a JSON line of the common shape holds its text, found by the
        // same pass that reads the text, so a trimmed line is not read twice.
        let mut text_span = None;
        let kept = self.kept_text_with(units, counts, || {
            let plain = (format == Format::Jsonl)
                .then(|| {
                    jsonl::plain_text_and_span(
                        bytes,
                        &options.text_field,
                        options.id_field.as_deref(),
                    )
                })
                .flatten();
            match plain {
                Some((text, span)) => {
                    text_span = Some(span);
                    Ok(text)
                }
                None => corpus.record_text(record),
            }
        })?;
        let text = match kept {
            KeptText::Dropped => return Ok(false),
            KeptText::Whole if format == Format::Jsonl => {
                line.extend_from_slice(bytes);
                return Ok(true);
            }
            KeptText::Whole => corpus.record_text(record)?,
            KeptText::Trimmed(text) => text.into(),
        };
        match (format, encoding, text_span) {
            (Format::Text, Encoding::Text, _) => line.extend_from_slice(text.as_bytes()),
            (Format::Text, _, _) => text_record(line, &record.id, &text),
            (Format::Jsonl, _, Some(span)) => splice_text(line, bytes, span, &text),
            (Format::Jsonl, _, None) => {
                let rewritten = replace_field(
                    bytes,
                    &options.text_field,
                    options.id_field.as_deref(),
                    &text,
                )
                .map_err(|message| {
                    Error::at_line(corpus.path(record.file), record.line, message)
                })?;
                line.extend_from_slice(&rewritten);
            }
        }
        Ok(true)
    }

    /// What remove mode keeps of record `index`, whose units are `units`: all
    /// of it, its text without the removed paragraphs, or nothing (an article
    /// that is removed, or a record whose every paragraph is). Adds to `counts`
    /// what is dropped.
    pub fn kept_text(
        &self,
        index: usize,
        units: Range<usize>,
        counts: &mut DedupedCounts,
    ) -> Result<KeptText> {
        let record = &self.outcome.records[index];
        self.kept_text_with(units, counts, || self.corpus.record_text(record))
    }

    /// [`Self::kept_text`] of the record whose units are `units`, its text
    /// read by `read_text` (called only when some of its paragraphs are
    /// removed).
    fn kept_text_with<'t>(
        &self,
        units: Range<usize>,
        counts: &mut DedupedCounts,
        read_text: impl FnOnce() -> Result<std::borrow::Cow<'t, str>>,
    ) -> Result<KeptText> {
        let outcome = self.outcome;
        let is_kept = |u: &usize| outcome.is_kept(*u as u32);
        if self.unit == UnitKind::Article && !units.clone().all(|u| is_kept(&u)) {
            counts.records_dropped += 1;
            return Ok(KeptText::Dropped);
        }
        let dropped: Vec<u32> = units
            .clone()
            .filter(|u| !is_kept(u))
            .filter_map(|u| outcome.units[u].para)
            .collect();
        if dropped.is_empty() {
            return Ok(KeptText::Whole);
        }
        let text = read_text()?;
        let kept: Vec<&str> = paragraphs(&text, self.para_sep)
            .into_iter()
            .filter(|p| dropped.binary_search(&p.index).is_err())
            .map(|p| &text[p.span])
            .collect();
        counts.paragraphs_dropped += dropped.len() as u64;
        if kept.is_empty() {
            counts.records_dropped += 1;
            return Ok(KeptText::Dropped);
        }
        Ok(KeptText::Trimmed(kept.join(self.para_sep.joiner())))
    }

    /// What remove mode would write of every record of `outcome`, counted,
    /// without writing anything (a run that keeps its results in memory).
    pub fn count_kept(&self) -> Result<DedupedCounts> {
        let mut counts = DedupedCounts::default();
        for (index, units) in record_units(self.outcome).into_iter().enumerate() {
            if !matches!(
                self.kept_text(index, units, &mut counts)?,
                KeptText::Dropped
            ) {
                counts.records_written += 1;
            }
        }
        Ok(counts)
    }

    /// Annotate mode: record `index` with its annotations, into `line`.
    fn annotated(&self, index: usize, units: Range<usize>, line: &mut Vec<u8>) -> Result<()> {
        let (corpus, outcome) = (self.corpus, self.outcome);
        let record = &outcome.records[index];
        let fields = self.annotations(record, units);
        let base;
        let object = match corpus.files()[record.file as usize].format {
            Format::Jsonl => corpus.record_bytes(record),
            Format::Text => {
                let mut made = Vec::new();
                text_record(&mut made, &record.id, &corpus.record_text(record)?);
                base = made;
                &base
            }
        };
        let rewritten = with_fields(object, &fields)
            .map_err(|message| Error::at_line(corpus.path(record.file), record.line, message))?;
        line.extend_from_slice(&rewritten);
        Ok(())
    }

    /// The fields annotate mode adds to `record`, whose units are `units`.
    fn annotations(
        &self,
        record: &crate::corpus::RecordMeta,
        units: Range<usize>,
    ) -> Vec<(&'static str, Value)> {
        let outcome = self.outcome;
        let json = |id: &RecordId| serde_json::to_value(id).unwrap_or(Value::Null);
        let per_unit = units.clone().map(|u| {
            let label = outcome.labels[u];
            let kept = self.kept_ref(u as u32);
            (
                u,
                label,
                outcome.cluster_sizes.get(u).copied().unwrap_or(1),
                !outcome.is_kept(u as u32),
                kept,
            )
        });
        match self.unit {
            UnitKind::Article => {
                let one = per_unit.into_iter().next();
                let (cluster, size, duplicate, kept_id) = match one {
                    Some((_, label, size, duplicate, kept)) => (
                        Value::from(label),
                        Value::from(size),
                        duplicate,
                        kept.map_or(Value::Null, |k| json(k.id)),
                    ),
                    // A record with no unit (no text to compare) is its own.
                    None => (Value::Null, Value::Null, false, json(&record.id)),
                };
                vec![
                    ("cluster_id", cluster),
                    ("cluster_size", size),
                    ("duplicate", Value::Bool(duplicate)),
                    ("kept_id", kept_id),
                ]
            }
            UnitKind::Paragraph => {
                let mut lists: [Vec<Value>; 6] = Default::default();
                for (u, label, size, duplicate, kept) in per_unit {
                    lists[0].push(Value::from(outcome.units[u].para));
                    lists[1].push(Value::from(label));
                    lists[2].push(Value::from(size));
                    lists[3].push(Value::Bool(duplicate));
                    lists[4].push(kept.as_ref().map_or(Value::Null, |k| json(k.id)));
                    lists[5].push(kept.and_then(|k| k.para).map_or(Value::Null, Value::from));
                }
                let names = [
                    "para",
                    "cluster_id",
                    "cluster_size",
                    "duplicate",
                    "kept_id",
                    "kept_para",
                ];
                names
                    .into_iter()
                    .zip(lists)
                    .map(|(name, list)| (name, Value::Array(list)))
                    .collect()
            }
        }
    }

    /// The unit kept in place of local unit `unit` (itself when kept): the
    /// indexed unit it duplicates, or its cluster's first unit where this
    /// outcome knows it.
    fn kept_ref(&self, unit: u32) -> Option<UnitRef<'_>> {
        let outcome = self.outcome;
        match outcome.index_matches.get(unit as usize) {
            Some(Some(indexed)) => Some(indexed.into()),
            _ => known_unit_ref(outcome, outcome.labels[unit as usize]),
        }
    }

    /// Passes the line of every unit remove mode drops to `write`, in order, a
    /// batch of lines at a time (encoded in parallel, see [`write_in_order`]);
    /// `relative` names each input file. Returns how many.
    pub fn removed(
        &self,
        layout: &Layout,
        write: &mut dyn FnMut(&Lines) -> Result<()>,
    ) -> Result<u64> {
        let outcome = self.outcome;
        let batches = write_in_order(
            0..outcome.units.len(),
            UNITS_PER_BATCH,
            |unit| outcome.units[unit].len,
            |units, lines| self.removed_lines(layout, units, lines),
            write,
        )?;
        Ok(batches.iter().sum())
    }

    /// The lines of the units in `units` that remove mode drops, appended to
    /// `lines`; how many.
    fn removed_lines(
        &self,
        layout: &Layout,
        units: Range<usize>,
        lines: &mut Lines,
    ) -> Result<u64> {
        #[derive(Serialize)]
        struct Line<'a> {
            file: &'a str,
            id: &'a RecordId,
            #[serde(skip_serializing_if = "Option::is_none")]
            para: Option<u32>,
            kept_id: Option<&'a RecordId>,
            #[serde(skip_serializing_if = "Option::is_none")]
            kept_para: Option<u32>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            indexed: bool,
            similarity: Option<f32>,
            // Then `text`, the line's last member, written by
            // [`json::write_string`].
        }
        let (corpus, outcome) = (self.corpus, self.outcome);
        let mut count = 0;
        let mut current: Option<(u32, std::borrow::Cow<'_, str>)> = None;
        for unit in units {
            prefetch_label(outcome, unit + LINES_AHEAD);
            if outcome.is_kept(unit as u32) {
                continue;
            }
            let meta = &outcome.units[unit];
            let record = &outcome.records[meta.record as usize];
            if current.as_ref().is_none_or(|(r, _)| *r != meta.record) {
                current = Some((meta.record, corpus.record_text(record)?));
            }
            let text = current
                .as_ref()
                .map(|(_, t)| t.as_ref())
                .unwrap_or_default();
            let kept = self.kept_ref(unit as u32);
            let indexed = matches!(outcome.index_matches.get(unit), Some(Some(_)));
            let similarity = outcome.kept_similarity.get(unit).copied().flatten();
            let line = lines.buffer();
            serde_json::to_writer(
                &mut *line,
                &Line {
                    file: &layout.relative[record.file as usize],
                    id: &record.id,
                    para: meta.para,
                    kept_id: kept.as_ref().map(|k| k.id),
                    kept_para: kept.and_then(|k| k.para),
                    indexed,
                    similarity,
                },
            )
            .map_err(|e| Error::io(&layout.removed.name, e.into()))?;
            line.pop(); // the object's closing brace
            line.extend_from_slice(b",\"text\":");
            let text = text.get(meta.start..meta.start + meta.len).unwrap_or(text);
            json::write_string(line, text);
            line.push(b'}');
            lines.end_line();
            count += 1;
        }
        Ok(count)
    }
}

/// Records encoded by one batch of [`Emitter::records`]: a few hundred
/// kilobytes of a corpus of articles of a few kilobytes.
const RECORDS_PER_BATCH: usize = 256;

/// Units looked at by one batch of [`Emitter::removed`].
const UNITS_PER_BATCH: usize = 2048;

/// `{"id": id, "text": text}`, appended to `line`.
fn text_record(line: &mut Vec<u8>, id: &RecordId, text: &str) {
    #[derive(Serialize)]
    struct Line<'a> {
        id: &'a RecordId,
        text: &'a str,
    }
    serde_json::to_writer(line, &Line { id, text }).expect("ids and strings serialise");
}

/// The members of the JSON object `line`, each key with its value's raw text.
fn members(
    line: &[u8],
) -> std::result::Result<Vec<(String, &serde_json::value::RawValue)>, String> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    use serde_json::value::RawValue;

    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                let value: &'de RawValue = map.next_value()?;
                out.push((key.into_owned(), value));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    de.deserialize_map(Members)
        .map_err(|e| format!("invalid JSON record: {e}"))
}

/// `line` (one JSON object) with the value of its field `field` (the last, if it
/// occurs more than once, as the reader takes the last) replaced by the string
/// `text`; every other byte, other fields' numbers and escapes included, stays
/// as it was. A line of the common shape (text and id field `id_field` only) is
/// read by [`jsonl::plain_text_span`], any other through serde_json.
pub(crate) fn replace_field(
    line: &[u8],
    field: &str,
    id_field: Option<&str>,
    text: &str,
) -> std::result::Result<Vec<u8>, String> {
    let (start, end) = match jsonl::plain_text_span(line, field, id_field) {
        Some(span) => (span.start, span.end),
        None => {
            let members = members(line)?;
            let value = members
                .iter()
                .rev()
                .find(|(key, _)| key == field)
                .map(|(_, value)| *value)
                .ok_or_else(|| format!("missing text field {field:?}"))?;
            // The raw value borrows from `line`: its place there is its offset.
            let start = value.get().as_ptr() as usize - line.as_ptr() as usize;
            (start, start + value.get().len())
        }
    };
    let mut out = Vec::with_capacity(line.len() + text.len());
    splice_text(&mut out, line, start..end, text);
    Ok(out)
}

/// Appends `line` to `out` with the JSON value at `span` replaced by the string
/// `text`.
fn splice_text(out: &mut Vec<u8>, line: &[u8], span: Range<usize>, text: &str) {
    out.extend_from_slice(&line[..span.start]);
    json::write_string(out, text);
    out.extend_from_slice(&line[span.end..]);
}

/// `line` (one JSON object) with `fields` added at its end, replacing members
/// of the same names; every other value keeps its text exactly.
fn with_fields(line: &[u8], fields: &[(&str, Value)]) -> std::result::Result<Vec<u8>, String> {
    let members = members(line)?;
    let mut out = Vec::with_capacity(line.len() + 64);
    out.push(b'{');
    let mut first = true;
    let mut separator = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
    };
    for (key, value) in &members {
        if fields.iter().any(|(name, _)| name == key) {
            continue;
        }
        separator(&mut out);
        serde_json::to_writer(&mut out, key).map_err(|e| e.to_string())?;
        out.push(b':');
        out.extend_from_slice(value.get().as_bytes());
    }
    for (name, value) in fields {
        separator(&mut out);
        serde_json::to_writer(&mut out, name).map_err(|e| e.to_string())?;
        out.push(b':');
        serde_json::to_writer(&mut out, value).map_err(|e| e.to_string())?;
    }
    out.push(b'}');
    Ok(out)
}

/// One record output written, for the report.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Written {
    /// Path relative to the output folder.
    pub path: String,
    /// Records (or removed units) it holds.
    pub records: u64,
    /// The worker that wrote it, into its machine's output folder
    /// (distributed runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<usize>,
}

impl crate::exchange::WireSize for Written {
    fn wire_size(&self) -> usize {
        self.path.len() + 24
    }
}

/// Where record outputs are written: a staging folder.
pub type Files = super::Staging;

/// Lines of one output that another worker writes: its name and JSON lines,
/// each ending in a newline.
pub type Piece = (PathBuf, Vec<u8>);

/// Records of outputs that other workers write: `(name, lines)` pieces, each
/// a run of JSON lines (each ending in a newline), in worker order.
pub type Received = HashMap<PathBuf, Vec<Vec<u8>>>;

/// Writes the record outputs of `groups` whose names `owned` accepts, each
/// followed by the pieces `received` holds for it; the removed units too when
/// `removed` is set. Returns the files written and the counts.
pub fn write(
    files: &Files,
    layout: &Layout,
    emitter: &Emitter<'_>,
    groups: &[FileGroup],
    owned: &dyn Fn(&Path) -> bool,
    received: &Received,
    removed: bool,
) -> Result<(Vec<Written>, DedupedCounts)> {
    // The removed units' output is written on a thread of its own, beside the
    // record outputs.
    std::thread::scope(|scope| {
        let removed =
            removed.then(|| scope.spawn(|| write_removed(files, layout, emitter, received)));
        let (mut written, counts) = write_records(files, layout, emitter, groups, owned, received)?;
        if let Some(handle) = removed {
            let done = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            written.push(done);
        }
        Ok((written, counts))
    })
}

/// Writes the record outputs of `groups` whose names `owned` accepts (see
/// [`write`]).
fn write_records(
    files: &Files,
    layout: &Layout,
    emitter: &Emitter<'_>,
    groups: &[FileGroup],
    owned: &dyn Fn(&Path) -> bool,
    received: &Received,
) -> Result<(Vec<Written>, DedupedCounts)> {
    let mut counts = DedupedCounts::default();
    let mut written = Vec::new();
    let mut at = 0;
    while at < groups.len() {
        let target = layout.target(groups[at].file);
        let mut end = at + 1;
        while end < groups.len() && layout.target(groups[end].file).name == target.name {
            end += 1;
        }
        let these = &groups[at..end];
        at = end;
        if !owned(&target.name) {
            continue;
        }
        let mut records = 0u64;
        let pieces = received.get(&target.name).map(Vec::as_slice).unwrap_or(&[]);
        let shown = files.dir().join(&target.name);
        files.write(&target.name, |w| {
            let mut sink = format::open(&target.encoding, w, &shown, files.spool_dir())?;
            for group in these {
                emitter.records(
                    group,
                    &target.encoding,
                    &mut |lines| {
                        records += lines.len() as u64;
                        lines.iter().try_for_each(|line| sink.push(line))
                    },
                    &mut counts,
                )?;
            }
            for line in pieces.iter().flat_map(|piece| piece_lines(piece)) {
                records += 1;
                sink.push(line)?;
            }
            sink.finish()
        })?;
        // A removed plain-text article leaves no file.
        if records == 0 && target.encoding == Encoding::Text {
            files.unwrite(&target.name)?;
            continue;
        }
        written.push(Written {
            path: target.name.to_string_lossy().into_owned(),
            records,
            worker: None,
        });
    }
    Ok((written, counts))
}

/// Writes the removed units' output (followed by the pieces `received` holds
/// for it) and says what it wrote.
fn write_removed(
    files: &Files,
    layout: &Layout,
    emitter: &Emitter<'_>,
    received: &Received,
) -> Result<Written> {
    let target = layout.removed();
    let shown = files.dir().join(&target.name);
    let pieces = received.get(&target.name).map(Vec::as_slice).unwrap_or(&[]);
    let mut records = 0;
    files.write(&target.name, |w| {
        let mut sink = format::open(&target.encoding, w, &shown, files.spool_dir())?;
        records += emitter.removed(layout, &mut |lines| {
            lines.iter().try_for_each(|line| sink.push(line))
        })?;
        for line in pieces.iter().flat_map(|piece| piece_lines(piece)) {
            records += 1;
            sink.push(line)?;
        }
        sink.finish()
    })?;
    Ok(Written {
        path: target.name.to_string_lossy().into_owned(),
        records,
        worker: None,
    })
}

/// The lines of a piece (each ended by a newline), without their newlines.
fn piece_lines(piece: &[u8]) -> impl Iterator<Item = &[u8]> {
    piece
        .split(|&b| b == b'\n')
        .take(piece.iter().filter(|&&b| b == b'\n').count())
}

/// The lines of the records of `groups` that go to outputs `owned` rejects
/// (another worker writes them), as pieces by output name; and of the removed
/// units when `removed` is set.
pub fn pieces(
    layout: &Layout,
    emitter: &Emitter<'_>,
    groups: &[FileGroup],
    owned: &dyn Fn(&Path) -> bool,
    removed: bool,
) -> Result<(Vec<Piece>, DedupedCounts)> {
    let mut counts = DedupedCounts::default();
    let mut out: Vec<Piece> = Vec::new();
    for group in groups {
        let target = layout.target(group.file);
        if owned(&target.name) {
            continue;
        }
        if out.last().is_none_or(|(name, _)| *name != target.name) {
            out.push((target.name.clone(), Vec::new()));
        }
        let (_, bytes) = out.last_mut().expect("just pushed");
        emitter.records(
            group,
            &target.encoding,
            &mut |lines| {
                bytes.extend_from_slice(lines.as_bytes());
                Ok(())
            },
            &mut counts,
        )?;
    }
    if removed {
        let mut bytes = Vec::new();
        emitter.removed(layout, &mut |lines| {
            bytes.extend_from_slice(lines.as_bytes());
            Ok(())
        })?;
        out.push((layout.removed().name.clone(), bytes));
    }
    Ok((out, counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A record of the common shape is rewritten by its plain span exactly
        /// as the serde_json members of the line place the text.
        #[test]
        fn plain_and_serde_rewrites_agree(
            text in "[a-z \\\"\n가-힣é]{0,12}",
            id in "[a-z0-9-]{0,6}",
            new_text in "[a-z\"\n가]{0,6}",
            text_first in any::<bool>(),
            spaces in any::<bool>(),
        ) {
            let (text_json, id_json) = (serde_json::to_string(&text).unwrap(), serde_json::to_string(&id).unwrap());
            let sep = if spaces { ", " } else { "," };
            let line = if text_first {
                format!(r#"{{"text":{text_json}{sep}"id":{id_json}}}"#)
            } else {
                format!(r#"{{"id":{id_json}{sep}"text":{text_json}}}"#)
            };
            let line = line.as_bytes();
            let (read, span) = jsonl::plain_text_and_span(line, "text", Some("id")).expect("plain");
            prop_assert_eq!(read.as_ref(), text.as_str());
            prop_assert_eq!(Some(span.clone()), jsonl::plain_text_span(line, "text", Some("id")));
            let plain = replace_field(line, "text", Some("id"), &new_text).expect("plain");
            // The one-pass splice that remove mode uses writes the same line.
            let mut spliced = Vec::new();
            splice_text(&mut spliced, line, span, &new_text);
            prop_assert_eq!(&spliced, &plain);
            // No id field named: the plain reader refuses the line (it has
            // another key), so serde_json places the text.
            prop_assert!(jsonl::plain_text_span(line, "text", None).is_none());
            let serde = replace_field(line, "text", None, &new_text).expect("serde");
            prop_assert_eq!(plain, serde);
        }
    }

    #[test]
    fn paragraph_rewrite_changes_only_the_text_field() {
        let line =
            br#"{"id":123456789012345678901234567890, "n":1000.0,"text":"a\nb","x":"\u00e9"}"#;
        let out = replace_field(line, "text", None, "a").expect("rewrite");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            r#"{"id":123456789012345678901234567890, "n":1000.0,"text":"a","x":"\u00e9"}"#
        );
        let err = replace_field(br#"{"body":"x"}"#, "text", None, "a").expect_err("missing");
        assert!(err.contains("missing text field"), "{err}");
    }

    #[test]
    fn added_fields_replace_their_namesakes_and_keep_other_values_exactly() {
        let line = br#"{"id":12345678901234567890123, "duplicate":"old","n":1.50,"text":"\u00e9"}"#;
        let out = with_fields(
            line,
            &[
                ("duplicate", Value::Bool(true)),
                ("cluster_id", Value::from(7)),
            ],
        )
        .expect("rewrite");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            r#"{"id":12345678901234567890123,"n":1.50,"text":"\u00e9","duplicate":true,"cluster_id":7}"#
        );
        assert!(with_fields(b"[1]", &[]).is_err());
        assert_eq!(
            with_fields(b"{}", &[("a", Value::Null)]).expect("ok"),
            br#"{"a":null}"#
        );
    }

    #[test]
    fn output_names_take_the_formats_extension() {
        let records = |f| Encoding::Records(f, None);
        let cases = [
            ("a/b.jsonl", records(RecordFormat::Jsonl), "a/b.jsonl"),
            ("a/b.jsonl.gz", records(RecordFormat::Jsonl), "a/b.jsonl"),
            ("b.jsonl.gz", records(RecordFormat::JsonlGz), "b.jsonl.gz"),
            ("b.ndjson.zst", records(RecordFormat::Parquet), "b.parquet"),
            ("b.parquet", records(RecordFormat::JsonlZst), "b.jsonl.zst"),
            ("notes.txt", Encoding::Text, "notes.txt"),
            ("notes.txt.gz", Encoding::Text, "notes.txt"),
            ("notes.txt", records(RecordFormat::Jsonl), "notes.jsonl"),
            ("README", records(RecordFormat::Jsonl), "README.jsonl"),
            (".jsonl", records(RecordFormat::Jsonl), ".jsonl.jsonl"),
        ];
        for (input, encoding, expected) in cases {
            assert_eq!(
                output_name(Path::new(input), &encoding),
                Path::new(expected),
                "{input} as {encoding:?}"
            );
        }
    }

    #[test]
    fn pieces_split_into_their_lines() {
        let lines: Vec<&[u8]> = piece_lines(b"{\"a\":1}\n{}\n").collect();
        assert_eq!(lines, [&b"{\"a\":1}"[..], b"{}"]);
        assert_eq!(piece_lines(b"").count(), 0);
    }
}
