//! End-to-end tests of how `neardedup dedup` reads its inputs: every file found is
//! read or reported, links are followed, ids come out as they went in, and many
//! small files are no problem.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

fn write(path: &Path, content: impl AsRef<[u8]>) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, content).expect("write fixture");
    path.to_path_buf()
}

fn read_report(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("report is JSON")
}

/// Runs dedup with `args` (inputs included) into `out`, expecting success;
/// returns stdout and stderr.
fn run_ok(out: &Path, args: &[&std::ffi::OsStr]) -> (String, String) {
    let assert = neardedup()
        .args(["dedup", "--algo", "exact", "--out"])
        .arg(out)
        .args(args)
        .assert()
        .success();
    let output = assert.get_output();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs dedup with `args` expecting exit code 1 and `message` on stderr, with
/// no panic and no finished output left behind.
fn run_fails(args: &[&std::ffi::OsStr], message: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let assert = neardedup()
        .args(["dedup", "--algo", "exact", "--out"])
        .arg(&out)
        .args(args)
        .assert()
        .failure()
        .code(1)
        .stderr(contains(message));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !out.join("report.json").exists(),
        "failed run wrote a report"
    );
    stderr
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

const ARTICLE: &str = "The quick brown fox jumps over the lazy dog near the river bank today";

#[test]
fn numeric_ids_are_written_exactly_as_the_input_has_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(
        &dir.path().join("ids.jsonl"),
        format!(
            "{{\"id\":123456789012345678901234567890,\"text\":\"{ARTICLE}\"}}\n\
             {{\"id\":1000.0,\"text\":\"{ARTICLE}\"}}\n\
             {{\"id\":\"caf\\u00e9\",\"n\":1.50,\"text\":\"{ARTICLE}\\nanother line\"}}\n"
        ),
    );
    for unit in ["article", "paragraph"] {
        let out = dir.path().join(format!("out-{unit}"));
        run_ok(
            &out,
            &[
                os("--id-field"),
                os("id"),
                os("--unit"),
                os(unit),
                input.as_os_str(),
            ],
        );
        let pairs = std::fs::read_to_string(out.join("pairs.jsonl")).expect("pairs");
        assert!(
            pairs.contains(r#"{"id":123456789012345678901234567890"#),
            "{pairs}"
        );
        assert!(pairs.contains(r#"{"id":1000.0"#), "{pairs}");
        let clusters = std::fs::read_to_string(out.join("clusters.jsonl")).expect("clusters");
        assert!(
            clusters.contains(r#""id":123456789012345678901234567890"#),
            "{clusters}"
        );
        let deduped = std::fs::read_to_string(out.join("deduped.jsonl")).expect("deduped");
        assert!(
            deduped.contains(r#""id":123456789012345678901234567890"#),
            "{deduped}"
        );
        if unit == "paragraph" {
            assert!(pairs.contains(r#"{"id":"caf\u00e9","para":0}"#), "{pairs}");
            // The record that lost its first paragraph is rewritten around its
            // text field only.
            assert!(
                deduped.contains(r#"{"id":"caf\u00e9","n":1.50,"text":"another line"}"#),
                "{deduped}"
            );
        }
    }
}
