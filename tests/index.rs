//! End-to-end tests of saved indexes through the binary: a failed `index add`
//! leaves the index as it was, a corpus is added once, an index's settings win
//! over defaults but not over options given with other values, and a bad place
//! to save an index is refused before the run.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::Value;

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

/// A text of `words` words drawn (by a fixed generator) from a small vocabulary.
fn text(seed: u64, words: usize) -> String {
    const VOCABULARY: [&str; 24] = [
        "river", "stone", "north", "lamp", "quiet", "harbour", "seven", "paper", "window",
        "garden", "copper", "winter", "signal", "market", "orange", "thunder", "ladder", "silver",
        "meadow", "pocket", "engine", "candle", "bridge", "forest",
    ];
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..words)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            VOCABULARY[(state % VOCABULARY.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes a JSONL corpus of `(id, text seed)` records.
fn corpus(path: &Path, records: &[(&str, u64)]) -> PathBuf {
    let lines: String = records
        .iter()
        .map(|(id, seed)| serde_json::json!({"id": id, "text": text(*seed, 80)}).to_string() + "\n")
        .collect();
    std::fs::write(path, lines).expect("write corpus");
    path.to_path_buf()
}

/// January (ids a0..a19) and February (b0..b19, of which b0..b4 repeat a0..a4).
fn two_months(dir: &Path) -> (PathBuf, PathBuf) {
    let jan: Vec<(String, u64)> = (0..20).map(|i| (format!("a{i}"), i)).collect();
    let feb: Vec<(String, u64)> = (0..20)
        .map(|i| (format!("b{i}"), if i < 5 { i } else { 100 + i }))
        .collect();
    let as_refs = |v: &[(String, u64)]| -> Vec<(String, u64)> { v.to_vec() };
    let write = |name: &str, v: Vec<(String, u64)>| {
        let records: Vec<(&str, u64)> = v.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        corpus(&dir.join(name), &records)
    };
    (
        write("jan.jsonl", as_refs(&jan)),
        write("feb.jsonl", as_refs(&feb)),
    )
}

fn index(action: &str, index: &Path, out: &Path, input: &Path) -> Command {
    let mut cmd = neardedup();
    cmd.args(["index", action, "--quiet", "--id-field", "id", "--index"])
        .arg(index)
        .arg("--out")
        .arg(out)
        .arg(input);
    cmd
}

fn sha(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_failed_index_add_leaves_the_index_as_it_was_and_the_retry_adds_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (jan, feb) = two_months(dir.path());
    let ndx = dir.path().join("crawl.ndx");
    index("build", &ndx, &dir.path().join("out-jan"), &jan)
        .assert()
        .success();
    let before = sha(&ndx);
    let clean_ndx = dir.path().join("clean.ndx");
    std::fs::copy(&ndx, &clean_ndx).expect("copy");

    // The output folder cannot be made (a file is in the way): the run fails
    // after deduplicating, when it writes its outputs.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, b"in the way").expect("write");
    let work = dir.path().join("work");
    index("add", &ndx, &blocked, &feb)
        .arg("--work-dir")
        .arg(&work)
        .assert()
        .failure()
        .code(1);
    assert_eq!(
        sha(&ndx),
        before,
        "the failed run left the index byte-identical"
    );
    assert_eq!(
        files_in(dir.path())
            .iter()
            .filter(|n| n.contains(".partial-"))
            .count(),
        0
    );

    let retry = dir.path().join("out-retry");
    index("add", &ndx, &retry, &feb)
        .arg("--work-dir")
        .arg(&work)
        .assert()
        .success();
    let clean = dir.path().join("out-clean");
    index("add", &clean_ndx, &clean, &feb).assert().success();
    for name in ["clusters.jsonl", "pairs.jsonl", "deduped/feb.jsonl"] {
        assert_eq!(sha(&retry.join(name)), sha(&clean.join(name)), "{name}");
    }
    assert_eq!(
        sha(&ndx),
        sha(&clean_ndx),
        "the retry's index is the clean run's"
    );
    let deduped = read_jsonl(&retry.join("deduped/feb.jsonl"));
    assert_eq!(
        deduped.len(),
        15,
        "b0..b4 repeat January, the other 15 are new"
    );
}

#[test]
fn adding_a_corpus_twice_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (jan, feb) = two_months(dir.path());
    let ndx = dir.path().join("crawl.ndx");
    index("build", &ndx, &dir.path().join("out-jan"), &jan)
        .assert()
        .success();
    index("add", &ndx, &dir.path().join("out-feb"), &feb)
        .assert()
        .success();
    let before = sha(&ndx);

    let again = dir.path().join("out-again");
    index("add", &ndx, &again, &feb)
        .assert()
        .failure()
        .code(1)
        .stderr(contains(format!(
            "{}: 20 of the 20 units of this run are already in the index",
            ndx.display()
        )))
        .stderr(contains(r#"e.g. "b0", "b1", "b2", "b3", "b4", ..."#))
        .stderr(contains("Nothing was written"));
    assert_eq!(sha(&ndx), before, "index unchanged");
    assert!(!again.exists(), "no output folder, no scratch folder");

    // Some of the ids indexed already: refused as well, naming only those.
    let mixed = corpus(
        &dir.path().join("mixed.jsonl"),
        &[("new1", 500), ("a7", 501), ("new2", 502)],
    );
    index("add", &ndx, &dir.path().join("out-mixed"), &mixed)
        .assert()
        .failure()
        .stderr(contains(r#"1 of the 3 units of this run are already in the index (same id and paragraph), e.g. "a7""#));
    assert_eq!(sha(&ndx), before, "index unchanged");
}

#[test]
fn comparing_an_indexed_corpus_with_its_own_index_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (jan, _) = two_months(dir.path());
    let ndx = dir.path().join("crawl.ndx");
    index("build", &ndx, &dir.path().join("out-jan"), &jan)
        .assert()
        .success();
    neardedup()
        .args(["dedup", "--quiet", "--id-field", "id", "--against"])
        .arg(&ndx)
        .arg("--out")
        .arg(dir.path().join("out-check"))
        .arg(&jan)
        .assert()
        .success()
        .stderr(contains("warning"))
        .stderr(contains(
            "20 of the 20 units of this run are already in the index",
        ));
}

/// An article whose paragraphs are lines, some repeated.
fn paragraphs(dir: &Path, name: &str, seeds: &[u64]) -> PathBuf {
    let body: String = seeds.iter().map(|s| text(*s, 40) + "\n").collect();
    corpus_text(&dir.join(name), &body)
}

fn corpus_text(path: &Path, body: &str) -> PathBuf {
    std::fs::write(path, body).expect("write");
    path.to_path_buf()
}

#[test]
fn index_add_uses_the_index_settings_and_reports_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = paragraphs(dir.path(), "first.txt", &[1, 2, 3]);
    let second = paragraphs(dir.path(), "second.txt", &[2, 4, 5, 4]);
    let ndx = dir.path().join("p.ndx");
    neardedup()
        .args([
            "index",
            "build",
            "--quiet",
            "--unit",
            "paragraph",
            "--ngram",
            "3",
        ])
        .arg("--index")
        .arg(&ndx)
        .arg("--out")
        .arg(dir.path().join("out-first"))
        .arg(&first)
        .assert()
        .success();
    let out = dir.path().join("out-second");
    neardedup()
        .args(["index", "add", "--index"])
        .arg(&ndx)
        .arg("--out")
        .arg(&out)
        .arg(&second)
        .assert()
        .success()
        .stdout(contains("units            4 paragraphs"))
        .stdout(contains("duplicates       2 units"));
    let report: Value =
        serde_json::from_slice(&sha(&out.join("report.json"))).expect("report.json");
    assert_eq!(report["parameters"]["unit"], "paragraph");
    assert_eq!(report["parameters"]["shingle"]["ngram"], 3);
}

#[test]
fn index_add_with_other_settings_than_the_index_is_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = paragraphs(dir.path(), "first.txt", &[1, 2, 3]);
    let second = paragraphs(dir.path(), "second.txt", &[2, 4]);
    let ndx = dir.path().join("p.ndx");
    neardedup()
        .args(["index", "build", "--quiet", "--unit", "paragraph"])
        .arg("--index")
        .arg(&ndx)
        .arg("--out")
        .arg(dir.path().join("out-first"))
        .arg(&first)
        .assert()
        .success();
    let before = sha(&ndx);
    let out = dir.path().join("out-second");
    neardedup()
        .args(["index", "add", "--unit", "article", "--ngram", "4"])
        .arg("--index")
        .arg(&ndx)
        .arg("--out")
        .arg(&out)
        .arg(&second)
        .assert()
        .failure()
        .code(1)
        .stderr(contains(format!(
            "{}: the index was built with other settings",
            ndx.display()
        )))
        .stderr(contains("--unit article (the index's: paragraph)"))
        .stderr(contains("--ngram").not());
    assert_eq!(sha(&ndx), before, "index unchanged");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn saving_an_index_into_a_missing_folder_fails_before_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (jan, _) = two_months(dir.path());
    let target = dir.path().join("no-such-folder/crawl.ndx");
    let out = dir.path().join("out");
    for line in [
        vec!["dedup", "--save-index", target.to_str().expect("utf-8")],
        vec!["index", "build", "--index", target.to_str().expect("utf-8")],
    ] {
        neardedup()
            .args(&line)
            .args(["--id-field", "id", "--out"])
            .arg(&out)
            .arg(&jan)
            .assert()
            .failure()
            .code(1)
            .stderr(contains(format!(
                "{}: cannot save the index: folder {} does not exist",
                target.display(),
                dir.path().join("no-such-folder").display()
            )))
            .stderr(contains(".partial-").not());
        assert!(!out.exists(), "{line:?}: no output or scratch folder");
    }
}
