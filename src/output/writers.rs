//! The line files of a run's clusters and pairs, and how output files name a
//! unit. The records themselves are written by [`super::records`].

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::io_err;
use super::ordered::{write_in_order, Lines};
use crate::corpus::RecordId;
use crate::error::{Error, Result};
use crate::index::IndexedUnit;
use crate::pipeline::DedupOutcome;

/// A unit as output files name it: its record's id, and its paragraph.
#[derive(Serialize)]
pub(crate) struct UnitRef<'a> {
    pub(crate) id: &'a RecordId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) para: Option<u32>,
}

/// How output files name unit `unit` (a run-wide number).
fn unit_ref(outcome: &DedupOutcome, unit: u32) -> UnitRef<'_> {
    known_unit_ref(outcome, unit).expect("every unit an edge names is local or listed as foreign")
}

/// How output files name unit `unit`, if this outcome knows it: its own units,
/// and the other workers' units that its edges name.
pub(crate) fn known_unit_ref(outcome: &DedupOutcome, unit: u32) -> Option<UnitRef<'_>> {
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
pub const LINE_FILES: [&str; 2] = ["clusters", "pairs"];

/// One way to open and close an output file: `write(kind, fill)` writes the
/// file of `kind` (one of [`LINE_FILES`]) through `fill`.
pub type FileWriter<'a> =
    &'a (dyn Fn(&str, &mut dyn FnMut(&mut (dyn Write + Send)) -> Result<()>) -> Result<()> + Sync);

/// Writes the line files `kinds` (of [`LINE_FILES`]) of `outcome` through
/// `write`, while `records` writes the record outputs (they are independent);
/// returns what `records` returns.
pub fn write_line_files<T>(
    write: FileWriter<'_>,
    outcome: &DedupOutcome,
    kinds: impl Iterator<Item = &'static str>,
    records: impl FnOnce() -> Result<T>,
) -> Result<T> {
    std::thread::scope(|scope| {
        let writers: Vec<_> = kinds
            .map(|kind| {
                scope.spawn(move || {
                    write(kind, &mut |w| {
                        if kind == LINE_FILES[0] {
                            write_clusters(w, outcome)
                        } else {
                            write_pairs(w, outcome)
                        }
                    })
                })
            })
            .collect();
        let records = records();
        for writer in writers {
            writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        }
        records
    })
}

/// Appends `value` as one JSON line of the file at `path` to `lines`.
fn push_json_line(lines: &mut Lines, path: &Path, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(lines.buffer(), value).map_err(|e| Error::io(path, e.into()))?;
    lines.end_line();
    Ok(())
}

/// Lines of `clusters.jsonl` or `pairs.jsonl` encoded by one batch.
const LINES_PER_BATCH: usize = 8192;

/// Writes the lines `line(item, lines)` appends for every item of `items`, in
/// order, to `out`, the file at `path`: encoded in parallel, a batch at a time
/// (see [`write_in_order`]).
fn write_lines(
    out: &mut dyn Write,
    path: &Path,
    items: std::ops::Range<usize>,
    line: impl Fn(usize, &mut Lines) -> Result<()> + Sync,
) -> Result<()> {
    write_in_order(
        items,
        LINES_PER_BATCH,
        |batch, lines| batch.into_iter().try_for_each(|item| line(item, lines)),
        &mut |lines| out.write_all(lines.as_bytes()).map_err(io_err(path)),
    )
    .map(drop)
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
    write_lines(out, path, 0..outcome.labels.len(), |unit, lines| {
        let label = outcome.labels[unit];
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
        push_json_line(lines, path, &line)
    })
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
    let indexed = outcome.index_pairs.len();
    write_lines(out, path, 0..indexed + outcome.edges.len(), |at, lines| {
        let line = match at.checked_sub(indexed) {
            None => {
                let (indexed, unit, similarity) = &outcome.index_pairs[at];
                Line {
                    a: UnitRef {
                        id: &indexed.id,
                        para: indexed.para,
                    },
                    b: unit_ref(outcome, *unit),
                    similarity: *similarity,
                }
            }
            Some(edge) => {
                let edge = &outcome.edges[edge];
                Line {
                    a: unit_ref(outcome, edge.a),
                    b: unit_ref(outcome, edge.b),
                    similarity: edge.similarity,
                }
            }
        };
        push_json_line(lines, path, &line)
    })
}

/// What the record outputs hold relative to the input.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DedupedCounts {
    /// Records written.
    pub records_written: u64,
    /// Records dropped whole.
    pub records_dropped: u64,
    /// Paragraphs dropped from records that were kept.
    pub paragraphs_dropped: u64,
}

impl DedupedCounts {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &DedupedCounts) {
        self.records_written += other.records_written;
        self.records_dropped += other.records_dropped;
        self.paragraphs_dropped += other.paragraphs_dropped;
    }
}
