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
        let deduped = std::fs::read_to_string(out.join("deduped/ids.jsonl")).expect("deduped");
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

/// `count` distinct one-line JSONL records with ids `id-0`, `id-1`, ...
fn jsonl_records(count: usize, first: usize) -> String {
    (first..first + count)
        .map(|i| format!("{{\"id\":\"id-{i}\",\"text\":\"record {i} says {ARTICLE} {i}\"}}\n"))
        .collect()
}

#[cfg(unix)]
#[test]
fn symlinked_files_and_folders_in_a_directory_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = write(
        &dir.path().join("elsewhere/crawl.jsonl"),
        jsonl_records(50, 0),
    );
    write(
        &dir.path().join("elsewhere/more/b.jsonl"),
        jsonl_records(5, 50),
    );
    let input = dir.path().join("in");
    write(&input.join("a.jsonl"), jsonl_records(1, 100));
    std::os::unix::fs::symlink(&elsewhere, input.join("crawl.jsonl")).expect("symlink");
    std::os::unix::fs::symlink(dir.path().join("elsewhere/more"), input.join("more"))
        .expect("symlink");
    let out = dir.path().join("out");
    let (stdout, _) = run_ok(&out, &[os("--id-field"), os("id"), input.as_os_str()]);
    let report = read_report(&out);
    assert_eq!(report["counts"]["records"], 56, "{stdout}");
    assert_eq!(report["inputs"].as_array().map(Vec::len), Some(3));
}

#[cfg(unix)]
#[test]
fn dangling_links_and_link_loops_in_a_directory_are_errors_naming_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    write(&input.join("a.txt"), ARTICLE);
    std::os::unix::fs::symlink(dir.path().join("gone.txt"), input.join("b.txt")).expect("link");
    run_fails(
        &[input.as_os_str()],
        "b.txt: dangling symbolic link: its target",
    );
    std::fs::remove_file(input.join("b.txt")).expect("rm");
    std::os::unix::fs::symlink(&input, input.join("loop")).expect("link");
    run_fails(
        &[input.as_os_str()],
        "loop: symbolic link loop: it leads back to",
    );
    run_fails(
        &[os("--skip-invalid"), input.as_os_str()],
        "loop: symbolic link loop",
    );
}

#[test]
fn damaged_compressed_files_in_a_directory_are_errors_unless_skipped_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    write(
        &input.join("a.jsonl.gz"),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    );
    write(
        &input.join("b.jsonl.zst"),
        b"\x28\xb5\x2f\xfd\x04\x58\x00\x00",
    );
    write(&input.join("c.jsonl"), b"\x28\xb5\x2f\xfd\x04\x58\x00\x00");
    write(&input.join("README.txt"), ARTICLE);
    let stderr = run_fails(
        &[input.as_os_str()],
        "a.jsonl.gz: the gzip stream is cut short (truncated) after 0 bytes of decompressed text",
    );
    assert!(!stderr.contains("README"), "{stderr}");
    let out = dir.path().join("out");
    let (stdout, stderr) = run_ok(&out, &[os("--skip-invalid"), input.as_os_str()]);
    assert!(
        stderr.contains("skipped 3 input file(s) that cannot be read as text"),
        "{stderr}"
    );
    assert!(stderr.contains("b.jsonl.zst (the zstd stream"), "{stderr}");
    assert!(
        stdout.contains("0 empty file(s), 3 unreadable file(s)"),
        "{stdout}"
    );
    let report = read_report(&out);
    assert_eq!(report["skipped_files"]["count"], 3);
    assert_eq!(report["counts"]["records"], 1, "README.txt");
}

#[test]
fn a_file_that_cannot_be_opened_in_a_directory_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    write(&input.join("a.txt"), ARTICLE);
    let locked = write(&input.join("b.txt"), ARTICLE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    }
    if std::fs::File::open(&locked).is_ok() {
        return; // privileged (root): every file opens
    }
    run_fails(
        &[os("--skip-invalid"), input.as_os_str()],
        "b.txt: Permission denied",
    );
}

#[test]
fn duplicate_ids_are_an_error_naming_both_records_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(&dir.path().join("a.jsonl"), jsonl_records(3, 0));
    let b = write(
        &dir.path().join("b.jsonl"),
        format!(
            "{}{{\"id\":\"id-1\",\"text\":\"other words entirely\"}}\n",
            jsonl_records(1, 7)
        ),
    );
    let args = [os("--id-field"), os("id"), a.as_os_str(), b.as_os_str()];
    let stderr = run_fails(&args, "b.jsonl:2: duplicate id \"id-1\":");
    assert!(stderr.contains("a.jsonl:2 has it too"), "{stderr}");
    let out = dir.path().join("out");
    let mut allowed = args.to_vec();
    allowed.push(os("--allow-duplicate-ids"));
    let (stdout, stderr) = run_ok(&out, &allowed);
    assert!(
        stderr.contains("1 record(s) have the id of an earlier record"),
        "{stderr}"
    );
    assert!(stdout.contains("duplicate ids    1 record(s)"), "{stdout}");
    assert_eq!(read_report(&out)["counts"]["duplicate_ids"], 1);
}

#[test]
fn a_file_given_twice_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    let a = write(&input.join("a.jsonl"), jsonl_records(3, 0));
    run_fails(&[a.as_os_str(), a.as_os_str()], "a.jsonl: is given twice");
    run_fails(
        &[input.as_os_str(), a.as_os_str()],
        "its records would be compared with themselves",
    );
    #[cfg(unix)]
    {
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&a, &link).expect("symlink");
        run_fails(
            &[a.as_os_str(), link.as_os_str()],
            "link.jsonl: is the same file as",
        );
    }
}

#[test]
fn input_with_no_records_is_an_error_saying_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blank = write(&dir.path().join("blank.jsonl"), "\n  \n\r\n\n");
    run_fails(&[blank.as_os_str()], "no records to deduplicate in");
    run_fails(&[blank.as_os_str()], "blank.jsonl: every line is blank");
    let bad = write(&dir.path().join("bad.jsonl"), "not json\n{\"body\":1}\n");
    let stderr = run_fails(
        &[os("--skip-invalid"), bad.as_os_str()],
        "all 2 record(s) could not be read and were skipped (--skip-invalid)",
    );
    assert!(
        stderr.contains("bad.jsonl:1: invalid JSON record"),
        "{stderr}"
    );
}

#[test]
fn a_leading_byte_order_mark_is_passed_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jsonl = write(
        &dir.path().join("bom.jsonl"),
        format!("\u{feff}{{\"text\":\"{ARTICLE}\"}}\n{{\"text\":\"{ARTICLE}\"}}\n"),
    );
    let text = write(&dir.path().join("bom.txt"), format!("\u{feff}{ARTICLE}"));
    let plain = write(&dir.path().join("plain.txt"), ARTICLE);
    let out = dir.path().join("out");
    run_ok(&out, &[jsonl.as_os_str()]);
    let report = read_report(&out);
    assert_eq!(report["counts"]["records"], 2);
    assert_eq!(
        report["counts"]["duplicate_units"], 1,
        "the BOM is not text"
    );
    let deduped = std::fs::read(out.join("deduped/bom.jsonl")).expect("deduped");
    assert!(deduped.starts_with(b"{\"text\""), "no BOM copied out");

    let out = dir.path().join("out-skip");
    run_ok(&out, &[os("--skip-invalid"), jsonl.as_os_str()]);
    assert_eq!(read_report(&out)["invalid_records"]["count"], 0);

    let out = dir.path().join("out-text");
    run_ok(&out, &[text.as_os_str(), plain.as_os_str()]);
    assert_eq!(read_report(&out)["counts"]["duplicate_units"], 1);
}

#[test]
fn a_distributed_run_checks_ids_and_records_across_workers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut records = jsonl_records(400, 0);
    records.push_str("{\"id\":\"id-3\",\"text\":\"last words\"}\n");
    let input = write(&dir.path().join("a.jsonl"), records);
    let stderr = run_fails(
        &[
            os("--workers"),
            os("3"),
            os("--id-field"),
            os("id"),
            input.as_os_str(),
        ],
        "a.jsonl:401: duplicate id \"id-3\": ",
    );
    assert!(stderr.contains("a.jsonl:4 has it too"), "{stderr}");
    let out = dir.path().join("out");
    let (stdout, stderr) = run_ok(
        &out,
        &[
            os("--workers"),
            os("3"),
            os("--id-field"),
            os("id"),
            os("--allow-duplicate-ids"),
            input.as_os_str(),
        ],
    );
    assert!(
        stderr.contains("1 record(s) have the id of an earlier record"),
        "{stderr}"
    );
    assert!(stdout.contains("duplicate ids    1 record(s)"), "{stdout}");
    assert_eq!(read_report(&out)["counts"]["duplicate_ids"], 1);
    let blank = write(&dir.path().join("blank.jsonl"), "\n\n");
    let out = dir.path().join("out-blank");
    neardedup()
        .args(["dedup", "--workers", "2", "--out"])
        .arg(&out)
        .arg(&blank)
        .assert()
        .failure()
        .code(1)
        .stderr(contains("blank.jsonl: every line is blank"));
    assert!(!out.exists(), "a failed run leaves no output folder");
}

#[cfg(unix)]
#[test]
fn a_named_pipe_given_on_the_command_line_is_read_to_its_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("stream.jsonl");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo here
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(&fifo, jsonl_records(20, 0)).expect("write"))
    };
    let out = dir.path().join("out");
    run_ok(&out, &[fifo.as_os_str()]);
    writer.join().expect("writer");
    assert_eq!(read_report(&out)["counts"]["records"], 20);
}

/// More files than the kernel lets one process map (65,530 maps by default):
/// small files are read, not mapped.
#[test]
fn more_input_files_than_the_kernel_allows_maps_are_read() {
    const FILES: usize = 70_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    for i in 0..FILES {
        let sub = input.join(format!("{:03}", i % 100));
        if i < 100 {
            std::fs::create_dir_all(&sub).expect("mkdir");
        }
        std::fs::write(
            sub.join(format!("{i}.txt")),
            format!("article {i} {ARTICLE}"),
        )
        .expect("write");
    }
    let out = dir.path().join("out");
    run_ok(&out, &[os("--quiet"), input.as_os_str()]);
    let report = read_report(&out);
    assert_eq!(report["counts"]["records"], FILES);
    assert_eq!(report["inputs"].as_array().map(Vec::len), Some(FILES));
}
