//! End to end: `neardedup compare` on a small generated labelled corpus writes a
//! table with one row per grid point, a JSON summary and the plots.

use std::path::Path;

use assert_cmd::Command;
use neardedup::synth::{generate, GenConfig, Language, Level, Sources};

#[test]
fn compare_writes_table_json_and_plots() {
    let sources = Sources::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources"))
        .expect("datasets/sources holds the committed source texts");
    let generated = generate(
        &sources,
        &GenConfig {
            seed: 5,
            language: Language::Mixed,
            level: Level::Article,
            originals: 12,
            ..GenConfig::default()
        },
    )
    .expect("generation succeeds on the committed sources");
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus.jsonl");
    let truth = dir.path().join("truth.jsonl");
    let mut bytes = Vec::new();
    generated.write_corpus(&mut bytes).expect("in-memory write");
    std::fs::write(&corpus, bytes).expect("write corpus");
    let mut bytes = Vec::new();
    generated.write_truth(&mut bytes).expect("in-memory write");
    std::fs::write(&truth, bytes).expect("write truth");
    let out = dir.path().join("cmp");

    Command::cargo_bin("neardedup")
        .expect("the neardedup binary is built")
        .args([
            "compare",
            "--algo",
            "minhash,simhash,exact",
            "--threshold",
            "0.3,0.8",
            "--ngram",
            "3",
            "--hamming",
            "12",
            "--quiet",
            "--truth",
        ])
        .arg(&truth)
        .arg("--out")
        .arg(&out)
        .arg(&corpus)
        .assert()
        .success();

    let md = std::fs::read_to_string(out.join("compare.md")).expect("compare.md");
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| run") && !l.starts_with("| ---"))
        .collect();
    // MinHash at two thresholds, SimHash (verification is exact by default, so
    // once per threshold), exact once.
    assert_eq!(rows.len(), 5, "{md}");
    assert!(rows[0].starts_with("| 1 | minhash | t=0.3 k=128 word-3 verify=exact | 42×3 |"));
    assert!(rows[4].starts_with("| 5 | exact |"));

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("compare.json")).expect("compare.json"))
            .expect("compare.json is JSON");
    let runs = json["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 5);
    for run in runs {
        let p = run["eval"]["precision"].as_f64().expect("precision");
        assert!((0.0..=1.0).contains(&p));
    }
    // The low-threshold MinHash run finds the near-duplicates without false pairs.
    assert_eq!(runs[0]["eval"]["precision"].as_f64(), Some(1.0));
    assert!(runs[0]["eval"]["recall"].as_f64().expect("recall") > 0.8);
    assert!(!runs[0]["scurve"].as_array().expect("scurve").is_empty());

    let plots = json["plots"].as_array().expect("plots");
    if plots.is_empty() {
        // No TrueType font on this machine: the summary says so.
        assert!(json["plot_note"].is_string());
    } else {
        for name in [
            "precision-recall.svg",
            "precision-recall.png",
            "time.svg",
            "time.png",
        ] {
            assert!(out.join(name).is_file(), "{name}");
        }
        assert!(plots
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.starts_with("scurve-b42-r3"))));
    }
}

#[test]
fn bad_grid_values_fail_before_any_run_and_name_the_flag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus.jsonl");
    let truth = dir.path().join("truth.jsonl");
    std::fs::write(&corpus, "{\"id\":\"a\",\"text\":\"one two three four\"}\n").expect("write");
    std::fs::write(
        &truth,
        "{\"id\":\"a\",\"cluster\":\"a\",\"jaccard\":1.0,\"edit\":\"original\"}\n",
    )
    .expect("write");
    for (flag, value) in [
        ("--threshold", "0.5,abc"),
        ("--threshold", "1.5"),
        ("--algo", "bloom"),
    ] {
        Command::cargo_bin("neardedup")
            .expect("the neardedup binary is built")
            .args(["compare", flag, value, "--truth"])
            .arg(&truth)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg(&corpus)
            .assert()
            .failure()
            .stderr(predicates::str::contains(flag));
        assert!(!dir.path().join("out").exists(), "{flag} {value}");
    }
}
