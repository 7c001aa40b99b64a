//! SimHash near-duplicate search over 10k, 100k and 1M 64-bit fingerprints within
//! Hamming distance 3. The first few thousand fingerprints are of real English and
//! Korean paragraphs; the rest are seeded bit flips of those (see
//! `common::fingerprints`). Each iteration's pair count is checked against one
//! computed before timing. Throughput is fingerprints searched per second.
//!
//! - `neardedup`: `simhash::Collapsed::new` (drop identical fingerprints) then
//!   `simhash::near_distinct_pairs` (permuted block tables).
//! - `gaoya`: `SimHashIndex` over the same distinct fingerprints, `par_bulk_insert`
//!   then a query per fingerprint. Its query keeps distances strictly below its
//!   `hamming_distance`, so it is built with 4 and 5 blocks (5 tables, which finds
//!   every pair within 4 and keeps those within 3). Up to 100k fingerprints.
//! - `brute-force`: every pair compared, at 10k only.

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gaoya::simhash::SimHashIndex;
use neardedup::simhash::{hamming, near_distinct_pairs, Collapsed};

const PEER_MAX_UNITS: usize = 100_000;
const BRUTE_FORCE_MAX_UNITS: usize = 10_000;

fn hamming_search(c: &mut Criterion) {
    let k = common::HAMMING;
    for (n, name) in common::UNIT_COUNTS {
        let fps = common::fingerprints(n);
        let distinct = Collapsed::new(&fps).distinct;
        let expected = near_distinct_pairs(&distinct, k, None).len();

        let mut group = c.benchmark_group(format!("hamming/{name}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(if n >= 1_000_000 { 10 } else { 3 }))
            .throughput(Throughput::Elements(n as u64));

        group.bench_function("neardedup", |b| {
            b.iter(|| {
                let collapsed = Collapsed::new(black_box(&fps));
                let pairs = near_distinct_pairs(&collapsed.distinct, k, None);
                assert_eq!(pairs.len(), expected);
                pairs
            })
        });

        if n <= PEER_MAX_UNITS {
            let ids: Vec<u32> = (0..distinct.len() as u32).collect();
            group.bench_function("gaoya", |b| {
                b.iter_batched(
                    || (ids.clone(), distinct.clone()),
                    |(ids, owned)| {
                        let mut index =
                            SimHashIndex::<u64, u32>::new(k as usize + 2, k as usize + 1);
                        index.par_bulk_insert(ids, owned);
                        let mut pairs = 0usize;
                        for (id, fp) in distinct.iter().enumerate() {
                            pairs += index
                                .query(fp)
                                .into_iter()
                                .filter(|&&other| other > id as u32)
                                .count();
                        }
                        assert_eq!(pairs, expected);
                        pairs
                    },
                    BatchSize::PerIteration,
                )
            });
        }

        if n <= BRUTE_FORCE_MAX_UNITS {
            group.bench_function("brute-force", |b| {
                b.iter(|| {
                    let d = black_box(&distinct);
                    let mut pairs = 0usize;
                    for (i, &x) in d.iter().enumerate() {
                        pairs += d[i + 1..].iter().filter(|&&y| hamming(x, y) <= k).count();
                    }
                    assert_eq!(pairs, expected);
                    pairs
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, hamming_search);
criterion_main!(benches);
