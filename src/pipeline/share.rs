//! How a run's input and units are divided among its workers.
//!
//! Every worker cuts the input into the same chunks and shards; each sketches a
//! contiguous share of the shards, so units keep their input order when the
//! workers' shares are put one after another. After sketching, units get
//! run-wide numbers: the units of a saved index (compared against with
//! `against`) first, then worker 0's units, worker 1's, and so on. [`Owners`]
//! says which worker holds a unit; indexed units are held by worker 0, which
//! every process can answer for because every process reads the index.
//!
//! With one worker (a single-process run) the share is the whole input and the
//! numbering is the plain input order.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::scan::UnitMeta;
use super::shard;
use super::sketch::Sketched;
use crate::corpus::{Chunk, Corpus, RecordId, RecordMeta, CHUNK_BYTES};
use crate::exchange::{Exchange, WireSize};
use crate::index::{IndexedUnit, SignatureIndex};

/// Smallest default shard: per-shard costs (a checkpoint file, a pause between
/// shards) stay small next to the shard's work.
pub const MIN_DEFAULT_SHARD_BYTES: u64 = 16 << 20;

/// Spreads a key over workers: a multiplicative hash, high bits.
pub fn spread(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32
}

/// Which worker holds each run-wide unit number: `bases[w]` is the first unit
/// worker `w` holds (workers with no units share the next one's base).
#[derive(Clone)]
pub struct Owners(Arc<Vec<u32>>);

impl Owners {
    /// Owners of units numbered from `bases[w]` on worker `w` (non-decreasing,
    /// starting at 0).
    pub fn new(bases: Vec<u32>) -> Self {
        Owners(Arc::new(bases))
    }

    /// The worker that holds `unit`.
    pub fn of(&self, unit: u32) -> usize {
        self.0.partition_point(|&base| base <= unit) - 1
    }
}

/// The run's chunks and shards: the same on every worker. With several workers,
/// shards are small enough that every worker gets some when the input allows.
pub fn plan_shards(
    corpus: &Corpus,
    shard_bytes: Option<u64>,
    peers: usize,
    budget: u64,
) -> (Vec<Chunk>, Vec<Range<usize>>) {
    let mut bytes = shard_bytes.unwrap_or_else(|| (budget / 4).max(MIN_DEFAULT_SHARD_BYTES));
    if peers > 1 {
        bytes = bytes.min(corpus.total_bytes().div_ceil(peers as u64 * 2).max(1));
    }
    let bytes = bytes.max(1);
    let chunks = corpus.cut_chunks(CHUNK_BYTES.min(usize::try_from(bytes).unwrap_or(usize::MAX)));
    let shards = shard::plan(&chunks, bytes);
    (chunks, shards)
}

/// The contiguous range of `shards` that worker `index` of `peers` sketches:
/// shards go to the worker whose even share of the input bytes their start
/// falls in.
pub fn shards_of(
    chunks: &[Chunk],
    shards: &[Range<usize>],
    index: usize,
    peers: usize,
) -> Range<usize> {
    let bytes = |range: &Range<usize>| -> u64 {
        chunks[range.clone()]
            .iter()
            .map(|c| (c.end - c.start) as u64)
            .sum()
    };
    let total: u64 = shards.iter().map(bytes).sum();
    let mut owner_of = Vec::with_capacity(shards.len());
    let mut offset = 0u64;
    for shard in shards {
        let owner = if total == 0 {
            0
        } else {
            ((u128::from(offset) * peers as u128) / u128::from(total)) as usize
        };
        owner_of.push(owner.min(peers - 1));
        offset += bytes(shard);
    }
    let start = owner_of.partition_point(|&o| o < index);
    let end = owner_of.partition_point(|&o| o <= index);
    start..end
}

/// The line number this worker's first chunk starts at: one plus the newlines
/// that earlier workers' shares hold in the same file.
pub fn first_line<E: Exchange>(
    ex: &mut E,
    corpus: &Corpus,
    chunks: &[Chunk],
    mine: &[Range<usize>],
) -> u64 {
    if ex.peers() == 1 {
        return 1;
    }
    let my_chunks: Vec<Chunk> = mine
        .iter()
        .flat_map(|range| chunks[range.clone()].iter().copied())
        .collect();
    // Newlines per file in this share: (file, newlines), files ascending.
    let mut per_file: Vec<(u64, u64)> = Vec::new();
    for chunk in &my_chunks {
        let newlines = corpus.newlines_in(chunk);
        match per_file.last_mut() {
            Some((file, n)) if *file == u64::from(chunk.file) => *n += newlines,
            _ => per_file.push((u64::from(chunk.file), newlines)),
        }
    }
    let all = ex.all_gather(per_file);
    match my_chunks.first() {
        Some(first) if first.start > 0 => {
            1 + all[..ex.index()]
                .iter()
                .flatten()
                .filter(|&&(file, _)| file == u64::from(first.file))
                .map(|&(_, n)| n)
                .sum::<u64>()
        }
        _ => 1,
    }
}

/// Where a unit is and how it is named: what a worker needs of a unit it does
/// not hold to verify a pair with it exactly and to write the pair out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UnitLoc {
    pub file: u32,
    pub record_start: u64,
    pub record_len: u64,
    pub line: u64,
    /// The record id, as JSON text.
    pub id: String,
    pub para: Option<u32>,
    pub start: u64,
    pub len: u64,
    pub features: u32,
    pub content: u64,
}

impl UnitLoc {
    /// The unit's record, enough to read its text (its id is not kept).
    pub fn record(&self) -> RecordMeta {
        RecordMeta {
            file: self.file,
            start: self.record_start as usize,
            len: self.record_len as usize,
            line: self.line,
            // Not written anywhere: this record only locates text.
            id: RecordId::Int(0),
        }
    }

    /// The unit within that record.
    pub fn unit(&self, record: u32) -> UnitMeta {
        UnitMeta {
            record,
            para: self.para,
            start: self.start as usize,
            len: self.len as usize,
            features: self.features,
            content: self.content,
        }
    }
}

impl WireSize for UnitLoc {
    fn wire_size(&self) -> usize {
        8 * 6 + 4 + 5 + 4 + 8 + self.id.len()
    }
}

/// A unit's name on its way to a worker that writes it: its run-wide number,
/// its id as JSON text and its paragraph.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedUnit {
    pub unit: u32,
    pub id: String,
    pub para: Option<u32>,
}

impl WireSize for NamedUnit {
    fn wire_size(&self) -> usize {
        4 + 8 + self.id.len() + 5
    }
}

impl WireSize for (u32, NamedUnit) {
    fn wire_size(&self) -> usize {
        4 + self.1.wire_size()
    }
}

impl NamedUnit {
    /// The name as the outputs use it.
    pub fn indexed(&self) -> crate::error::Result<IndexedUnit> {
        let id = serde_json::from_str(&self.id).map_err(|e| {
            crate::error::Error::Distributed(format!("a unit id did not survive the exchange: {e}"))
        })?;
        Ok(IndexedUnit {
            id,
            para: self.para,
        })
    }
}

/// This worker's units after sketching, and how units are numbered run-wide.
pub struct Share<'a> {
    /// This worker's records, units and sketches.
    pub sketched: Sketched,
    /// The index compared against, whose units are numbered first.
    pub index: Option<&'a SignatureIndex>,
    /// Units of the index (`0..prior`).
    pub prior: u32,
    /// The run-wide number of this worker's first unit.
    pub first_unit: u32,
    /// The first unit this worker holds: 0 on worker 0 (the indexed units are
    /// held there), `first_unit` elsewhere.
    pub held_from: u32,
    /// Which worker holds each unit.
    pub owners: Owners,
    /// Units of the run, the index's included.
    pub total_units: u32,
}

impl Share<'_> {
    /// Numbers units run-wide from every worker's unit count.
    pub fn number<'a, E: Exchange>(
        ex: &mut E,
        sketched: Sketched,
        index: Option<&'a SignatureIndex>,
    ) -> crate::error::Result<Share<'a>> {
        let prior = index.map_or(0, SignatureIndex::len) as u64;
        let counts = ex.all_gather(sketched.units.len() as u64);
        let total: u64 = prior + counts.iter().sum::<u64>();
        if total > u64::from(u32::MAX) {
            return Err(crate::error::Error::Config(
                "more than 2^32 units in one run".into(),
            ));
        }
        let mut bases = Vec::with_capacity(counts.len());
        let mut next = prior as u32;
        for c in &counts {
            bases.push(next);
            next += *c as u32;
        }
        let first_unit = bases[ex.index()];
        let mut holders = bases;
        holders[0] = 0;
        let held_from = holders[ex.index()];
        Ok(Share {
            sketched,
            index,
            prior: prior as u32,
            first_unit,
            held_from,
            owners: Owners::new(holders),
            total_units: total as u32,
        })
    }

    /// Units this worker holds (its own, and on worker 0 the indexed ones).
    pub fn held(&self) -> usize {
        (self.first_unit - self.held_from) as usize + self.sketched.units.len()
    }

    /// Whether `unit` is one of the index's.
    pub fn is_indexed(&self, unit: u32) -> bool {
        unit < self.prior
    }

    /// The position of this worker's own unit `unit` in its units.
    pub fn local(&self, unit: u32) -> usize {
        (unit - self.first_unit) as usize
    }

    /// Where this worker's own unit `unit` is.
    pub fn loc(&self, unit: u32) -> UnitLoc {
        let meta = &self.sketched.units[self.local(unit)];
        let record = &self.sketched.records[meta.record as usize];
        UnitLoc {
            file: record.file,
            record_start: record.start as u64,
            record_len: record.len as u64,
            line: record.line,
            id: record.id.to_string(),
            para: meta.para,
            start: meta.start as u64,
            len: meta.len as u64,
            features: meta.features,
            content: meta.content,
        }
    }

    /// The name of a unit this worker holds (its own or an indexed one).
    pub fn name(&self, unit: u32) -> IndexedUnit {
        match self.index {
            Some(index) if self.is_indexed(unit) => index.units[unit as usize].clone(),
            _ => {
                let meta = &self.sketched.units[self.local(unit)];
                IndexedUnit {
                    id: self.sketched.records[meta.record as usize].id.clone(),
                    para: meta.para,
                }
            }
        }
    }

    /// The name of a unit this worker holds, ready to send.
    pub fn named(&self, unit: u32) -> NamedUnit {
        let name = self.name(unit);
        NamedUnit {
            unit,
            id: name.id.to_string(),
            para: name.para,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chunk(file: u32, start: usize, end: usize) -> Chunk {
        Chunk {
            file,
            start,
            end,
            first_line: 0,
        }
    }

    #[test]
    fn owners_skip_workers_without_units() {
        // Worker 1 has no units: [0, 5) on 0, [5, 9) on 2, [9, ..) on 3.
        let owners = Owners::new(vec![0, 5, 5, 9]);
        let found: Vec<usize> = [0, 4, 5, 8, 9, 100].iter().map(|&u| owners.of(u)).collect();
        assert_eq!(found, vec![0, 0, 2, 2, 3, 3]);
    }

    proptest! {
        #[test]
        fn shares_are_contiguous_cover_every_shard_and_are_balanced(
            sizes in proptest::collection::vec(1usize..1000, 1..60),
            peers in 1usize..9,
        ) {
            let mut chunks = Vec::new();
            let mut at = 0;
            for size in &sizes {
                chunks.push(chunk(0, at, at + size));
                at += size;
            }
            let shards: Vec<Range<usize>> = (0..chunks.len()).map(|i| i..i + 1).collect();
            let shares: Vec<Range<usize>> =
                (0..peers).map(|w| shards_of(&chunks, &shards, w, peers)).collect();
            let mut next = 0;
            for range in &shares {
                prop_assert_eq!(range.start, next);
                next = range.end;
            }
            prop_assert_eq!(next, shards.len());
            // No share is more than one shard over its even part of the bytes.
            let largest = *sizes.iter().max().expect("shards") as u64;
            let total: u64 = sizes.iter().map(|&s| s as u64).sum();
            for range in &shares {
                let bytes: u64 = sizes[range.clone()].iter().map(|&s| s as u64).sum();
                prop_assert!(bytes <= total / peers as u64 + largest + 1);
            }
        }
    }
}
