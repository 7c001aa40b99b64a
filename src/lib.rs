//! # neardedup
//!
//! Near-duplicate detection for paragraphs and articles in large text corpora:
//! MinHash with LSH, SimHash with Hamming search, and exact hashing, over
//! memory-mapped inputs, in parallel.
//!
//! The `neardedup` binary is the usual way to deduplicate a corpus on disk
//! (`neardedup dedup --help`). A program uses the library in one of two ways:
//!
//! - documents one at a time, kept in an in-memory [`Index`]: sketch each text
//!   ([`MinHasher`], [`SimHasher`]), ask which indexed texts it duplicates, insert
//!   it; save the index in the file format of `neardedup index` and load it back;
//! - a whole corpus in one call: a [`Dedup`] (input paths, a [`DedupConfig`], an
//!   output folder) run as the binary runs it, giving its [`Report`]; or, without
//!   output files, [`run`] / [`run_with`] on a [`corpus::Corpus`], giving a
//!   [`DedupOutcome`] (clusters, pairs, counts).
//!
//! # Example
//!
//! Index a few paragraphs, then ask which of them a new one repeats; the Korean
//! pair differs in one word:
//!
//! ```
//! use neardedup::{DedupConfig, Index};
//!
//! let config = DedupConfig { threshold: 0.6, ..DedupConfig::default() };
//! let mut index = Index::new(&config)?;
//! index.insert("seoul", "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 대상을 수상했다")?;
//! index.insert("genesis", "In the beginning God created the heaven and the earth, and the earth was without form")?;
//!
//! let found = index.query("시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 최우수상을 수상했다");
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].id, "seoul".into());
//! assert!(found[0].similarity >= 0.6);
//! assert!(index.query("An unrelated sentence about the weather in the mountains today").is_empty());
//! # Ok::<(), neardedup::Error>(())
//! ```
//!
//! The same signatures, one level down: the estimate approximates the exact
//! Jaccard similarity of the two texts' shingle sets.
//!
//! ```
//! use neardedup::text::{ShingleSet, Shingler};
//! use neardedup::{MinHasher, SketchConfig};
//!
//! let config = SketchConfig { num_perm: 256, ..SketchConfig::default() };
//! let hasher = MinHasher::new(config)?;
//! let a = "the quick brown fox jumps over the lazy dog near the old mill by the river";
//! let b = "the quick brown fox jumps over the lazy dog near the old mill by the water";
//! let estimate = hasher.sketch(a).jaccard(&hasher.sketch(b));
//!
//! let shingler = Shingler::new(config.shingle)?;
//! let exact = ShingleSet::of(&shingler, a).jaccard(&ShingleSet::of(&shingler, b));
//! assert!((estimate - exact).abs() < 0.2, "{estimate} vs {exact}");
//! # Ok::<(), neardedup::Error>(())
//! ```
//!
//! # Architecture
//!
//! A run passes every unit (an article, or a paragraph) through these stages:
//!
//! ```text
//! corpus ──▶ text ──▶ sketch ──▶ candidates ──▶ verify ──▶ cluster ──▶ output
//! ```
//!
//! 1. **corpus** ([`corpus`]): input files, memory-mapped; JSONL and plain-text
//!    records with their ids; records cut into paragraphs.
//! 2. **text** ([`text`]): normalisation, then shingling into word, whitespace or
//!    character n-grams, hashed to 64 bits.
//! 3. **sketch** ([`pipeline::sketch`], shard by shard, checkpointed): one small
//!    summary per unit: a MinHash signature ([`minhash`]: one-permutation and
//!    classic signers, 16-bit compact values), a 64-bit SimHash fingerprint
//!    ([`simhash`]) or a hash of the normalised text ([`exact`]). [`sketch`] makes
//!    the same sketches of one text at a time.
//! 4. **candidates** ([`pipeline::candidates`], checkpointed): pairs worth
//!    comparing: units sharing an LSH band bucket ([`lsh`], with bands and rows
//!    chosen by [`minhash::optimal_params`]), fingerprints within a Hamming radius
//!    ([`simhash`]'s permuted tables), or equal text hashes.
//! 5. **verify** ([`pipeline::settle`], checkpointed): candidates kept by their
//!    signature estimate ([`lsh::judge_estimate`], the one rule), or by the exact
//!    Jaccard of their shingle sets when the estimate is in doubt
//!    ([`pipeline::verify`]).
//! 6. **cluster** ([`pipeline::components`], [`cluster`]): verified pairs joined
//!    into star clusters (no chaining) or connected components.
//! 7. **output** ([`output`]): `clusters.jsonl`, `pairs.jsonl`, the kept records
//!    per input file (`deduped/`, JSONL, gzip, zstd or Parquet), `removed.jsonl` and
//!    `report.json`, moved into place all at once.
//!
//! The stages are written once. [`pipeline::engine`] puts them in order for one
//! worker, and every stage after sketching talks to the other workers only
//! through an [`exchange::Exchange`] (route items to the worker owning their key,
//! gather one value from every worker, fail together). A single-process run is
//! the one-worker case ([`exchange::Local`] hands every item back); a distributed
//! run (feature `distributed`) runs the same code on each of its workers over
//! timely dataflow. [`dedup`] wraps the engine with what a whole run needs: the
//! output folder, the index compared against and saved, the scratch folder.
//! Settings are [`config`]; runs stay within a memory budget ([`memory`]) and
//! checkpoint each stage in a scratch folder ([`work`]), so an interrupted run
//! resumes. [`index`] saves a run's signatures for later runs to deduplicate
//! against, and holds the in-memory [`Index`]. [`review`] renders a finished
//! run's sampled pairs as an HTML page, to check before deleting. Errors, with
//! the file and line at fault, are [`Error`]; a setting with a value it cannot
//! take is [`Error::InvalidSetting`]. All CPU-specific code is in one internal
//! module, `simd`, each kernel checked against its portable twin.
//!
//! # Cargo features
//!
//! The engine above needs none. All are on by default.
//!
//! - `distributed`: the `distributed` module: the same run over several
//!   processes or machines, on timely dataflow.
//! - `research`: the `compare` module (grids of runs, with plots), `synth`
//!   (labelled corpora with planted near-duplicates) and `eval` (scoring a run
//!   against their ground truth).
//! - `cli`: the `neardedup` binary (with both of the above, which its
//!   subcommands use).
//!
//! A program that only sketches, indexes or runs deduplication depends on
//! `neardedup` with `default-features = false`.

pub mod cluster;
#[cfg(feature = "research")]
pub mod compare;
pub mod config;
pub mod corpus;
pub mod dedup;
#[cfg(feature = "distributed")]
pub mod distributed;
pub(crate) mod durable;
pub mod error;
#[cfg(feature = "research")]
pub mod eval;
pub mod exact;
pub mod exchange;
pub mod index;
pub mod lsh;
pub mod memory;
pub mod minhash;
pub(crate) mod mix;
pub mod options;
pub mod output;
pub mod pipeline;
#[cfg(feature = "progress-bar")]
pub mod progress_bar;
pub mod review;
mod setting_names;
pub(crate) mod simd;
pub mod simhash;
pub mod size;
pub mod sketch;
#[cfg(feature = "research")]
pub mod synth;
pub mod text;
pub mod work;

pub use config::{DedupConfig, SketchConfig};
pub use dedup::{Dedup, Finished, Searched};
pub use error::{Error, Result};
pub use index::memory::{Index, Match};
pub use output::report::Report;
pub use pipeline::{run, run_with, DedupOutcome, RunOptions};
pub use sketch::{MinHasher, Signature, SimHasher};
