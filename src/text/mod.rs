//! Text → shingle hashes: the stage between a unit's raw text and its sketch.
//!
//! [`normalize`] folds away differences that should not count (Unicode
//! compatibility forms, case, punctuation, runs of whitespace); [`shingle`] cuts the
//! normalised text into word or character n-grams and hashes each to 64 bits. The
//! sketches (MinHash, SimHash, exact) only ever see those hashes.

pub mod normalize;
pub mod set;
pub mod shingle;

pub use normalize::{normalize_into, NormalizeOptions};
pub use set::ShingleSet;
pub use shingle::{ShingleConfig, Shingler, Tokenizer};
