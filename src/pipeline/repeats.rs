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

use std::sync::Mutex;

use xxhash_rust::xxh3::xxh3_64;

use super::scan::UnitSketch;
use super::shard::SketchWord;
use crate::exact::KeyMap;

/// The memo's size for a run with a memory budget of `budget` bytes: an
/// eighth of it (128 MiB at the default budget of 1 GiB), and at least 16 MiB.
pub fn memo_bytes(budget: u64) -> usize {
    usize::try_from(budget / 8)
        .unwrap_or(usize::MAX)
        .max(16 << 20)
}

/// Bytes an entry takes in the hash map besides its record in the arena: the
/// entry, its key and a control byte.
const ENTRY_BYTES: usize = std::mem::size_of::<Entry>() + 9;

/// Bytes of a record's head in the arena: the feature count (4), the content
/// key (8) and the number of words (4).
const HEAD_BYTES: usize = 16;

/// Texts longer than this are sketched every time.
pub const LONGEST_TEXT: usize = 64 << 10;

/// Where one remembered text's record starts in its part's arena, and the
/// text's length (a memo part holds far less than 4 GiB). The map holds
/// only this, so that it stays small.
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: u32,
    text_len: u32,
}

/// One part of the memo: texts and their sketches. Each text is one record
/// in `arena`, read with one trip to memory: its head ([`HEAD_BYTES`]), its
/// sketch words (encoded as in checkpoints, [`SketchWord::put`]), then its
/// bytes.
#[derive(Debug)]
struct Memo<W> {
    entries: KeyMap<Entry>,
    arena: Vec<u8>,
    /// Bytes held at most.
    limit: usize,
    /// Units given a remembered sketch.
    reused: u64,
    words: std::marker::PhantomData<W>,
}

impl<W> Memo<W> {
    /// An empty memo that holds at most `limit` bytes.
    fn with_limit(limit: usize) -> Self {
        Memo {
            entries: KeyMap::default(),
            arena: Vec::new(),
            limit,
            reused: 0,
            words: std::marker::PhantomData,
        }
    }
}

impl<W: SketchWord> Memo<W> {
    /// The remembered sketch of `text` (whose hash is `hash`), its words
    /// appended to `out`.
    fn find(&mut self, hash: u64, text: &str, out: &mut Vec<W>) -> Option<UnitSketch> {
        let entry = *self.entries.get(&hash)?;
        let record = &self.arena[entry.at as usize..];
        let (head, rest) = record.split_at(HEAD_BYTES);
        let words_len = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as usize;
        let (words, rest) = rest.split_at(words_len * W::BYTES);
        if &rest[..entry.text_len as usize] != text.as_bytes() {
            return None;
        }
        out.extend(words.chunks_exact(W::BYTES).map(W::get));
        self.reused += 1;
        Some(UnitSketch {
            features: u32::from_le_bytes(head[0..4].try_into().expect("4 bytes")),
            content: u64::from_le_bytes(head[4..12].try_into().expect("8 bytes")),
        })
    }

    /// Remembers that `text` (whose hash is `hash`) has `words` and `sketch`,
    /// first forgetting everything if the memo would hold more than `limit`
    /// bytes; an entry larger than `limit` is not remembered.
    fn remember(&mut self, hash: u64, text: &str, words: &[W], sketch: UnitSketch) {
        let record_bytes = HEAD_BYTES + words.len() * W::BYTES + text.len();
        if record_bytes + ENTRY_BYTES > self.limit {
            return;
        }
        if self.bytes() + record_bytes + ENTRY_BYTES > self.limit {
            self.forget();
        }
        let entry = Entry {
            at: self.arena.len() as u32,
            text_len: text.len() as u32,
        };
        self.arena.extend_from_slice(&sketch.features.to_le_bytes());
        self.arena.extend_from_slice(&sketch.content.to_le_bytes());
        self.arena
            .extend_from_slice(&(words.len() as u32).to_le_bytes());
        for &word in words {
            word.put(&mut self.arena);
        }
        self.arena.extend_from_slice(text.as_bytes());
        // A hash met before with other bytes now finds the newer text.
        self.entries.insert(hash, entry);
    }

    /// Bytes held, roughly (the map counted by its entries).
    fn bytes(&self) -> usize {
        self.arena.len() + self.entries.len() * ENTRY_BYTES
    }

    fn forget(&mut self) {
        self.entries.clear();
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
}

impl<W: SketchWord> Memos<W> {
    /// An empty memo that holds at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Memos {
            parts: (0..PARTS)
                .map(|_| Mutex::new(Memo::with_limit(limit / PARTS)))
                .collect(),
        }
    }

    /// Appends the sketch words of `text` to `out` and returns its
    /// [`UnitSketch`]: the remembered ones when the same bytes were sketched
    /// before, else those `sketch` appends and returns (then remembered). The
    /// part of the memo that `text` belongs to is locked while it is read and
    /// while it is written, not while `sketch` runs.
    pub fn sketch(
        &self,
        text: &str,
        out: &mut Vec<W>,
        sketch: impl FnOnce(&mut Vec<W>) -> UnitSketch,
    ) -> UnitSketch {
        if text.len() > LONGEST_TEXT {
            return sketch(out);
        }
        let hash = xxh3_64(text.as_bytes());
        let part = &self.parts[(hash >> 58) as usize % PARTS];
        // A worker that panicked while holding a part left it consistent
        // (every change is complete before the next), so the lock's poison is
        // ignored.
        let lock = || part.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = lock().find(hash, text, out) {
            return found;
        }
        let start = out.len();
        let made = sketch(out);
        lock().remember(hash, text, &out[start..], made);
        made
    }

    /// Units given a remembered sketch.
    pub fn reused(&self) -> u64 {
        self.parts
            .iter()
            .map(|part| part.lock().map_or(0, |memo| memo.reused))
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
            .map(|t| memo.sketch(t, &mut out, |o| sketch_of(t, o, &mut calls)))
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
            memo.sketch(t, &mut out, |o| sketch_of(t, o, &mut calls));
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

    proptest! {
        /// Whatever the texts and however they repeat, the memo gives every
        /// unit the words and sketch the sketch function gives it.
        #[test]
        fn remembered_sketches_equal_fresh_ones(
            picks in prop::collection::vec(0usize..12, 0..200),
            pool in prop::collection::vec("[ab ]{0,6}", 12),
        ) {
            let memo = Memos::new(LIMIT);
            let (mut out, mut plain, mut calls) = (Vec::new(), Vec::new(), 0);
            for &p in &picks {
                let text = &pool[p];
                let got = memo.sketch(text, &mut out, |o| sketch_of(text, o, &mut calls));
                let want = sketch_of(text, &mut plain, &mut 0);
                prop_assert_eq!(got, want);
            }
            prop_assert_eq!(out, plain);
            prop_assert_eq!(calls as u64 + memo.reused(), picks.len() as u64);
        }
    }
}
