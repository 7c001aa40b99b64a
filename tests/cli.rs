//! End-to-end tests of the `neardedup` binary on small fixtures: the seed Korean
//! article, every kind of bad input, output atomicity and thread-count independence.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

fn seed_article() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/korean-news-article.txt")
}

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

/// Cluster label -> sorted member paragraph numbers, for clusters with 2+ members.
fn duplicate_clusters(out: &Path) -> Vec<Vec<u64>> {
    let mut by_label = std::collections::BTreeMap::<u64, Vec<u64>>::new();
    for line in read_jsonl(&out.join("clusters.jsonl")) {
        let label = line["cluster"].as_u64().expect("cluster label");
        let para = line["para"].as_u64().expect("para number");
        by_label.entry(label).or_default().push(para);
    }
    by_label.into_values().filter(|m| m.len() > 1).collect()
}

fn assert_no_complete_output(out: &Path) {
    if out.exists() {
        let names: Vec<_> = std::fs::read_dir(out)
            .expect("read out dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(names.is_empty(), "failed run left files behind: {names:?}");
    }
}

#[test]
fn seed_article_paragraphs_found_by_every_algorithm() {
    let lines: Vec<&str> = include_str!("../datasets/korean-news-article.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 18, "lead, 8 body paragraphs twice, byline");
    for algo in ["minhash", "simhash", "exact"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        neardedup()
            .args([
                "dedup",
                "--unit",
                "paragraph",
                "--algo",
                algo,
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .arg(seed_article())
            .assert()
            .success();
        let clusters = duplicate_clusters(&out);
        let expected: Vec<Vec<u64>> = (1..=8).map(|i| vec![i, i + 8]).collect();
        assert_eq!(clusters, expected, "{algo}: paragraphs 1-8 repeat as 9-16");

        // A plain-text article comes back as a plain-text file of its name.
        let text = std::fs::read_to_string(out.join("deduped/korean-news-article.txt"))
            .expect("the clean article");
        let text = text.as_str();
        let mut clean: Vec<&str> = lines[..9].to_vec();
        clean.push(lines[17]);
        assert_eq!(
            text,
            clean.join("\n"),
            "{algo}: each body paragraph once, in order"
        );

        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("report.json")).expect("report"),
        )
        .expect("report JSON");
        assert_eq!(report["counts"]["duplicate_clusters"], 8, "{algo}");
        assert_eq!(report["counts"]["duplicate_units"], 8, "{algo}");
        assert_eq!(report["counts"]["units"], 18, "{algo}");
        // The eight repeated paragraphs are byte for byte their first copies.
        assert_eq!(report["repeats_reused"], 8, "{algo}");
    }
}

#[test]
fn seed_article_is_one_article_without_duplicates() {
    for algo in ["minhash", "simhash", "exact"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        neardedup()
            .args(["dedup", "--unit", "article", "--algo", algo, "--out"])
            .arg(&out)
            .arg(seed_article())
            .assert()
            .success()
            .stdout(contains("units            1 articles"))
            .stdout(contains("duplicates       0 units"));
        let clusters = read_jsonl(&out.join("clusters.jsonl"));
        assert_eq!(clusters.len(), 1);
        assert!(read_jsonl(&out.join("pairs.jsonl")).is_empty());
        assert_eq!(
            std::fs::read(out.join("deduped/korean-news-article.txt")).expect("kept"),
            std::fs::read(seed_article()).expect("input"),
            "kept as it was"
        );
    }
}

#[test]
fn thread_count_does_not_change_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("c.jsonl");
    let article = include_str!("../datasets/korean-news-article.txt");
    let mut lines = String::new();
    for i in 0..400 {
        let paragraphs: Vec<&str> = article.lines().skip(i % 7).take(3 + i % 5).collect();
        let text = format!("{} 기사 {}", paragraphs.join("\n"), i % 13);
        lines.push_str(&serde_json::json!({ "id": format!("doc-{i}"), "text": text }).to_string());
        lines.push('\n');
    }
    std::fs::write(&corpus, lines).expect("write corpus");
    for algo in ["minhash", "simhash"] {
        for unit in ["article", "paragraph"] {
            let mut outputs = Vec::new();
            for threads in ["1", "2"] {
                let out = dir.path().join(format!("out-{algo}-{unit}-{threads}"));
                neardedup()
                    .args([
                        "dedup",
                        "--quiet",
                        "--id-field",
                        "id",
                        "--algo",
                        algo,
                        "--unit",
                        unit,
                    ])
                    .args(["--threads", threads, "--out"])
                    .arg(&out)
                    .arg(&corpus)
                    .assert()
                    .success();
                let files: Vec<String> = ["clusters.jsonl", "pairs.jsonl", "deduped/c.jsonl"]
                    .iter()
                    .map(|f| std::fs::read_to_string(out.join(f)).expect("output"))
                    .collect();
                outputs.push(files);
            }
            assert_eq!(outputs[0], outputs[1], "{algo}/{unit}: --threads 1 vs 2");
            assert!(
                outputs[0][1].lines().count() > 0,
                "{algo}/{unit}: found duplicates"
            );
        }
    }
}

#[test]
fn jsonl_paragraph_dedup_keeps_other_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("c.jsonl");
    std::fs::write(
        &corpus,
        concat!(
            r#"{"id":"a","url":"http://x/1","text":"alpha beta gamma delta epsilon\nzeta eta theta iota kappa"}"#,
            "\n",
            r#"{"id":"b","url":"http://x/2","text":"lambda mu nu xi omicron\nzeta eta theta iota kappa"}"#,
            "\n"
        ),
    )
    .expect("write");
    let out = dir.path().join("out");
    neardedup()
        .args([
            "dedup",
            "--quiet",
            "--unit",
            "paragraph",
            "--id-field",
            "id",
            "--out",
        ])
        .arg(&out)
        .arg(&corpus)
        .assert()
        .success();
    let deduped = read_jsonl(&out.join("deduped").join(corpus.file_name().expect("name")));
    assert_eq!(deduped.len(), 2);
    assert_eq!(
        deduped[0]["text"],
        "alpha beta gamma delta epsilon\nzeta eta theta iota kappa"
    );
    assert_eq!(deduped[1]["text"], "lambda mu nu xi omicron");
    assert_eq!(deduped[1]["url"], "http://x/2");
    assert_eq!(deduped[1]["id"], "b");
    let pairs = read_jsonl(&out.join("pairs.jsonl"));
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0]["a"], serde_json::json!({"id": "a", "para": 1}));
    assert_eq!(pairs[0]["b"], serde_json::json!({"id": "b", "para": 1}));
}

/// Runs dedup on `inputs` expecting failure; checks the message and that nothing
/// that looks like a finished output is left behind.
fn expect_failure(inputs: &[&Path], extra: &[&str], message: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let assert = neardedup()
        .arg("dedup")
        .args(extra)
        .arg("--out")
        .arg(&out)
        .args(inputs)
        .assert()
        .failure()
        .code(1)
        .stderr(contains(message));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_no_complete_output(&out);
}

#[test]
fn malformed_json_line_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"text\":\"fine\"}\n{\"text\":\"fine too\"}\n{\"text\": broken\n",
    )
    .expect("write");
    expect_failure(&[&path], &[], "bad.jsonl:3: invalid JSON record");
}

#[test]
fn missing_text_field_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nofield.jsonl");
    std::fs::write(&path, "{\"text\":\"a\"}\n{\"body\":\"b\"}\n").expect("write");
    expect_failure(
        &[&path],
        &[],
        "nofield.jsonl:2: missing text field \"text\"",
    );
    expect_failure(
        &[&path],
        &["--text-field", "body"],
        "nofield.jsonl:1: missing text field \"body\"",
    );
}

#[test]
fn invalid_utf8_is_reported_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("bad.txt");
    std::fs::write(&text, b"first line\nsecond \xc3\x28 line\n").expect("write");
    expect_failure(&[&text], &[], "bad.txt:2: invalid UTF-8 at byte offset 18");
    let jsonl = dir.path().join("bad.jsonl");
    std::fs::write(&jsonl, b"{\"text\":\"ok\"}\n{\"text\":\"\xff\"}\n").expect("write");
    expect_failure(&[&jsonl], &[], "bad.jsonl:2: invalid JSON record");
}

#[test]
fn nonexistent_path_is_an_error() {
    expect_failure(
        &[Path::new("/definitely/not/here.jsonl")],
        &[],
        "/definitely/not/here.jsonl: No such file or directory",
    );
}

#[test]
fn empty_input_is_an_error_when_nothing_else_remains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    expect_failure(&[&empty], &[], "no input text: 1 empty");
}

#[test]
fn binary_file_named_directly_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("image.bin");
    std::fs::write(&bin, [0x89u8, b'P', b'N', b'G', 0, 0, 0, 13]).expect("write");
    expect_failure(&[&bin], &[], "image.bin: binary file");
}

#[test]
fn binary_file_in_a_directory_is_an_error_unless_skip_invalid_counts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    std::fs::copy(seed_article(), input.join("a.txt")).expect("copy");
    std::fs::copy(seed_article(), input.join("b.txt")).expect("copy");
    std::fs::write(input.join("c.bin"), [1u8, 0, 2, 0]).expect("write");
    std::fs::write(input.join("d.txt"), "").expect("write");
    expect_failure(
        &[&input],
        &["--algo", "exact"],
        "c.bin: binary file (NUL byte at byte offset 1), not text",
    );
    let out = dir.path().join("out");
    neardedup()
        .args(["dedup", "--algo", "exact", "--skip-invalid", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success()
        .stdout(contains(
            "skipped          0 invalid record(s), 1 empty file(s), 1 unreadable file(s), \
             0 hidden entries",
        ))
        .stderr(contains(
            "skipped 1 input file(s) that cannot be read as text",
        ))
        .stderr(contains("c.bin (binary file"));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("json");
    let skipped = &report["skipped_files"];
    assert_eq!(skipped["count"], 2);
    assert_eq!(skipped["unreadable"].as_array().map(Vec::len), Some(1));
    assert!(skipped["unreadable"][0]["reason"]
        .as_str()
        .expect("reason")
        .starts_with("binary file"));
    assert_eq!(skipped["empty"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        report["counts"]["duplicate_units"], 1,
        "b.txt duplicates a.txt"
    );
    // b.txt duplicates a.txt: only a.txt comes back, as it was.
    assert!(out.join("deduped/a.txt").is_file());
    assert!(!out.join("deduped/b.txt").exists());
}

#[test]
fn skip_invalid_counts_bad_records_and_keeps_going() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(
        &path,
        "{\"text\":\"one two three four five six\"}\nnot json\n{\"nope\":1}\n{\"text\":\"one two three four five six\"}\n",
    )
    .expect("write");
    let out = dir.path().join("out");
    neardedup()
        .args(["dedup", "--skip-invalid", "--out"])
        .arg(&out)
        .arg(&path)
        .assert()
        .success()
        .stdout(contains("skipped          2 invalid record(s)"));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("json");
    assert_eq!(report["invalid_records"]["count"], 2);
    let first = report["invalid_records"]["examples"][0]
        .as_str()
        .expect("example");
    assert!(first.contains("mixed.jsonl:2:"), "{first}");
    let clusters = read_jsonl(&out.join("clusters.jsonl"));
    assert_eq!(clusters[0]["id"], 1, "line-number ids");
    assert_eq!(clusters[1]["id"], 4);
    assert_eq!(clusters[1]["cluster"], 0);
}

#[test]
fn bad_options_are_rejected_before_reading() {
    expect_failure(
        &[&seed_article()],
        &["--threshold", "1.5"],
        "--threshold must be in (0, 1]",
    );
    expect_failure(
        &[&seed_article()],
        &["--ngram", "0"],
        "--ngram must be at least 1",
    );
    expect_failure(
        &[&seed_article()],
        &["--bands", "20", "--rows", "10"],
        "at most --num-perm 128",
    );
}

#[test]
fn gen_is_deterministic_and_eval_scores_a_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
    for name in ["a", "b"] {
        neardedup()
            .args(["gen", "--size", "200KB", "--seed", "7", "--sources"])
            .arg(&sources)
            .arg("--out")
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
    for file in ["corpus.jsonl", "truth.jsonl"] {
        let a = std::fs::read(dir.path().join("a").join(file)).expect("a");
        let b = std::fs::read(dir.path().join("b").join(file)).expect("b");
        assert!(a.len() > 10_000, "{file}: {} bytes", a.len());
        assert!(a == b, "{file}: same seed, same bytes");
    }
    let corpus = dir.path().join("a/corpus.jsonl");
    let out = dir.path().join("out");
    neardedup()
        .args(["dedup", "--quiet", "--id-field", "id", "--out"])
        .arg(&out)
        .arg(&corpus)
        .assert()
        .success();
    let assert = neardedup()
        .args(["eval", "--json", "--truth"])
        .arg(dir.path().join("a/truth.jsonl"))
        .arg(out.join("clusters.jsonl"))
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&assert.get_output().stdout).expect("json");
    assert!(report["precision"].as_f64().expect("precision") >= 0.99);
    assert_eq!(report["missing_predictions"], 0);
    neardedup()
        .args(["eval", "--truth"])
        .arg(dir.path().join("a/truth.jsonl"))
        .arg(out.join("clusters.jsonl"))
        .assert()
        .success()
        .stdout(contains("pair precision"))
        .stdout(contains("[0.9, 1.0]"));
}

#[test]
fn against_an_index_finds_what_one_combined_run_finds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
    neardedup()
        .args(["gen", "--size", "300KB", "--seed", "3", "--sources"])
        .arg(&sources)
        .arg("--out")
        .arg(dir.path().join("g"))
        .assert()
        .success();
    let corpus = std::fs::read_to_string(dir.path().join("g/corpus.jsonl")).expect("corpus");
    let lines: Vec<&str> = corpus.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let write = |name: &str, lines: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").expect("write part");
        path
    };
    let (a, b, ab) = (
        write("a.jsonl", first),
        write("b.jsonl", second),
        write("ab.jsonl", &lines),
    );
    let run = |extra: &[&str], input: &Path, out: &str| {
        neardedup()
            .args([
                "dedup",
                "--quiet",
                "--id-field",
                "id",
                "--verify",
                "signature",
            ])
            .args(extra)
            .arg("--out")
            .arg(dir.path().join(out))
            .arg(input)
            .assert()
            .success();
        read_jsonl(&dir.path().join(out).join("clusters.jsonl"))
    };
    let index = dir.path().join("a.ndx");
    let index_arg = index.to_str().expect("utf-8 path");
    run(&["--save-index", index_arg], &a, "out-a");
    // Connected components keep the first unit of each cluster, so an indexed
    // corpus is exactly the first half of one combined run.
    let components = ["--cluster", "components"];
    let against = run(
        &[&components[..], &["--against", index_arg]].concat(),
        &b,
        "out-b",
    );
    let combined = run(&components, &ab, "out-ab");

    let duplicates = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .filter(|r| r["duplicate"] == true)
            .map(|r| r["id"].to_string())
            .collect()
    };
    let second_half: Vec<Value> = combined[first.len()..].to_vec();
    let want = duplicates(&second_half);
    assert!(
        !want.is_empty(),
        "the second half repeats some of the first"
    );
    assert_eq!(duplicates(&against), want);
    let matched = against
        .iter()
        .filter(|r| r.get("indexed_match").is_some())
        .count();
    assert!(matched > 0, "some units match indexed ones");
    // Star clusters (the default) keep indexed units and verify every removed
    // unit against a kept one: a refinement of the components, so they remove
    // at most as many units, and each removed unit names what it duplicates.
    let star = run(&["--against", index_arg], &b, "out-b-star");
    assert!(duplicates(&star).len() <= want.len());
    assert!(star
        .iter()
        .filter(|r| r["duplicate"] == true)
        .all(|r| r.get("indexed_match").is_some() || r.get("kept").is_some()));

    // The same through `index build` and `index add`, which also grows the index.
    let grown = dir.path().join("grown.ndx");
    for (action, input, out) in [("build", &a, "out-build"), ("add", &b, "out-add")] {
        neardedup()
            .args([
                "index",
                action,
                "--quiet",
                "--id-field",
                "id",
                "--verify",
                "signature",
            ])
            .arg("--index")
            .arg(&grown)
            .arg("--out")
            .arg(dir.path().join(out))
            .arg(input)
            .assert()
            .success();
    }
    let added = read_jsonl(&dir.path().join("out-add/clusters.jsonl"));
    assert_eq!(duplicates(&added), duplicates(&star));
    let index = neardedup::index::SignatureIndex::read(&grown).expect("index reads back");
    assert_eq!(
        index.len(),
        lines.len(),
        "build + add index every unit of both halves"
    );

    // Settings come from the index; an index of another algorithm is refused.
    expect_failure(
        &[&b],
        &["--against", index_arg, "--algo", "simhash"],
        "use --algo minhash",
    );
    let bogus = dir.path().join("bogus.ndx");
    std::fs::write(&bogus, "not an index").expect("write");
    expect_failure(
        &[&b],
        &["--against", bogus.to_str().expect("utf-8")],
        "bad magic number",
    );
}

/// Copies are settled without re-reading their text: of three copies of a
/// text, the later two are paired with the first only and agree with it by
/// equal shingle sequences, and a near copy is compared with the first alone.
#[test]
fn copies_are_verified_without_shingling_each_pair() {
    let dir = tempfile::tempdir().expect("tempdir");
    let words: Vec<String> = (0..120).map(|i| format!("word{}", i * 7 % 113)).collect();
    let text = words.join(" ");
    let mut near = words.clone();
    near[60] = "changed".into();
    let lines: Vec<String> = [&text, &text, &near.join(" "), &text]
        .iter()
        .enumerate()
        .map(|(i, t)| serde_json::json!({"id": i, "text": t}).to_string())
        .collect();
    let input = dir.path().join("copies.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let out = dir.path().join("out");
    neardedup()
        .args([
            "dedup",
            "--threshold",
            "0.8",
            "--ngram",
            "5",
            "--verify",
            "exact",
        ])
        .args(["--quiet", "--out"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("report JSON");
    assert_eq!(report["counts"]["duplicate_units"], 3);
    let by = &report["verified_by"];
    assert_eq!(by["equal_shingles"], 2, "{by}");
    assert_eq!(by["repeated"], 0, "{by}");
    assert_eq!(by["jaccard"], 1, "{by}");
    assert_eq!(report["counts"]["candidate_pairs"], 3, "{by}");
}

/// Run-wide cluster label of each `(id, para)` in a run's `clusters.jsonl`.
fn cluster_labels(out: &Path) -> std::collections::HashMap<(String, u64), u64> {
    read_jsonl(&out.join("clusters.jsonl"))
        .iter()
        .map(|line| {
            let id = line["id"].as_str().expect("id").to_string();
            let para = line["para"].as_u64().expect("para number");
            ((id, para), line["cluster"].as_u64().expect("cluster label"))
        })
        .collect()
}

/// Every group of exact copies (equal text after normalisation, as `--algo
/// exact` finds them) ends in one cluster of the default MinHash run and of a
/// SimHash run, on real paragraphs full of look-alikes: shared licence clauses,
/// release-note lines and headings.
#[test]
fn exact_copies_end_in_one_cluster_on_real_paragraphs() {
    let dir = tempfile::tempdir().expect("tempdir");
    for collection in ["docs", "korean", "licences"] {
        let input = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("datasets/realtext")
            .join(collection)
            .join("paragraph/corpus.jsonl");
        let run = |algo: &str| {
            let out = dir.path().join(format!("{collection}-{algo}"));
            neardedup()
                .args(["dedup", "--unit", "paragraph", "--id-field", "id"])
                .args(["--algo", algo, "--quiet", "--out"])
                .arg(&out)
                .arg(&input)
                .assert()
                .success();
            cluster_labels(&out)
        };
        let exact = run("exact");
        let mut copies: std::collections::HashMap<u64, Vec<&(String, u64)>> = Default::default();
        for (unit, label) in &exact {
            copies.entry(*label).or_default().push(unit);
        }
        let groups: Vec<_> = copies.values().filter(|g| g.len() > 1).collect();
        assert!(
            groups.len() > 10,
            "{collection}: {} copy groups",
            groups.len()
        );
        for algo in ["minhash", "simhash"] {
            let labels = run(algo);
            for group in &groups {
                let found: std::collections::BTreeSet<u64> =
                    group.iter().map(|unit| labels[*unit]).collect();
                assert_eq!(
                    found.len(),
                    1,
                    "{collection} {algo}: copies {group:?} in {found:?}"
                );
            }
        }
    }
}
