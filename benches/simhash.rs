//! 64-bit SimHash fingerprint throughput over real English and Korean documents of
//! three sizes, in two groups so that each comparison has identical inputs:
//!
//! - `simhash-text/*`: from the raw text. `neardedup` normalises, shingles (word
//!   5-grams) and calls `simhash::fingerprint64`; `simhash-crate` is
//!   `simhash::simhash(text)` (whitespace words, no normalisation, SipHash per word).
//!   The two do different amounts of work per byte; this is what each costs from text.
//! - `simhash-tokens/*`: from the same precomputed 64-bit shingle hashes.
//!   `neardedup` is `fingerprint64`; `gaoya` is `SimHash::<SimSipHasher64, u64, 64>`
//!   `::create_signature` (it re-hashes each token with SipHash).
//!
//! Throughput is the bytes of source text in both groups.

mod common;

use std::hint::black_box;

use common::{label, Lang, Size};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gaoya::simhash::{SimHash, SimSipHasher64};
use neardedup::simhash::fingerprint64;
use neardedup::text::shingle::Scratch;

fn simhash_text(c: &mut Criterion) {
    let shingler = common::shingler();
    for lang in Lang::ALL {
        for size in Size::ALL {
            let docs = common::documents(lang, size);
            let shingles = common::shingles(&docs);
            let expected: Vec<u64> = shingles.iter().map(|s| fingerprint64(s)).collect();
            let mut group = c.benchmark_group(format!("simhash-text/{}", label(lang, size)));
            group.throughput(Throughput::Bytes(common::total_bytes(&docs)));

            let mut scratch = Scratch::default();
            let mut out = Vec::new();
            group.bench_function("neardedup", |b| {
                b.iter(|| {
                    let mut last = 0;
                    for doc in &docs {
                        shingler.shingles_into(black_box(doc), &mut scratch, &mut out);
                        last = fingerprint64(&out);
                    }
                    assert_eq!(Some(&last), expected.last());
                })
            });

            let expected_crate = simhash::simhash(docs.last().expect("documents"));
            group.bench_function("simhash-crate", |b| {
                b.iter(|| {
                    let mut last = 0;
                    for doc in &docs {
                        last = simhash::simhash(black_box(doc));
                    }
                    assert_eq!(last, expected_crate);
                })
            });
            group.finish();
        }
    }
}

fn simhash_tokens(c: &mut Criterion) {
    for lang in Lang::ALL {
        for size in Size::ALL {
            let docs = common::documents(lang, size);
            let shingles = common::shingles(&docs);
            let mut group = c.benchmark_group(format!("simhash-tokens/{}", label(lang, size)));
            group.throughput(Throughput::Bytes(common::total_bytes(&docs)));

            let expected = fingerprint64(shingles.last().expect("documents"));
            group.bench_function("neardedup", |b| {
                b.iter(|| {
                    let mut last = 0;
                    for s in &shingles {
                        last = fingerprint64(black_box(s));
                    }
                    assert_eq!(last, expected);
                })
            });

            let gaoya = SimHash::<SimSipHasher64, u64, 64>::new(SimSipHasher64::new(1, 2));
            let expected_gaoya = gaoya.create_signature(shingles.last().expect("documents").iter());
            group.bench_function("gaoya", |b| {
                b.iter(|| {
                    let mut last = 0;
                    for s in &shingles {
                        last = gaoya.create_signature(black_box(s).iter());
                    }
                    assert_eq!(last, expected_gaoya);
                })
            });
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = simhash_text, simhash_tokens
}
criterion_main!(benches);
