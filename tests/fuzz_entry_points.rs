//! The fuzz targets' entry points (see `fuzz/`), run briefly under proptest so
//! that every `cargo test` exercises them: the JSONL record reader and the corpus
//! around it, paragraph splitting, normalisation and shingling, the checkpoint
//! decoders and the index decoder. Inputs are arbitrary bytes and, to get past
//! the first checks, valid inputs with damage. Nothing may panic; where a result
//! comes back, it must hold the same invariants the fuzz targets check.

use neardedup::config::SketchConfig;
use std::path::{Path, PathBuf};

use neardedup::corpus::{jsonl, paragraphs, Corpus, CorpusOptions, Format, ParaSep, RecordId};
use neardedup::index::{IndexedUnit, SignatureIndex};
use neardedup::pipeline::resume::{Edges, Stored};
use neardedup::pipeline::scan::{InvalidRecords, Scanned, UnitMeta};
use neardedup::pipeline::{shard, DedupConfig, Edge};
use neardedup::text::{normalize_into, NormalizeOptions, ShingleConfig, Shingler, Tokenizer};
use neardedup::work::{self, Kind};
use proptest::prelude::*;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Few cases per property: the fuzz targets do the long runs; these keep the
/// entry points honest in every test run, in well under a second each.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 500,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that are mostly pieces of JSON records, with some arbitrary bytes.
fn jsonl_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        8 => prop::sample::select(vec![
            "{", "}", "[", "]", " ", ",", ":", "\"", "\n", "\r\n", "\"text\"", "\"id\"",
            "\"other\"", "\"a b\"", "\"\\n\"", "\"\\u00e9\"", "\"\\ud83d\"", "\"한국어\"",
            "\\", "7", "-1", "1.5e3", "null", "true", "{\"text\":\"x\"}", "{\"text\":\"y\",\"id\":3}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..4),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

proptest! {
    #![proptest_config(config())]

    /// Every non-blank line of a JSONL file gives one record or one error naming
    /// its line, in order; a record knows where it is and reads again the same.
    #[test]
    fn jsonl_corpus_reads_every_line_once(bytes in jsonl_bytes(), with_id: bool, chunk in 1usize..64) {
        let id_field = with_id.then_some("id");
        let options = CorpusOptions { id_field: id_field.map(String::from), ..CorpusOptions::default() };
        let corpus = match Corpus::from_memory([(PathBuf::from("p.jsonl"), Format::Jsonl, bytes.clone())], options) {
            Ok(corpus) => corpus,
            Err(e) => {
                // Refused whole only when empty or starting like a compressed or
                // binary format.
                let refusable = bytes.is_empty()
                    || neardedup::corpus::source::sniff(&bytes, Format::Jsonl).is_some();
                prop_assert!(refusable, "{}", e);
                return Ok(());
            }
        };
        let mut results = Vec::new();
        for c in corpus.chunks_of(chunk) {
            corpus.for_each_record(c, |r| results.push(r.map(|(m, t)| (m, t.into_owned()))));
        }
        let mut results = results.into_iter();
        let mut offset = 0;
        for (line, raw) in (1u64..).zip(bytes.split_inclusive(|&b| b == b'\n')) {
            let mut start = offset;
            offset += raw.len();
            let mut content = trim_line_end(raw);
            // A byte-order mark at the start of the file is passed over.
            if start == 0 && content.starts_with(b"\xef\xbb\xbf") {
                start = 3;
                content = &content[3..];
            }
            if content.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let result = results.next().expect("a result per non-blank line");
            match (result, jsonl::extract(content, "text", id_field)) {
                (Ok((meta, text)), Ok(fields)) => {
                    prop_assert_eq!((meta.start, meta.len, meta.line), (start, content.len(), line));
                    prop_assert_eq!(&text, &fields.text);
                    prop_assert_eq!(&meta.id, &fields.id.unwrap_or_else(|| RecordId::from(line)));
                    prop_assert_eq!(corpus.record_text(&meta).expect("reads again"), text);
                }
                (Err(e), Err(message)) => {
                    let shown = e.to_string();
                    prop_assert!(shown.starts_with(&format!("p.jsonl:{line}: ")), "{}", shown);
                    prop_assert!(shown.ends_with(&message), "{}", shown);
                }
                (got, expected) => prop_assert!(false, "line {}: {:?} vs {:?}", line, got, expected),
            }
        }
        prop_assert!(results.next().is_none());
    }

    /// A line serde_json reads as an object is accepted exactly when its fields
    /// are there with the right types, with the last value of a repeated key.
    #[test]
    fn extract_agrees_with_serde_json(bytes in jsonl_bytes(), with_id: bool) {
        let id_field = with_id.then_some("id");
        for line in bytes.split(|&b| b == b'\n') {
            let got = jsonl::extract(line, "text", id_field);
            let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(line) else { continue };
            // Value keeps the last of repeated keys; a repeat of the wrong type
            // earlier in the line is an error for `extract`, so only lines
            // without repeats are compared.
            let keys = line.windows(6).filter(|w| w == b"\"text\"").count();
            if keys > 1 || line.windows(4).filter(|w| w == b"\"id\"").count() > 1 {
                continue;
            }
            let text = object.get("text").and_then(Value::as_str);
            let id = object.get("id").filter(|v| v.is_string() || v.is_number());
            let ok = text.is_some() && (id_field.is_none() || id.is_some());
            match got {
                Ok(fields) => {
                    prop_assert!(ok, "{:?}", object);
                    prop_assert_eq!(Some(fields.text.as_ref()), text);
                    prop_assert_eq!(fields.id.as_ref().map(RecordId::to_value), id.filter(|_| with_id).cloned());
                }
                Err(message) => prop_assert!(!ok, "{:?}: {}", object, message),
            }
        }
    }

    /// A plain-text file is one record holding all of it, or an error naming the
    /// file when it is binary or not UTF-8.
    #[test]
    fn text_corpus_is_one_record_or_an_error(bytes in prop::collection::vec(any::<u8>(), 1..200)) {
        let opened = Corpus::from_memory(
            [(PathBuf::from("p.txt"), Format::Text, bytes.clone())],
            CorpusOptions::default(),
        );
        let readable = !bytes.contains(&0) && std::str::from_utf8(&bytes).is_ok();
        // Some starts of compressed or archived files are valid UTF-8.
        let refused = !readable || neardedup::corpus::source::sniff(&bytes, Format::Text).is_some();
        match opened {
            Ok(corpus) => {
                prop_assert!(!refused);
                let mut texts = Vec::new();
                for c in corpus.chunks() {
                    corpus.for_each_record(c, |r| texts.push(r.expect("valid").1.into_owned()));
                }
                // A byte-order mark at the start is passed over.
                let start = if bytes.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 };
                prop_assert_eq!(texts, vec![String::from_utf8(bytes[start..].to_vec()).expect("UTF-8")]);
            }
            Err(e) => {
                prop_assert!(refused);
                prop_assert!(e.to_string().starts_with("p.txt"), "{}", e);
            }
        }
    }

    /// Paragraphs are numbered, ordered, trimmed sub-spans that hold every visible
    /// character of the text.
    #[test]
    fn paragraphs_are_ordered_trimmed_spans_covering_the_text(
        text in "([a-z가-힣 \t\r\u{a0}\u{3000}\u{85}]|\n|\n\n|\n \n){0,60}",
        blank: bool,
    ) {
        let sep = if blank { ParaSep::Blank } else { ParaSep::Line };
        let mut end = 0;
        let mut covered = 0;
        for (i, p) in paragraphs(&text, sep).iter().enumerate() {
            prop_assert_eq!(p.index as usize, i);
            prop_assert!(end <= p.span.start && p.span.start < p.span.end);
            let piece = text.get(p.span.clone()).expect("char boundaries");
            prop_assert_eq!(piece, piece.trim());
            prop_assert!(text[end..p.span.start].trim().is_empty());
            if sep == ParaSep::Line {
                prop_assert!(!piece.contains('\n'));
            }
            covered += piece.chars().filter(|c| !c.is_whitespace()).count();
            end = p.span.end;
        }
        prop_assert!(text[end..].trim().is_empty());
        prop_assert_eq!(covered, text.chars().filter(|c| !c.is_whitespace()).count());
    }
}

/// Normalisation by its definition, step after step over the whole text.
fn reference(text: &str, o: NormalizeOptions) -> String {
    let text: String = if o.nfkc {
        text.nfkc().collect()
    } else {
        text.to_owned()
    };
    let mut folded = String::new();
    for c in text.chars() {
        if o.fold_punctuation && !c.is_alphanumeric() && !c.is_whitespace() {
            folded.push(' ');
        } else if o.lowercase {
            folded.extend(c.to_lowercase());
        } else {
            folded.push(c);
        }
    }
    if o.fold_whitespace {
        folded.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        folded
    }
}

fn options_from(bits: u8) -> NormalizeOptions {
    NormalizeOptions {
        nfkc: bits & 1 != 0,
        lowercase: bits & 2 != 0,
        fold_punctuation: bits & 4 != 0,
        fold_whitespace: bits & 8 != 0,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any text (every script, combining marks, compatibility forms): the fast
    /// paths give what the definition gives, and the shingle count follows from
    /// the token count; with n = 1 each shingle is its token's.
    #[test]
    fn normalise_and_shingle_any_text(
        text in "(\\PC|[ \t\n\u{a0}\u{3000}\u{301}\u{1100}\u{1161}\u{11a8}'.,·“」①ﬁＡİ]){0,60}",
        bits in 0u8..16,
        tokenizer in prop::sample::select(vec![Tokenizer::Word, Tokenizer::Whitespace, Tokenizer::Char]),
        ngram in 1usize..6,
    ) {
        let normalize = options_from(bits);
        let mut normalized = String::new();
        normalize_into(&text, normalize, &mut normalized);
        prop_assert_eq!(&normalized, &reference(&text, normalize));

        let shingler = Shingler::new(ShingleConfig { tokenizer, ngram, normalize }).expect("n >= 1");
        let shingles = shingler.shingles(&text);
        let tokens: Vec<&str> = match tokenizer {
            Tokenizer::Word => normalized.split(' ').flat_map(|r| r.unicode_words()).collect(),
            Tokenizer::Whitespace => normalized.split_whitespace().collect(),
            Tokenizer::Char => normalized.char_indices().map(|(i, c)| &normalized[i..i + c.len_utf8()]).collect(),
        };
        let expected = if tokens.is_empty() { 0 } else { (tokens.len() + 1).saturating_sub(ngram).max(1) };
        prop_assert_eq!(shingles.len(), expected);
        if ngram == 1 && tokens.iter().all(|t| !t.contains(char::is_whitespace)) {
            let one = Shingler::new(ShingleConfig {
                tokenizer: Tokenizer::Whitespace,
                ngram: 1,
                normalize: NormalizeOptions::none(),
            })
            .expect("n = 1");
            let each: Vec<u64> = tokens.iter().flat_map(|t| one.shingles(t)).collect();
            prop_assert_eq!(shingles, each);
        }
    }
}

fn sample_shard() -> Scanned<u16> {
    let record = |start, id: RecordId| neardedup::corpus::RecordMeta {
        file: 0,
        start,
        len: 9,
        line: 1,
        id,
    };
    Scanned {
        records: vec![
            record(0, RecordId::from("a")),
            record(10, RecordId::from(7)),
        ],
        units: vec![
            UnitMeta {
                record: 0,
                para: Some(1),
                start: 0,
                len: 9,
                features: 3,
                content: 9,
            },
            UnitMeta {
                record: 1,
                para: None,
                start: 2,
                len: 5,
                features: 0,
                content: 0,
            },
        ],
        sketches: vec![1, 2, 3, 4],
        invalid: InvalidRecords {
            count: 1,
            examples: vec!["p.jsonl:3: bad".into()],
        },
        next_line: 4,
    }
}

/// `bytes` with `damage` applied: each (position, value) overwrites a byte, then
/// the bytes are cut at `cut` when there is one.
fn damaged(
    mut bytes: Vec<u8>,
    damage: &[(prop::sample::Index, u8)],
    cut: Option<prop::sample::Index>,
) -> Vec<u8> {
    for (at, value) in damage {
        let i = at.index(bytes.len());
        bytes[i] = *value;
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len()));
    }
    bytes
}

fn damage() -> impl Strategy<Value = Vec<(prop::sample::Index, u8)>> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3)
}

proptest! {
    #![proptest_config(config())]

    /// Checkpoint files and bodies, arbitrary or damaged: an error or values
    /// that encode back to the same.
    #[test]
    fn checkpoint_bodies_decode_or_fail_cleanly(
        random in prop::collection::vec(any::<u8>(), 0..300),
        damage in damage(),
        cut: Option<prop::sample::Index>,
        which in 0usize..5,
    ) {
        let (shard_body, _) = shard::encode(&sample_shard(), 2);
        // Five units, four of them copies (same content key, same words): they
        // share one row of words.
        let sample = sample_shard();
        let copies = Scanned {
            records: sample.records,
            units: [(0, 5), (0, 5), (1, 5), (1, 5), (1, 6)]
                .map(|(u, content)| UnitMeta { content, ..sample.units[u].clone() })
                .to_vec(),
            sketches: vec![5u64, 5, 5, 5, 6],
            invalid: sample.invalid,
            next_line: sample.next_line,
        };
        let (shared_body, place) = shard::encode(&copies, 1);
        prop_assert!(place.row_numbers.is_some());
        let pairs = Edges {
            candidates: 2,
            settled: Default::default(),
            edges: vec![Edge { a: 0, b: 1, similarity: f32::NAN }, Edge { a: 5, b: 2, similarity: f32::NAN }],
            index_edges: Vec::new(),
        }
        .encode();
        let edges = Edges {
            candidates: 3,
            settled: Default::default(),
            edges: vec![Edge { a: 0, b: 1, similarity: 0.5 }],
            index_edges: Vec::new(),
        }
        .encode();
        let body = match which {
            0 => damaged(shard_body, &damage, cut),
            1 => damaged(pairs, &damage, cut),
            2 => damaged(edges, &damage, cut),
            3 => damaged(shared_body, &damage, cut),
            _ => random,
        };
        for kind in [Kind::Shard, Kind::Candidates, Kind::Edges] {
            let _ = work::body_of(&body, kind, 1);
            let mut file = work::header(kind, 9, &body).to_vec();
            file.extend_from_slice(&body);
            prop_assert_eq!(work::body_of(&file, kind, 9), Ok(&body[..]));
            prop_assert!(work::body_of(&file[..file.len() / 2], kind, 9).is_err());
        }
        if let Ok(decoded) = shard::decode::<u16>(&body, 2) {
            prop_assert_eq!(decoded.sketches.rows.end, body.len());
            prop_assert_eq!(decoded.sketches.units(&body).count(), decoded.units.len());
            prop_assert!(decoded.units.iter().all(|u| (u.record as usize) < decoded.records.len()));
        }
        if let Ok(decoded) = shard::decode::<u64>(&body, 1) {
            prop_assert_eq!(decoded.sketches.rows.end, body.len());
            prop_assert!(decoded.sketches.units(&body).all(|words| words.len() == 8));
        }
        if let Ok(e) = Edges::decode(&body) {
            prop_assert_eq!(e.encode(), body.clone());
        }
    }
}

/// The bytes of a small index file, written once.
fn sample_index_file() -> &'static [u8] {
    static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let config = DedupConfig {
            sketch: SketchConfig {
                num_perm: 3,
                ..DedupConfig::default().sketch
            },
            ..DedupConfig::default()
        };
        let mut index = SignatureIndex::new(&config);
        let units = vec![
            IndexedUnit {
                id: RecordId::from("a"),
                para: None,
            },
            IndexedUnit {
                id: RecordId::from(7),
                para: Some(2),
            },
        ];
        let signatures = [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0];
        index.append(units, &signatures).expect("sizes match");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sample.ndx");
        index.write(&path).expect("write");
        std::fs::read(&path).expect("read")
    })
}

proptest! {
    #![proptest_config(config())]

    /// Index files, arbitrary or damaged (with the checksum made right again, so
    /// the damage reaches the decoder): an error naming the file, or an index
    /// with one signature per unit that writes and reads back the same.
    #[test]
    fn index_files_decode_or_fail_cleanly(
        random in prop::collection::vec(any::<u8>(), 0..300),
        damage in damage(),
        cut: Option<prop::sample::Index>,
        use_random: bool,
    ) {
        let bytes = if use_random {
            random
        } else {
            let written = sample_index_file();
            let mut body = damaged(written[..written.len() - 8].to_vec(), &damage, cut);
            let checksum = xxhash_rust::xxh3::xxh3_64(&body);
            body.extend_from_slice(&checksum.to_le_bytes());
            body
        };
        match SignatureIndex::decode(&bytes, Path::new("i.ndx")) {
            Ok(index) => {
                prop_assert_eq!(index.signatures.len(), index.units.len() * index.header.num_perm * 2);
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("i.ndx");
                index.write(&path).expect("write");
                prop_assert_eq!(SignatureIndex::read(&path).expect("reads back"), index);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("i.ndx"), "{}", e),
        }
    }
}
