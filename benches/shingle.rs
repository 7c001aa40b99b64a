//! Shingling throughput: normalisation, tokenisation and n-gram hashing of real
//! English and Korean text (`text::Shingler::shingles_into`) with each tokenizer, and
//! exact-duplicate keys (`exact::text_key`) of the same text once normalised.
//! Shingling is the first step of every method and usually dominates a run, so its
//! bytes per second bound the whole pipeline.

mod common;

use std::hint::black_box;

use common::{label, Lang, Size};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use neardedup::exact::text_key;
use neardedup::text::shingle::Scratch;
use neardedup::text::{ShingleConfig, Shingler, Tokenizer};

const TOKENIZERS: [(Tokenizer, &str); 3] = [
    (Tokenizer::Word, "word"),
    (Tokenizer::Whitespace, "whitespace"),
    (Tokenizer::Char, "char"),
];

fn shingle(c: &mut Criterion) {
    for lang in Lang::ALL {
        for size in Size::ALL {
            let docs = common::documents(lang, size);
            let mut group = c.benchmark_group(format!("shingle/{}", label(lang, size)));
            group.throughput(Throughput::Bytes(common::total_bytes(&docs)));
            for (tokenizer, name) in TOKENIZERS {
                let shingler = Shingler::new(ShingleConfig {
                    tokenizer,
                    ..ShingleConfig::default()
                })
                .expect("valid shingle configuration");
                let mut scratch = Scratch::default();
                let mut out = Vec::new();
                group.bench_function(BenchmarkId::new("neardedup", name), |b| {
                    b.iter(|| {
                        let mut count = 0;
                        for doc in &docs {
                            shingler.shingles_into(black_box(doc), &mut scratch, &mut out);
                            count += out.len();
                        }
                        // Every document is long enough to give shingles.
                        assert!(count >= docs.len());
                        count
                    })
                });
            }
            group.finish();
        }
    }
}

fn exact(c: &mut Criterion) {
    let shingler = common::shingler();
    for lang in Lang::ALL {
        for size in Size::ALL {
            let docs = common::documents(lang, size);
            let mut scratch = Scratch::default();
            let normalized: Vec<String> = docs
                .iter()
                .map(|d| shingler.normalize(d, &mut scratch).to_owned())
                .collect();
            let mut group = c.benchmark_group(format!("exact/{}", label(lang, size)));
            group.throughput(Throughput::Bytes(common::total_bytes(&normalized)));
            group.bench_function("neardedup", |b| {
                b.iter(|| {
                    let mut acc = 0u128;
                    for text in &normalized {
                        acc ^= text_key(black_box(text)).expect("non-empty text");
                    }
                    acc
                })
            });
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = shingle, exact
}
criterion_main!(benches);
