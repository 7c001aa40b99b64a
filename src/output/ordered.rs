//! An output's lines encoded in parallel and written in order.
//!
//! Writing a paragraph-level run's outputs is mostly encoding: each record
//! re-read and rebuilt without its removed paragraphs, each unit's line of
//! `clusters.jsonl` and `removed.jsonl` serialised. [`write_in_order`] cuts the
//! items of one output into batches that the pool's threads encode, a window of
//! batches at a time, while the thread that owns the output writes the window
//! before: the lines come out in item order, as a plain loop would write them.
//!
//! A run writes several outputs at once, each from a thread of its own. While
//! they are as many as the pool's threads, the cores are busy already and
//! handing batches to the pool only adds waiting: each window is then encoded on
//! the output's own thread. Once the other outputs are done, the last ones use
//! the pool.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::Result;

/// Lines encoded by one batch, each followed by a newline.
#[derive(Debug, Default)]
pub struct Lines {
    bytes: Vec<u8>,
    /// Where each line ends (its newline).
    ends: Vec<usize>,
}

impl Lines {
    /// The buffer the current line is appended to; [`Lines::end_line`] ends it.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Ends the line appended since the last end.
    pub fn end_line(&mut self) {
        self.ends.push(self.bytes.len());
        self.bytes.push(b'\n');
    }

    /// Forgets every line, keeping the memory up to twice a batch's bytes
    /// (a batch of one large item does not hold on to its memory).
    fn clear(&mut self) {
        self.bytes.clear();
        self.bytes.shrink_to(2 * BATCH_BYTES);
        self.ends.clear();
    }

    /// Every line, each followed by its newline, back to back.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The lines, without their newlines.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|end| end + 1));
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.bytes[start..end])
    }

    /// How many lines.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// No line at all.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Outputs being written by [`write_in_order`] in this process.
static WRITING: AtomicUsize = AtomicUsize::new(0);

/// Counts an output in [`WRITING`] while it lives.
struct Writing;

impl Writing {
    fn start() -> Writing {
        WRITING.fetch_add(1, Ordering::Relaxed);
        Writing
    }

    /// Whether the pool has a thread for more than this output: fewer outputs
    /// are being written than it has threads.
    fn pool_has_room() -> bool {
        WRITING.load(Ordering::Relaxed) < rayon::current_num_threads()
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Batches of a window: enough to keep every thread busy while the window
/// before is written.
const BATCHES_PER_THREAD: usize = 4;

/// Bytes of the items of one batch at most, by the sizes the caller gives
/// (unless one item is larger): what an output holds in memory is bounded by
/// this, times the batches of two windows, however long its items are.
const BATCH_BYTES: usize = 512 << 10;

/// `items` cut into runs of consecutive items, in order, each of at most
/// `most` items and at most `most_bytes` by `bytes(item)` (a run of one item
/// may hold more), each as long as these limits allow; with each run, its
/// bytes.
fn cut(
    items: Range<usize>,
    most: usize,
    most_bytes: usize,
    bytes: impl Fn(usize) -> usize,
) -> Vec<(Range<usize>, usize)> {
    let most = most.max(1);
    let mut runs = Vec::new();
    let (mut start, mut held) = (items.start, 0usize);
    for item in items.clone() {
        let size = bytes(item);
        if item > start && (item - start == most || held.saturating_add(size) > most_bytes) {
            runs.push((start..item, held));
            (start, held) = (item, 0);
        }
        held = held.saturating_add(size);
    }
    if start < items.end {
        runs.push((start..items.end, held));
    }
    runs
}

/// Encodes `items` in batches of at most `batch` items and about
/// [`BATCH_BYTES`] by `item_bytes(item)` (what an item's lines take, roughly;
/// `encode(range, lines)` appends the lines of the items in `range` and
/// returns what it counted) on the pool's threads while it has room for them
/// (see the module documentation), and passes each batch's lines to `write`
/// on this thread, in item order. Returns the counts of every batch, in
/// order. The first error (in item order) stops the work; the lines of the
/// batches before it have been written.
pub fn write_in_order<T: Send>(
    items: Range<usize>,
    batch: usize,
    item_bytes: impl Fn(usize) -> usize,
    encode: impl Fn(Range<usize>, &mut Lines) -> Result<T> + Sync,
    write: &mut dyn FnMut(&Lines) -> Result<()>,
) -> Result<Vec<T>> {
    let batches = cut(items, batch, BATCH_BYTES, item_bytes);
    // A window holds as many batches, and bytes, as keep every thread busy.
    let window = rayon::current_num_threads() * BATCHES_PER_THREAD;
    let windows = cut(0..batches.len(), window, window * BATCH_BYTES, |b| {
        batches[b].1
    });
    let batches: Vec<Range<usize>> = batches.into_iter().map(|(range, _)| range).collect();
    let _writing = Writing::start();
    // Each batch encodes into the buffers of a batch written before (`spare`),
    // so that a long output does not allocate (and fault in) fresh memory for
    // every batch.
    let encode_batch = |range: &Range<usize>, mut lines: Lines| {
        lines.clear();
        encode(range.clone(), &mut lines).map(|counted| (lines, counted))
    };
    let encode_window = |window: &[Range<usize>], mut spare: Vec<Lines>| {
        spare.resize_with(spare.len().max(window.len()), Lines::default);
        if Writing::pool_has_room() {
            window
                .par_iter()
                .zip(spare)
                .map(|(range, lines)| encode_batch(range, lines))
                .collect()
        } else {
            window
                .iter()
                .zip(spare)
                .map(|(range, lines)| encode_batch(range, lines))
                .collect::<Vec<Result<(Lines, T)>>>()
        }
    };
    let mut windows = windows.into_iter().map(|(window, _)| &batches[window]);
    let mut ready = match windows.next() {
        Some(first) => encode_window(first, Vec::new()),
        None => Vec::new(),
    };
    let mut spare = Vec::new();
    let mut counted = Vec::with_capacity(batches.len());
    loop {
        let next_window = windows.next();
        let mut next = None;
        let mut written = Vec::with_capacity(ready.len());
        let ahead = Writing::pool_has_room();
        let wrote = rayon::in_place_scope(|scope| {
            if let Some(window) = next_window.filter(|_| ahead) {
                let (next, spare) = (&mut next, std::mem::take(&mut spare));
                let encode_window = &encode_window;
                scope.spawn(move |_| *next = Some(encode_window(window, spare)));
            }
            ready.drain(..).try_for_each(|encoded| {
                let (lines, count) = encoded?;
                write(&lines)?;
                counted.push(count);
                written.push(lines);
                Ok(())
            })
        });
        wrote?;
        spare = written;
        match (next, next_window) {
            (Some(encoded), _) => ready = encoded,
            (None, Some(window)) => ready = encode_window(window, std::mem::take(&mut spare)),
            (None, None) => return Ok(counted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use proptest::prelude::*;

    /// The line of item `i`: a few copies of its number (none for some).
    fn line_of(i: usize) -> String {
        format!("{i} ").repeat(i % 4)
    }

    /// A batch's line count agrees with its lines.
    fn check_line_count(lines: &Lines) {
        assert_eq!(lines.iter().count(), lines.len());
        assert_eq!(lines.is_empty(), lines.iter().next().is_none());
    }

    proptest! {
        /// Whatever the batch size, the lines come out as one loop over the
        /// items writes them, and every batch's count is returned in order.
        #[test]
        fn lines_come_out_in_item_order(start in 0usize..50, len in 0usize..2000, batch in 0usize..300) {
            let items = start..start + len;
            let mut batches: Vec<(Vec<Vec<u8>>, Vec<u8>)> = Vec::new();
            let counts = write_in_order(
                items.clone(),
                batch,
                |_| 0,
                |range, lines| {
                    for i in range.clone() {
                        lines.buffer().extend_from_slice(line_of(i).as_bytes());
                        lines.end_line();
                    }
                    Ok(range.len())
                },
                &mut |lines| {
                    check_line_count(lines);
                    batches.push((lines.iter().map(<[u8]>::to_vec).collect(), lines.as_bytes().to_vec()));
                    Ok(())
                },
            )
            .expect("no batch fails");
            let mut got = Vec::new();
            for (lines, bytes) in batches {
                let joined: Vec<u8> = lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect();
                prop_assert_eq!(joined, bytes);
                got.extend(lines.into_iter().map(|l| String::from_utf8(l).expect("UTF-8")));
            }
            let want: Vec<String> = items.clone().map(line_of).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(counts.iter().sum::<usize>(), len);
            prop_assert!(counts.iter().all(|&c| c == batch.max(1) || c == len % batch.max(1)));
        }
    }

    proptest! {
        /// Runs cover the items in order, keep to both limits (a run over the
        /// byte limit holds one item) and are as long as the limits allow.
        #[test]
        fn runs_are_the_longest_the_limits_allow(
            start in 0usize..20,
            sizes in prop::collection::vec(0usize..100, 0..300),
            most in 0usize..40,
            most_bytes in 0usize..400,
        ) {
            let items = start..start + sizes.len();
            let bytes = |item: usize| sizes[item - start];
            let runs = cut(items.clone(), most, most_bytes, bytes);
            let first = runs.first().map_or(items.end, |(run, _)| run.start);
            let last = runs.last().map_or(items.start, |(run, _)| run.end);
            prop_assert_eq!((first, last), (items.start, items.end));
            prop_assert!(runs.windows(2).all(|w| w[0].0.end == w[1].0.start));
            for (i, (run, held)) in runs.iter().enumerate() {
                prop_assert!(!run.is_empty());
                prop_assert_eq!(*held, run.clone().map(bytes).sum::<usize>());
                prop_assert!(run.len() <= most.max(1));
                prop_assert!(*held <= most_bytes || run.len() == 1);
                if let Some((next, _)) = runs.get(i + 1) {
                    let longer = run.len() + 1 > most.max(1) || held + bytes(next.start) > most_bytes;
                    prop_assert!(longer, "run {:?} could have taken item {}", run, next.start);
                }
            }
        }
    }

    #[test]
    fn batches_are_cut_by_their_items_bytes() {
        let mut batch_bytes = Vec::new();
        let sizes = |i: usize| {
            if i.is_multiple_of(100) {
                3 * BATCH_BYTES
            } else {
                1000
            }
        };
        write_in_order(
            0..5000,
            2048,
            sizes,
            |range, lines| {
                lines
                    .buffer()
                    .extend_from_slice(format!("{range:?}").as_bytes());
                lines.end_line();
                Ok(range.map(sizes).sum::<usize>())
            },
            &mut |_| Ok(()),
        )
        .expect("no batch fails")
        .into_iter()
        .for_each(|held| batch_bytes.push(held));
        assert_eq!(
            batch_bytes.iter().sum::<usize>(),
            (0..5000).map(sizes).sum::<usize>()
        );
        assert!(batch_bytes
            .iter()
            .all(|&held| held <= BATCH_BYTES || held == 3 * BATCH_BYTES));
        assert!(
            batch_bytes.len() > 5000 / 2048 + 50,
            "large items cut batches short"
        );
    }

    #[test]
    fn the_first_error_in_item_order_stops_the_writing() {
        let mut written = Vec::new();
        let result = write_in_order(
            0..10_000,
            7,
            |_| 1,
            |range, lines| {
                if range.contains(&5000) || range.contains(&9000) {
                    return Err(Error::Config(format!("item in {range:?}")));
                }
                for i in range {
                    lines.buffer().extend_from_slice(i.to_string().as_bytes());
                    lines.end_line();
                }
                Ok(())
            },
            &mut |lines| {
                written.extend(lines.iter().map(|l| l.to_vec()));
                Ok(())
            },
        );
        let message = result.expect_err("an item fails").to_string();
        assert!(message.contains("4998..5005"), "{message}");
        assert_eq!(written.len(), 4998, "every batch before the failing one");
        assert_eq!(written.last().map(Vec::as_slice), Some(&b"4997"[..]));
    }
}
