//! # neardedup
//!
//! Near-duplicate detection for paragraphs and articles in large text corpora:
//! MinHash with LSH, SimHash with Hamming search, and exact hashing, over
//! memory-mapped inputs, in parallel.
//!
//! The `neardedup` binary is the usual way in (`neardedup dedup --help`); this library
//! is what it is built from, stage by stage:
//!
//! ```text
//! corpus ──▶ text ──▶ minhash | simhash | exact ──▶ lsh | simhash index ──▶ cluster ──▶ output
//! (mmap,     (normalise,  (sketch each unit)        (candidate pairs,      (union-   (clusters,
//!  records,   shingle)                                verified)              find)     pairs, deduped,
//!  units)                                                                              report)
//! ```
//!
//! - [`corpus`]: input files, memory-mapped; JSONL and plain-text records; paragraphs.
//! - [`text`]: normalisation and shingling (word, whitespace or character n-grams).
//! - [`minhash`]: one-permutation and classic MinHash signers; compact 16-bit
//!   signatures; LSH bands and rows.
//! - [`lsh`]: candidate pairs linear in bucket size, and their verification.
//! - [`simhash`]: 64-bit fingerprints and Hamming search by permuted block tables.
//! - [`exact`]: hashing of normalised text.
//! - [`cluster`]: union-find with first-in-input-order representatives.
//! - [`pipeline`]: one run end to end, shard by shard, within a memory budget;
//!   [`work`]: its scratch folder of checksummed checkpoints, which makes runs
//!   resumable; [`output`]: the files a run writes.
//! - [`index`]: saved signatures for incremental runs.
//! - [`distributed`]: the same run over several processes or machines, on timely
//!   dataflow.
//! - [`synth`], [`eval`], [`compare`]: labelled corpora, scoring, and grids of runs.
//! - [`review`]: an HTML page of a finished run's sampled pairs, to check before
//!   deleting.
//!
//! # Example
//!
//! Two paragraphs that differ in one word are near-duplicates; an unrelated one is not:
//!
//! ```
//! use neardedup::minhash::{estimate_jaccard, OnePermHasher};
//! use neardedup::text::{ShingleConfig, ShingleSet, Shingler};
//!
//! let shingler = Shingler::new(ShingleConfig { ngram: 3, ..ShingleConfig::default() })?;
//! let a = "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 대상을 수상했다";
//! let b = "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 최우수상을 수상했다";
//! let c = "In the beginning God created the heaven and the earth";
//!
//! let signer = OnePermHasher::new(128, 1);
//! let [sa, sb, sc] = [a, b, c].map(|t| signer.sign(&shingler.shingles(t)));
//! assert!(estimate_jaccard(&sa, &sb) > 0.5);
//! assert!(estimate_jaccard(&sa, &sc) < 0.1);
//!
//! // The exact Jaccard of the shingle sets, which the estimate approximates.
//! let exact = ShingleSet::of(&shingler, a).jaccard(&ShingleSet::of(&shingler, b));
//! assert!((0.5..0.9).contains(&exact));
//! # Ok::<(), neardedup::error::Error>(())
//! ```

pub mod cluster;
#[cfg(feature = "research")]
pub mod compare;
pub mod corpus;
#[cfg(feature = "distributed")]
pub mod distributed;
pub mod error;
#[cfg(feature = "research")]
pub mod eval;
pub mod exact;
pub mod index;
pub mod lsh;
pub mod memory;
pub mod minhash;
pub mod output;
pub mod pipeline;
pub mod review;
pub mod simhash;
#[cfg(feature = "research")]
pub mod synth;
pub mod text;
pub mod work;
