//! Deterministic instruction-count benches (iai-callgrind, under Valgrind's
//! callgrind): shingling, MinHash with 128 permutations, SimHash, and a small
//! end-to-end dedup run, on real English and Korean text. Wall-clock figures from
//! the criterion benches vary by a few percent between runs on a shared machine;
//! instruction counts of the same build and inputs do not, so these catch small
//! regressions reliably. `scripts/bench-regress instr-save` / `instr-compare` run
//! them; they need valgrind and `iai-callgrind-runner` (the script installs both).
//!
//! Inputs are built in the benches' argument expressions, which callgrind does not
//! count: an article of about 3 KB cut from the start of each source, and a small
//! generated paragraph-level corpus. The end-to-end run uses a rayon pool made of the
//! benchmark's own thread, so all its work is counted and none of it depends on
//! thread scheduling.

mod common;

use neardedup::config::SketchConfig;
use std::hint::black_box;

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use neardedup::corpus::{Corpus, CorpusOptions};
use neardedup::minhash::MinHasher;
use neardedup::pipeline::{self, DedupConfig, NoProgress, UnitKind};
use neardedup::simhash::fingerprint64;
use neardedup::synth::{Level, SourceLanguage};
use neardedup::text::shingle::Scratch;

/// About 3 KB of real text: the first paragraphs of a language's first source
/// documents.
fn article(language: SourceLanguage) -> String {
    let sources = common::sources();
    let mut text = String::new();
    for paragraph in sources.docs(language).iter().flat_map(|d| &d.paragraphs) {
        if text.len() >= 3_000 {
            break;
        }
        text.push_str(paragraph);
        text.push('\n');
    }
    text
}

fn article_shingles(language: SourceLanguage) -> Vec<u64> {
    common::shingler().shingles(&article(language))
}

#[library_benchmark]
#[bench::en_article(article(SourceLanguage::English))]
#[bench::ko_article(article(SourceLanguage::Korean))]
fn shingle(text: String) -> usize {
    let shingler = common::shingler();
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    shingler.shingles_into(black_box(&text), &mut scratch, &mut out);
    out.len()
}

#[library_benchmark]
#[bench::en_article(article_shingles(SourceLanguage::English))]
#[bench::ko_article(article_shingles(SourceLanguage::Korean))]
fn minhash_128(shingles: Vec<u64>) -> Vec<u32> {
    let hasher = MinHasher::new(128, common::MINHASH_SEED);
    let mut out = vec![0; 128];
    hasher.sign_into(black_box(&shingles), &mut out);
    out
}

#[library_benchmark]
#[bench::en_article(article_shingles(SourceLanguage::English))]
#[bench::ko_article(article_shingles(SourceLanguage::Korean))]
fn simhash(shingles: Vec<u64>) -> u64 {
    fingerprint64(black_box(&shingles))
}

/// A generated paragraph-level corpus of about 64 KB, mapped; the file is removed
/// once mapped. Returns it with a one-thread pool whose only thread is the calling
/// one, so that the run happens on the thread callgrind measures.
fn small_corpus() -> (Corpus, rayon::ThreadPool) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (path, _) = common::corpus_file(dir.path(), Level::Paragraph, 64 << 10);
    let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open corpus");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build()
        .expect("thread pool");
    (corpus, pool)
}

#[library_benchmark]
#[bench::paragraph_64kb(small_corpus())]
fn end_to_end(input: (Corpus, rayon::ThreadPool)) -> u64 {
    let (corpus, pool) = input;
    let config = DedupConfig {
        sketch: SketchConfig {
            unit: UnitKind::Paragraph,
            ..DedupConfig::default().sketch
        },
        ..DedupConfig::default()
    };
    let outcome = pool
        .install(|| pipeline::run(&corpus, &config, &NoProgress))
        .expect("dedup run");
    outcome.stats.duplicate_units
}

library_benchmark_group!(
    name = text;
    benchmarks = shingle, minhash_128, simhash
);
library_benchmark_group!(
    name = end_to_end_group;
    benchmarks = end_to_end
);
main!(library_benchmark_groups = text, end_to_end_group);
