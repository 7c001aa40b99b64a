//! The one engine seen from outside: a distributed run gives the single-process
//! run's outputs for every algorithm, unit kind, cluster rule and keep policy; `--against`
//! and `--save-index` work distributed and save the same index; a restarted
//! distributed run (after a kill, or with one worker's checkpoint gone) takes its
//! later stages back from each worker's checkpoints.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use assert_cmd::Command;
use serde_json::Value;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("neardedup")
}

fn dataset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets/labelled")
        .join(name)
        .join("corpus.jsonl")
}

/// The first `lines` records of a labelled corpus, as a file in `dir`.
fn head(dir: &Path, name: &str, skip: usize, lines: usize) -> PathBuf {
    let text = std::fs::read_to_string(dataset(name)).expect("dataset");
    let part: String = text
        .lines()
        .skip(skip)
        .take(lines)
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.join(format!("{name}-{skip}-{lines}.jsonl"));
    std::fs::write(&path, part).expect("write");
    path
}

fn run_single(inputs: &[&Path], out: &Path, extra: &[&str]) {
    Command::new(bin())
        .arg("dedup")
        .args(inputs)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--id-field", "id"])
        .args(extra)
        .assert()
        .success();
}

/// A hostfile of `processes` free loopback ports, next to `out`.
fn hostfile_for(out: &Path, processes: usize) -> PathBuf {
    let listeners: Vec<TcpListener> = (0..processes)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("free port"))
        .collect();
    let hosts: String = listeners
        .iter()
        .map(|l| format!("127.0.0.1:{}\n", l.local_addr().expect("address").port()))
        .collect();
    let hostfile = out.with_extension("hosts");
    std::fs::write(&hostfile, hosts).expect("hostfile");
    hostfile
}

/// Runs every process of a loopback cluster of `processes` to the end, each with
/// two workers.
fn run_cluster(inputs: &[&Path], out: &Path, processes: usize, extra: &[&str]) {
    let hostfile = hostfile_for(out, processes);
    let mut options = vec!["--workers", "2"];
    options.extend(extra);
    run_processes(inputs, out, processes, &hostfile, &options);
}

/// Runs every process of the cluster on `hostfile` to the end.
fn run_processes(inputs: &[&Path], out: &Path, processes: usize, hostfile: &Path, extra: &[&str]) {
    let children: Vec<Child> = (0..processes)
        .map(|p| {
            std::process::Command::new(bin())
                .arg("dedup")
                .args(inputs)
                .arg("--out")
                .arg(out)
                .args(["--quiet", "--id-field", "id"])
                .args(["--processes", &processes.to_string()])
                .args(["--process", &p.to_string()])
                .arg("--hostfile")
                .arg(hostfile)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start")
        })
        .collect();
    for (p, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "process {p} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The parts of `kind` in `out`, concatenated in worker order.
fn joined_parts(out: &Path, kind: &str) -> Vec<u8> {
    let mut names: Vec<String> = std::fs::read_dir(out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{kind}-")) && n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no {kind} parts in {}", out.display());
    names
        .iter()
        .flat_map(|n| std::fs::read(out.join(n)).expect("part"))
        .collect()
}

/// The record outputs in `out` (`deduped/`, `annotated/`, `removed.*`,
/// `deduped.*`, `annotated.*`), by path relative to `out`, with their bytes.
fn record_outputs(out: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, into: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, into);
            } else {
                into.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(out).expect("out") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let records = ["deduped", "annotated", "removed"]
            .iter()
            .any(|stem| name == *stem || name.starts_with(&format!("{stem}.")));
        match (records, path.is_dir()) {
            (true, true) => walk(&path, &mut files),
            (true, false) => files.push(path),
            _ => {}
        }
    }
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("record output");
            (path.strip_prefix(out).expect("inside").to_path_buf(), bytes)
        })
        .collect()
}

fn sorted_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    lines.sort_unstable();
    lines
}

fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
        .expect("JSON")
}

/// Asserts that the distributed outputs in `spread` are the single-process ones
/// in `alone`.
fn assert_same_outputs(alone: &Path, spread: &Path, what: &str) {
    let file = |name: &str| std::fs::read(alone.join(name)).expect(name);
    assert_eq!(
        joined_parts(spread, "clusters"),
        file("clusters.jsonl"),
        "clusters: {what}"
    );
    let records = record_outputs(alone);
    assert!(!records.is_empty(), "record outputs: {what}");
    assert_eq!(record_outputs(spread), records, "record outputs: {what}");
    assert_eq!(
        sorted_lines(&joined_parts(spread, "pairs")),
        sorted_lines(&file("pairs.jsonl")),
        "pairs: {what}"
    );
    let (one, many) = (report(alone), report(spread));
    assert_eq!(one["counts"], many["counts"], "counts: {what}");
}

/// Asserts that two distributed runs wrote the same parts and counts.
fn assert_same_parts(one: &Path, other: &Path, what: &str) {
    assert_eq!(
        record_outputs(one),
        record_outputs(other),
        "record outputs: {what}"
    );
    for kind in ["clusters", "pairs"] {
        assert_eq!(
            joined_parts(one, kind),
            joined_parts(other, kind),
            "{kind}: {what}"
        );
    }
    assert_eq!(
        report(one)["counts"],
        report(other)["counts"],
        "counts: {what}"
    );
}

/// A folder of JSONL files and plain-text articles whose records repeat
/// across files, in `dir/mixed`.
fn mixed_folder(dir: &Path) -> PathBuf {
    let folder = dir.join("mixed");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let a = head(dir, "paragraph", 0, 150);
    let b = head(dir, "paragraph", 150, 150);
    std::fs::rename(a, folder.join("a.jsonl")).expect("move");
    std::fs::rename(b, folder.join("b.jsonl")).expect("move");
    let article = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/korean-news-article.txt");
    std::fs::copy(&article, folder.join("c.txt")).expect("copy");
    std::fs::copy(&article, folder.join("d.txt")).expect("copy");
    folder
}

#[test]
fn record_outputs_in_every_format_and_mode_match_one_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = mixed_folder(dir.path());
    let cases: [&[&str]; 7] = [
        &[],
        &["--unit", "paragraph"],
        &["--output-format", "jsonl.gz"],
        &["--output-format", "parquet", "--unit", "paragraph"],
        &["--mode", "annotate"],
        &[
            "--mode",
            "annotate",
            "--unit",
            "paragraph",
            "--output-format",
            "jsonl.zst",
        ],
        &["--single-output", "--output-format", "parquet"],
    ];
    for extra in cases {
        let what = format!("{extra:?}");
        let name = what.replace(|c: char| !c.is_ascii_alphanumeric(), "");
        let alone = dir.path().join(format!("{name}-single"));
        run_single(&[&input], &alone, extra);
        let spread = dir.path().join(format!("{name}-spread"));
        run_cluster(&[&input], &spread, 2, extra);
        assert_same_outputs(&alone, &spread, &what);
        assert_eq!(
            report(&alone)["outputs"],
            report(&spread)["outputs"]
                .as_array()
                .expect("outputs")
                .iter()
                .map(|o| {
                    let mut o = o.clone();
                    o.as_object_mut().expect("object").remove("worker");
                    o
                })
                .collect::<Value>(),
            "outputs listed: {what}"
        );
    }
}

#[test]
fn every_algorithm_unit_kind_and_cluster_rule_matches_one_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = head(dir.path(), "paragraph", 0, 400);
    let mut found_duplicates = 0;
    for algo in ["minhash", "simhash", "exact"] {
        for unit in ["article", "paragraph"] {
            for cluster in ["star", "components"] {
                let what = format!("{algo}, {unit}, {cluster}");
                let name = what.replace(", ", "-");
                let extra = ["--algo", algo, "--unit", unit, "--cluster", cluster];
                let alone = dir.path().join(format!("{name}-single"));
                run_single(&[&input], &alone, &extra);
                let spread = dir.path().join(format!("{name}-spread"));
                run_cluster(&[&input], &spread, 2, &extra);
                assert_same_outputs(&alone, &spread, &what);
                found_duplicates += report(&alone)["counts"]["duplicate_units"]
                    .as_u64()
                    .expect("count");
            }
        }
    }
    assert!(
        found_duplicates > 100,
        "{found_duplicates} duplicates in all"
    );
}

/// A labelled corpus's first `lines` records with a `meta.score` field: a
/// number for most records, null for some, absent for others.
fn with_scores(dir: &Path, name: &str, lines: usize) -> PathBuf {
    let text = std::fs::read_to_string(head(dir, name, 0, lines)).expect("head");
    let scored: String = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut record: Value = serde_json::from_str(line).expect("record");
            if i % 7 != 0 {
                let score = if i % 11 == 0 {
                    Value::Null
                } else {
                    ((i * 7919) % 1000).into()
                };
                record["meta"] = serde_json::json!({ "score": score });
            }
            format!("{record}\n")
        })
        .collect();
    let path = dir.join(format!("{name}-scored-{lines}.jsonl"));
    std::fs::write(&path, scored).expect("write");
    path
}

#[test]
fn keep_policies_match_one_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = with_scores(dir.path(), "paragraph", 400);
    let mut dropped = 0;
    for keep in ["longest", "max:meta.score", "drop-all"] {
        for (unit, cluster) in [
            ("article", "star"),
            ("paragraph", "star"),
            ("article", "components"),
        ] {
            let what = format!("--keep {keep}, {unit}, {cluster}");
            let name = format!("{keep}-{unit}-{cluster}").replace(':', "-");
            let extra = ["--keep", keep, "--unit", unit, "--cluster", cluster];
            let alone = dir.path().join(format!("{name}-single"));
            run_single(&[&input], &alone, &extra);
            let spread = dir.path().join(format!("{name}-spread"));
            run_cluster(&[&input], &spread, 2, &extra);
            assert_same_outputs(&alone, &spread, &what);
            if keep == "drop-all" {
                dropped += report(&alone)["counts"]["duplicate_units"]
                    .as_u64()
                    .expect("count");
            }
        }
    }
    assert!(dropped > 100, "{dropped} units dropped in all");
}

#[test]
fn against_and_save_index_work_distributed_as_in_one_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let earlier = head(dir.path(), "article", 0, 300);
    let later = head(dir.path(), "article", 300, 300);
    let index = dir.path().join("earlier.ndx");
    run_single(
        &[&earlier],
        &dir.path().join("index-out"),
        &["--save-index", index.to_str().expect("path")],
    );
    let mut saved = Vec::new();
    for (name, distributed) in [("single", false), ("spread", true)] {
        let out = dir.path().join(name);
        let grown = dir.path().join(format!("{name}.ndx"));
        let extra = [
            "--against",
            index.to_str().expect("path"),
            "--save-index",
            grown.to_str().expect("path"),
        ];
        if distributed {
            run_cluster(&[&later], &out, 2, &extra);
        } else {
            run_single(&[&later], &out, &extra);
        }
        saved.push(std::fs::read(&grown).expect("saved index"));
    }
    let (alone, spread) = (dir.path().join("single"), dir.path().join("spread"));
    assert_same_outputs(&alone, &spread, "--against, --save-index");
    assert_eq!(saved[0], saved[1], "the saved indexes differ");
    // The later half repeats earlier articles: some are flagged as indexed.
    let clusters = String::from_utf8(joined_parts(&spread, "clusters")).expect("UTF-8");
    assert!(
        clusters.contains("\"indexed_match\""),
        "no unit matched the index"
    );
    // Saving the same units again is refused on every process.
    let again = dir.path().join("again");
    let grown = dir.path().join("spread.ndx");
    let hostfile = hostfile_for(&again, 2);
    let children: Vec<Child> = (0..2)
        .map(|p| {
            std::process::Command::new(bin())
                .arg("dedup")
                .arg(&later)
                .arg("--out")
                .arg(&again)
                .args(["--quiet", "--id-field", "id"])
                .args(["--processes", "2", "--process", &p.to_string()])
                .arg("--hostfile")
                .arg(&hostfile)
                .arg("--against")
                .arg(&grown)
                .arg("--save-index")
                .arg(&grown)
                .stderr(Stdio::piped())
                .spawn()
                .expect("start")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("are already in the index"),
            "stderr: {stderr}"
        );
    }
    assert_eq!(std::fs::read(&grown).expect("index"), saved[1]);
    assert!(!again.join("report.json").exists());
}

#[test]
fn a_restarted_distributed_run_takes_later_stages_from_each_workers_checkpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dataset("article");
    let work = dir.path().join("work");
    let extra = [
        "--work-dir",
        work.to_str().expect("path"),
        "--keep-work",
        "--shard-size",
        "64KB",
    ];
    let first = dir.path().join("first");
    run_cluster(&[&input], &first, 2, &extra);
    assert_eq!(
        report(&first)["resumed"]["stages_reused"],
        serde_json::json!([])
    );

    // Every worker has its checkpoints: the rerun reuses every stage.
    let second = dir.path().join("second");
    run_cluster(&[&input], &second, 2, &extra);
    let resumed = &report(&second)["resumed"];
    assert_eq!(
        resumed["stages_reused"],
        serde_json::json!(["candidates", "edges"])
    );
    assert_eq!(resumed["shards_reused"], resumed["shards"]);
    assert_same_parts(&first, &second, "rerun");

    // One worker lost its verified edges (as if killed while verifying): every
    // worker verifies again, from the candidates they all kept.
    let edges: Vec<PathBuf> = walk(&work)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "edges"))
        .collect();
    assert_eq!(edges.len(), 4, "one edges checkpoint per worker: {edges:?}");
    std::fs::remove_file(&edges[1]).expect("remove");
    let third = dir.path().join("third");
    run_cluster(&[&input], &third, 2, &extra);
    let resumed = &report(&third)["resumed"];
    assert_eq!(resumed["stages_reused"], serde_json::json!(["candidates"]));
    assert_same_parts(&first, &third, "rerun without one worker's edges");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_distributed_run_killed_after_its_candidates_resumes_from_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Eight renamed copies of the article corpus: verification has many
    // pairs, so the run is still verifying when the candidates are saved.
    let input = dir.path().join("big.jsonl");
    let text = std::fs::read_to_string(dataset("article")).expect("dataset");
    let mut big = String::new();
    for copy in 0..8 {
        for line in text.lines() {
            let mut record: Value = serde_json::from_str(line).expect("record");
            record["id"] = format!("{copy}-{}", record["id"]).into();
            big.push_str(&record.to_string());
            big.push('\n');
        }
    }
    std::fs::write(&input, big).expect("write");
    let out = dir.path().join("out");
    let work = dir.path().join("work");
    let hostfile = hostfile_for(&out, 2);
    let start = |process: usize| {
        std::process::Command::new(bin())
            .arg("dedup")
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .args(["--quiet", "--id-field", "id", "--shard-size", "64KB"])
            .args(["--processes", "2", "--process", &process.to_string()])
            .arg("--hostfile")
            .arg(&hostfile)
            .arg("--work-dir")
            .arg(&work)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start")
    };
    let survivor = start(0);
    let mut victim = start(1);
    let saved = [
        work.join("process-00000/worker-00000/candidates"),
        work.join("process-00001/worker-00001/candidates"),
    ];
    let started = std::time::Instant::now();
    let mut killed = false;
    while started.elapsed() < std::time::Duration::from_secs(120) {
        if victim.try_wait().expect("poll").is_some() {
            break; // the run finished before the kill
        }
        if saved.iter().all(|p| p.exists()) {
            victim.kill().expect("SIGKILL");
            killed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    victim.wait().expect("reap");
    let output = survivor.wait_with_output().expect("survivor");
    if killed {
        assert!(!output.status.success(), "process 0 succeeded alone");
        assert!(!out.join("report.json").exists());
    }

    // Started again, both processes take their candidates back.
    let work_arg = work.to_str().expect("path");
    run_processes(
        &[&input],
        &out,
        2,
        &hostfile,
        &["--shard-size", "64KB", "--work-dir", work_arg],
    );
    if killed {
        let resumed = &report(&out)["resumed"];
        let stages = resumed["stages_reused"].to_string();
        assert!(stages.contains("candidates"), "stages reused: {stages}");
        assert_eq!(resumed["shards_reused"], resumed["shards"]);
    } else {
        eprintln!("the first run finished before the kill");
    }
    let alone = dir.path().join("single");
    run_single(&[&input], &alone, &["--shard-size", "64KB"]);
    assert_same_outputs(&alone, &out, "killed after candidates, resumed");
}
