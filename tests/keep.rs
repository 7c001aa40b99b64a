//! Which unit of a cluster is kept (`--keep`), end to end: one small corpus
//! where every policy keeps a different set of records, the files that say
//! so (`clusters.jsonl`, `deduped.jsonl`, `report.json`), and the errors a bad
//! field or a plain-text input give.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::{json, Value};

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// Words `first..first + count` of a made-up vocabulary, then `pad` more
/// copies of the last (longer bytes, the same set of words).
fn words(first: usize, count: usize, pad: usize) -> String {
    let mut words: Vec<String> = (first..first + count).map(|i| format!("w{i:02}")).collect();
    let last = words.last().cloned().unwrap_or_default();
    words.extend(std::iter::repeat_n(last, pad));
    words.join(" ")
}

/// The corpus, in input order:
/// - `m1`, `m2`, `m3`: three copies of one text (a clique of edges), `m2`
///   the longest, `m3` the shortest; `meta.ts` 5, 9 and absent; `src` "beta",
///   "alpha", "gamma";
/// - `a`, `b`, `c`: a chain of look-alikes (`a ~ b ~ c`, but `a` and `c`
///   too far apart), `b` the most connected, `c` the longest, `a` the
///   shortest; no fields;
/// - `z`: unrelated.
fn corpus(dir: &Path) -> PathBuf {
    let clique = |id: &str, pad: usize, extra: Value| {
        let mut record = json!({"id": id, "text": words(60, 20, pad)});
        record
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        record
    };
    let lines = [
        clique("m1", 2, json!({"meta": {"ts": 5}, "src": "beta"})),
        json!({"id": "a", "text": words(0, 20, 0)}),
        clique("m2", 8, json!({"meta": {"ts": 9}, "src": "alpha"})),
        json!({"id": "b", "text": words(2, 20, 1)}),
        clique("m3", 0, json!({"meta": {"other": 1}, "src": "gamma"})),
        json!({"id": "c", "text": words(4, 20, 6)}),
        json!({"id": "z", "text": words(30, 20, 0)}),
    ];
    write_lines(dir, "corpus.jsonl", &lines)
}

fn write_lines(dir: &Path, name: &str, lines: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).expect("write corpus");
    path
}

/// Word sets (1-grams), every pair a candidate (64 bands of 2 rows), exact
/// Jaccard at 0.75: `a ~ b` and `b ~ c` at 18/22, `a` and `c` at 16/24.
const SETTINGS: [&str; 12] = [
    "--ngram",
    "1",
    "--bands",
    "64",
    "--rows",
    "2",
    "--threshold",
    "0.75",
    "--verify",
    "exact",
    "--id-field",
    "id",
];

/// Runs dedup on `input` with `extra` options; the output folder.
fn run(dir: &Path, input: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    neardedup()
        .arg("dedup")
        .arg(input)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        // One `deduped.jsonl` for all inputs, as these checks read it.
        .arg("--single-output")
        .args(SETTINGS)
        .args(extra)
        .assert()
        .success();
    out
}

/// The ids `deduped.jsonl` keeps, in order.
fn kept_ids(out: &Path) -> Vec<String> {
    read_jsonl(&out.join("deduped.jsonl"))
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

/// For each unit of `clusters.jsonl`: its id, and the id of the unit kept
/// in its place when it is a duplicate (`-` when none is named).
fn cluster_lines(out: &Path) -> Vec<(String, Option<String>)> {
    read_jsonl(&out.join("clusters.jsonl"))
        .iter()
        .map(|line| {
            let id = line["id"].as_str().expect("id").to_string();
            let duplicate = line["duplicate"].as_bool().expect("duplicate");
            let kept = line["kept"]["id"].as_str().unwrap_or("-").to_string();
            (id, duplicate.then_some(kept))
        })
        .collect()
}

/// Each unit's id, and the id of the unit kept in its place (`None`: the unit
/// is kept; `-`: removed with none named).
type Expected = [(&'static str, Option<&'static str>)];

fn expected(lines: &Expected) -> Vec<(String, Option<String>)> {
    lines
        .iter()
        .map(|(id, kept)| (id.to_string(), kept.map(str::to_string)))
        .collect()
}

fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
        .expect("JSON")
}

#[test]
fn every_policy_keeps_its_own_unit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = corpus(dir.path());
    let cases: [(&str, &[&str], &Expected); 9] = [
        // The copies tie on edges (the first is kept); `b` has the most.
        (
            "central",
            &[],
            &[
                ("m1", None),
                ("a", Some("b")),
                ("m2", Some("m1")),
                ("b", None),
                ("m3", Some("m1")),
                ("c", Some("b")),
                ("z", None),
            ],
        ),
        // `a` is kept, so `c`, verified only against the removed `b`, stays.
        (
            "first",
            &[],
            &[
                ("m1", None),
                ("a", None),
                ("m2", Some("m1")),
                ("b", Some("a")),
                ("m3", Some("m1")),
                ("c", None),
                ("z", None),
            ],
        ),
        (
            "longest",
            &[],
            &[
                ("m1", Some("m2")),
                ("a", None),
                ("m2", None),
                ("b", Some("c")),
                ("m3", Some("m2")),
                ("c", None),
                ("z", None),
            ],
        ),
        (
            "shortest",
            &[],
            &[
                ("m1", Some("m3")),
                ("a", None),
                ("m2", Some("m3")),
                ("b", Some("a")),
                ("m3", None),
                ("c", None),
                ("z", None),
            ],
        ),
        // A missing value ranks last, whichever the direction; records
        // without the field keep input order.
        (
            "max:meta.ts",
            &[],
            &[
                ("m1", Some("m2")),
                ("a", None),
                ("m2", None),
                ("b", Some("a")),
                ("m3", Some("m2")),
                ("c", None),
                ("z", None),
            ],
        ),
        (
            "min:meta.ts",
            &[],
            &[
                ("m1", None),
                ("a", None),
                ("m2", Some("m1")),
                ("b", Some("a")),
                ("m3", Some("m1")),
                ("c", None),
                ("z", None),
            ],
        ),
        // Strings compare as strings.
        (
            "max:src",
            &[],
            &[
                ("m1", Some("m3")),
                ("a", None),
                ("m2", Some("m3")),
                ("b", Some("a")),
                ("m3", None),
                ("c", None),
                ("z", None),
            ],
        ),
        // Clusters as `central`, and none of their units kept.
        (
            "drop-all",
            &[],
            &[
                ("m1", Some("-")),
                ("a", Some("-")),
                ("m2", Some("-")),
                ("b", Some("-")),
                ("m3", Some("-")),
                ("c", Some("-")),
                ("z", None),
            ],
        ),
        // Components keep the best unit of the whole chain.
        (
            "longest",
            &["--cluster", "components"],
            &[
                ("m1", Some("m2")),
                ("a", Some("c")),
                ("m2", None),
                ("b", Some("c")),
                ("m3", Some("m2")),
                ("c", None),
                ("z", None),
            ],
        ),
    ];
    for (i, (policy, extra, lines)) in cases.into_iter().enumerate() {
        let what = format!("{policy} {extra:?}");
        let mut options = vec!["--keep", policy];
        options.extend(extra);
        let out = run(dir.path(), &input, &format!("out-{i}"), &options);
        let lines = expected(lines);
        assert_eq!(cluster_lines(&out), lines, "clusters.jsonl: {what}");
        let kept: Vec<String> = lines
            .iter()
            .filter(|(_, kept)| kept.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(kept_ids(&out), kept, "deduped.jsonl: {what}");
        let report = report(&out);
        assert_eq!(report["parameters"]["keep"], json!(policy), "{what}");
        assert_eq!(
            report["counts"]["duplicate_units"],
            json!(lines.len() - kept.len()),
            "{what}"
        );
        // The copies, and the chain around its kept unit.
        assert_eq!(report["counts"]["duplicate_clusters"], json!(2), "{what}");
    }
}

#[test]
fn the_default_is_central_and_kept_records_are_copied_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = corpus(dir.path());
    let default = run(dir.path(), &input, "default", &[]);
    let central = run(dir.path(), &input, "central", &["--keep", "central"]);
    for name in ["clusters.jsonl", "pairs.jsonl", "deduped.jsonl"] {
        assert_eq!(
            std::fs::read(default.join(name)).expect(name),
            std::fs::read(central.join(name)).expect(name),
            "{name}"
        );
    }
    assert_eq!(report(&default)["parameters"]["keep"], "central");
    // The kept copy is the record as it was, fields and all.
    let longest = run(dir.path(), &input, "longest", &["--keep", "longest"]);
    let m2 = read_jsonl(&longest.join("deduped.jsonl"))
        .into_iter()
        .find(|r| r["id"] == "m2")
        .expect("m2 kept");
    assert_eq!(m2["meta"]["ts"], 9);
    assert_eq!(m2["src"], "alpha");
}

#[test]
fn paragraphs_of_one_record_are_kept_by_the_policy_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One record, three paragraphs: two copies of one text (the second
    // longer) and another text.
    let text = format!(
        "{}\n{}\n{}",
        words(60, 20, 0),
        words(60, 20, 5),
        words(0, 20, 0)
    );
    let input = write_lines(dir.path(), "p.jsonl", &[json!({"id": "p", "text": text})]);
    let out = run(
        dir.path(),
        &input,
        "out",
        &["--unit", "paragraph", "--keep", "longest"],
    );
    let deduped = read_jsonl(&out.join("deduped.jsonl"));
    assert_eq!(
        deduped[0]["text"],
        format!("{}\n{}", words(60, 20, 5), words(0, 20, 0))
    );
}

#[test]
fn a_field_value_that_ranks_neither_way_is_an_error_naming_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_lines(
        dir.path(),
        "bad.jsonl",
        &[
            json!({"id": "1", "text": words(0, 20, 0), "meta": {"ts": 1}}),
            json!({"id": "2", "text": words(0, 20, 0), "meta": {"ts": {"s": 1}}}),
        ],
    );
    let out = dir.path().join("out");
    neardedup()
        .arg("dedup")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--keep", "max:meta.ts"])
        .assert()
        .failure()
        .stderr(contains("bad.jsonl:2: field \"meta.ts\" is an object"))
        .stderr(contains("--keep max:meta.ts"));
    assert!(!out.join("report.json").exists());
}

#[test]
fn numbers_mixed_with_strings_are_an_error_naming_both_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_lines(
        dir.path(),
        "mixed.jsonl",
        &[
            json!({"id": "1", "text": words(0, 20, 0)}),
            json!({"id": "2", "text": words(40, 20, 0), "ts": "2024-01-01"}),
            json!({"id": "3", "text": words(80, 20, 0), "ts": null}),
            json!({"id": "4", "text": words(0, 20, 0), "ts": 17}),
        ],
    );
    neardedup()
        .arg("dedup")
        .arg(&input)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--quiet", "--keep", "min:ts"])
        .assert()
        .failure()
        .stderr(contains("mixed.jsonl:4: field \"ts\" is a number"))
        .stderr(contains("mixed.jsonl:2"));
}

#[test]
fn field_policies_refuse_plain_text_and_unknown_policies_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("article.txt");
    std::fs::write(&text, words(0, 20, 0)).expect("write");
    neardedup()
        .arg("dedup")
        .arg(&text)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--quiet", "--keep", "max:date"])
        .assert()
        .failure()
        .stderr(contains("article.txt"))
        .stderr(contains("no fields"));
    // Policies that need no field work on plain text.
    neardedup()
        .arg("dedup")
        .arg(&text)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--quiet", "--keep", "shortest"])
        .assert()
        .success();
    for (bad, said) in [("biggest", "drop-all"), ("max:", "field path")] {
        neardedup()
            .arg("dedup")
            .arg(&text)
            .args(["--keep", bad])
            .assert()
            .failure()
            .stderr(contains("--keep"))
            .stderr(contains(said));
    }
}

#[test]
fn the_library_reports_cluster_sizes_and_what_drop_all_keeps() {
    use neardedup::corpus::{Corpus, CorpusOptions};
    use neardedup::pipeline::{self, DedupConfig, KeepPolicy, NoProgress};

    let dir = tempfile::tempdir().expect("tempdir");
    let input = corpus(dir.path());
    let corpus = Corpus::open(&[input], CorpusOptions::default()).expect("open");
    let mut config = DedupConfig {
        threshold: 0.75,
        bands: Some(64),
        rows: Some(2),
        ..DedupConfig::default()
    };
    config.sketch.shingle.ngram = 1;
    let central = pipeline::run(&corpus, &config, &NoProgress).expect("run");
    assert_eq!(central.cluster_sizes, vec![3, 3, 3, 3, 3, 3, 1]);
    let kept: Vec<bool> = (0..7).map(|u| central.is_kept(u)).collect();
    assert_eq!(kept, [true, false, false, true, false, false, true]);
    config.keep = KeepPolicy::DropAll;
    let dropped = pipeline::run(&corpus, &config, &NoProgress).expect("run");
    assert_eq!(dropped.labels, central.labels);
    let kept: Vec<bool> = (0..7).map(|u| dropped.is_kept(u)).collect();
    assert_eq!(kept, [false, false, false, false, false, false, true]);
    assert_eq!(dropped.stats.duplicate_units, 6);
}
