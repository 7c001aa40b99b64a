//! The shipped defaults meet the quality targets on generated English and Korean
//! corpora, at article and paragraph level, run in-process through
//! `neardedup::compare`:
//!
//! - articles: pair precision >= 0.99 and pair F1 >= 0.95 (MinHash);
//! - paragraphs: pair precision >= 0.99 and recall >= 0.8 of the truth pairs with
//!   true Jaccard in [0.5, 0.7) (MinHash);
//! - SimHash (default radius and verification): pair F1 >= 0.6.

use std::path::Path;

use neardedup::compare::run::run_one;
use neardedup::compare::RunResult;
use neardedup::corpus::{Corpus, CorpusOptions};
use neardedup::eval::load_truth;
use neardedup::pipeline::{Algo, DedupConfig, UnitKind};
use neardedup::synth::{generate, GenConfig, Language, Level, Sources};

fn run_defaults(level: Level, language: Language, seed: u64, originals: usize) -> Vec<RunResult> {
    let sources = Sources::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources"))
        .expect("datasets/sources holds the committed source texts");
    let generated = generate(
        &sources,
        &GenConfig {
            seed,
            language,
            level,
            originals,
            ..GenConfig::default()
        },
    )
    .expect("generation succeeds on the committed sources");
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus_path = dir.path().join("corpus.jsonl");
    let truth_path = dir.path().join("truth.jsonl");
    let mut bytes = Vec::new();
    generated.write_corpus(&mut bytes).expect("in-memory write");
    std::fs::write(&corpus_path, bytes).expect("write corpus");
    let mut bytes = Vec::new();
    generated.write_truth(&mut bytes).expect("in-memory write");
    std::fs::write(&truth_path, bytes).expect("write truth");
    let corpus = Corpus::open(
        &[corpus_path],
        CorpusOptions {
            id_field: Some("id".into()),
            ..CorpusOptions::default()
        },
    )
    .expect("open corpus");
    let truth = load_truth(&truth_path).expect("load truth");
    let unit = match level {
        Level::Article => UnitKind::Article,
        Level::Paragraph => UnitKind::Paragraph,
    };
    [Algo::Minhash, Algo::Simhash]
        .into_iter()
        .enumerate()
        .map(|(i, algo)| {
            let config = DedupConfig {
                algo,
                unit,
                ..DedupConfig::default()
            };
            let r = run_one(&corpus, &truth, &config, i + 1).expect("run");
            println!(
                "{language:?} {level:?}: {}",
                neardedup::compare::report::table_row(&r)
            );
            r
        })
        .collect()
}

#[test]
fn article_defaults_keep_precision_and_reach_f1() {
    for (language, seed) in [(Language::English, 21), (Language::Korean, 22)] {
        let runs = run_defaults(Level::Article, language, seed, 100);
        let (minhash, simhash) = (&runs[0].eval, &runs[1].eval);
        assert!(minhash.precision >= 0.99, "{language:?}: {minhash:?}");
        assert!(minhash.f1 >= 0.95, "{language:?}: {minhash:?}");
        assert!(simhash.f1 >= 0.6, "{language:?}: {simhash:?}");
    }
}

#[test]
fn paragraph_defaults_keep_precision_and_find_edited_copies() {
    for (language, seed) in [(Language::English, 23), (Language::Korean, 24)] {
        let runs = run_defaults(Level::Paragraph, language, seed, 150);
        let minhash = &runs[0];
        assert!(
            minhash.eval.precision >= 0.99,
            "{language:?}: {:?}",
            minhash.eval
        );
        let edited = minhash
            .recall_05_07
            .expect("pairs with true Jaccard 0.5-0.7");
        assert!(edited >= 0.8, "{language:?}: recall at J 0.5-0.7 {edited}");
        assert!(runs[1].eval.f1 >= 0.6, "{language:?}: {:?}", runs[1].eval);
    }
}
