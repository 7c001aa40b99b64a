//! neardedup: near-duplicate detection for large text corpora.
pub mod cluster;
pub mod compare;
pub mod corpus;
pub mod error;
pub mod eval;
pub mod exact;
pub mod index;
pub mod lsh;
pub mod memory;
pub mod minhash;
pub mod output;
pub mod pipeline;
pub mod simhash;
pub mod synth;
pub mod text;
