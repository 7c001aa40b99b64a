//! The library's in-memory [`Index`] and the `neardedup index` command share one
//! file format: an index written by `neardedup index build` loads in
//! [`Index::load`] and answers queries with the run's own signatures, and an index
//! saved by [`Index::save`] reads back as a [`SignatureIndex`] and grows under
//! `neardedup index add`.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use neardedup::index::SignatureIndex;
use neardedup::minhash::compact::BYTES_PER_VALUE;
use neardedup::{DedupConfig, Index};
use serde_json::Value;

fn neardedup() -> Command {
    Command::cargo_bin("neardedup").expect("binary built")
}

/// A text of `words` words drawn (by a fixed generator) from a vocabulary.
fn text(seed: u64, words: usize, vocabulary: &[&str]) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..words)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            vocabulary[(state % vocabulary.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const ENGLISH: [&str; 24] = [
    "river", "stone", "north", "lamp", "quiet", "harbour", "seven", "paper", "window", "garden",
    "copper", "winter", "signal", "market", "orange", "thunder", "ladder", "silver", "meadow",
    "pocket", "engine", "candle", "bridge", "forest",
];

const KOREAN: [&str; 16] = [
    "시는",
    "지난",
    "서울에서",
    "열린",
    "혁신대상에서",
    "행정혁신부문",
    "대상을",
    "수상했다",
    "주민",
    "도서관",
    "예산을",
    "승인했다",
    "오늘",
    "비가",
    "내린다",
    "바다",
];

/// Document `i` of January: ids `a0`, `a1`, ...; `a7` is Korean.
fn january(i: u64) -> (String, String) {
    let vocabulary: &[&str] = if i == 7 { &KOREAN } else { &ENGLISH };
    (format!("a{i}"), text(i, 120, vocabulary))
}

/// The same text with its last word replaced: a near-duplicate (one shingle of
/// 117 differs).
fn edited(text: &str) -> String {
    let (head, _) = text.rsplit_once(' ').expect("several words");
    format!("{head} 변경된")
}

fn write_corpus(path: &Path, records: &[(String, String)]) -> PathBuf {
    let lines: String = records
        .iter()
        .map(|(id, text)| serde_json::json!({"id": id, "text": text}).to_string() + "\n")
        .collect();
    std::fs::write(path, lines).expect("write corpus");
    path.to_path_buf()
}

fn index_command(action: &str, index: &Path, out: &Path, input: &Path) -> Command {
    let mut cmd = neardedup();
    cmd.args(["index", action, "--quiet", "--id-field", "id", "--index"])
        .arg(index)
        .arg("--out")
        .arg(out)
        .arg(input);
    cmd
}

#[test]
fn an_index_built_by_the_command_loads_and_answers_queries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs: Vec<(String, String)> = (0..10).map(january).collect();
    let corpus = write_corpus(&dir.path().join("jan.jsonl"), &docs);
    let ndx = dir.path().join("jan.ndx");
    index_command("build", &ndx, &dir.path().join("out"), &corpus)
        .assert()
        .success();

    let index = Index::load(&ndx).expect("loads");
    assert_eq!(index.len(), docs.len());
    // The library sketches each text exactly as the run did.
    let width = DedupConfig::default().sketch.num_perm * BYTES_PER_VALUE;
    for ((_, text), saved) in docs.iter().zip(index.signatures().signatures.chunks(width)) {
        assert_eq!(index.hasher().sketch(text).bytes(), saved);
    }
    for (id, text) in [&docs[3], &docs[7]] {
        let found = index.query(&edited(text));
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        assert_eq!(found[0].id, id.as_str().into());
        assert!(found[0].similarity >= 0.9, "{found:?}");
    }
    assert!(index.query(&text(1000, 120, &ENGLISH)).is_empty());
}

#[test]
fn an_index_saved_by_the_library_reads_back_and_grows_under_index_add() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = Index::new(&DedupConfig::default()).expect("valid");
    for (id, text) in (0..10).map(january) {
        index.insert(id.as_str(), &text).expect("insert");
    }
    let ndx = dir.path().join("library.ndx");
    index.save(&ndx).expect("save");
    assert_eq!(
        &SignatureIndex::read(&ndx).expect("reads"),
        index.signatures()
    );

    // February: b0..b2 edit a0..a2, b3 edits the Korean a7, b4..b5 are new.
    let february: Vec<(String, String)> = [0, 1, 2, 7]
        .into_iter()
        .map(|i| edited(&january(i).1))
        .chain([text(500, 120, &ENGLISH), text(501, 120, &KOREAN)])
        .enumerate()
        .map(|(i, text)| (format!("b{i}"), text))
        .collect();
    let corpus = write_corpus(&dir.path().join("feb.jsonl"), &february);
    let out = dir.path().join("out");
    index_command("add", &ndx, &out, &corpus).assert().success();
    let clusters = std::fs::read_to_string(out.join("clusters.jsonl")).expect("clusters");
    let matched: Vec<(String, String)> = clusters
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .filter_map(|row| {
            let indexed = row.get("indexed_match")?;
            Some((row["id"].to_string(), indexed["id"].to_string()))
        })
        .collect();
    let quoted = |a: &str, b: &str| (format!("\"{a}\""), format!("\"{b}\""));
    assert_eq!(
        matched,
        [
            quoted("b0", "a0"),
            quoted("b1", "a1"),
            quoted("b2", "a2"),
            quoted("b3", "a7")
        ]
    );

    let grown = Index::load(&ndx).expect("loads after index add");
    assert_eq!(grown.len(), 16);
    let found = grown.query(&february[5].1);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "b5".into());
}
