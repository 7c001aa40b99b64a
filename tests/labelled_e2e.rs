//! End to end: the `neardedup` binary on labelled corpora from `neardedup::synth`,
//! scored with `neardedup::eval`.
//!
//! Each test writes a generated corpus (real English and Korean source text with
//! edited copies at known true Jaccard) and its truth to a temporary directory,
//! runs `neardedup dedup` on it, reads `OUT/clusters.jsonl` (one line per unit:
//! `id`, `cluster`, and `para` for paragraph units) and checks the scores. The
//! per-bucket recall table is printed; `cargo test --test labelled_e2e --
//! --nocapture` shows it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use neardedup::eval::{evaluate, load_predictions, load_truth, Report, Truth};
use neardedup::synth::{generate, GenConfig, Generated, Language, Level, Sources};
use tempfile::TempDir;

/// A labelled corpus on disk.
struct Labelled {
    dir: TempDir,
    corpus: PathBuf,
    truth: Truth,
}

fn sources() -> Sources {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
    Sources::load(&dir).expect("datasets/sources holds the committed source texts")
}

/// English and Korean batches (ids prefixed `en-` / `ko-`), written as one corpus.
fn labelled(level: Level, seed: u64, english: usize, korean: usize) -> Labelled {
    let sources = sources();
    let batch = |language: Language, originals: usize, prefix: &str, seed: u64| -> Generated {
        let config = GenConfig {
            seed,
            language,
            level,
            originals,
            max_copies: 4,
            min_rate: 0.01,
            max_rate: 0.3,
            id_prefix: prefix.into(),
        };
        generate(&sources, &config).expect("generation succeeds on the committed sources")
    };
    let parts = [
        batch(Language::English, english, "en-", seed),
        batch(Language::Korean, korean, "ko-", seed + 1),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus.jsonl");
    let truth_path = dir.path().join("truth.jsonl");
    let mut corpus_bytes = Vec::new();
    let mut truth_bytes = Vec::new();
    for part in &parts {
        part.write_corpus(&mut corpus_bytes)
            .expect("in-memory write");
        part.write_truth(&mut truth_bytes).expect("in-memory write");
    }
    std::fs::write(&corpus, corpus_bytes).expect("write corpus.jsonl");
    std::fs::write(&truth_path, truth_bytes).expect("write truth.jsonl");
    let truth = load_truth(&truth_path).expect("the written truth.jsonl loads");
    let units: usize = parts.iter().map(|p| p.truth.len()).sum();
    assert_eq!(truth.units().len(), units);
    Labelled { dir, corpus, truth }
}

/// Runs `neardedup dedup <args> --id-field id --out OUT --quiet CORPUS` and returns
/// the path of `OUT/clusters.jsonl`.
fn dedup(corpus: &Path, out: &Path, args: &[&str]) -> PathBuf {
    Command::cargo_bin("neardedup")
        .expect("the neardedup binary is built")
        .arg("dedup")
        .args(args)
        .args(["--ngram", "5", "--id-field", "id", "--out"])
        .arg(out)
        .arg("--quiet")
        .arg(corpus)
        .assert()
        .success();
    let clusters = out.join("clusters.jsonl");
    assert!(clusters.is_file(), "{} was not written", clusters.display());
    clusters
}

/// Scores a run and prints its figures under `title`.
fn score(title: &str, truth: &Truth, clusters: &Path) -> Report {
    let predictions = load_predictions(clusters).expect("clusters.jsonl follows the contract");
    let report = evaluate(truth, &predictions).expect("predictions cover the truth's units only");
    println!("== {title}\n{}", report.summary());
    assert_eq!(
        report.missing_predictions, 0,
        "{title}: clusters.jsonl must have one line per unit"
    );
    report
}

/// Recall over truth pairs with true Jaccard >= 0.9 (the last bucket).
fn high_jaccard_recall(title: &str, report: &Report) -> f64 {
    let high = report.buckets.from_bucket(9);
    assert!(
        high.pairs >= 30,
        "{title}: only {} pairs at J >= 0.9",
        high.pairs
    );
    high.found as f64 / high.pairs as f64
}

const MINHASH_ARTICLE: [&str; 10] = [
    "--algo",
    "minhash",
    "--unit",
    "article",
    "--threshold",
    "0.8",
    "--num-perm",
    "128",
    "--threads",
    "2",
];

#[test]
fn minhash_articles_find_close_copies_without_false_merges() {
    let corpus = labelled(Level::Article, 101, 60, 30);
    assert!(corpus.truth.units().len() >= 200, "a few hundred records");
    let out = corpus.dir.path().join("out-minhash");
    let clusters = dedup(&corpus.corpus, &out, &MINHASH_ARTICLE);
    let report = score(
        "minhash, article units, threshold 0.8",
        &corpus.truth,
        &clusters,
    );
    let recall = high_jaccard_recall("minhash article", &report);
    assert!(recall >= 0.95, "recall at J >= 0.9 is {recall:.3}");
    assert!(
        report.precision >= 0.99,
        "pair precision is {:.4}",
        report.precision
    );
}

#[test]
fn minhash_output_does_not_depend_on_the_thread_count() {
    let corpus = labelled(Level::Article, 202, 40, 20);
    let mut one_thread = MINHASH_ARTICLE;
    one_thread[9] = "1";
    let a = dedup(&corpus.corpus, &corpus.dir.path().join("t1"), &one_thread);
    let b = dedup(
        &corpus.corpus,
        &corpus.dir.path().join("t2"),
        &MINHASH_ARTICLE,
    );
    let (a, b) = (
        std::fs::read(a).expect("read clusters"),
        std::fs::read(b).expect("read clusters"),
    );
    assert!(!a.is_empty());
    assert!(
        a == b,
        "clusters.jsonl differs between --threads 1 and --threads 2"
    );
}

#[test]
fn simhash_articles_are_sane() {
    let corpus = labelled(Level::Article, 303, 60, 30);
    let out = corpus.dir.path().join("out-simhash");
    let args = ["--algo", "simhash", "--unit", "article", "--hamming", "3"];
    let clusters = dedup(&corpus.corpus, &out, &args);
    let report = score(
        "simhash, article units, hamming 3",
        &corpus.truth,
        &clusters,
    );
    let recall = high_jaccard_recall("simhash article", &report);
    println!("simhash recall at J >= 0.9: {recall:.3}");
    assert!(
        report.precision >= 0.9,
        "pair precision is {:.4}",
        report.precision
    );
}

#[test]
fn minhash_paragraphs_find_repeats_within_and_across_articles() {
    let corpus = labelled(Level::Paragraph, 404, 40, 30);
    assert!(
        corpus.truth.units().iter().all(|u| u.key.para.is_some()),
        "paragraph truth"
    );
    let out = corpus.dir.path().join("out-para");
    let args = [
        "--algo",
        "minhash",
        "--unit",
        "paragraph",
        "--threshold",
        "0.8",
        "--num-perm",
        "128",
    ];
    let clusters = dedup(&corpus.corpus, &out, &args);
    let report = score(
        "minhash, paragraph units, threshold 0.8",
        &corpus.truth,
        &clusters,
    );
    let recall = high_jaccard_recall("minhash paragraph", &report);
    assert!(recall >= 0.95, "recall at J >= 0.9 is {recall:.3}");
    assert!(
        report.precision >= 0.99,
        "pair precision is {:.4}",
        report.precision
    );
}
