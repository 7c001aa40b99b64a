//! Grouping of units into clusters from pairwise "is near-duplicate" edges.
//!
//! [`UnionFind`] merges indices edge by edge and labels every index with the
//! smallest index of its cluster, so labels are deterministic and the label
//! is the first unit of the cluster in input order.

mod union_find;

pub use union_find::UnionFind;
