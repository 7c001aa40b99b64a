//! SimHash near-duplicate detection: 64-bit fingerprints of shingle bags and
//! a Hamming-radius search over them.
//!
//! Typical flow for `n` text units:
//!
//! 1. [`fingerprint64`] (or [`fingerprint64_weighted`]) per unit;
//! 2. [`Collapsed::new`] to group exact duplicates (linear work per group);
//! 3. [`near_distinct_pairs`] on [`Collapsed::distinct`] to find distinct
//!    fingerprints within Hamming distance `k`;
//! 4. merge members of each group and of each near pair, e.g. with
//!    [`crate::cluster::UnionFind`].
//!
//! [`all_pairs_within`] does 2 and 3 and expands the result to unit pairs;
//! it is meant for tests and small inputs.

pub mod budget;
mod fingerprint;
mod index;

pub use fingerprint::{fingerprint64, fingerprint64_weighted, hamming};
pub use index::{
    all_pairs_within, default_blocks, near_distinct_pairs, near_distinct_pairs_at_most,
    BlockTables, Collapsed, SearchScratch, MAX_TABLES,
};
