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

    /// Forgets every line, keeping the memory.
    fn clear(&mut self) {
        self.bytes.clear();
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

/// Encodes `items` in batches of `batch` items (`encode(range, lines)`
/// appends the lines of the items in `range` and returns what it counted) on
/// the pool's threads while it has room for them (see the module
/// documentation), and passes each batch's lines to `write` on this thread,
/// in item order. Returns the counts of every batch, in order. The first error
/// (in item order) stops the work; the lines of the batches before it have been
/// written.
pub fn write_in_order<T: Send>(
    items: Range<usize>,
    batch: usize,
    encode: impl Fn(Range<usize>, &mut Lines) -> Result<T> + Sync,
    write: &mut dyn FnMut(&Lines) -> Result<()>,
) -> Result<Vec<T>> {
    let batch = batch.max(1);
    let batches: Vec<Range<usize>> = items
        .clone()
        .step_by(batch)
        .map(|start| start..(start + batch).min(items.end))
        .collect();
    let _writing = Writing::start();
    let window = rayon::current_num_threads() * BATCHES_PER_THREAD;
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
    let mut windows = batches.chunks(window);
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

    #[test]
    fn the_first_error_in_item_order_stops_the_writing() {
        let mut written = Vec::new();
        let result = write_in_order(
            0..10_000,
            7,
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
