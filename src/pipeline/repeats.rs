//! Units whose text repeats byte for byte are sketched once.
//!
//! Large corpora repeat themselves: mirrored pages, quoted paragraphs, licence
//! lines and templates. A unit's sketch (its words and its [`UnitSketch`]) is a
//! function of its text alone, so a text seen before is given the sketch it got
//! then, without normalising, shingling or hashing it again. On the real-text
//! speed corpus four paragraphs in five are such repeats.
//!
//! The workers of a pass share one memo of recent texts, cut into parts that
//! are locked one at a time: a hash of the text finds a candidate, and the
//! stored bytes are compared before its sketch is reused, so a hash collision
//! costs a sketch, never a wrong one. The memo is bounded (by [`memo_bytes`] of
//! the run's memory budget; each part is emptied when it fills up), and texts
//! longer than [`LONGEST_TEXT`] are not remembered: a few of them would fill a
//! part. The run's sketches, and so its results, are the same with or without
//! the memo.
//!
//! A memo far larger than the CPU's cache costs a trip to memory for each
//! lookup. Each part's table keeps a text's hash and where its record is in
//! one slot, so a lookup makes one trip for the table and one for the record;
//! and a worker is told of each text a unit ahead ([`Memos::ahead`]), hashes
//! it then and asks the CPU to fetch its part's lock and table slot while the
//! unit before is sketched.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use xxhash_rust::xxh3::xxh3_64;

use super::scan::UnitSketch;
use super::shard::SketchWord;
use crate::simd::prefetch::{prefetch, Soon};

/// The memo's size for a run with a memory budget of `budget` bytes: an
/// eighth of it (128 MiB at the default budget of 1 GiB), and at least 16 MiB.
pub fn memo_bytes(budget: u64) -> usize {
    usize::try_from(budget / 8)
        .unwrap_or(usize::MAX)
        .max(16 << 20)
}

/// Bytes of a record's head in the arena: the feature count (4), the content
/// key (8) and the number of words (4).
const HEAD_BYTES: usize = 16;

/// Texts longer than this are sketched every time.
pub const LONGEST_TEXT: usize = 64 << 10;

/// One slot of a part's table: a remembered text's hash, where its record
/// starts in the part's arena and the text's length (a part holds far less
/// than 4 GiB). A hash of 0 marks an empty slot; a text whose hash is 0 is
/// filed under 1. Hash, place and length share one cache line, so finding a
/// text costs one trip to memory for the table and one for its record (16
/// bytes aligned to 16 never straddle two cache lines).
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(16))]
struct Slot {
    hash: u64,
    at: u32,
    text_len: u32,
}

/// The share of a part's bytes its table may grow to: a quarter.
const TABLE_SHARE: usize = 4;

/// Slots a part's table starts with.
const FIRST_SLOTS: usize = 256;

/// One part of the memo: texts and their sketches. Each text is one record
/// in `arena`, read with one trip to memory: its head ([`HEAD_BYTES`]), its
/// sketch words (encoded as in checkpoints, [`SketchWord::put`]), then its
/// bytes. `slots` is an open-addressing table (linear probing, at most half
/// full) whose length is a power of two; it doubles as it fills, up to
/// `most_slots`.
#[derive(Debug)]
struct Memo<W> {
    slots: Box<[Slot]>,
    /// Slots in use.
    filled: usize,
    most_slots: usize,
    arena: Vec<u8>,
    /// Bytes the arena holds at most.
    arena_limit: usize,
    /// Units given a remembered sketch.
    reused: u64,
    words: std::marker::PhantomData<W>,
}

impl<W> Memo<W> {
    /// An empty memo that holds at most about `limit` bytes.
    fn with_limit(limit: usize) -> Self {
        let wanted = (limit / TABLE_SHARE / std::mem::size_of::<Slot>()).max(FIRST_SLOTS);
        let most_slots = 1usize << (usize::BITS - 1 - wanted.leading_zeros());
        Memo {
            slots: vec![Slot::default(); FIRST_SLOTS].into_boxed_slice(),
            filled: 0,
            most_slots,
            arena: Vec::new(),
            arena_limit: limit.saturating_sub(most_slots * std::mem::size_of::<Slot>()),
            reused: 0,
            words: std::marker::PhantomData,
        }
    }

    /// The slot where `hash` starts its search in a table of `slots` slots.
    fn home(hash: u64, slots: usize) -> usize {
        hash as usize & (slots - 1)
    }

    /// The slot of `slots` that holds `hash`, or else the empty slot where it
    /// would go.
    fn slot_in(slots: &[Slot], hash: u64) -> usize {
        let mut i = Self::home(hash, slots.len());
        // At most half the slots are filled, so an empty one ends the search.
        while slots[i].hash != hash && slots[i].hash != 0 {
            i = (i + 1) & (slots.len() - 1);
        }
        i
    }

    /// Doubles the table, keeping every slot in use.
    fn grow(&mut self) {
        let mut grown = vec![Slot::default(); 2 * self.slots.len()].into_boxed_slice();
        for slot in self.slots.iter().filter(|slot| slot.hash != 0) {
            let i = Self::slot_in(&grown, slot.hash);
            grown[i] = *slot;
        }
        self.slots = grown;
    }

    /// Where the table is in memory, and its length.
    fn table(&self) -> (usize, usize) {
        (self.slots.as_ptr() as usize, self.slots.len())
    }
}

/// The key a text is filed under: its hash, never 0 (the empty slot's mark).
fn key_of(hash: u64) -> u64 {
    hash.max(1)
}

impl<W: SketchWord> Memo<W> {
    /// The remembered sketch of `text` (whose key is `key`), its words
    /// appended to `out`.
    fn find(&mut self, key: u64, text: &str, out: &mut Vec<W>) -> Option<UnitSketch> {
        let slot = self.slots[Self::slot_in(&self.slots, key)];
        if slot.hash != key {
            return None;
        }
        let record = &self.arena[slot.at as usize..];
        let (head, rest) = record.split_at(HEAD_BYTES);
        let words_len = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as usize;
        let (words, rest) = rest.split_at(words_len * W::BYTES);
        if &rest[..slot.text_len as usize] != text.as_bytes() {
            return None;
        }
        out.extend(words.chunks_exact(W::BYTES).map(W::get));
        self.reused += 1;
        Some(UnitSketch {
            features: u32::from_le_bytes(head[0..4].try_into().expect("4 bytes")),
            content: u64::from_le_bytes(head[4..12].try_into().expect("8 bytes")),
        })
    }

    /// Remembers that `text` (whose key is `key`) has `words` and `sketch`.
    /// When the arena would hold more than its limit, or the table would be
    /// more than half full and may not grow, everything is forgotten first; a
    /// record larger than the arena's limit is not remembered.
    fn remember(&mut self, key: u64, text: &str, words: &[W], sketch: UnitSketch) {
        let record_bytes = HEAD_BYTES + words.len() * W::BYTES + text.len();
        if record_bytes > self.arena_limit {
            return;
        }
        let table_full = 2 * (self.filled + 1) > self.slots.len();
        if table_full && self.slots.len() < self.most_slots {
            self.grow();
        } else if table_full || self.arena.len() + record_bytes > self.arena_limit {
            self.forget();
        }
        let at = self.arena.len() as u32;
        self.arena.extend_from_slice(&sketch.features.to_le_bytes());
        self.arena.extend_from_slice(&sketch.content.to_le_bytes());
        self.arena
            .extend_from_slice(&(words.len() as u32).to_le_bytes());
        for &word in words {
            word.put(&mut self.arena);
        }
        self.arena.extend_from_slice(text.as_bytes());
        // A key met before with other bytes now finds the newer text.
        let i = Self::slot_in(&self.slots, key);
        if self.slots[i].hash == 0 {
            self.filled += 1;
        }
        self.slots[i] = Slot {
            hash: key,
            at,
            text_len: text.len() as u32,
        };
    }

    /// Bytes held, roughly: the arena's and the table's.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.arena.len() + std::mem::size_of_val(&*self.slots)
    }

    /// Forgets every text; the table keeps its size.
    fn forget(&mut self) {
        self.slots.fill(Slot::default());
        self.filled = 0;
        self.arena.clear();
    }
}

/// Memo parts, chosen by a text's hash, each behind its own lock: workers
/// share what any of them sketched, and rarely wait for each other.
const PARTS: usize = 64;

/// The memo all workers of one pass share (see the module documentation).
#[derive(Debug)]
pub struct Memos<W> {
    parts: Vec<Mutex<Memo<W>>>,
    /// Where each part's table is in memory and its length, kept up to date
    /// as tables grow, so that a lookup's slot can be prefetched without
    /// taking the part's lock. A prefetch is only a hint: reading the two
    /// while a table grows costs a useless hint, nothing more.
    tables: Vec<(AtomicUsize, AtomicUsize)>,
}

/// A worker's notes of the last two texts it was told it will sketch, and
/// their hashes, made by [`Memos::ahead`] and used by [`Memos::sketch`], so
/// that each text is hashed once. A text is known by its address and length:
/// the latest note is checked first, and a note mistaken for another text
/// would only file it under a wrong hash (the memo compares the bytes before
/// it reuses a sketch), never give it a wrong sketch.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ahead {
    /// The latest note first: the text's address and length, and its hash.
    notes: [((usize, usize), u64); 2],
}

impl Ahead {
    fn note(&mut self, text: &str, hash: u64) {
        self.notes = [((text.as_ptr() as usize, text.len()), hash), self.notes[0]];
    }

    /// The hash of `text`: a noted one if it is this text's.
    fn hash(&self, text: &str) -> u64 {
        let place = (text.as_ptr() as usize, text.len());
        match self.notes.iter().find(|(noted, _)| *noted == place) {
            Some(&(_, hash)) => hash,
            None => xxh3_64(text.as_bytes()),
        }
    }
}

impl<W: SketchWord> Memos<W> {
    /// An empty memo that holds at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        let parts: Vec<Mutex<Memo<W>>> = (0..PARTS)
            .map(|_| Mutex::new(Memo::with_limit(limit / PARTS)))
            .collect();
        let tables = parts
            .iter()
            .map(|part| {
                let (at, len) = Self::locked(part).table();
                (AtomicUsize::new(at), AtomicUsize::new(len))
            })
            .collect();
        Memos { parts, tables }
    }

    /// `part`, locked. A worker that panicked while holding a part left it
    /// consistent (every change is complete before the next), so the lock's
    /// poison is ignored.
    fn locked(part: &Mutex<Memo<W>>) -> std::sync::MutexGuard<'_, Memo<W>> {
        part.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The part a text of hash `hash` belongs to.
    fn part_of(hash: u64) -> usize {
        (hash >> 58) as usize % PARTS
    }

    /// Notes in `ahead` that `text` is a text this worker will sketch soon
    /// (after the one noted before it, if that is not sketched yet), and asks
    /// the CPU to fetch the lock and table slot that its lookup will need, so
    /// that they arrive while the current text is sketched.
    pub fn ahead(&self, ahead: &mut Ahead, text: &str) {
        if text.len() > LONGEST_TEXT {
            return;
        }
        let hash = xxh3_64(text.as_bytes());
        ahead.note(text, hash);
        let part = Self::part_of(hash);
        prefetch(&self.parts[part], Soon::Written);
        let (at, len) = &self.tables[part];
        let (at, len) = (at.load(Ordering::Relaxed), len.load(Ordering::Relaxed));
        let slot = Memo::<W>::home(key_of(hash), len);
        prefetch((at as *const Slot).wrapping_add(slot), Soon::Read);
    }

    /// Appends the sketch words of `text` to `out` and returns its
    /// [`UnitSketch`]: the remembered ones when the same bytes were sketched
    /// before, else those `sketch` appends and returns (then remembered). The
    /// part of the memo that `text` belongs to is locked while it is read and
    /// while it is written, not while `sketch` runs. `ahead` may hold the
    /// text's hash (see [`Memos::ahead`]).
    pub fn sketch(
        &self,
        ahead: &Ahead,
        text: &str,
        out: &mut Vec<W>,
        sketch: impl FnOnce(&mut Vec<W>) -> UnitSketch,
    ) -> UnitSketch {
        if text.len() > LONGEST_TEXT {
            return sketch(out);
        }
        let hash = ahead.hash(text);
        let (at, key) = (Self::part_of(hash), key_of(hash));
        let part = &self.parts[at];
        if let Some(found) = Self::locked(part).find(key, text, out) {
            return found;
        }
        let start = out.len();
        let made = sketch(out);
        let mut memo = Self::locked(part);
        let before = memo.table();
        memo.remember(key, text, &out[start..], made);
        let after = memo.table();
        if after != before {
            self.tables[at].0.store(after.0, Ordering::Relaxed);
            self.tables[at].1.store(after.1, Ordering::Relaxed);
        }
        made
    }

    /// Units given a remembered sketch.
    pub fn reused(&self) -> u64 {
        self.parts
            .iter()
            .map(|part| Self::locked(part).reused)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A memo of 16 KiB per part.
    const LIMIT: usize = PARTS << 14;

    /// A sketch that depends on the text alone, and counts its calls.
    fn sketch_of(text: &str, out: &mut Vec<u64>, calls: &mut usize) -> UnitSketch {
        *calls += 1;
        out.extend(text.bytes().map(u64::from).take(3));
        out.push(text.len() as u64);
        UnitSketch {
            features: text.len() as u32,
            content: xxh3_64(text.as_bytes()).max(1),
        }
    }

    #[test]
    fn a_repeated_text_is_sketched_once() {
        let memo = Memos::new(LIMIT);
        let (mut out, mut calls) = (Vec::new(), 0);
        let texts = ["one two", "three", "one two", "one two", "three", "four"];
        let sketches: Vec<UnitSketch> = texts
            .iter()
            .map(|t| {
                memo.sketch(&Ahead::default(), t, &mut out, |o| {
                    sketch_of(t, o, &mut calls)
                })
            })
            .collect();
        assert_eq!(calls, 3);
        assert_eq!(memo.reused(), 3);
        assert_eq!(sketches[0], sketches[2]);
        let (mut plain, mut ignored) = (Vec::new(), 0);
        for t in texts {
            sketch_of(t, &mut plain, &mut ignored);
        }
        assert_eq!(out, plain);
    }

    #[test]
    fn a_full_memo_starts_again() {
        let memo = Memos::new(LIMIT);
        let (mut out, mut calls) = (Vec::new(), 0);
        // Four times what the memo holds, in texts of 1 KiB.
        let texts: Vec<String> = (0..4 * LIMIT / 1024)
            .map(|i| format!("{i:>1024}"))
            .collect();
        for t in texts.iter().chain(&texts[..1]) {
            memo.sketch(&Ahead::default(), t, &mut out, |o| {
                sketch_of(t, o, &mut calls)
            });
        }
        let held: usize = memo
            .parts
            .iter()
            .map(|part| part.lock().expect("unlocked").bytes())
            .sum();
        assert!(held <= LIMIT, "{held} bytes held");
        assert_eq!(memo.reused(), 0, "the first text was forgotten");
        assert_eq!(calls, texts.len() + 1);
    }

    #[test]
    fn tables_grow_to_their_limit_and_keep_what_they_hold() {
        let (mut out, mut calls) = (Vec::new(), 0);
        let texts: Vec<String> = (0..40_000).map(|i| format!("t{i}")).collect();
        // 1 MiB a part: room for every text, in tables that must grow.
        let roomy = Memos::new(PARTS << 20);
        for t in texts.iter().chain(&texts) {
            roomy.sketch(&Ahead::default(), t, &mut out, |o| {
                sketch_of(t, o, &mut calls)
            });
        }
        assert_eq!(calls, texts.len(), "every text sketched once");
        assert_eq!(roomy.reused(), texts.len() as u64);
        for (part, (at, len)) in roomy.parts.iter().zip(&roomy.tables) {
            let memo = part.lock().expect("unlocked");
            assert!(memo.slots.len() > FIRST_SLOTS, "the table grew");
            assert!(2 * memo.filled <= memo.slots.len());
            let published = (at.load(Ordering::Relaxed), len.load(Ordering::Relaxed));
            assert_eq!(published, memo.table(), "prefetches find the grown table");
        }
        // 16 KiB a part: tables stop at their limit and start again.
        let small = Memos::new(LIMIT);
        for t in &texts {
            small.sketch(&Ahead::default(), t, &mut out, |o| sketch_of(t, o, &mut 0));
        }
        for part in &small.parts {
            let memo = part.lock().expect("unlocked");
            assert_eq!(memo.slots.len(), memo.most_slots);
            assert!(2 * memo.filled <= memo.slots.len());
            assert!(memo.bytes() <= LIMIT / PARTS);
        }
    }

    proptest! {
        /// Whatever the texts and however they repeat, the memo gives every
        /// unit the words and sketch the sketch function gives it.
        #[test]
        fn remembered_sketches_equal_fresh_ones(
            picks in prop::collection::vec((0usize..12, prop::option::of(0usize..12)), 0..200),
            pool in prop::collection::vec("[ab ]{0,6}", 12),
        ) {
            let memo = Memos::new(LIMIT);
            let (mut out, mut plain, mut calls) = (Vec::new(), Vec::new(), 0);
            let mut ahead = Ahead::default();
            for &(p, next) in &picks {
                let text = &pool[p];
                let got = memo.sketch(&ahead, text, &mut out, |o| sketch_of(text, o, &mut calls));
                // The note made ahead may be of this text, of another or of
                // none, as when a record ends.
                if let Some(next) = next {
                    memo.ahead(&mut ahead, &pool[next]);
                }
                let want = sketch_of(text, &mut plain, &mut 0);
                prop_assert_eq!(got, want);
            }
            prop_assert_eq!(out, plain);
            prop_assert_eq!(calls as u64 + memo.reused(), picks.len() as u64);
        }
    }
}
