//! The checks a run makes on its records once they are read, across workers:
//! that there is at least one record, and that no two records share an id.
//! With one worker this is [`Corpus::check_unique_ids`] on all the records.
//!
//! Each worker holds only its share of the records, so ids are compared where
//! their hashes are sent: every record's 64-bit id hash goes, with where the
//! record is (not the id itself), to the worker owning that hash; a worker that
//! receives equal hashes reads those records' ids again from the input, which
//! every process maps whole, and compares them. Every worker then learns the
//! count and the first repeated id in input order, and all fail alike.

use serde::{Deserialize, Serialize};

use super::sketch::Sketched;
use crate::corpus::{id, Corpus, RecordId, RecordMeta};
use crate::error::Result;
use crate::exchange::{Exchange, WireSize};

/// Records read and skipped by one worker, and its first skip message.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tally {
    records: u64,
    invalid: u64,
    example: Option<String>,
}

impl WireSize for Tally {
    fn wire_size(&self) -> usize {
        17 + self.example.as_ref().map_or(0, String::len)
    }
}

/// A record by its id's hash and where it is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct IdAt {
    hash: u64,
    file: u32,
    start: u64,
    len: u64,
    line: u64,
}

impl WireSize for IdAt {
    fn wire_size(&self) -> usize {
        36
    }
}

impl IdAt {
    fn of(record: &RecordMeta) -> IdAt {
        IdAt {
            hash: id::key_hash(&record.id),
            file: record.file,
            start: record.start as u64,
            len: record.len as u64,
            line: record.line,
        }
    }

    /// Input order.
    fn order(&self) -> (u32, u64) {
        (self.file, self.start)
    }

    /// The record, its id read again from the input.
    fn record(&self, corpus: &Corpus) -> Result<RecordMeta> {
        let mut record = RecordMeta {
            file: self.file,
            start: self.start as usize,
            len: self.len as usize,
            line: self.line,
            id: RecordId::Int(0),
        };
        record.id = corpus.read_id(&record)?;
        Ok(record)
    }
}

/// What one worker found among the hashes it owns.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Clashes {
    count: u64,
    /// The first repeated id in input order: `(earlier, later)`.
    first: Option<(IdAt, IdAt)>,
}

impl WireSize for Clashes {
    fn wire_size(&self) -> usize {
        9 + 72
    }
}

/// Fails every worker alike when the run has no record, or (unless allowed) two
/// records with the same id; returns how many records repeat an earlier id.
pub fn check_records<E: Exchange>(ex: &mut E, corpus: &Corpus, sketched: &Sketched) -> Result<u64> {
    let tally = ex.all_gather(Tally {
        records: sketched.records.len() as u64,
        invalid: sketched.invalid.count,
        example: sketched.invalid.examples.first().cloned(),
    });
    if tally.iter().all(|t| t.records == 0) {
        let invalid = tally.iter().map(|t| t.invalid).sum();
        let example = tally.iter().find_map(|t| t.example.as_deref());
        return Err(corpus.no_records_error(invalid, example));
    }
    if ex.peers() == 1 {
        return corpus.check_unique_ids(&sketched.records);
    }
    if corpus.options().id_field.is_none() {
        return Ok(0);
    }
    let hashes: Vec<IdAt> = sketched.records.iter().map(IdAt::of).collect();
    // The exchange takes the destination modulo the number of workers.
    let mut mine = ex.shuffle(hashes, |at: &IdAt| at.hash as usize);
    mine.sort_unstable_by_key(|at| (at.hash, at.order()));
    // Ids were read once already: reading them again fails only if the input
    // changed under the run, which every worker then learns.
    let found = ex.agree("sketch", clashes(corpus, &mine))?;
    let all = ex.all_gather(found);
    let count = all.iter().map(|c| c.count).sum();
    let first = all
        .iter()
        .filter_map(|c| c.first)
        .min_by_key(|(_, later)| later.order());
    match first {
        Some((earlier, later)) if !corpus.options().allow_duplicate_ids => {
            Err(corpus.duplicate_id_error(&earlier.record(corpus)?, &later.record(corpus)?))
        }
        _ => Ok(count),
    }
}

/// Repeated ids among `sorted` (by hash, then input order).
fn clashes(corpus: &Corpus, sorted: &[IdAt]) -> Result<Clashes> {
    let mut found = Clashes {
        count: 0,
        first: None,
    };
    for group in sorted.chunk_by(|a, b| a.hash == b.hash) {
        if group.len() < 2 {
            continue;
        }
        let records = group
            .iter()
            .map(|at| at.record(corpus))
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<&RecordId> = records.iter().map(|r| &r.id).collect();
        let within = id::duplicates(&ids);
        found.count += within.count;
        if let Some((earlier, later)) = within.first {
            if found
                .first
                .is_none_or(|(_, known)| group[later].order() < known.order())
            {
                found.first = Some((group[earlier], group[later]));
            }
        }
    }
    Ok(found)
}
