//! End-to-end tests of out-of-core and resumable runs: results do not depend on
//! how the input is sharded or on the memory budget, a run killed with SIGKILL at
//! any checkpoint and started again resumes and writes byte-identical outputs, and
//! damaged or foreign checkpoints are never used.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

const OUTPUTS: [&str; 3] = ["clusters.jsonl", "pairs.jsonl", "deduped/corpus.jsonl"];

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("neardedup")
}

fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources")
}

/// A generated labelled corpus of about `size`, in `dir`.
fn corpus(dir: &Path, size: &str, level: &str) -> PathBuf {
    let out = dir.join(format!("gen-{level}-{size}"));
    Command::new(bin())
        .args(["gen", "--size", size, "--seed", "5", "--level", level])
        .arg("--sources")
        .arg(sources())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out.join("corpus.jsonl")
}

fn dedup_args(input: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["dedup".into(), "--quiet".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--out".into());
    args.push(out.display().to_string());
    args.push(input.display().to_string());
    args
}

fn outputs(out: &Path) -> Vec<Vec<u8>> {
    OUTPUTS
        .iter()
        .map(|name| std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

fn report(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("report.json")).expect("report");
    serde_json::from_str(&text).expect("report is JSON")
}

#[test]
fn sharding_and_budget_do_not_change_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let articles = corpus(dir.path(), "3MB", "article");
    let paragraphs = corpus(dir.path(), "1MB", "paragraph");
    for (input, unit) in [(&articles, "article"), (&paragraphs, "paragraph")] {
        for algo in ["minhash", "simhash", "exact"] {
            let whole = dir.path().join(format!("whole-{unit}-{algo}"));
            Command::new(bin())
                .args(dedup_args(input, &whole, &["--algo", algo, "--unit", unit]))
                .assert()
                .success();
            let sharded = dir.path().join(format!("sharded-{unit}-{algo}"));
            Command::new(bin())
                .args(dedup_args(
                    input,
                    &sharded,
                    &[
                        "--algo",
                        algo,
                        "--unit",
                        unit,
                        "--shard-size",
                        "100KB",
                        "--memory-budget",
                        "64KB",
                    ],
                ))
                .assert()
                .success();
            let shards = report(&sharded)["resumed"]["shards"]
                .as_u64()
                .expect("shards");
            assert!(shards >= 10, "{unit} {algo}: only {shards} shards");
            assert_eq!(
                outputs(&whole),
                outputs(&sharded),
                "{unit} {algo}: sharded run differs"
            );
            assert!(!whole.join(".neardedup-work").exists(), "scratch removed");
        }
    }
}

/// Files in the scratch folder that are complete checkpoints (not temporary).
fn checkpoints(work: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(work)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "lock" && !n.contains(".partial-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Starts a run, kills it with SIGKILL once `ready(checkpoints)` holds, and
/// returns the checkpoints left behind (empty if the run finished first).
fn kill_when(args: &[String], work: &Path, ready: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut child = std::process::Command::new(bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start run");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("poll").is_some() {
            break;
        }
        if ready(&checkpoints(work)) {
            child.kill().expect("SIGKILL");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "run hangs");
        std::thread::sleep(Duration::from_micros(200));
    }
    child.wait().expect("reap");
    checkpoints(work)
}

#[test]
fn killed_runs_resume_from_their_checkpoints_with_identical_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = corpus(dir.path(), "6MB", "article");
    let common = [
        "--threads",
        "1",
        "--shard-size",
        "200KB",
        "--memory-budget",
        "1MB",
    ];
    for algo in ["minhash", "simhash"] {
        let reference = dir.path().join(format!("reference-{algo}"));
        let mut extra = vec!["--algo", algo];
        extra.extend(common);
        Command::new(bin())
            .args(dedup_args(&input, &reference, &extra))
            .assert()
            .success();
        let expected = outputs(&reference);
        let shards = report(&reference)["resumed"]["shards"]
            .as_u64()
            .expect("shards") as usize;
        assert!(shards >= 20, "{shards} shards");
        let last_stage = if algo == "minhash" {
            "candidates"
        } else {
            "hamming"
        };

        type Ready = Box<dyn Fn(&[String]) -> bool>;
        let count = |names: &[String]| names.iter().filter(|n| n.starts_with("shard-")).count();
        let points: Vec<(&str, Ready)> = vec![
            ("first shard", Box::new(move |n: &[String]| count(n) >= 1)),
            (
                "half the shards",
                Box::new(move |n: &[String]| count(n) >= shards / 2),
            ),
            (
                "after sketching",
                Box::new(move |n: &[String]| n.iter().any(|x| x == last_stage)),
            ),
            (
                "after verification",
                Box::new(move |n: &[String]| n.iter().any(|x| x == "edges")),
            ),
        ];
        for (point, ready) in points {
            let out = dir
                .path()
                .join(format!("killed-{algo}-{}", point.replace(' ', "-")));
            let args = dedup_args(&input, &out, &extra);
            let left = kill_when(&args, &out.join(".neardedup-work"), ready);
            eprintln!(
                "{algo}, killed at {point}: {} checkpoint(s) left",
                left.len()
            );
            Command::new(bin()).args(&args).assert().success();
            assert_eq!(outputs(&out), expected, "{algo}, killed at {point}");
            let strays: Vec<_> = std::fs::read_dir(&out)
                .expect("out dir")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(
                strays.is_empty(),
                "{algo}, killed at {point}: left {strays:?}"
            );
            if left.is_empty() {
                continue; // the first run finished before the kill
            }
            let resumed = &report(&out)["resumed"];
            let reused = resumed["shards_reused"].as_u64().expect("count") as usize;
            assert_eq!(
                reused,
                count(&left),
                "{algo}, killed at {point}: every saved shard is reused"
            );
            let stages: Vec<&str> = resumed["stages_reused"]
                .as_array()
                .expect("list")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for stage in ["candidates", "hamming", "edges"] {
                assert_eq!(
                    stages.contains(&stage),
                    left.iter().any(|n| n == stage),
                    "{algo}, killed at {point}: stage {stage} reuse"
                );
            }
        }
    }
}

#[test]
fn damaged_and_foreign_checkpoints_are_not_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = corpus(dir.path(), "1MB", "article");
    let work = dir.path().join("work");
    let args = |out: &Path| {
        let mut a = dedup_args(&input, out, &["--shard-size", "100KB", "--keep-work"]);
        a.push("--work-dir".into());
        a.push(work.display().to_string());
        a
    };
    let first = dir.path().join("first");
    Command::new(bin()).args(args(&first)).assert().success();
    let saved = checkpoints(&work);
    assert!(saved.iter().filter(|n| n.starts_with("shard-")).count() >= 5);

    // Damage one shard: it is recomputed, the others are reused, results agree.
    let victim = saved
        .iter()
        .find(|n| n.starts_with("shard-"))
        .expect("a shard");
    let path = work.join(victim);
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes.len() - 3;
    bytes[at] ^= 0x40;
    std::fs::write(&path, &bytes).expect("write");
    let second = dir.path().join("second");
    Command::new(bin()).args(args(&second)).assert().success();
    assert_eq!(outputs(&first), outputs(&second));
    let resumed = &report(&second)["resumed"];
    let shards = resumed["shards"].as_u64().expect("shards");
    assert_eq!(resumed["shards_reused"].as_u64(), Some(shards - 1));
    let discarded = resumed["discarded"].to_string();
    assert!(discarded.contains("checksum"), "{discarded}");

    // Other settings: nothing is reused.
    let third = dir.path().join("third");
    let mut other = args(&third);
    other.extend(["--threshold".into(), "0.5".into()]);
    Command::new(bin()).args(&other).assert().success();
    let resumed = &report(&third)["resumed"];
    assert_eq!(resumed["shards_reused"].as_u64(), Some(0));
    assert_eq!(resumed["stages_reused"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_scratch_folder_in_use_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/korean-news-article.txt");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    let lock = std::fs::File::create(work.join("lock")).expect("lock file");
    lock.lock().expect("hold the lock");
    let out = dir.path().join("out");
    let mut args = dedup_args(&input, &out, &[]);
    args.extend(["--work-dir".into(), work.display().to_string()]);
    let assert = Command::new(bin()).args(&args).assert().failure();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("in use by another neardedup run"),
        "{stderr}"
    );
    drop(lock);
    Command::new(bin()).args(&args).assert().success();

    // The default folder inside the output folder: a refused run must not remove
    // the folder of the run that holds it.
    let out = dir.path().join("out2");
    let work = out.join(".neardedup-work");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::write(work.join("shard-of-the-other-run"), b"x").expect("write");
    let lock = std::fs::File::create(work.join("lock")).expect("lock file");
    lock.lock().expect("hold the lock");
    Command::new(bin())
        .args(dedup_args(&input, &out, &[]))
        .assert()
        .failure();
    assert!(work.join("shard-of-the-other-run").exists());
}

#[test]
fn line_numbers_hold_across_shards_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("bad.jsonl");
    let mut lines: Vec<String> = (1..=2000)
        .map(|i| format!("{{\"text\":\"record {i} says something about line {i}\"}}"))
        .collect();
    lines[1499] = "{\"text\": oops}".into();
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let out = dir.path().join("out");
    let args = dedup_args(&input, &out, &["--shard-size", "10KB"]);
    let assert = Command::new(bin()).args(&args).assert().failure();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("bad.jsonl:1500:"), "{stderr}");

    // Skipped, the ids (line numbers) of later records are right in every shard.
    let mut skip = dedup_args(&input, &out, &["--shard-size", "10KB", "--skip-invalid"]);
    skip.push("--keep-work".into());
    Command::new(bin()).args(&skip).assert().success();
    let clusters = std::fs::read_to_string(out.join("clusters.jsonl")).expect("clusters");
    let ids: Vec<u64> = clusters
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["id"]
                .as_u64()
                .expect("id")
        })
        .collect();
    let expected: Vec<u64> = (1..=2000).filter(|&i| i != 1500).collect();
    assert_eq!(ids, expected);
    // Resumed from every shard's checkpoint: the same ids.
    Command::new(bin()).args(&skip).assert().success();
    assert_eq!(
        std::fs::read_to_string(out.join("clusters.jsonl")).expect("clusters"),
        clusters
    );
    assert!(
        report(&out)["resumed"]["shards_reused"]
            .as_u64()
            .expect("count")
            > 5
    );
}
