//! The line files of a run's clusters and pairs, and how output files name a
//! unit. The records themselves are written by [`super::records`].

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::io_err;
use super::ordered::write_in_order;
use crate::corpus::RecordId;
use crate::error::Result;
use crate::index::IndexedUnit;
use crate::pipeline::{DedupOutcome, UnitMeta};
use crate::simd::prefetch::{prefetch, Soon};

/// A unit as output files name it: its record's id, and its paragraph.
#[derive(Serialize)]
pub(crate) struct UnitRef<'a> {
    pub(crate) id: &'a RecordId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) para: Option<u32>,
}

impl<'a> From<&'a IndexedUnit> for UnitRef<'a> {
    /// An indexed unit, named as it was when indexed.
    fn from(indexed: &'a IndexedUnit) -> Self {
        UnitRef {
            id: &indexed.id,
            para: indexed.para,
        }
    }
}

/// How output files name unit `unit` (a run-wide number).
fn unit_ref(outcome: &DedupOutcome, unit: u32) -> UnitRef<'_> {
    known_unit_ref(outcome, unit).expect("every unit an edge names is local or listed as foreign")
}

/// The metadata of unit `unit` (a run-wide number), if it is one of this
/// outcome's own units.
fn own_unit(outcome: &DedupOutcome, unit: u32) -> Option<&UnitMeta> {
    unit.checked_sub(outcome.first_unit)
        .and_then(|local| outcome.units.get(local as usize))
}

/// How output files name unit `unit`, if this outcome knows it: its own units,
/// and the other workers' units that its edges name.
pub(crate) fn known_unit_ref(outcome: &DedupOutcome, unit: u32) -> Option<UnitRef<'_>> {
    match own_unit(outcome, unit) {
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

/// Asks the CPU to fetch the metadata of unit `unit` (a run-wide number), so
/// that [`known_unit_ref`] finds it in cache a few lines later: the units a
/// line names besides its own (a pair's two, a duplicate's kept unit) are
/// anywhere in a table far larger than the cache.
pub(crate) fn prefetch_unit(outcome: &DedupOutcome, unit: u32) {
    if let Some(meta) = own_unit(outcome, unit) {
        prefetch(meta, Soon::Read);
    }
}

/// [`prefetch_unit`] of the unit that names the cluster of local unit `unit`
/// (the unit kept in its place), if there is such a unit.
pub(crate) fn prefetch_label(outcome: &DedupOutcome, unit: usize) {
    if let Some(&label) = outcome.labels.get(unit) {
        prefetch_unit(outcome, label);
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

/// Lines of `clusters.jsonl` or `pairs.jsonl` encoded by one batch.
const LINES_PER_BATCH: usize = 8192;

/// How many lines ahead of the one being encoded an output announces what a
/// line will read ([`prefetch_unit`]), about as many as memory can fetch for
/// while the lines between are encoded.
pub(crate) const LINES_AHEAD: usize = 16;

/// Writes to `out` (the file at `path`), in item order, the line that
/// `line(item, buffer)` appends to `buffer` for each item of `items`: encoded
/// in parallel, a batch at a time (see [`write_in_order`]). `ahead(item)` is
/// called [`LINES_AHEAD`] items before `item`'s line (with numbers past the
/// last item too), to prefetch what that line will read.
fn write_lines(
    out: &mut dyn Write,
    path: &Path,
    items: std::ops::Range<usize>,
    ahead: impl Fn(usize) + Sync,
    line: impl Fn(usize, &mut Vec<u8>) + Sync,
) -> Result<()> {
    write_in_order(
        items,
        LINES_PER_BATCH,
        // Lines of ids and numbers: batches are cut by their count alone.
        |_| 0,
        |batch, lines| {
            for item in batch {
                ahead(item + LINES_AHEAD);
                line(item, lines.buffer());
                lines.end_line();
            }
            Ok(())
        },
        &mut |lines| out.write_all(lines.as_bytes()).map_err(io_err(path)),
    )
    .map(drop)
}

// `clusters.jsonl` and `pairs.jsonl` hold a line per unit and per verified pair:
// millions of short lines in a paragraph run. Their lines are written member by
// member below, byte for byte what serde_json writes for the same structs (a
// property test checks it), without serde's generic path for every key and
// value.

/// Appends `"id":ID` and, for a paragraph, `,"para":N`: the members naming
/// `unit`.
fn push_unit_members(out: &mut Vec<u8>, unit: &UnitRef<'_>) {
    out.extend_from_slice(b"\"id\":");
    unit.id.write_json(out);
    if let Some(para) = unit.para {
        out.extend_from_slice(b",\"para\":");
        out.extend_from_slice(itoa::Buffer::new().format(para).as_bytes());
    }
}

/// Appends `unit` as a JSON object.
fn push_unit(out: &mut Vec<u8>, unit: &UnitRef<'_>) {
    out.push(b'{');
    push_unit_members(out, unit);
    out.push(b'}');
}

/// Appends a similarity as serde_json writes an `f32` (most are exactly 1).
fn push_similarity(out: &mut Vec<u8>, similarity: f32) {
    if similarity == 1.0 {
        out.extend_from_slice(b"1.0");
    } else {
        serde_json::to_writer(out, &similarity).expect("a float serialises");
    }
}

/// A line of `clusters.jsonl`.
#[derive(Serialize)]
struct ClusterLine<'a> {
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

impl ClusterLine<'_> {
    /// Appends the line's JSON object to `out`.
    fn push_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        push_unit_members(out, &self.unit);
        out.extend_from_slice(b",\"cluster\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.cluster).as_bytes());
        out.extend_from_slice(if self.duplicate {
            b",\"duplicate\":true"
        } else {
            b",\"duplicate\":false"
        });
        if let Some(kept) = &self.kept {
            out.extend_from_slice(b",\"kept\":");
            push_unit(out, kept);
        }
        if let Some(similarity) = self.similarity {
            out.extend_from_slice(b",\"similarity\":");
            push_similarity(out, similarity);
        }
        if let Some(indexed) = self.indexed_match {
            out.extend_from_slice(b",\"indexed_match\":");
            push_unit(out, &indexed.into());
        }
        out.push(b'}');
    }
}

/// A line of `pairs.jsonl`.
#[derive(Serialize)]
struct PairLine<'a> {
    a: UnitRef<'a>,
    b: UnitRef<'a>,
    similarity: f32,
}

impl PairLine<'_> {
    /// Appends the line's JSON object to `out`.
    fn push_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"a\":");
        push_unit(out, &self.a);
        out.extend_from_slice(b",\"b\":");
        push_unit(out, &self.b);
        out.extend_from_slice(b",\"similarity\":");
        push_similarity(out, self.similarity);
        out.push(b'}');
    }
}

/// Writes `clusters.jsonl`: per unit its cluster and whether it is removed; a
/// removed unit also names the unit kept in its place (`kept`) and its
/// similarity to it where a verified edge gives it.
pub fn write_clusters(out: &mut dyn Write, outcome: &DedupOutcome) -> Result<()> {
    let path = Path::new("clusters.jsonl");
    let ahead = |unit| prefetch_label(outcome, unit);
    write_lines(out, path, 0..outcome.labels.len(), ahead, |unit, line| {
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
        ClusterLine {
            unit: unit_ref(outcome, run_wide),
            cluster: label,
            duplicate: !outcome.is_kept(unit),
            kept,
            similarity: similarity.filter(|_| !outcome.is_kept(unit)),
            indexed_match,
        }
        .push_json(line);
    })
}

/// Writes `pairs.jsonl`.
pub fn write_pairs(out: &mut dyn Write, outcome: &DedupOutcome) -> Result<()> {
    let path = Path::new("pairs.jsonl");
    let indexed = outcome.index_pairs.len();
    // The lines of indexed pairs come first, then a line per verified edge.
    let edge_at = |at: usize| {
        at.checked_sub(indexed)
            .and_then(|edge| outcome.edges.get(edge))
    };
    let ahead = |at| {
        if let Some(edge) = edge_at(at) {
            prefetch_unit(outcome, edge.a);
            prefetch_unit(outcome, edge.b);
        }
    };
    let lines = 0..indexed + outcome.edges.len();
    write_lines(out, path, lines, ahead, |at, out| {
        let line = match edge_at(at) {
            Some(edge) => PairLine {
                a: unit_ref(outcome, edge.a),
                b: unit_ref(outcome, edge.b),
                similarity: edge.similarity,
            },
            None => {
                let (indexed, unit, similarity) = &outcome.index_pairs[at];
                PairLine {
                    a: indexed.into(),
                    b: unit_ref(outcome, *unit),
                    similarity: *similarity,
                }
            }
        };
        line.push_json(out);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Ids of every kind: line numbers, strings with escapes and any
    /// character, other JSON numbers.
    fn ids() -> impl Strategy<Value = RecordId> {
        prop_oneof![
            any::<u64>().prop_map(RecordId::from),
            any::<String>().prop_map(|s| RecordId::from_string(&s)),
            any::<i64>().prop_map(|n| RecordId::from_json_text(&n.to_string()).expect("JSON")),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(|x| RecordId::from_json_text(&format!("{x:e}")).expect("JSON")),
        ]
    }

    #[test]
    fn each_line_is_announced_lines_ahead() {
        #[derive(Debug, PartialEq)]
        enum Call {
            Ahead(usize),
            Line(usize),
        }
        let calls = std::sync::Mutex::new(Vec::new());
        let record = |call| calls.lock().expect("unpoisoned").push(call);
        let mut out = Vec::new();
        write_lines(
            &mut out,
            Path::new("lines"),
            0..3,
            |item| record(Call::Ahead(item)),
            |item, line| {
                record(Call::Line(item));
                line.extend_from_slice(item.to_string().as_bytes());
            },
        )
        .expect("written to memory");
        assert_eq!(out, b"0\n1\n2\n");
        let want: Vec<Call> = (0..3)
            .flat_map(|item| [Call::Ahead(item + LINES_AHEAD), Call::Line(item)])
            .collect();
        assert_eq!(calls.into_inner().expect("unpoisoned"), want);
    }

    /// Similarities as verification gives them, and any other `f32`.
    fn similarities() -> impl Strategy<Value = f32> {
        prop_oneof![Just(1.0f32), Just(0.0f32), 0.0f32..1.0, any::<f32>()]
    }

    proptest! {
        /// The lines written member by member are what serde_json writes.
        #[test]
        fn lines_are_what_serde_writes(
            unit in (ids(), proptest::option::of(any::<u32>())),
            other in (ids(), proptest::option::of(any::<u32>())),
            cluster in any::<u32>(),
            duplicate in any::<bool>(),
            with_kept in any::<bool>(),
            similarity in proptest::option::of(similarities()),
            indexed in proptest::option::of((ids(), proptest::option::of(any::<u32>()))),
        ) {
            let unit_of = |(id, para): &(RecordId, Option<u32>)| -> (RecordId, Option<u32>) { (id.clone(), *para) };
            let (unit_id, unit_para) = unit_of(&unit);
            let (other_id, other_para) = unit_of(&other);
            let indexed = indexed.map(|(id, para)| IndexedUnit { id, para });
            let cluster_line = ClusterLine {
                unit: UnitRef { id: &unit_id, para: unit_para },
                cluster,
                duplicate,
                kept: with_kept.then_some(UnitRef { id: &other_id, para: other_para }),
                similarity,
                indexed_match: indexed.as_ref(),
            };
            let mut written = Vec::new();
            cluster_line.push_json(&mut written);
            let want = serde_json::to_vec(&cluster_line).expect("serialises");
            prop_assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&want));

            let pair_line = PairLine {
                a: UnitRef { id: &unit_id, para: unit_para },
                b: UnitRef { id: &other_id, para: other_para },
                similarity: similarity.unwrap_or(1.0),
            };
            written.clear();
            pair_line.push_json(&mut written);
            let want = serde_json::to_vec(&pair_line).expect("serialises");
            prop_assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&want));
        }
    }
}
