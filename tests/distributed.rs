//! End-to-end tests of distributed runs: 2 and 3 processes on 127.0.0.1 give the
//! single-process run's clusters, deduplicated corpus and pairs, for MinHash and
//! SimHash; a process killed mid-run, a process that never starts, bad input in
//! one process's share and processes given different inputs all end the run
//! with a clear error and no `report.json`. Processes started as a launcher
//! starts them (Slurm tasks; MPI ranks meeting at a rendezvous), without
//! `--processes` or `--process`, give the same clusters.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

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

/// A hostfile of `processes` free loopback ports (tests run in parallel, so
/// each cluster gets its own).
fn hostfile(dir: &Path, processes: usize) -> PathBuf {
    let listeners: Vec<TcpListener> = (0..processes)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("free port"))
        .collect();
    let lines: String = listeners
        .iter()
        .map(|l| format!("127.0.0.1:{}\n", l.local_addr().expect("address").port()))
        .collect();
    let path = dir.join(format!("hosts-{}", lines.len()));
    std::fs::write(&path, format!("# one line per process\n{lines}")).expect("hostfile");
    path
}

fn single(input: &Path, out: &Path, extra: &[&str]) {
    Command::new(bin())
        .arg("dedup")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--id-field", "id"])
        .args(extra)
        .assert()
        .success();
}

fn start(
    input: &Path,
    out: &Path,
    hosts: &Path,
    processes: usize,
    process: usize,
    extra: &[&str],
) -> Child {
    std::process::Command::new(bin())
        .arg("dedup")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--id-field", "id"])
        .args(["--processes", &processes.to_string()])
        .args(["--process", &process.to_string()])
        .arg("--hostfile")
        .arg(hosts)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start process")
}

/// Runs every process of a cluster to the end.
fn cluster(input: &Path, out: &Path, processes: usize, extra: &[&str]) -> Vec<Output> {
    let hosts = hostfile(out.parent().expect("parent"), processes);
    let children: Vec<Child> = (0..processes)
        .map(|p| start(input, out, &hosts, processes, p, extra))
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect()
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

fn sorted_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort_unstable();
    lines
}

fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
        .expect("JSON")
}

/// Runs the single-process and the distributed run (with `extra` too, and
/// `distributed` only for the latter) and compares their outputs.
fn same_as_single(dataset_name: &str, processes: usize, extra: &[&str], distributed: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dataset(dataset_name);
    let alone = dir.path().join("single");
    single(&input, &alone, extra);
    let spread = dir.path().join("distributed");
    let all: Vec<&str> = extra.iter().chain(distributed).copied().collect();
    let outputs = cluster(&input, &spread, processes, &all);
    for (p, output) in outputs.iter().enumerate() {
        assert!(
            output.status.success(),
            "process {p} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let what = format!("{dataset_name}, {processes} processes, {all:?}");
    let clusters = std::fs::read(alone.join("clusters.jsonl")).expect("clusters");
    assert_eq!(
        joined_parts(&spread, "clusters"),
        clusters,
        "clusters: {what}"
    );
    let records = record_outputs(&alone);
    assert!(!records.is_empty(), "record outputs: {what}");
    assert_eq!(record_outputs(&spread), records, "record outputs: {what}");
    let pairs = std::fs::read(alone.join("pairs.jsonl")).expect("pairs");
    let spread_pairs = joined_parts(&spread, "pairs");
    assert_eq!(
        sorted_lines(&spread_pairs),
        sorted_lines(&pairs),
        "pairs: {what}"
    );

    // The run found duplicates, so the comparison means something.
    let single_report = report(&alone);
    let distributed_report = report(&spread);
    assert!(
        single_report["counts"]["duplicate_units"]
            .as_u64()
            .expect("count")
            > 10
    );
    for count in [
        "records",
        "units",
        "clusters",
        "duplicate_clusters",
        "duplicate_units",
        "edges",
    ] {
        assert_eq!(
            distributed_report["counts"][count], single_report["counts"][count],
            "{count}: {what}"
        );
    }
    let info = &distributed_report["distributed"];
    assert_eq!(info["processes"], processes, "{what}");
    // Only traffic between processes is counted.
    let exchanged = info["exchanged_bytes_total"].as_u64().expect("bytes");
    assert_eq!(exchanged > 0, processes > 1, "{what}: {exchanged} bytes");
    // Every process wrote its parts, and nothing is left half-written.
    for name in names_in(&spread) {
        assert!(!name.contains(".tmp"), "left {name}");
    }
}

/// The names of the entries of folder `dir`.
fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn two_processes_leave_out_what_is_omitted_and_write_the_rest_as_one_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dataset("article");
    let extra = ["--unit", "paragraph", "--omit", "pairs,removed"];
    let alone = dir.path().join("single");
    single(&input, &alone, &extra);
    let spread = dir.path().join("distributed");
    for (p, output) in cluster(&input, &spread, 2, &extra).iter().enumerate() {
        assert!(
            output.status.success(),
            "process {p} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(!alone.join("pairs.jsonl").exists());
    assert!(!alone.join("removed.jsonl").exists());
    for name in names_in(&spread) {
        assert!(
            !name.starts_with("pairs") && !name.starts_with("removed"),
            "wrote {name}"
        );
    }
    assert_eq!(
        joined_parts(&spread, "clusters"),
        std::fs::read(alone.join("clusters.jsonl")).expect("clusters")
    );
    let records = record_outputs(&alone);
    assert!(!records.is_empty());
    assert_eq!(record_outputs(&spread), records);
    let written = report(&spread);
    assert_eq!(
        written["output"]["omit"],
        serde_json::json!(["pairs", "removed"])
    );
    // The report lists the parts there are, and only those.
    for names in written["distributed"]["parts"].as_array().expect("parts") {
        for name in names.as_array().expect("names") {
            let name = name.as_str().expect("a name");
            assert!(name.starts_with("clusters-"), "listed {name}");
            assert!(spread.join(name).exists(), "listed {name}, not written");
        }
    }
}

#[test]
fn two_processes_give_single_process_clusters_minhash() {
    same_as_single("article", 2, &[], &[]);
}

#[test]
fn three_processes_give_single_process_clusters_minhash() {
    same_as_single("article", 3, &[], &[]);
    // A tiny budget: bands are bucketed one pass at a time and attached pairs
    // verified in many rounds.
    same_as_single("article", 3, &[], &["--memory-budget", "64KB"]);
}

#[test]
fn two_processes_give_single_process_clusters_simhash() {
    same_as_single("article", 2, &["--algo", "simhash"], &[]);
}

#[test]
fn three_processes_give_single_process_clusters_simhash() {
    same_as_single(
        "article",
        3,
        &["--algo", "simhash", "--verify", "exact"],
        &[],
    );
}

#[test]
fn simhash_with_fewer_block_tables_than_workers() {
    // Radius 3 takes 4 tables; 3 processes x 2 workers split each table's keys.
    same_as_single(
        "article",
        3,
        &["--algo", "simhash", "--hamming", "3"],
        &["--workers", "2"],
    );
}

#[test]
fn one_process_with_several_workers_gives_single_process_clusters() {
    same_as_single("article", 1, &[], &["--workers", "3"]);
}

#[test]
fn paragraphs_with_several_workers_per_process_and_small_shards() {
    same_as_single(
        "paragraph",
        2,
        &["--unit", "paragraph"],
        &["--workers", "2", "--shard-size", "64KB"],
    );
    same_as_single(
        "paragraph",
        3,
        &["--unit", "paragraph", "--algo", "exact"],
        &[],
    );
}

/// Waits for `child` for at most a minute.
fn wait_bounded(mut child: Child, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("poll").is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "{what} hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn a_process_killed_mid_run_fails_the_run_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A bigger input, in many small shards, so the run is surely mid-way when
    // process 1 has saved its first shard.
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
    let hosts = hostfile(dir.path(), 2);
    let extra = ["--shard-size", "16KB"];
    let survivor = start(&input, &out, &hosts, 2, 0, &extra);
    let mut victim = start(&input, &out, &hosts, 2, 1, &extra);
    let shards = out.join(".neardedup-work/process-00001/worker-00001");
    let started = Instant::now();
    loop {
        let saved = std::fs::read_dir(&shards)
            .map(|d| {
                // A complete checkpoint: written under a `.partial-` name
                // first, then renamed.
                d.filter_map(|e| e.ok()).any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.starts_with("shard-") && !name.contains(".partial")
                })
            })
            .unwrap_or(false);
        if saved {
            break;
        }
        assert!(
            victim.try_wait().expect("poll").is_none(),
            "process 1 ended before it was killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "process 1 saved no shard"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    victim.kill().expect("SIGKILL");
    victim.wait().expect("reap");
    let output = wait_bounded(survivor, "process 0 after its peer was killed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "process 0 succeeded alone: {stderr}"
    );
    assert!(
        stderr.contains("process 0 lost its connection to another process"),
        "unclear message: {stderr}"
    );
    assert!(
        !out.join("report.json").exists(),
        "a report vouches for a failed run"
    );

    // Started again, the run reuses the shards both processes had saved and
    // gives the single-process result.
    let outputs = cluster(&input, &out, 2, &extra);
    for (p, output) in outputs.iter().enumerate() {
        assert!(
            output.status.success(),
            "restarted process {p} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let alone = dir.path().join("single");
    single(&input, &alone, &[]);
    assert_eq!(
        joined_parts(&out, "clusters"),
        std::fs::read(alone.join("clusters.jsonl")).expect("clusters")
    );
    let resumed = &report(&out)["resumed"];
    assert!(
        resumed["shards_reused"].as_u64().expect("reused") > 0,
        "{resumed}"
    );
}

#[test]
fn a_process_that_never_starts_times_out_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let hosts = hostfile(dir.path(), 2);
    let alone = start(
        &dataset("article"),
        &out,
        &hosts,
        2,
        0,
        &["--connect-timeout", "1"],
    );
    let output = wait_bounded(alone, "a process whose peer never starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("not every process of the run connected within 1s"),
        "{stderr}"
    );
    assert!(!out.join("report.json").exists());
}

#[test]
fn bad_input_in_one_share_stops_every_process_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("bad.jsonl");
    let text = std::fs::read_to_string(dataset("article")).expect("dataset");
    let lines: Vec<&str> = text.lines().collect();
    // A broken record near the end: in the last process's share.
    let bad_line = lines.len() - 3;
    let mut broken = String::new();
    for (i, line) in lines.iter().enumerate() {
        broken.push_str(if i + 1 == bad_line {
            "{\"id\": 1, \"text\": oops}"
        } else {
            line
        });
        broken.push('\n');
    }
    std::fs::write(&input, broken).expect("write");
    let out = dir.path().join("out");
    let outputs = cluster(&input, &out, 3, &[]);
    let expected = format!("bad.jsonl:{bad_line}");
    for (p, output) in outputs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "process {p} succeeded");
        assert!(
            stderr.contains(&expected),
            "process {p} does not name {expected}: {stderr}"
        );
    }
    let peer = String::from_utf8_lossy(&outputs[0].stderr);
    assert!(
        peer.contains("worker 2 of this distributed run failed in the sketch stage"),
        "{peer}"
    );
    assert!(!out.join("report.json").exists());
}

#[test]
fn processes_given_different_inputs_refuse_to_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let hosts = hostfile(dir.path(), 2);
    let a = start(&dataset("article"), &out, &hosts, 2, 0, &[]);
    let b = start(
        &dataset("article"),
        &out,
        &hosts,
        2,
        1,
        &["--threshold", "0.5"],
    );
    for (p, child) in [a, b].into_iter().enumerate() {
        let output = wait_bounded(child, "processes with different settings");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "process {p} ran");
        assert!(
            stderr.contains("sees different inputs or settings"),
            "{stderr}"
        );
    }
}

#[test]
fn a_bad_hostfile_is_refused_before_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1:4000\nnot-an-address\n").expect("write");
    Command::new(bin())
        .arg("dedup")
        .arg(dataset("article"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--processes", "2", "--process", "0", "--hostfile"])
        .arg(&hosts)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "hosts:2: expected one host:port address",
        ));
    Command::new(bin())
        .arg("dedup")
        .arg(dataset("article"))
        .args(["--processes", "2", "--process", "2"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--process 2 is out of range"));
}

#[test]
fn skipped_records_are_counted_and_named_as_in_one_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("skip.jsonl");
    let text = std::fs::read_to_string(dataset("article")).expect("dataset");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[100] = "{\"id\": 5, \"text\": broken";
    let last = lines.len() - 20;
    lines[last] = "not json at all";
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let alone = dir.path().join("single");
    single(&input, &alone, &["--skip-invalid"]);
    let spread = dir.path().join("distributed");
    for output in cluster(&input, &spread, 3, &["--skip-invalid"]) {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        joined_parts(&spread, "clusters"),
        std::fs::read(alone.join("clusters.jsonl")).expect("clusters")
    );
    let expected = &report(&alone)["invalid_records"];
    assert_eq!(expected["count"], 2);
    assert_eq!(&report(&spread)["invalid_records"], expected);
}

/// A base port with `count` free ports from it (tests run in parallel, so each
/// cluster gets its own).
fn free_ports(count: usize) -> u16 {
    for _ in 0..100 {
        let first = TcpListener::bind("127.0.0.1:0").expect("free port");
        let base = first.local_addr().expect("address").port();
        if usize::from(base) + count > usize::from(u16::MAX) {
            continue;
        }
        let rest: Vec<_> = (1..count as u16)
            .map(|i| TcpListener::bind(("127.0.0.1", base + i)))
            .collect();
        if rest.iter().all(Result::is_ok) {
            return base;
        }
    }
    panic!("no {count} consecutive free ports");
}

/// Runs `processes` processes of the binary with no --processes or --process:
/// each gets `env(i)` and `extra`, as a cluster launcher would start them.
fn launched(
    input: &Path,
    out: &Path,
    processes: usize,
    env: impl Fn(usize) -> Vec<(String, String)>,
    extra: &[&str],
) -> Vec<Output> {
    let children: Vec<Child> = (0..processes)
        .map(|i| {
            std::process::Command::new(bin())
                .arg("dedup")
                .arg(input)
                .arg("--out")
                .arg(out)
                .args(["--id-field", "id"])
                .args(extra)
                .envs(env(i))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start process")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect()
}

/// The launched run's clusters equal the single-process run's, and every
/// process said where its place came from.
fn launched_same_as_single(outputs: &[Output], spread: &Path, input: &Path, source: &str) {
    for (p, output) in outputs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "process {p} failed: {stderr}");
        let said = format!("neardedup: process {p} of {} {source}", outputs.len());
        assert!(
            stderr.contains(&said),
            "process {p} did not say {said:?}: {stderr}"
        );
    }
    let alone = spread.parent().expect("parent").join("single");
    single(input, &alone, &[]);
    assert_eq!(
        joined_parts(spread, "clusters"),
        std::fs::read(alone.join("clusters.jsonl")).expect("clusters")
    );
    assert_eq!(report(spread)["distributed"]["processes"], outputs.len());
}

#[test]
fn three_slurm_tasks_give_single_process_clusters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dataset("article");
    let spread = dir.path().join("distributed");
    let base = free_ports(3).to_string();
    let slurm = |i: usize| {
        [
            ("SLURM_NTASKS", "3".to_string()),
            ("SLURM_PROCID", i.to_string()),
            ("SLURM_JOB_NODELIST", "localhost".to_string()),
            ("SLURM_TASKS_PER_NODE", "3".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    };
    let outputs = launched(&input, &spread, 3, slurm, &["--base-port", &base]);
    launched_same_as_single(&outputs, &spread, &input, "from Slurm");
}

#[test]
fn three_mpi_ranks_meet_at_a_rendezvous_and_give_single_process_clusters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dataset("article");
    let spread = dir.path().join("distributed");
    let rendezvous = format!("127.0.0.1:{}", free_ports(1));
    let mpi = |i: usize| {
        vec![
            ("OMPI_COMM_WORLD_SIZE".to_string(), "3".to_string()),
            ("OMPI_COMM_WORLD_RANK".to_string(), i.to_string()),
        ]
    };
    let outputs = launched(&input, &spread, 3, mpi, &["--rendezvous", &rendezvous]);
    launched_same_as_single(&outputs, &spread, &input, "from Open MPI");
}

#[test]
fn a_rendezvous_missing_a_process_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rendezvous = format!("127.0.0.1:{}", free_ports(1));
    let mpi = |i: usize| {
        vec![
            ("OMPI_COMM_WORLD_SIZE".to_string(), "3".to_string()),
            ("OMPI_COMM_WORLD_RANK".to_string(), i.to_string()),
        ]
    };
    // Processes 0 and 1 of 3 start; process 2 never does.
    let outputs = launched(
        &dataset("article"),
        &dir.path().join("out"),
        2,
        mpi,
        &["--rendezvous", &rendezvous, "--connect-timeout", "2"],
    );
    for (p, output) in outputs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "process {p} ran");
        assert!(
            stderr.contains("process(es) 2 of 3 did not arrive in time"),
            "process {p}: {stderr}"
        );
    }
}
