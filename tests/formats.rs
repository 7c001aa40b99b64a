//! End-to-end tests of the stored forms a corpus comes in: gzip, zstd, bzip2
//! and xz JSONL, Parquet tables and standard input give the same clusters as the
//! plain JSONL file; nested fields and found `id` fields name records; and every
//! kind of damaged input is an error naming the file, with nothing that looks
//! like a finished output left behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use assert_cmd::Command;
use predicates::str::contains;

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

/// Twelve records: three families of near-duplicates (Korean and English) and
/// three unrelated records, each with an integer id and a nested source.
fn records() -> Vec<(i64, String, String)> {
    let families = [
        "서울시는 오늘 새로운 대중교통 정책을 발표했다 버스 노선이 개편되고 지하철 운행 시간이 늘어난다 시민들은 대체로 환영하는 분위기다",
        "The committee approved the annual budget after a long debate about school funding road repairs and the new public library downtown",
        "A heavy storm closed the mountain pass overnight and crews worked until morning to clear fallen trees from the only road into town",
    ];
    let mut out = Vec::new();
    for (f, text) in families.iter().enumerate() {
        for copy in 0..3 {
            let text = match copy {
                0 => text.to_string(),
                1 => format!("{text} 끝"),
                _ => format!("{text}."),
            };
            out.push(((f * 10 + copy) as i64, text, format!("site-{copy}")));
        }
    }
    for (i, other) in [
        "Completely different words about gardening tomatoes in small balconies during summer",
        "부산 국제 영화제가 다음 달 개막한다 올해는 칠십 개국에서 삼백 편의 영화가 상영될 예정이다",
        "Quarterly earnings beat expectations as cloud revenue grew faster than analysts had forecast",
    ]
    .iter()
    .enumerate()
    {
        out.push((100 + i as i64, other.to_string(), "site-x".into()));
    }
    out
}

fn jsonl() -> Vec<u8> {
    let mut out = Vec::new();
    for (id, text, source) in records() {
        let line = serde_json::json!({"id": id, "text": text, "meta": {"source": source}});
        writeln!(out, "{line}").expect("write");
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(bytes).expect("bzip2");
    e.finish().expect("bzip2")
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(bytes).expect("xz");
    e.finish().expect("xz")
}

/// The records as a Parquet table, in row groups of five rows.
fn parquet() -> Vec<u8> {
    let records = records();
    let ids: Vec<i64> = records.iter().map(|r| r.0).collect();
    let texts: Vec<&str> = records.iter().map(|r| r.1.as_str()).collect();
    let sources: Vec<&str> = records.iter().map(|r| r.2.as_str()).collect();
    let meta = arrow_array::StructArray::from(vec![(
        Arc::new(arrow_schema::Field::new(
            "source",
            arrow_schema::DataType::Utf8,
            false,
        )),
        Arc::new(StringArray::from(sources)) as ArrayRef,
    )]);
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ("text", Arc::new(StringArray::from(texts)) as ArrayRef),
        ("meta", Arc::new(meta) as ArrayRef),
    ])
    .expect("batch");
    table(&batch, 5)
}

fn table(batch: &RecordBatch, group_rows: usize) -> Vec<u8> {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut bytes = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), Some(props))
        .expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
    bytes
}

fn write(path: &Path, content: impl AsRef<[u8]>) -> PathBuf {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, content).expect("write fixture");
    path.to_path_buf()
}

/// Runs `neardedup dedup ARGS --out OUT` expecting success; returns the
/// clusters file and stderr.
fn clusters(out: &Path, args: &[&str], input: &Path, stdin: Option<Vec<u8>>) -> (String, String) {
    let mut cmd = neardedup();
    cmd.args(["dedup", "--out"]).arg(out).args(args).arg(input);
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes);
    }
    let assert = cmd.assert().success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let clusters = std::fs::read_to_string(out.join("clusters.jsonl")).expect("clusters.jsonl");
    (clusters, stderr)
}

#[test]
fn every_stored_form_gives_the_clusters_of_the_plain_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = jsonl();
    let (expected, stderr) = clusters(
        &dir.path().join("out-plain"),
        &[],
        &write(&dir.path().join("c.jsonl"), &plain),
        None,
    );
    assert!(
        stderr.contains("records are known by their `id` field"),
        "{stderr}"
    );
    assert!(
        expected.contains("\"id\":10,"),
        "ids from the records: {expected}"
    );
    let duplicates = expected.matches("\"duplicate\":true").count();
    assert_eq!(
        duplicates, 6,
        "two copies of each of three families: {expected}"
    );
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("c.jsonl.gz", gzip(&plain)),
        (
            "c.jsonl.zst",
            zstd::encode_all(&plain[..], 3).expect("zstd"),
        ),
        ("c.jsonl.bz2", bzip2(&plain)),
        ("c.jsonl.xz", xz(&plain)),
        ("c.parquet", parquet()),
        // Known by its bytes, whatever its name says.
        ("misnamed.jsonl", gzip(&plain)),
    ];
    for (name, bytes) in forms {
        let input = write(&dir.path().join(name), bytes);
        let (got, _) = clusters(&dir.path().join(format!("out-{name}")), &[], &input, None);
        assert_eq!(got, expected, "{name}");
    }
    for stdin in [
        plain.clone(),
        zstd::encode_all(&plain[..], 3).expect("zstd"),
    ] {
        let out = dir.path().join("out-stdin");
        let (got, _) = clusters(&out, &[], Path::new("-"), Some(stdin));
        assert_eq!(got, expected, "standard input");
    }
}

#[test]
fn nested_fields_name_records_and_line_ids_turn_found_ids_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in [("c.jsonl", jsonl()), ("c.parquet", parquet())] {
        let input = write(&dir.path().join(name), bytes);
        let (by_source, _) = clusters(
            &dir.path().join("out-source"),
            &["--id-field", "meta.source", "--allow-duplicate-ids"],
            &input,
            None,
        );
        assert!(
            by_source.contains("\"id\":\"site-1\""),
            "{name}: {by_source}"
        );
        let (by_line, stderr) =
            clusters(&dir.path().join("out-line"), &["--line-ids"], &input, None);
        assert!(by_line.starts_with("{\"id\":1,"), "{name}: {by_line}");
        assert!(!stderr.contains("known by their `id`"), "{stderr}");
    }
}

/// Runs dedup on `input` expecting exit code 1 with `message` on stderr, no
/// panic, and no output folder left.
fn fails(input: &Path, args: &[&str], message: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let assert = neardedup()
        .args(["dedup", "--out"])
        .arg(&out)
        .args(args)
        .arg(input)
        .assert()
        .failure()
        .code(1)
        .stderr(contains(message));
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "a failed run left {}", out.display());
}

#[test]
fn damaged_compressed_streams_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = jsonl().repeat(50);
    let gz = gzip(&plain);
    let zst = zstd::encode_all(&plain[..], 3).expect("zstd");
    let cut_gz = write(&dir.path().join("cut.jsonl.gz"), &gz[..gz.len() / 2]);
    let cut_zst = write(&dir.path().join("cut.jsonl.zst"), &zst[..zst.len() / 2]);
    fails(
        &cut_gz,
        &[],
        &format!("{}: the gzip stream is cut short", cut_gz.display()),
    );
    fails(
        &cut_zst,
        &[],
        &format!("{}: the zstd stream", cut_zst.display()),
    );
    let mut corrupt = gz.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 64].fill(0xAA);
    let corrupt = write(&dir.path().join("corrupt.jsonl.gz"), corrupt);
    fails(&corrupt, &[], "the gzip stream");

    // Skipped and counted with --skip-invalid, beside a readable file.
    let good = write(&dir.path().join("in/good.jsonl"), jsonl());
    std::fs::copy(&cut_gz, dir.path().join("in/cut.jsonl.gz")).expect("copy");
    let out = dir.path().join("out-skip");
    let assert = neardedup()
        .args(["dedup", "--skip-invalid", "--out"])
        .arg(&out)
        .arg(good.parent().expect("folder"))
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("cut.jsonl.gz (the gzip stream is cut short"),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report"))
            .expect("json");
    assert_eq!(report["skipped_files"]["count"], 1);
}

#[test]
fn damaged_or_unfit_parquet_tables_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = parquet();

    let mut damaged = good.clone();
    let n = damaged.len();
    damaged[n - 12..n - 4].copy_from_slice(b"garbage!");
    let damaged = write(&dir.path().join("damaged.parquet"), damaged);
    fails(
        &damaged,
        &[],
        &format!("{}: not a readable Parquet file", damaged.display()),
    );

    let table_path = write(&dir.path().join("t.parquet"), &good);
    fails(
        &table_path,
        &["--text-field", "body"],
        "no column `body` to read the text from (the columns are: id (Int64), text (Utf8)",
    );
    fails(
        &table_path,
        &["--text-field", "id"],
        "column `id` holds Int64 values, not text",
    );

    let empty_batch = RecordBatch::try_from_iter(vec![(
        "text",
        Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef,
    )])
    .expect("batch");
    let empty = write(&dir.path().join("empty.parquet"), table(&empty_batch, 5));
    fails(&empty, &[], "no input text: 1 empty file(s) skipped");

    let nulls = RecordBatch::try_from_iter(vec![(
        "text",
        Arc::new(StringArray::from(vec![Some("a text"), None])) as ArrayRef,
    )])
    .expect("batch");
    let nulls = write(&dir.path().join("nulls.parquet"), table(&nulls, 5));
    fails(
        &nulls,
        &[],
        &format!("{}: row 1: missing text field \"text\"", nulls.display()),
    );
}
