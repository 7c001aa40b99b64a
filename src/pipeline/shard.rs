//! Shards: the input cut into runs of consecutive chunks, each sketched and saved
//! as one checkpoint (see [`crate::work`]).
//!
//! A shard's checkpoint body holds everything the later stages need from the
//! pass over its text: its records (where each is, its id), its units (where
//! each is, how many features it had), the records skipped as invalid, and its
//! sketch words (MinHash band keys or compact signatures, see
//! [`super::sketch::SignatureWords`]; SimHash fingerprints; exact-text keys).
//! The sketch words stay in the mapped checkpoint; records and units are
//! decoded into memory, as every later stage uses them.
//!
//! Copies of one text (equal shingle sequences, so equal content keys and equal
//! sketch words; common in real corpora: shared licences, templates, reposted
//! articles) share one row of words when that makes the shard smaller: the shard
//! then keeps each distinct row once and a 4-byte row number per unit
//! ([`WordsPlace`]).
//!
//! Body layout (little-endian; see [`crate::work::codec`]):
//!
//! ```text
//! records u64, units u64, words per unit u64, bytes per word u64
//! rows u64 (distinct rows of words kept; equal to units when none are shared)
//! next line u64 (the line number right after the shard, in its last file)
//! invalid count u64, examples u64, each example as a byte string
//! per record: file u32, start u64, len u64, line u64, id (JSON) as a byte string
//! per unit:   varints (LEB128): record (within the shard) minus the previous
//!             unit's record, paragraph + 1 (0: none), start, len, features;
//!             then content key u64
//! zero padding to a multiple of 8; when rows < units, each unit's row number
//!             (u32) and zero padding to a multiple of 8
//! the rows of sketch words (a row: one unit's words), row after row
//! ```

use std::ops::Range;

use super::scan::{InvalidRecords, Scanned, UnitMeta};
use crate::corpus::{Chunk, RecordMeta};
use crate::exact::KeyMap;
use crate::work::codec::{Decoder, Encoder, Truncated};

/// A fixed-size value stored per unit in a shard: `BYTES` little-endian bytes.
pub trait SketchWord: Copy + Eq + Send + Sync + 'static {
    /// Encoded size.
    const BYTES: usize;
    /// Appends the encoding.
    fn put(self, out: &mut Vec<u8>);
    /// Decodes `Self::BYTES` bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! sketch_word {
    ($t:ty) => {
        impl SketchWord for $t {
            const BYTES: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                <$t>::from_le_bytes(bytes.try_into().expect("word-sized slice"))
            }
        }
    };
}
sketch_word!(u16);
sketch_word!(u64);
sketch_word!(u128);

/// Cuts `chunks` (in input order) into shards of consecutive chunks holding at
/// least `shard_bytes` bytes each (the last may hold less); returns index ranges
/// into `chunks`.
pub fn plan(chunks: &[Chunk], shard_bytes: u64) -> Vec<Range<usize>> {
    let mut shards = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, chunk) in chunks.iter().enumerate() {
        bytes += (chunk.end - chunk.start) as u64;
        if bytes >= shard_bytes {
            shards.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < chunks.len() {
        shards.push(start..chunks.len());
    }
    shards
}

/// Encodes a scanned shard (with the line that follows it) as a checkpoint
/// body; also returns where its sketch words are in the body.
pub fn encode<W: SketchWord>(shard: &Scanned<W>, words_per_unit: usize) -> (Vec<u8>, WordsPlace) {
    let units = shard.units.len();
    let rows = RowSharing::of(&shard.sketches, words_per_unit, &shard.units);
    let mut e = Encoder::default();
    e.u64(shard.records.len() as u64);
    e.u64(units as u64);
    e.u64(words_per_unit as u64);
    e.u64(W::BYTES as u64);
    e.u64(rows.row_count(units) as u64);
    e.u64(shard.next_line);
    e.u64(shard.invalid.count);
    e.u64(shard.invalid.examples.len() as u64);
    for example in &shard.invalid.examples {
        e.bytes(example.as_bytes());
    }
    let mut id = Vec::new();
    for r in &shard.records {
        e.u32(r.file);
        e.u64(r.start as u64);
        e.u64(r.len as u64);
        e.u64(r.line);
        id.clear();
        serde_json::to_writer(&mut id, &r.id).expect("a JSON value serialises");
        e.bytes(&id);
    }
    let mut previous_record = 0u32;
    for u in &shard.units {
        // Units come in record order, so the step is small (wrapping keeps any
        // order decodable).
        e.varint(u64::from(u.record.wrapping_sub(previous_record)));
        previous_record = u.record;
        e.varint(u.para.map_or(0, |p| u64::from(p) + 1));
        e.varint(u.start as u64);
        e.varint(u.len as u64);
        e.varint(u64::from(u.features));
        e.u64(u.content);
    }
    e.align(8);
    let row_bytes = words_per_unit * W::BYTES;
    let row_numbers = match &rows {
        RowSharing::OnePerUnit => None,
        RowSharing::Shared { row_of_unit, .. } => {
            let start = e.bytes.len();
            for &row in row_of_unit {
                e.u32(row);
            }
            let end = e.bytes.len();
            e.align(8);
            Some(start..end)
        }
    };
    let start = e.bytes.len();
    match &rows {
        RowSharing::OnePerUnit => {
            e.bytes.reserve(shard.sketches.len() * W::BYTES);
            for &w in &shard.sketches {
                w.put(&mut e.bytes);
            }
        }
        RowSharing::Shared { first_units, .. } => {
            e.bytes.reserve(first_units.len() * row_bytes);
            for &unit in first_units {
                let at = unit as usize * words_per_unit;
                for &w in &shard.sketches[at..at + words_per_unit] {
                    w.put(&mut e.bytes);
                }
            }
        }
    }
    let end = e.bytes.len();
    let place = WordsPlace {
        units,
        row_bytes,
        rows: start..end,
        row_numbers,
    };
    (e.bytes, place)
}

/// Whether a shard's units share rows of sketch words.
enum RowSharing {
    /// Each unit keeps its own row (sharing would not make the shard smaller).
    OnePerUnit,
    /// Unit `u`'s words are row `row_of_unit[u]`; row `r` holds the words of
    /// unit `first_units[r]`.
    Shared {
        row_of_unit: Vec<u32>,
        first_units: Vec<u32>,
    },
}

impl RowSharing {
    /// Finds the units whose words (`words_per_unit` of `sketches` per unit of
    /// `units`) repeat an earlier unit's: those with the same content key (equal
    /// shingle sequences, see [`UnitMeta::content`]) and, checked, the same
    /// words. Shares their rows when the distinct rows and a row number per unit
    /// take fewer bytes than a row per unit.
    fn of<W: SketchWord>(sketches: &[W], words_per_unit: usize, units: &[UnitMeta]) -> Self {
        let row_bytes = words_per_unit * W::BYTES;
        // A row number must be smaller than the row it stands for.
        if row_bytes <= ROW_NUMBER_BYTES || units.len() > u32::MAX as usize {
            return RowSharing::OnePerUnit;
        }
        let words_of = |unit: usize| &sketches[unit * words_per_unit..(unit + 1) * words_per_unit];
        let mut first_of: KeyMap<u32> = KeyMap::default();
        let mut first_units: Vec<u32> = Vec::new();
        let mut row_of_unit: Vec<u32> = Vec::with_capacity(units.len());
        for (unit, meta) in units.iter().enumerate() {
            let earlier = match meta.content {
                0 => None,
                key => first_of.get(&key).copied(),
            };
            let row = match earlier {
                Some(row) if words_of(first_units[row as usize] as usize) == words_of(unit) => row,
                _ => {
                    let row = first_units.len() as u32;
                    first_units.push(unit as u32);
                    if meta.content != 0 {
                        first_of.entry(meta.content).or_insert(row);
                    }
                    row
                }
            };
            row_of_unit.push(row);
        }
        let shared = first_units.len() * row_bytes + units.len() * ROW_NUMBER_BYTES;
        if shared < units.len() * row_bytes {
            RowSharing::Shared {
                row_of_unit,
                first_units,
            }
        } else {
            RowSharing::OnePerUnit
        }
    }

    /// Number of rows stored for a shard of `units` units.
    fn row_count(&self, units: usize) -> usize {
        match self {
            RowSharing::OnePerUnit => units,
            RowSharing::Shared { first_units, .. } => first_units.len(),
        }
    }
}

/// Bytes of a stored row number.
const ROW_NUMBER_BYTES: usize = 4;

/// Where a shard's sketch words are in its checkpoint body: the rows of words,
/// and each unit's row number when units share rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordsPlace {
    /// Number of units in the shard.
    pub units: usize,
    /// Bytes of one unit's words.
    pub row_bytes: usize,
    /// The rows, back to back.
    pub rows: Range<usize>,
    /// Each unit's row number (`u32`, little-endian), when units share rows;
    /// `None` when row `u` is unit `u`'s.
    pub row_numbers: Option<Range<usize>>,
}

impl WordsPlace {
    /// The words of unit `unit` in `body`.
    #[inline]
    pub fn unit<'b>(&self, body: &'b [u8], unit: usize) -> &'b [u8] {
        let row = match &self.row_numbers {
            None => unit,
            Some(numbers) => {
                let at = numbers.start + unit * ROW_NUMBER_BYTES;
                u32::from_le_bytes(body[at..at + ROW_NUMBER_BYTES].try_into().expect("4 bytes"))
                    as usize
            }
        };
        let at = self.rows.start + row * self.row_bytes;
        &body[at..at + self.row_bytes]
    }

    /// The words of every unit in `body`, in unit order.
    pub fn units<'b>(&'b self, body: &'b [u8]) -> impl Iterator<Item = &'b [u8]> + 'b {
        (0..self.units).map(move |unit| self.unit(body, unit))
    }
}

/// A decoded shard body: records and units in memory, sketch words left in place.
#[derive(Debug)]
pub struct Decoded {
    /// The shard's records.
    pub records: Vec<RecordMeta>,
    /// The shard's units (record numbers within the shard).
    pub units: Vec<UnitMeta>,
    /// Records skipped as invalid.
    pub invalid: InvalidRecords,
    /// Where the sketch words are in the body.
    pub sketches: WordsPlace,
    /// The line number right after the shard, in its last file.
    pub next_line: u64,
}

/// Decodes a body written by [`encode`] for `words_per_unit` words of `W`.
pub fn decode<W: SketchWord>(body: &[u8], words_per_unit: usize) -> Result<Decoded, String> {
    let broken = |e: Truncated| e.to_string();
    let mut d = Decoder::new(body);
    let records = usize::try_from(d.u64().map_err(broken)?).map_err(|e| e.to_string())?;
    let units = usize::try_from(d.u64().map_err(broken)?).map_err(|e| e.to_string())?;
    let (words, word_bytes) = (d.u64().map_err(broken)?, d.u64().map_err(broken)?);
    if words != words_per_unit as u64 || word_bytes != W::BYTES as u64 {
        return Err(format!(
            "shard holds {words} words of {word_bytes} bytes per unit, expected {words_per_unit} of {}",
            W::BYTES
        ));
    }
    let rows = usize::try_from(d.u64().map_err(broken)?).map_err(|e| e.to_string())?;
    if rows > units {
        return Err(format!(
            "shard holds {rows} rows of words for {units} units"
        ));
    }
    let next_line = d.u64().map_err(broken)?;
    let mut invalid = InvalidRecords {
        count: d.u64().map_err(broken)?,
        examples: Vec::new(),
    };
    let examples = d.u64().map_err(broken)?;
    for _ in 0..examples {
        let text = d.bytes().map_err(broken)?;
        invalid
            .examples
            .push(String::from_utf8_lossy(text).into_owned());
    }
    // Every record and unit takes at least 36 and 13 bytes: a count larger than the
    // body allows is damage, not a reason to reserve memory.
    if records.saturating_mul(36) > body.len() || units.saturating_mul(13) > body.len() {
        return Err("shard counts exceed its size".into());
    }
    let mut record_metas = Vec::with_capacity(records);
    for _ in 0..records {
        let file = d.u32().map_err(broken)?;
        let start = d.u64().map_err(broken)? as usize;
        let len = d.u64().map_err(broken)? as usize;
        let line = d.u64().map_err(broken)?;
        let id = serde_json::from_slice(d.bytes().map_err(broken)?)
            .map_err(|e| format!("shard record id: {e}"))?;
        record_metas.push(RecordMeta {
            file,
            start,
            len,
            line,
            id,
        });
    }
    let mut unit_metas = Vec::with_capacity(units);
    let mut previous_record = 0u32;
    let too_large = |what: &str| format!("shard unit {what} out of range");
    for _ in 0..units {
        let step = u32::try_from(d.varint().map_err(broken)?).map_err(|_| too_large("record"))?;
        let record = previous_record.wrapping_add(step);
        previous_record = record;
        let para = match d.varint().map_err(broken)? {
            0 => None,
            p => Some(u32::try_from(p - 1).map_err(|_| too_large("paragraph"))?),
        };
        let start = usize::try_from(d.varint().map_err(broken)?).map_err(|_| too_large("start"))?;
        let len = usize::try_from(d.varint().map_err(broken)?).map_err(|_| too_large("length"))?;
        let features =
            u32::try_from(d.varint().map_err(broken)?).map_err(|_| too_large("features"))?;
        let content = d.u64().map_err(broken)?;
        if record as usize >= records {
            return Err("shard unit names a record it does not hold".into());
        }
        unit_metas.push(UnitMeta {
            record,
            para,
            start,
            len,
            features,
            content,
        });
    }
    d.align(8).map_err(broken)?;
    let row_numbers = if rows < units {
        let start = d.position();
        let numbers = d.take(units * ROW_NUMBER_BYTES).map_err(broken)?;
        let in_range = numbers
            .chunks_exact(ROW_NUMBER_BYTES)
            .all(|n| (u32::from_le_bytes(n.try_into().expect("4 bytes")) as usize) < rows);
        if !in_range {
            return Err("shard unit names a row of words it does not hold".into());
        }
        let end = d.position();
        d.align(8).map_err(broken)?;
        Some(start..end)
    } else {
        None
    };
    let row_bytes = words_per_unit * W::BYTES;
    let start = d.position();
    d.take(
        rows.checked_mul(row_bytes)
            .ok_or(Truncated)
            .map_err(broken)?,
    )
    .map_err(broken)?;
    if d.position() != body.len() {
        return Err("shard has trailing bytes".into());
    }
    Ok(Decoded {
        records: record_metas,
        units: unit_metas,
        invalid,
        sketches: WordsPlace {
            units,
            row_bytes,
            rows: start..d.position(),
            row_numbers,
        },
        next_line,
    })
}

/// The sketch words stored in `bytes`.
pub fn words<W: SketchWord>(bytes: &[u8]) -> impl Iterator<Item = W> + '_ {
    bytes.chunks_exact(W::BYTES).map(W::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chunk(start: usize, end: usize) -> Chunk {
        Chunk {
            file: 0,
            start,
            end,
            first_line: 1,
        }
    }

    #[test]
    fn plan_covers_every_chunk_once_in_order() {
        let chunks: Vec<Chunk> = (0..10).map(|i| chunk(i * 10, i * 10 + 10)).collect();
        assert_eq!(plan(&chunks, 25), vec![0..3, 3..6, 6..9, 9..10]);
        assert_eq!(plan(&chunks, 1000), vec![0..10]);
        assert_eq!(
            plan(&chunks, 1),
            (0..10).map(|i| i..i + 1).collect::<Vec<_>>()
        );
        assert!(plan(&[], 10).is_empty());
    }

    fn sample() -> Scanned<u16> {
        Scanned {
            records: vec![
                RecordMeta {
                    file: 1,
                    start: 5,
                    len: 40,
                    line: 3,
                    id: crate::corpus::RecordId::from("doc-é"),
                },
                RecordMeta {
                    file: 1,
                    start: 46,
                    len: 9,
                    line: 4,
                    id: crate::corpus::RecordId::Int(17),
                },
            ],
            units: vec![
                UnitMeta {
                    record: 0,
                    para: Some(2),
                    start: 4,
                    len: 30,
                    features: 12,
                    content: 0x1234_5678_9abc_def0,
                },
                UnitMeta {
                    record: 1,
                    para: None,
                    start: 0,
                    len: 9,
                    features: 0,
                    content: 0,
                },
                // Out of record order, and values that take many varint bytes.
                UnitMeta {
                    record: 0,
                    para: Some(0),
                    start: 1 << 40,
                    len: usize::MAX >> 1,
                    features: u32::MAX,
                    content: u64::MAX,
                },
            ],
            sketches: vec![1, 2, 3, 65535, 0, 7, 9, 9, 9],
            invalid: InvalidRecords {
                count: 3,
                examples: vec!["bad.jsonl:2: invalid JSON record".into()],
            },
            next_line: 77,
        }
    }

    #[test]
    fn shards_round_trip() {
        let shard = sample();
        let (body, sketches) = encode(&shard, 3);
        let decoded = decode::<u16>(&body, 3).expect("decode");
        assert_eq!(decoded.next_line, 77);
        assert_eq!(decoded.units, shard.units);
        assert_eq!(decoded.invalid.count, 3);
        assert_eq!(decoded.invalid.examples, shard.invalid.examples);
        assert_eq!(decoded.records.len(), 2);
        for (a, b) in decoded.records.iter().zip(&shard.records) {
            assert_eq!(
                (a.file, a.start, a.len, a.line),
                (b.file, b.start, b.len, b.line)
            );
            assert_eq!(a.id, b.id);
        }
        assert_eq!(decoded.sketches.rows.start % 8, 0);
        assert_eq!(sketches, decoded.sketches);
        // Three distinct rows of 6 bytes: row numbers would not pay.
        assert_eq!(decoded.sketches.row_numbers, None);
        let stored: Vec<u16> = decoded.sketches.units(&body).flat_map(words).collect();
        assert_eq!(stored, shard.sketches);
    }

    /// `shard` with its units' words replaced by rows drawn from `pattern`
    /// (unit `u` gets row `pattern[u]`, a row of `width` words, and content key
    /// `pattern[u] + 1`).
    fn with_rows(shard: &Scanned<u64>, pattern: &[u8], width: usize) -> Scanned<u64> {
        let unit = &shard.units[0];
        Scanned {
            records: shard.records.clone(),
            units: pattern
                .iter()
                .map(|&row| UnitMeta {
                    content: u64::from(row) + 1,
                    ..unit.clone()
                })
                .collect(),
            sketches: pattern
                .iter()
                .flat_map(|&row| (0..width as u64).map(move |w| u64::from(row) << 8 | w))
                .collect(),
            invalid: InvalidRecords::default(),
            next_line: shard.next_line,
        }
    }

    fn sample_u64() -> Scanned<u64> {
        let s = sample();
        Scanned {
            records: s.records,
            units: s.units,
            sketches: s.sketches.iter().map(|&w| u64::from(w)).collect(),
            invalid: s.invalid,
            next_line: s.next_line,
        }
    }

    proptest! {
        /// Every unit reads back its own words, whether rows are shared or
        /// not, and rows are shared exactly when that makes the body smaller.
        #[test]
        fn shared_rows_read_back_as_each_units_words(
            pattern in proptest::collection::vec(0u8..6, 0..60),
            width in 0usize..4,
        ) {
            let shard = with_rows(&sample_u64(), &pattern, width);
            let (body, place) = encode(&shard, width);
            let decoded = decode::<u64>(&body, width).expect("decode");
            prop_assert_eq!(&decoded.sketches, &place);
            prop_assert_eq!(decoded.units.len(), pattern.len());
            for (unit, words) in decoded.sketches.units(&body).enumerate() {
                let expected = &shard.sketches[unit * width..(unit + 1) * width];
                prop_assert_eq!(super::words::<u64>(words).collect::<Vec<_>>(), expected);
            }
            let distinct = pattern.iter().collect::<std::collections::HashSet<_>>().len();
            let row_bytes = width * 8;
            let pays = distinct * row_bytes + pattern.len() * 4 < pattern.len() * row_bytes;
            prop_assert_eq!(place.row_numbers.is_some(), pays);
            let kept_rows = if pays { distinct } else { pattern.len() };
            prop_assert_eq!(place.rows.len(), kept_rows * row_bytes);
        }
    }

    #[test]
    fn copies_share_one_row_and_a_bad_row_number_is_refused() {
        let shard = with_rows(&sample_u64(), &[0, 1, 0, 0, 1, 0], 7);
        let (body, place) = encode(&shard, 7);
        assert_eq!(place.rows.len(), 2 * 7 * 8);
        let numbers = place.row_numbers.clone().expect("rows shared");
        assert_eq!(numbers.len(), 6 * 4);
        assert_eq!(place.unit(&body, 3), place.unit(&body, 0));
        assert_ne!(place.unit(&body, 4), place.unit(&body, 0));
        let mut damaged = body.clone();
        damaged[numbers.start..numbers.start + 4].copy_from_slice(&2u32.to_le_bytes());
        let refused = decode::<u64>(&damaged, 7).expect_err("row 2 of 2");
        assert!(refused.contains("row"), "{refused}");

        // Rows are shared only between units with the same content key and the
        // same words: a unit without a key (0), or whose key repeats with
        // other words, keeps a row of its own.
        let mut odd = shard;
        odd.units[2].content = 0;
        odd.sketches[4 * 7] ^= 1;
        let (body, place) = encode(&odd, 7);
        assert_eq!(place.rows.len(), 4 * 7 * 8);
        for unit in 0..6 {
            let words: Vec<u64> = words(place.unit(&body, unit)).collect();
            assert_eq!(words, odd.sketches[unit * 7..(unit + 1) * 7]);
        }
    }

    #[test]
    fn wrong_shape_or_short_bodies_are_refused() {
        let (body, _) = encode(&sample(), 3);
        assert!(decode::<u16>(&body, 4).is_err());
        assert!(decode::<u64>(&body, 3).is_err());
        for cut in [0, 10, body.len() / 2, body.len() - 1] {
            assert!(decode::<u16>(&body[..cut], 3).is_err(), "cut at {cut}");
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(decode::<u16>(&longer, 3).is_err());
    }
}
