//! MinHash signing throughput at 64, 128 and 256 permutations, over the shingle hashes
//! of real English and Korean documents of three sizes. Every implementation gets the
//! same 64-bit shingle tokens (made once by the default shingler, outside the timed
//! loop), so the figures compare signing alone. Throughput is the bytes of source
//! text whose shingles are signed.
//!
//! - `neardedup`: `minhash::MinHasher::sign_into`, classic MinHash: (a*x + b) mod
//!   2^61-1 over the shingle hashes folded to 32 bits, vectorised (AVX2/AVX-512 when
//!   the CPU has them).
//! - `neardedup-oph`: `minhash::OnePermHasher::sign_into`, one-permutation MinHash
//!   with optimal densification (the default): one hash per shingle.
//! - `gaoya`: `gaoya::minhash::MinHasher32::create_signature` over the same tokens
//!   (it re-hashes each token with FNV, then 31-bit universal hashing).
//! - `datasketch-minhash-lsh`: `MinHash::update` per token (SipHash re-hash, then the
//!   datasketch permutation). Its `a*h + b` can overflow u64, which panics with debug
//!   assertions, so it only runs in optimised builds.

mod common;

use std::hint::black_box;

use common::{label, Lang, Size};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gaoya::minhash::{MinHasher as _, MinHasher32};
use neardedup::minhash::{MinHasher, OnePermHasher};

const PERMS: [usize; 3] = [64, 128, 256];

fn minhash(c: &mut Criterion) {
    for lang in Lang::ALL {
        for size in Size::ALL {
            let docs = common::documents(lang, size);
            let shingles = common::shingles(&docs);
            let mut group = c.benchmark_group(format!("minhash/{}", label(lang, size)));
            group.throughput(Throughput::Bytes(common::total_bytes(&docs)));
            for perm in PERMS {
                let ours = MinHasher::new(perm, common::MINHASH_SEED);
                let expected_last = ours.sign(shingles.last().expect("documents"));
                let mut out = vec![0u32; perm];
                group.bench_function(BenchmarkId::new("neardedup", perm), |b| {
                    b.iter(|| {
                        for s in &shingles {
                            ours.sign_into(black_box(s), &mut out);
                        }
                        assert_eq!(out, expected_last);
                    })
                });

                let oph = OnePermHasher::new(perm, common::MINHASH_SEED);
                let expected_oph = oph.sign(shingles.last().expect("documents"));
                group.bench_function(BenchmarkId::new("neardedup-oph", perm), |b| {
                    b.iter(|| {
                        for s in &shingles {
                            oph.sign_into(black_box(s), &mut out);
                        }
                        assert_eq!(out, expected_oph);
                    })
                });

                let gaoya = MinHasher32::new(perm);
                group.bench_function(BenchmarkId::new("gaoya", perm), |b| {
                    b.iter(|| {
                        let mut last = Vec::new();
                        for s in &shingles {
                            last = gaoya.create_signature(black_box(s).iter());
                        }
                        assert_eq!(last.len(), perm);
                        last
                    })
                });

                if !cfg!(debug_assertions) {
                    let mut sketch =
                        datasketch_minhash_lsh::MinHash::new(perm, Some(common::MINHASH_SEED));
                    let empty = sketch.hash_values.0.clone();
                    group.bench_function(BenchmarkId::new("datasketch-minhash-lsh", perm), |b| {
                        b.iter(|| {
                            for s in &shingles {
                                sketch.hash_values.0.copy_from_slice(&empty);
                                for token in black_box(s) {
                                    sketch.update(token);
                                }
                            }
                            assert_ne!(sketch.hash_values.0, empty);
                        })
                    });
                }
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = minhash
}
criterion_main!(benches);
