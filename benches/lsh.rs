//! LSH candidate generation over 10k, 100k and 1M MinHash signatures (128
//! permutations, threshold 0.8). The first few thousand signatures are of real
//! English and Korean paragraphs; the rest are seeded edits of those (see
//! `common::signatures`), with one planted near-duplicate pair `(0, n - 1)` that each
//! implementation must report (checked after every iteration). Throughput is units
//! indexed per second.
//!
//! - `neardedup/candidates`: `lsh::candidate_pairs` (sorted band keys, linear per
//!   bucket); `neardedup/candidates+verify` adds `lsh::verify_by_signature`.
//! - `gaoya/candidates+verify`: `MinHashIndex` with the same bands and rows,
//!   `par_bulk_insert` then `par_bulk_query` (which verifies by signature against the
//!   threshold), on the same signatures cut to the `bands * rows` values the index
//!   takes (117 of 128 at threshold 0.8).
//! - `datasketch-minhash-lsh/candidates`: `MinHashLsh` insert then query of every
//!   unit (its own band choice for 0.8 / 128), on the same signature values. Skipped
//!   with debug assertions, and above 100k units (single-threaded, slow).
//!
//! Peers run up to 100k units; 1M is `neardedup` only, to keep the run bounded.

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use gaoya::minhash::MinHashIndex;
use neardedup::lsh::{candidate_pairs, verify_by_signature};

const PEER_MAX_UNITS: usize = 100_000;

fn lsh(c: &mut Criterion) {
    let params = common::lsh_params();
    let perm = common::LSH_PERM;
    for (n, name) in common::UNIT_COUNTS {
        let sigs = common::signatures(n);
        let planted = (0u32, (n - 1) as u32);
        let expected = candidate_pairs(&sigs, perm, params);
        assert!(expected.binary_search(&planted).is_ok());
        let expected_verified =
            verify_by_signature(&sigs, perm, &expected, common::THRESHOLD).len();

        let mut group = c.benchmark_group(format!("lsh/{name}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(if n >= 1_000_000 { 20 } else { 3 }))
            .throughput(Throughput::Elements(n as u64));

        group.bench_function(BenchmarkId::new("neardedup", "candidates"), |b| {
            b.iter(|| {
                let pairs = candidate_pairs(black_box(&sigs), perm, params);
                assert!(pairs.binary_search(&planted).is_ok());
                assert_eq!(pairs.len(), expected.len());
                pairs
            })
        });
        group.bench_function(BenchmarkId::new("neardedup", "candidates+verify"), |b| {
            b.iter(|| {
                let pairs = candidate_pairs(black_box(&sigs), perm, params);
                let edges = verify_by_signature(&sigs, perm, &pairs, common::THRESHOLD);
                assert_eq!(edges.len(), expected_verified);
                edges
            })
        });

        if n <= PEER_MAX_UNITS {
            let used = params.bands * params.rows;
            let vecs: Vec<Vec<u32>> = sigs
                .chunks_exact(perm)
                .map(|s| s[..used].to_vec())
                .collect();
            let ids: Vec<u32> = (0..n as u32).collect();
            group.bench_function(BenchmarkId::new("gaoya", "candidates+verify"), |b| {
                b.iter_batched(
                    || (ids.clone(), vecs.clone()),
                    |(ids, owned)| {
                        let mut index = MinHashIndex::<u32, u32>::new(
                            params.bands,
                            params.rows,
                            common::THRESHOLD,
                        );
                        index.par_bulk_insert(ids, owned);
                        let found = index.par_bulk_query(&vecs);
                        assert!(found[n - 1].contains(&0));
                        found
                    },
                    BatchSize::PerIteration,
                )
            });

            if !cfg!(debug_assertions) {
                let template =
                    datasketch_minhash_lsh::MinHash::new(perm, Some(common::MINHASH_SEED));
                let sketches: Vec<_> = sigs
                    .chunks_exact(perm)
                    .map(|v| {
                        let mut m = template.clone();
                        m.hash_values.0 = v.iter().map(|&x| u64::from(x)).collect();
                        m
                    })
                    .collect();
                group.bench_function(
                    BenchmarkId::new("datasketch-minhash-lsh", "candidates"),
                    |b| {
                        b.iter(|| {
                            let mut index = datasketch_minhash_lsh::MinHashLsh::<u32>::new(
                                perm,
                                None,
                                Some(common::THRESHOLD),
                            )
                            .expect("valid LSH settings");
                            for (id, m) in sketches.iter().enumerate() {
                                index.insert(id as u32, m).expect("insert");
                            }
                            let mut pairs = 0usize;
                            for (id, m) in sketches.iter().enumerate() {
                                let found = index.query(m).expect("query");
                                pairs += found.iter().filter(|&&other| other > id as u32).count();
                                if id == n - 1 {
                                    assert!(found.contains(&0));
                                }
                            }
                            pairs
                        })
                    },
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, lsh);
criterion_main!(benches);
