//! Progress reporting from the library, without printing.
//!
//! The pipeline announces each stage and advances a counter; what is drawn (a bar on
//! a terminal, nothing in a pipe) is the caller's business. Implementations must be
//! cheap and thread-safe: workers call [`Progress::advance`] from many threads.

/// The amount of work of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Input bytes.
    Bytes(u64),
    /// Countable items (bands, pairs), named by the string.
    Items(u64, &'static str),
}

/// Receives progress events from a run.
pub trait Progress: Sync {
    /// A stage begins; `total` is its amount of work, if known.
    fn stage(&self, name: &str, total: Option<Total>);
    /// `amount` more work of the current stage is done.
    fn advance(&self, amount: u64);
    /// The current stage is done.
    fn finish_stage(&self);
    /// Something the user may want to know (what a run replaced), in a
    /// sentence; a quiet front end leaves it out.
    fn note(&self, _message: &str) {}
    /// Something the user must know that is not an error (data that may not
    /// be what they think, a folder left behind), in a sentence.
    fn warn(&self, _message: &str) {}
}

/// Discards all progress events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &str, _: Option<Total>) {}
    fn advance(&self, _: u64) {}
    fn finish_stage(&self) {}
}
