//! The sketch stage on real text against its speed of light and the `gaoya` crate,
//! all in one group on the same mapped JSONL file, so each figure is also read as a
//! share of the limit and as a ratio against the peer.
//!
//! Input: the JSONL file (`{"id", "text"}` per line) that `NEARDEDUP_SPEED_CORPUS`
//! names, normally `out/speed/corpus.jsonl` from `scripts/speed-corpus` (the
//! real-text benchmark's articles, English and Korean, three copies of each); without
//! it, the article collections of the real-text slice in `datasets/realtext/`,
//! joined into one temporary file. Throughput is the file's bytes.
//!
//! - `speed-of-light/T`: every line of the mapped file split at ASCII whitespace,
//!   one xxh3 per word, the last five word hashes combined into a 5-gram hash, each
//!   kept as a minimum in one of 128 bins. No JSON decoding, no normalisation, no
//!   Unicode: the least work a word 5-gram sketch of this text can do.
//! - `neardedup/T`: `pipeline::engine::sketch_corpus`, the stage a run reports as
//!   `read+sketch` (JSON decoding, NFKC and case folding, Unicode words, word
//!   5-grams, 128-slot one-permutation MinHash, checkpoints written), with
//!   `--ngram 5` and otherwise the shipped settings, every article sketched (as
//!   the other two do).
//! - `neardedup-repeats/T`: the same as a run does it, an article whose bytes
//!   were sketched before given its earlier sketch (`pipeline::repeats`): on
//!   the speed corpus, where each article is there three times, this is not
//!   the same work as the others', and is not compared with them.
//! - `gaoya/T`: each line decoded with serde_json, lower-cased, split by
//!   `gaoya::text::whitespace_split`, its word 5-grams signed by
//!   `MinHasher32::create_signature` with 128 permutations (gaoya's own word
//!   pipeline).
//!
//! `T` is the number of rayon threads (1 and 2). Lines are split among threads in
//! line-aligned byte ranges.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gaoya::minhash::{MinHasher as _, MinHasher32};
use neardedup::corpus::{Corpus, CorpusOptions};
use neardedup::pipeline::{engine, DedupConfig};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

const BINS: usize = 128;
const NGRAM: usize = 5;
const THREADS: [usize; 2] = [1, 2];

/// The corpus file: `NEARDEDUP_SPEED_CORPUS`, else the shipped real-text slice's
/// articles joined into `dir`.
fn corpus_path(dir: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("NEARDEDUP_SPEED_CORPUS") {
        return PathBuf::from(path);
    }
    let path = dir.join("realtext-articles.jsonl");
    let mut joined = Vec::new();
    for collection in ["docs", "licences", "korean"] {
        let part = common::manifest_dir()
            .join("datasets/realtext")
            .join(collection)
            .join("article/corpus.jsonl");
        joined.extend(std::fs::read(&part).expect("the real-text slice ships in datasets/"));
    }
    std::fs::write(&path, joined).expect("write the joined slice");
    path
}

/// Line-aligned byte ranges of `bytes`, about `parts` of them.
fn line_ranges(bytes: &[u8], parts: usize) -> Vec<std::ops::Range<usize>> {
    let step = bytes.len().div_ceil(parts.max(1)).max(1);
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + step).min(bytes.len());
        while end < bytes.len() && bytes[end - 1] != b'\n' {
            end += 1;
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// The speed-of-light sketch of every line of `bytes`; returns a checksum of the
/// bins so the work cannot be optimised away.
fn speed_of_light(bytes: &[u8]) -> u64 {
    let mut bins = [u64::MAX; BINS];
    let mut checksum = 0u64;
    for line in bytes.split(|&b| b == b'\n') {
        bins.fill(u64::MAX);
        let mut window = [0u64; NGRAM];
        let mut words = 0usize;
        for word in line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
        {
            window[words % NGRAM] = xxh3_64(word);
            words += 1;
            if words >= NGRAM {
                let gram = window
                    .iter()
                    .fold(0u64, |h, &w| h.rotate_left(7) ^ w)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let bin = (gram >> 57) as usize;
                bins[bin] = bins[bin].min(gram);
            }
        }
        checksum = checksum.wrapping_add(bins.iter().fold(0, |a, &b| a ^ b));
    }
    checksum
}

/// gaoya's word 5-gram signatures of every record in `bytes`; returns how many.
fn gaoya_sketch<B: std::hash::BuildHasher>(hasher: &MinHasher32<B>, bytes: &[u8]) -> usize {
    let mut signed = 0;
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let record: serde_json::Value = serde_json::from_slice(line).expect("a JSON record");
        let text = record["text"]
            .as_str()
            .expect("a text field")
            .to_lowercase();
        let words: Vec<&str> = gaoya::text::whitespace_split(&text).collect();
        let signature = hasher.create_signature(words.windows(NGRAM));
        signed += usize::from(!signature.is_empty());
    }
    signed
}

fn sketch_stage(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = corpus_path(dir.path());
    let file = std::fs::File::open(&path).expect("open the speed corpus");
    // SAFETY: the file is not modified while the benches run.
    let map = unsafe { memmap2::Mmap::map(&file) }.expect("map the speed corpus");
    let bytes: &[u8] = &map;
    let records = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let config = DedupConfig {
        sketch: neardedup::config::SketchConfig {
            shingle: neardedup::text::ShingleConfig {
                ngram: NGRAM,
                ..DedupConfig::default().sketch.shingle
            },
            ..DedupConfig::default().sketch
        },
        ..DedupConfig::default()
    };
    let gaoya = MinHasher32::new(config.sketch.num_perm);

    let mut group = c.benchmark_group("sketch-stage/real-text");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Bytes(bytes.len() as u64));
    for threads in THREADS {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        let ranges = line_ranges(bytes, threads * 8);
        group.bench_function(BenchmarkId::new("speed-of-light", threads), |b| {
            b.iter(|| {
                pool.install(|| {
                    ranges
                        .par_iter()
                        .map(|r| speed_of_light(&bytes[r.clone()]))
                        .reduce(|| 0, u64::wrapping_add)
                })
            })
        });
        for (name, reuse_repeats) in [("neardedup", false), ("neardedup-repeats", true)] {
            group.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter(|| {
                    pool.install(|| {
                        let corpus =
                            Corpus::open(std::slice::from_ref(&path), CorpusOptions::default())
                                .expect("open the speed corpus");
                        let sketched =
                            engine::sketch_corpus(&corpus, &config, reuse_repeats).expect("sketch");
                        assert_eq!(sketched.records.len(), records);
                    })
                })
            });
        }
        group.bench_function(BenchmarkId::new("gaoya", threads), |b| {
            b.iter(|| {
                let signed: usize = pool.install(|| {
                    ranges
                        .par_iter()
                        .map(|r| gaoya_sketch(&gaoya, &bytes[r.clone()]))
                        .sum()
                });
                assert_eq!(signed, records);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sketch_stage);
criterion_main!(benches);
