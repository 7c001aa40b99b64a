//! Checkpoint files and bodies from arbitrary bytes.
//!
//! The input is tried three ways: as a whole checkpoint file (header checks);
//! wrapped in a correct header of its own, so that the header checks pass and the
//! body reaches its decoder the way a resumed run reads it; and as the body of
//! every kind of checkpoint (a shard with each sketch word size, candidate pairs,
//! verified edges). A body that does not decode must be an error, never a panic
//! or an allocation beyond its size; one that does must encode back to the same
//! values (pairs and edges: to the same bytes).

#![no_main]

use libfuzzer_sys::fuzz_target;
use neardedup::pipeline::resume::{Edges, Pairs, Stored};
use neardedup::pipeline::scan::Scanned;
use neardedup::pipeline::shard::{self, Decoded, SketchWord};
use neardedup::work::{self, Kind};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    let kind = [Kind::Shard, Kind::Candidates, Kind::Edges][usize::from(knobs % 3)];
    let fingerprint = u64::from(knobs).wrapping_mul(0x9E37_79B9_7F4A_7C15);

    // The raw bytes as a file: refused with a reason unless they hold a header
    // that matches them.
    let file_fingerprint = data
        .get(16..24)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    if let Ok(found) = work::body_of(data, kind, file_fingerprint) {
        assert_eq!(found, &data[work::HEADER_BYTES..]);
    }

    // The body under a correct header: accepted, and handed over whole.
    let mut file = work::header(kind, fingerprint, body).to_vec();
    file.extend_from_slice(body);
    let found = work::body_of(&file, kind, fingerprint).expect("a correct header");
    assert_eq!(found, body);
    let other = [Kind::Shard, Kind::Candidates, Kind::Edges][usize::from(knobs % 3 + 1) % 3];
    assert!(
        work::body_of(&file, other, fingerprint).is_err(),
        "kind is checked"
    );
    assert!(
        work::body_of(&file, kind, !fingerprint).is_err(),
        "run is checked"
    );
    if !body.is_empty() {
        assert!(work::body_of(&file[..file.len() - 1], kind, fingerprint).is_err());
    }

    let words_per_unit = 1 + usize::from(knobs >> 2);
    check_shard::<u16>(found, words_per_unit);
    check_shard::<u64>(found, 1);
    check_shard::<u128>(found, 1);
    if let Ok(pairs) = Pairs::decode(found) {
        assert_eq!(pairs.encode(), found);
    }
    if let Ok(edges) = Edges::decode(found) {
        assert_eq!(edges.encode(), found);
    }
});

fn check_shard<W: SketchWord + PartialEq + std::fmt::Debug>(body: &[u8], words_per_unit: usize) {
    let Ok(decoded) = shard::decode::<W>(body, words_per_unit) else {
        return;
    };
    let place = decoded.sketches.clone();
    let row_bytes = words_per_unit * W::BYTES;
    assert_eq!(place.rows.start % 8, 0);
    assert_eq!(place.rows.end, body.len());
    assert_eq!(place.units, decoded.units.len());
    match &place.row_numbers {
        None => assert_eq!(place.rows.len(), decoded.units.len() * row_bytes),
        Some(numbers) => assert_eq!(numbers.len(), decoded.units.len() * 4),
    }
    for unit in &decoded.units {
        assert!((unit.record as usize) < decoded.records.len());
    }
    let words: Vec<W> = place.units(body).flat_map(shard::words).collect();
    assert_eq!(words.len(), decoded.units.len() * words_per_unit);
    let scanned = Scanned {
        records: decoded.records.clone(),
        units: decoded.units.clone(),
        sketches: words.clone(),
        invalid: decoded.invalid.clone(),
        next_line: decoded.next_line,
    };
    let (again, at) = shard::encode(&scanned, words_per_unit);
    let redecoded = shard::decode::<W>(&again, words_per_unit).expect("an encoded shard decodes");
    assert_eq!(at, redecoded.sketches);
    let words_again: Vec<W> = at.units(&again).flat_map(shard::words).collect();
    assert_eq!(words_again, words);
    same_shard(&decoded, &redecoded);
}

fn same_shard(a: &Decoded, b: &Decoded) {
    assert_eq!(a.units, b.units);
    assert_eq!(a.next_line, b.next_line);
    assert_eq!(a.invalid.count, b.invalid.count);
    assert_eq!(a.invalid.examples, b.invalid.examples);
    assert_eq!(a.records.len(), b.records.len());
    for (x, y) in a.records.iter().zip(&b.records) {
        assert_eq!(
            (x.file, x.start, x.len, x.line),
            (y.file, y.start, y.len, y.line)
        );
        assert_eq!(
            x.id.json_text(),
            y.id.json_text(),
            "ids come back as written"
        );
    }
}
