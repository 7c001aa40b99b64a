//! End-to-end throughput of one dedup run (`pipeline::run`: read and sketch on all
//! cores, index, verify, cluster; no output writing) over a generated labelled corpus
//! of about 4 MB of mixed English and Korean JSONL, written once to a temporary file
//! and opened with `corpus::Corpus::open` inside the timed loop, for each algorithm
//! and unit kind. Throughput is input bytes per second.

mod common;

use neardedup::config::SketchConfig;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use neardedup::corpus::{Corpus, CorpusOptions};
use neardedup::pipeline::{self, Algo, DedupConfig, NoProgress, UnitKind};
use neardedup::synth::Level;

const CORPUS_BYTES: u64 = 4 << 20;

fn end_to_end(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (level, unit, name) in [
        (Level::Article, UnitKind::Article, "article"),
        (Level::Paragraph, UnitKind::Paragraph, "paragraph"),
    ] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).expect("temporary directory");
        let (path, bytes) = common::corpus_file(&sub, level, CORPUS_BYTES);
        let mut group = c.benchmark_group(format!("pipeline/{name}-4MB"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4))
            .throughput(Throughput::Bytes(bytes));
        for (algo, algo_name) in [
            (Algo::Minhash, "minhash"),
            (Algo::Simhash, "simhash"),
            (Algo::Exact, "exact"),
        ] {
            let config = DedupConfig {
                algo,
                sketch: SketchConfig {
                    unit,
                    ..DedupConfig::default().sketch
                },
                ..DedupConfig::default()
            };
            group.bench_function(BenchmarkId::new("neardedup", algo_name), |b| {
                b.iter(|| {
                    let corpus =
                        Corpus::open(std::slice::from_ref(&path), CorpusOptions::default())
                            .expect("open the generated corpus");
                    let outcome = pipeline::run(&corpus, &config, &NoProgress).expect("dedup run");
                    // The generated corpus has planted duplicates; every method finds some.
                    assert!(outcome.stats.duplicate_units > 0);
                    outcome.stats.duplicate_units
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
