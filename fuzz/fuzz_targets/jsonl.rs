//! JSONL and plain-text records from arbitrary bytes.
//!
//! The first byte picks the field names and the chunk size; the rest is one input
//! file. Every line goes through `jsonl::extract`, checked against serde_json's
//! own reading of the line whenever that reading succeeds; then the bytes are read
//! as a JSONL file through `Corpus` (chunks, records, ids, line numbers, records
//! read again) and as a plain-text file. Nothing may panic, no line may be lost,
//! and every record must say where it came from.

#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use neardedup::corpus::{jsonl, source, Corpus, CorpusOptions, Format, RecordId};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, bytes)) = data.split_first() else {
        return;
    };
    let text_field = if knobs & 1 == 0 { "text" } else { "body" };
    let id_field = match (knobs >> 1) & 3 {
        0 | 3 => None,
        1 => Some("id"),
        _ => Some("doc"),
    };
    let chunk_bytes = 1 + usize::from(knobs >> 3) * 9;

    for line in bytes.split(|&b| b == b'\n') {
        check_extract(line, text_field, id_field);
    }
    check_jsonl_corpus(bytes, text_field, id_field, chunk_bytes);
    check_text_corpus(bytes);
});

/// The members of a JSON object in order, repeats kept, read strictly by serde_json.
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// `extract` on one line. When serde_json reads the line as an object, `extract`
/// must succeed exactly when the object has the fields with the right types, and
/// give the last value of each (serde_json's rule for repeated keys).
fn check_extract(line: &[u8], text_field: &str, id_field: Option<&str>) {
    let got = jsonl::extract(line, text_field, id_field);
    if let Err(message) = &got {
        assert!(!message.is_empty(), "an error says what is wrong");
    }
    let Ok(Members(members)) = serde_json::from_slice::<Members>(line) else {
        return;
    };
    let texts: Vec<&Value> = members
        .iter()
        .filter(|(k, _)| k == text_field)
        .map(|(_, v)| v)
        .collect();
    let ids: Vec<&Value> = members
        .iter()
        .filter(|(k, _)| Some(k.as_str()) == id_field)
        .map(|(_, v)| v)
        .collect();
    let text_ok = !texts.is_empty() && texts.iter().all(|v| v.is_string());
    let id_ok = id_field.is_none()
        || (!ids.is_empty() && ids.iter().all(|v| v.is_string() || v.is_number()));
    match got {
        Ok(fields) => {
            assert!(text_ok && id_ok, "accepted {members:?}");
            assert_eq!(
                Some(fields.text.as_ref()),
                texts.last().and_then(|v| v.as_str())
            );
            assert_eq!(
                fields.id.as_ref().map(RecordId::to_value).as_ref(),
                ids.last().copied()
            );
        }
        Err(message) => assert!(!(text_ok && id_ok), "rejected {members:?}: {message}"),
    }
}

/// The line without its `\n` and a `\r` before it, as the corpus reader trims it.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn check_jsonl_corpus(bytes: &[u8], text_field: &str, id_field: Option<&str>, chunk_bytes: usize) {
    let options = CorpusOptions {
        text_field: text_field.into(),
        id_field: id_field.map(String::from),
        // Ids may repeat in fuzzed lines: that check is not under test here.
        allow_duplicate_ids: true,
        ..CorpusOptions::default()
    };
    let name = PathBuf::from("fuzz.jsonl");
    let corpus = match Corpus::from_memory([(name, Format::Jsonl, bytes.to_vec())], options) {
        Ok(corpus) => corpus,
        Err(e) => {
            // Refused whole only when empty or starting like a compressed or
            // binary format.
            assert!(
                bytes.is_empty() || source::sniff(bytes, Format::Jsonl).is_some(),
                "refused: {e}"
            );
            return;
        }
    };
    assert_eq!(corpus.files().len(), 1);

    // Chunks tile the file in order, each ending after a line break (or at the
    // end), each knowing its first line.
    let chunks = corpus.chunks_of(chunk_bytes);
    let mut at = 0;
    for chunk in &chunks {
        assert_eq!(chunk.start, at, "chunks are contiguous");
        assert!(chunk.end > chunk.start);
        assert!(chunk.end == bytes.len() || bytes[chunk.end - 1] == b'\n');
        let newlines_before = bytes[..chunk.start].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(chunk.first_line, newlines_before as u64 + 1);
        at = chunk.end;
    }
    assert_eq!(at, bytes.len(), "chunks cover the file");

    // Every line that is not blank gives exactly one record or one error, in order.
    let mut results = Vec::new();
    for chunk in chunks {
        corpus.for_each_record(chunk, |r| results.push(r.map(|(m, t)| (m, t.into_owned()))));
    }
    let mut results = results.into_iter();
    let mut offset = 0;
    for (number, raw) in (1u64..).zip(bytes.split_inclusive(|&b| b == b'\n')) {
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
        let result = results.next().expect("one result per non-blank line");
        let expected = jsonl::extract(content, text_field, id_field);
        match (result, expected) {
            (Ok((meta, text)), Ok(fields)) => {
                assert_eq!(
                    (meta.start, meta.len, meta.line),
                    (start, content.len(), number)
                );
                assert_eq!(text, fields.text);
                let id = fields.id.unwrap_or_else(|| RecordId::from(number));
                assert_eq!(meta.id, id);
                assert_eq!(corpus.record_bytes(&meta), content);
                assert_eq!(corpus.record_text(&meta).expect("reads again"), text);
            }
            (Err(e), Err(message)) => {
                let shown = e.to_string();
                assert!(
                    shown.starts_with(&format!("fuzz.jsonl:{number}: ")),
                    "{shown}"
                );
                assert!(shown.ends_with(&message), "{shown}");
            }
            (result, expected) => {
                panic!("line {number}: corpus gave {result:?}, extract {expected:?}")
            }
        }
    }
    assert!(results.next().is_none(), "no record without a line");
}

fn check_text_corpus(bytes: &[u8]) {
    let name = PathBuf::from("fuzz.txt");
    let opened = Corpus::from_memory(
        [(name, Format::Text, bytes.to_vec())],
        CorpusOptions::default(),
    );
    let sniffed = &bytes[..bytes.len().min(8 << 10)];
    let readable = !sniffed.contains(&0) && std::str::from_utf8(bytes).is_ok();
    // Refused: empty, binary or not UTF-8, or starting like a compressed or
    // archived file (some of those starts are valid UTF-8).
    let refused = bytes.is_empty() || !readable || source::sniff(bytes, Format::Text).is_some();
    let corpus = match opened {
        Ok(corpus) => {
            assert!(!refused, "an unreadable or empty file was admitted");
            corpus
        }
        Err(e) => {
            assert!(refused, "readable text refused: {e}");
            assert!(
                e.to_string().starts_with("fuzz.txt") || bytes.is_empty(),
                "{e}"
            );
            return;
        }
    };
    let mut records = Vec::new();
    for chunk in corpus.chunks() {
        corpus.for_each_record(chunk, |r| records.push(r.map(|(m, t)| (m, t.into_owned()))));
    }
    assert_eq!(records.len(), 1, "a text file is one record");
    let (meta, text) = records.pop().expect("one").expect("valid text");
    // A byte-order mark at the start is passed over.
    let start = if bytes.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    assert_eq!(text.as_bytes(), &bytes[start..]);
    assert_eq!((meta.start, meta.len), (start, bytes.len() - start));
    assert_eq!(corpus.record_text(&meta).expect("reads again"), text);
}
