//! The record outputs as a data pipeline sees them: one file per input under
//! its own name, in the format asked for (or the input's), every format
//! reading back as the JSONL output; annotate mode; the removed units; and a
//! run that fails while writing leaves no folder that looks complete.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use neardedup::output::format::{read_records, RecordFormat};
use serde_json::{json, Value};

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

const SHARED: &str =
    "the committee approved the new budget for the coming year after a long debate";
const OTHER: &str = "heavy rain is expected across the northern region for most of the weekend";
const THIRD: &str = "the museum opens a new wing dedicated to early photography next spring";

/// A folder with two JSONL files and two plain-text articles: `b.jsonl`
/// repeats a record of `a.jsonl`, `d.txt` repeats `c.txt`; paragraphs repeat
/// inside and across records.
fn mixed(dir: &Path) -> PathBuf {
    let folder = dir.join("in");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let record = |id: &str, text: String| json!({"id": id, "meta": {"n": 1.5}, "text": text});
    let a = [
        record("a1", format!("{SHARED}\n{OTHER}")),
        record("a2", THIRD.to_string()),
    ];
    let b = [
        record("b1", format!("{SHARED}\n{OTHER}")),
        record("b2", format!("{OTHER} and more rain")),
        record(
            "b3",
            format!("{THIRD}\nsomething else entirely, with its own words"),
        ),
    ];
    let lines =
        |records: &[Value]| -> String { records.iter().map(|r| format!("{r}\n")).collect() };
    std::fs::write(folder.join("a.jsonl"), lines(&a)).expect("write");
    std::fs::write(folder.join("b.jsonl"), lines(&b)).expect("write");
    std::fs::write(folder.join("c.txt"), format!("{OTHER}\n{THIRD}\n")).expect("write");
    std::fs::write(folder.join("d.txt"), format!("{OTHER}\n{THIRD}\n")).expect("write");
    folder
}

fn run(input: &Path, out: &Path, extra: &[&str]) {
    neardedup()
        .args(["dedup", "--quiet", "--algo", "exact", "--id-field", "id"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .arg(input)
        .assert()
        .success();
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                let relative = path.strip_prefix(root).expect("inside");
                into.insert(relative.to_string_lossy().into_owned());
            }
        }
    }
    let mut all = BTreeSet::new();
    walk(dir, dir, &mut all);
    all
}

fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
        .expect("JSON")
}

fn jsonl(path: &Path) -> Vec<Value> {
    read_records(path, RecordFormat::Jsonl).expect("JSONL")
}

#[test]
fn each_input_file_has_its_output_under_its_own_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = mixed(dir.path());
    let out = dir.path().join("out");
    run(&input, &out, &[]);
    let expected: BTreeSet<String> = [
        "clusters.jsonl",
        "pairs.jsonl",
        "report.json",
        "removed.jsonl",
        "deduped/a.jsonl",
        "deduped/b.jsonl",
        // d.txt repeats c.txt: removed, no file.
        "deduped/c.txt",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(files(&out), expected);
    // Kept JSONL records byte for byte; the kept article as it was.
    let a = std::fs::read_to_string(input.join("a.jsonl")).expect("a");
    assert_eq!(
        std::fs::read_to_string(out.join("deduped/a.jsonl")).expect("a out"),
        a
    );
    let b = jsonl(&out.join("deduped/b.jsonl"));
    let ids: Vec<&Value> = b.iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&json!("b2"), &json!("b3")], "b1 repeats a1");
    assert_eq!(
        std::fs::read(out.join("deduped/c.txt")).expect("c"),
        std::fs::read(input.join("c.txt")).expect("c in")
    );
    let outputs = &report(&out)["outputs"];
    assert_eq!(
        outputs,
        &json!([
            {"path": "deduped/a.jsonl", "records": 2},
            {"path": "deduped/b.jsonl", "records": 2},
            {"path": "deduped/c.txt", "records": 1},
            {"path": "removed.jsonl", "records": 2},
        ])
    );

    // One file when asked: the records of every input in order.
    let single = dir.path().join("single");
    run(&input, &single, &["--single-output"]);
    let all = jsonl(&single.join("deduped.jsonl"));
    assert_eq!(all.len(), 5);
    assert_eq!(all[4]["text"], format!("{OTHER}\n{THIRD}\n"));
    assert!(!single.join("deduped").exists());
}

#[test]
fn every_format_reads_back_as_the_jsonl_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = mixed(dir.path());
    for unit in ["article", "paragraph"] {
        let plain = dir.path().join(format!("{unit}-jsonl"));
        run(
            &input,
            &plain,
            &["--unit", unit, "--output-format", "jsonl"],
        );
        for (format, name) in [
            (RecordFormat::JsonlGz, "jsonl.gz"),
            (RecordFormat::JsonlZst, "jsonl.zst"),
            (RecordFormat::Parquet, "parquet"),
        ] {
            let out = dir.path().join(format!("{unit}-{name}"));
            run(&input, &out, &["--unit", unit, "--output-format", name]);
            for stem in ["deduped/a", "deduped/b", "deduped/c", "removed"] {
                let expected = jsonl(&plain.join(format!("{stem}.jsonl")));
                let path = out.join(format!("{stem}.{name}"));
                let back = read_records(&path, format).expect("reads back");
                assert_eq!(back, expected, "{unit}: {}", path.display());
            }
        }
    }
}

#[test]
fn a_gzip_input_in_a_subfolder_gives_a_gzip_output_of_the_same_name() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("2024")).expect("mkdir");
    let records = format!(
        "{}\n{}\n",
        json!({"id": 1, "text": SHARED}),
        json!({"id": 2, "text": SHARED})
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(records.as_bytes()).expect("gzip");
    std::fs::write(input.join("2024/x.jsonl.gz"), gz.finish().expect("gzip")).expect("write");
    let out = dir.path().join("out");
    run(&input, &out, &[]);
    let kept = read_records(&out.join("deduped/2024/x.jsonl.gz"), RecordFormat::JsonlGz)
        .expect("gzip output");
    assert_eq!(kept, [json!({"id": 1, "text": SHARED})]);
    let removed = jsonl(&out.join("removed.jsonl"));
    assert_eq!(removed[0]["file"], "2024/x.jsonl.gz");
}

#[test]
fn annotate_mode_writes_every_record_with_its_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = mixed(dir.path());
    let out = dir.path().join("article");
    run(&input, &out, &["--mode", "annotate"]);
    assert!(!out.join("deduped").exists());
    assert!(!out.join("removed.jsonl").exists(), "nothing is removed");
    let a = jsonl(&out.join("annotated/a.jsonl"));
    let b = jsonl(&out.join("annotated/b.jsonl"));
    assert_eq!(a.len() + b.len(), 5, "every record");
    assert_eq!(a[0]["meta"], json!({"n": 1.5}), "fields kept");
    assert_eq!(a[0]["duplicate"], false);
    assert_eq!(a[0]["cluster_size"], 2);
    assert_eq!(a[0]["kept_id"], "a1");
    assert_eq!(b[0]["duplicate"], true);
    assert_eq!(b[0]["cluster_id"], a[0]["cluster_id"]);
    assert_eq!(b[0]["cluster_size"], 2);
    assert_eq!(b[0]["kept_id"], "a1");
    assert_eq!(b[1]["duplicate"], false);
    assert_eq!(b[1]["cluster_size"], 1);
    assert_eq!(b[1]["kept_id"], "b2");
    // Plain-text articles become records, under their name.
    let c = jsonl(&out.join("annotated/c.jsonl"));
    let d = jsonl(&out.join("annotated/d.jsonl"));
    assert_eq!(c[0]["text"], format!("{OTHER}\n{THIRD}\n"));
    assert_eq!(
        (&c[0]["duplicate"], &d[0]["duplicate"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(d[0]["kept_id"], c[0]["id"]);

    // Paragraph units: one entry per paragraph of the record.
    let out = dir.path().join("paragraph");
    run(&input, &out, &["--mode", "annotate", "--unit", "paragraph"]);
    let a = jsonl(&out.join("annotated/a.jsonl"));
    let b = jsonl(&out.join("annotated/b.jsonl"));
    assert_eq!(a[0]["text"], format!("{SHARED}\n{OTHER}"), "text untouched");
    assert_eq!(a[0]["para"], json!([0, 1]));
    assert_eq!(a[0]["duplicate"], json!([false, false]));
    assert_eq!(b[0]["duplicate"], json!([true, true]));
    assert_eq!(b[0]["kept_id"], json!(["a1", "a1"]));
    assert_eq!(b[0]["kept_para"], json!([0, 1]));
    // THIRD: a2's only paragraph, b3's first, and in c.txt and d.txt.
    assert_eq!(a[1]["cluster_size"], json!([4]));
    assert_eq!(b[2]["duplicate"], json!([true, false]));
    assert_eq!(b[2]["cluster_id"][0], a[1]["cluster_id"][0]);
    let clusters = report(&out)["counts"]["clusters"].clone();
    assert!(clusters.as_u64().is_some_and(|c| c > 0));
}

#[test]
fn removed_units_name_the_unit_kept_in_their_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = mixed(dir.path());
    let out = dir.path().join("out");
    run(&input, &out, &["--unit", "paragraph"]);
    let removed = jsonl(&out.join("removed.jsonl"));
    // b1's two paragraphs (a1's), b3's first (a2's), c.txt's OTHER (a1's),
    // c.txt's THIRD (a2's), and all of d.txt.
    let first = &removed[0];
    assert_eq!(
        first,
        &json!({
            "file": "b.jsonl", "id": "b1", "para": 0,
            "kept_id": "a1", "kept_para": 0, "similarity": 1.0, "text": SHARED
        })
    );
    assert_eq!(removed[1]["text"], OTHER);
    assert_eq!(removed[2]["id"], "b3");
    assert_eq!(removed[2]["kept_id"], "a2");
    assert_eq!(removed[2]["text"], THIRD);
    assert!(removed.iter().all(|r| r["similarity"] == 1.0));
    assert_eq!(
        removed.len() as u64,
        report(&out)["counts"]["duplicate_units"]
    );
    // b1 lost every paragraph: dropped and counted; b3 keeps its second.
    let b = jsonl(&out.join("deduped/b.jsonl"));
    assert_eq!(b.len(), 2);
    assert_eq!(b[1]["text"], "something else entirely, with its own words");
    assert_eq!(report(&out)["deduped"]["records_dropped"], 3);
}

#[test]
fn omitted_outputs_are_not_written_and_the_others_are_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = mixed(dir.path());
    let full = dir.path().join("full");
    run(&input, &full, &["--unit", "paragraph"]);
    let every = files(&full);
    for name in ["clusters.jsonl", "pairs.jsonl", "removed.jsonl"] {
        assert!(every.contains(name), "{name} in {every:?}");
    }
    for (omit, gone) in [
        ("pairs,removed", &["pairs.jsonl", "removed.jsonl"][..]),
        ("clusters", &["clusters.jsonl"][..]),
        (
            "clusters,pairs,removed",
            &["clusters.jsonl", "pairs.jsonl", "removed.jsonl"][..],
        ),
    ] {
        // The folder holds a complete earlier run: what this run leaves out
        // must not be left behind from it either.
        let out = dir.path().join(format!("omit-{omit}"));
        run(&input, &out, &["--unit", "paragraph"]);
        run(&input, &out, &["--unit", "paragraph", "--omit", omit]);
        let written = files(&out);
        let expected: BTreeSet<String> = every
            .iter()
            .filter(|name| !gone.contains(&name.as_str()))
            .cloned()
            .collect();
        assert_eq!(written, expected, "--omit {omit}");
        for name in &written {
            if name != "report.json" {
                assert_eq!(
                    std::fs::read(out.join(name)).expect("output"),
                    std::fs::read(full.join(name)).expect("output"),
                    "{name} with --omit {omit}"
                );
            }
        }
        let omitted: Vec<&str> = omit.split(',').collect();
        assert_eq!(
            report(&out)["output"]["omit"],
            json!(omitted),
            "--omit {omit}"
        );
        assert_eq!(
            report(&out)["counts"],
            report(&full)["counts"],
            "--omit {omit}"
        );
    }
    assert!(report(&full)["output"].get("omit").is_none());
    // The review needs the clusters and pairs, and says why it cannot run.
    let review = neardedup()
        .arg("review")
        .arg(dir.path().join("omit-pairs,removed"))
        .arg("--out")
        .arg(dir.path().join("review.html"))
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&review.get_output().stderr).into_owned();
    assert!(stderr.contains("--omit pairs"), "{stderr}");
    assert!(!dir.path().join("review.html").exists());
}

#[test]
fn an_unknown_output_to_omit_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = mixed(dir.path());
    let out = dir.path().join("out");
    let refused = neardedup()
        .args(["dedup", "--quiet", "--omit", "pairs,report"])
        .arg("--out")
        .arg(&out)
        .arg(&input)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("report"), "{stderr}");
    assert!(!out.join("report.json").exists());
}

#[test]
fn a_run_that_fails_while_writing_leaves_no_complete_looking_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("clash.jsonl");
    // `m` is an object in one record and a number in another: no Parquet
    // schema holds both, which the writer finds only once it writes.
    std::fs::write(
        &input,
        format!(
            "{}\n{}\n",
            json!({"id": 1, "m": {"k": 1}, "text": SHARED}),
            json!({"id": 2, "m": 5, "text": OTHER})
        ),
    )
    .expect("write");
    let out = dir.path().join("out");
    run(&input, &out, &[]);
    assert!(out.join("report.json").exists());
    let failed = neardedup()
        .args([
            "dedup",
            "--quiet",
            "--algo",
            "exact",
            "--output-format",
            "parquet",
        ])
        .arg("--out")
        .arg(&out)
        .arg(&input)
        .output()
        .expect("runs");
    assert!(!failed.status.success(), "the Parquet schema cannot hold m");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("clash.parquet"), "{stderr}");
    let left: Vec<String> = files(&out)
        .into_iter()
        .filter(|name| !name.starts_with(".neardedup-work"))
        .collect();
    assert!(left.is_empty(), "nothing of either run is left: {left:?}");
}

#[test]
fn two_inputs_with_one_output_name_are_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).expect("mkdir");
    std::fs::write(
        input.join("x.jsonl"),
        format!("{}\n", json!({"id": 1, "text": SHARED})),
    )
    .expect("w");
    std::fs::write(input.join("x.txt"), OTHER).expect("write");
    let out = dir.path().join("out");
    let failed = neardedup()
        .args(["dedup", "--quiet", "--output-format", "jsonl", "--out"])
        .arg(&out)
        .arg(&input)
        .output()
        .expect("runs");
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("x.jsonl")
            && stderr.contains("x.txt")
            && stderr.contains("deduped/x.jsonl"),
        "{stderr}"
    );
    // Without a format, each keeps its own: no clash.
    run(&input, &out, &[]);
    assert!(out.join("deduped/x.jsonl").is_file() && out.join("deduped/x.txt").is_file());
}
