//! The line-oriented output files: clusters, pairs and the deduplicated corpus.
//!
//! `deduped.jsonl` keeps the first unit of every cluster (first in input order) and
//! drops the rest:
//! - article units: a kept JSONL record is copied byte for byte (every field
//!   preserved); a kept plain-text file becomes `{"id": path, "text": text}`;
//! - paragraph units: each record loses its duplicate paragraphs; the remaining
//!   paragraphs are joined with the paragraph separator (a newline, or a blank line
//!   with `--para-sep blank`) and replace the text field, other fields untouched. A
//!   record that lost nothing is copied byte for byte; one that lost every paragraph
//!   is dropped and counted.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::io_err;
use crate::corpus::{paragraphs, Corpus, Format, ParaSep, RecordId};
use crate::error::{Error, Result};
use crate::index::IndexedUnit;
use crate::pipeline::{DedupOutcome, UnitKind};

#[derive(Serialize)]
struct UnitRef<'a> {
    id: &'a RecordId,
    #[serde(skip_serializing_if = "Option::is_none")]
    para: Option<u32>,
}

/// How output files name unit `unit` (a run-wide number).
fn unit_ref(outcome: &DedupOutcome, unit: u32) -> UnitRef<'_> {
    known_unit_ref(outcome, unit).expect("every unit an edge names is local or listed as foreign")
}

/// How output files name unit `unit`, if this outcome knows it: its own units,
/// and the other workers' units that its edges name.
fn known_unit_ref(outcome: &DedupOutcome, unit: u32) -> Option<UnitRef<'_>> {
    match unit
        .checked_sub(outcome.first_unit)
        .and_then(|local| outcome.units.get(local as usize))
    {
        Some(meta) => Some(UnitRef {
            id: &outcome.records[meta.record as usize].id,
            para: meta.para,
        }),
        None => outcome.foreign_units.get(&unit).map(|foreign| UnitRef {
            id: &foreign.id,
            para: foreign.para,
        }),
    }
}

/// The line files of a run, in the order [`write_line_files`] writes them.
pub const LINE_FILES: [&str; 3] = ["clusters", "pairs", "deduped"];

/// One way to open and close an output file: `write(kind, fill)` writes the
/// file of `kind` (one of [`LINE_FILES`]) through `fill`.
pub type FileWriter<'a> =
    &'a (dyn Fn(&str, &mut dyn FnMut(&mut dyn Write) -> Result<()>) -> Result<()> + Sync);

/// Writes the clusters, pairs and deduped files of `outcome` at the same time
/// (they are independent), each through `write`; returns what the deduped file
/// holds.
pub fn write_line_files(
    write: FileWriter<'_>,
    corpus: &Corpus,
    outcome: &DedupOutcome,
    unit: UnitKind,
    para_sep: ParaSep,
) -> Result<DedupedCounts> {
    std::thread::scope(|scope| {
        let clusters = scope.spawn(|| write(LINE_FILES[0], &mut |w| write_clusters(w, outcome)));
        let pairs = scope.spawn(|| write(LINE_FILES[1], &mut |w| write_pairs(w, outcome)));
        let mut deduped = DedupedCounts::default();
        let deduped_written = write(LINE_FILES[2], &mut |w| {
            deduped = write_deduped(w, corpus, outcome, unit, para_sep)?;
            Ok(())
        });
        let joined = |h: std::thread::ScopedJoinHandle<'_, Result<()>>| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        };
        joined(clusters)?;
        joined(pairs)?;
        deduped_written?;
        Ok(deduped)
    })
}

/// Writes `clusters.jsonl`: per unit its cluster and whether it is removed; a
/// removed unit also names the unit kept in its place (`kept`) and its
/// similarity to it where a verified edge gives it.
pub fn write_clusters(out: &mut dyn Write, outcome: &DedupOutcome) -> Result<()> {
    #[derive(Serialize)]
    struct Line<'a> {
        #[serde(flatten)]
        unit: UnitRef<'a>,
        cluster: u32,
        duplicate: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        kept: Option<UnitRef<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        similarity: Option<f32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        indexed_match: Option<&'a IndexedUnit>,
    }
    let path = Path::new("clusters.jsonl");
    for (unit, &label) in outcome.labels.iter().enumerate() {
        let indexed_match = outcome.index_matches.get(unit).and_then(Option::as_ref);
        let similarity = outcome.kept_similarity.get(unit).copied().flatten();
        let unit = unit as u32;
        let run_wide = outcome.first_unit + unit;
        // A duplicate of indexed text is named by `indexed_match`; any other
        // duplicate by the unit its cluster keeps, which is its label (always
        // known with star clusters; in a distributed run with components, only
        // when a verified edge joins the two); none when the cluster keeps no
        // unit (`drop-all`).
        let centre_kept = outcome
            .keep
            .keeps(true, false, outcome.cluster_sizes[unit as usize]);
        let kept = (indexed_match.is_none() && label != run_wide && centre_kept)
            .then(|| known_unit_ref(outcome, label))
            .flatten();
        let line = Line {
            unit: unit_ref(outcome, run_wide),
            cluster: label,
            duplicate: !outcome.is_kept(unit),
            kept,
            similarity: similarity.filter(|_| !outcome.is_kept(unit)),
            indexed_match,
        };
        serde_json::to_writer(&mut *out, &line).map_err(|e| Error::io(path, e.into()))?;
        out.write_all(b"\n").map_err(io_err(path))?;
    }
    Ok(())
}

/// Writes `pairs.jsonl`.
pub fn write_pairs(out: &mut dyn Write, outcome: &DedupOutcome) -> Result<()> {
    #[derive(Serialize)]
    struct Line<'a> {
        a: UnitRef<'a>,
        b: UnitRef<'a>,
        similarity: f32,
    }
    let path = Path::new("pairs.jsonl");
    for (indexed, unit, similarity) in &outcome.index_pairs {
        let line = Line {
            a: UnitRef {
                id: &indexed.id,
                para: indexed.para,
            },
            b: unit_ref(outcome, *unit),
            similarity: *similarity,
        };
        serde_json::to_writer(&mut *out, &line).map_err(|e| Error::io(path, e.into()))?;
        out.write_all(b"\n").map_err(io_err(path))?;
    }
    for edge in &outcome.edges {
        let line = Line {
            a: unit_ref(outcome, edge.a),
            b: unit_ref(outcome, edge.b),
            similarity: edge.similarity,
        };
        serde_json::to_writer(&mut *out, &line).map_err(|e| Error::io(path, e.into()))?;
        out.write_all(b"\n").map_err(io_err(path))?;
    }
    Ok(())
}

/// What `deduped.jsonl` holds relative to the input.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DedupedCounts {
    /// Records written.
    pub records_written: u64,
    /// Records dropped whole.
    pub records_dropped: u64,
    /// Paragraphs dropped from records that were kept.
    pub paragraphs_dropped: u64,
}

/// Writes `deduped.jsonl`.
pub fn write_deduped(
    out: &mut dyn Write,
    corpus: &Corpus,
    outcome: &DedupOutcome,
    unit: UnitKind,
    para_sep: ParaSep,
) -> Result<DedupedCounts> {
    let path = Path::new("deduped.jsonl");
    let mut counts = DedupedCounts::default();
    // Units are in record order; walk both lists together.
    let mut next_unit = 0usize;
    for (record_index, record) in outcome.records.iter().enumerate() {
        let first_unit = next_unit;
        while next_unit < outcome.units.len()
            && outcome.units[next_unit].record as usize == record_index
        {
            next_unit += 1;
        }
        let record_units = first_unit..next_unit;
        let dropped: Vec<u32> = record_units
            .clone()
            .filter(|&u| !outcome.is_kept(u as u32))
            .filter_map(|u| outcome.units[u].para)
            .collect();
        let whole_record_dropped = match unit {
            UnitKind::Article => record_units.clone().any(|u| !outcome.is_kept(u as u32)),
            UnitKind::Paragraph => false,
        };
        if whole_record_dropped {
            counts.records_dropped += 1;
            continue;
        }
        let format = corpus.files()[record.file as usize].format;
        if dropped.is_empty() {
            match format {
                Format::Jsonl => out
                    .write_all(corpus.record_bytes(record))
                    .map_err(io_err(path))?,
                Format::Text => {
                    let text = corpus.record_text(record)?;
                    write_text_record(out, &record.id, &text)?;
                }
            }
            out.write_all(b"\n").map_err(io_err(path))?;
            counts.records_written += 1;
            continue;
        }
        let text = corpus.record_text(record)?;
        let kept: Vec<&str> = paragraphs(&text, para_sep)
            .into_iter()
            .filter(|p| dropped.binary_search(&p.index).is_err())
            .map(|p| &text[p.span])
            .collect();
        counts.paragraphs_dropped += dropped.len() as u64;
        if kept.is_empty() {
            counts.records_dropped += 1;
            continue;
        }
        let new_text = kept.join(para_sep.joiner());
        match format {
            Format::Jsonl => {
                let line = corpus.record_bytes(record);
                let rewritten = replace_field(line, &corpus.options().text_field, &new_text)
                    .map_err(|message| {
                        Error::at_line(corpus.path(record.file), record.line, message)
                    })?;
                out.write_all(&rewritten).map_err(io_err(path))?;
            }
            Format::Text => write_text_record(out, &record.id, &new_text)?,
        }
        out.write_all(b"\n").map_err(io_err(path))?;
        counts.records_written += 1;
    }
    Ok(counts)
}

/// `line` (one JSON object) with the value of its field `field` (the last, if it
/// occurs more than once, as the reader takes the last) replaced by the string
/// `text`; every other byte, other fields' numbers and escapes included, stays
/// as it was.
fn replace_field(line: &[u8], field: &str, text: &str) -> std::result::Result<Vec<u8>, String> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    use serde_json::value::RawValue;

    struct Find<'f>(&'f str);
    impl<'de> Visitor<'de> for Find<'_> {
        type Value = Option<&'de RawValue>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                let value: &'de RawValue = map.next_value()?;
                if key == self.0 {
                    found = Some(value);
                }
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let value = de
        .deserialize_map(Find(field))
        .map_err(|e| format!("invalid JSON record: {e}"))?
        .ok_or_else(|| format!("missing text field {field:?}"))?;
    // The raw value borrows from `line`: its place there is its offset.
    let start = value.get().as_ptr() as usize - line.as_ptr() as usize;
    let end = start + value.get().len();
    let mut out = Vec::with_capacity(line.len() + text.len());
    out.extend_from_slice(&line[..start]);
    serde_json::to_writer(&mut out, text).map_err(|e| e.to_string())?;
    out.extend_from_slice(&line[end..]);
    Ok(out)
}

fn write_text_record(out: &mut dyn Write, id: &RecordId, text: &str) -> Result<()> {
    #[derive(Serialize)]
    struct Line<'a> {
        id: &'a RecordId,
        text: &'a str,
    }
    serde_json::to_writer(&mut *out, &Line { id, text })
        .map_err(|e| Error::io(Path::new("deduped.jsonl"), e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraph_rewrite_changes_only_the_text_field() {
        let line =
            br#"{"id":123456789012345678901234567890, "n":1000.0,"text":"a\nb","x":"\u00e9"}"#;
        let out = replace_field(line, "text", "a").expect("rewrite");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            r#"{"id":123456789012345678901234567890, "n":1000.0,"text":"a","x":"\u00e9"}"#
        );
        let err = replace_field(br#"{"body":"x"}"#, "text", "a").expect_err("missing");
        assert!(err.contains("missing text field"), "{err}");
    }
}
