//! End-to-end tests of the ways a run could lose data or the machine without
//! saying so: options out of range, a SimHash radius past the memory budget, an
//! output folder that keeps an earlier run's report after a failure, errors
//! printed twice, a ground truth in another tool's format, a silent generator.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

/// A labelled corpus from the generator, at `dir/gen`.
fn generated(dir: &Path, size: &str) -> PathBuf {
    let out = dir.join("gen");
    neardedup()
        .args(["gen", "--quiet", "--size", size, "--seed", "4", "--sources"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn resource_options_out_of_range_are_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("a.txt");
    std::fs::write(&input, "some text to read").expect("write");
    let out = dir.path().join("out");
    for (option, value, says) in [
        ("--threads", "100000", "more than 8 per core"),
        ("--memory-budget", "0", "too small"),
        ("--shard-size", "1", "too small"),
        ("--processes", "0", "out of range"),
        ("--connect-timeout", "0", "out of range"),
    ] {
        neardedup()
            .arg("dedup")
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .args([option, value])
            .assert()
            .code(1)
            .stderr(contains(option).and(contains(says)));
        assert!(!out.exists(), "{option} {value}: nothing written");
    }
}

#[test]
fn a_simhash_radius_past_the_memory_budget_is_refused_naming_one_that_fits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = generated(dir.path(), "2MB").join("corpus.jsonl");
    let out = dir.path().join("out");
    let assert = neardedup()
        .arg("dedup")
        .arg(&corpus)
        .arg("--out")
        .arg(&out)
        .args([
            "--algo",
            "simhash",
            "--hamming",
            "32",
            "--memory-budget",
            "1MB",
        ])
        .assert()
        .code(1)
        .stderr(contains("the largest radius that fits is --hamming"));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let fits: u32 = stderr
        .split("fits is --hamming ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no radius named: {stderr}"));
    assert!(!out.exists(), "a refused run leaves no output folder");
    neardedup()
        .arg("dedup")
        .arg(&corpus)
        .arg("--out")
        .arg(&out)
        .args(["--algo", "simhash", "--memory-budget", "1MB", "--quiet"])
        .args(["--hamming", &fits.to_string()])
        .assert()
        .success();
}

#[test]
fn a_failed_run_does_not_leave_an_earlier_runs_report_in_its_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, "{\"text\":\"one record\"}\n{\"text\":\"another\"}\n").expect("write");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"text\":\"fine\"}\n{\"text\": oops}\n").expect("write");
    let out = dir.path().join("out");
    neardedup()
        .arg("dedup")
        .arg(&good)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .assert()
        .success();
    assert!(out.join("report.json").exists());
    neardedup()
        .arg("dedup")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(contains("replacing the outputs of an earlier run").and(contains("bad.jsonl:2:")));
    for name in [
        "report.json",
        "clusters.jsonl",
        "pairs.jsonl",
        "deduped",
        "removed.jsonl",
    ] {
        assert!(
            !out.join(name).exists(),
            "{name} of the earlier run is gone"
        );
    }
}

#[test]
fn an_os_error_is_printed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let assert = neardedup()
        .arg("dedup")
        .arg(dir.path().join("no-such-corpus.jsonl"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("no-such-corpus.jsonl"), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}

#[test]
fn eval_scores_a_truth_without_jaccard_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("c.jsonl");
    std::fs::write(
        &corpus,
        "{\"id\":\"a\",\"text\":\"the same words in the same order here\"}\n\
         {\"id\":\"b\",\"text\":\"the same words in the same order here\"}\n\
         {\"id\":\"c\",\"text\":\"something else entirely written down\"}\n",
    )
    .expect("write");
    let truth = dir.path().join("labels.jsonl");
    std::fs::write(
        &truth,
        "{\"id\":\"a\",\"cluster\":1}\n{\"id\":\"b\",\"cluster\":1}\n{\"id\":\"c\",\"cluster\":2}\n",
    )
    .expect("write");
    let out = dir.path().join("out");
    neardedup()
        .arg("dedup")
        .arg(&corpus)
        .args(["--id-field", "id", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    neardedup()
        .arg("eval")
        .arg(out.join("clusters.jsonl"))
        .arg("--truth")
        .arg(&truth)
        .assert()
        .success()
        .stdout(contains("precision 1.0000").and(contains("recall 1.0000")));
}

#[test]
fn gen_reports_its_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    neardedup()
        .args(["gen", "--size", "100KB", "--sources"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources"))
        .arg("--out")
        .arg(dir.path().join("gen"))
        .assert()
        .success()
        .stderr(contains("neardedup: generate done in"));
}
