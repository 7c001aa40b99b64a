//! Pulling the text and id fields out of one JSON line without building a DOM.
//!
//! The common record shape (an object holding only the text and id fields, with
//! plain keys) is read by a small hand-written reader; any other line, malformed
//! ones included, is streamed with serde_json, which keeps the two fields we need
//! (the text borrowed straight from the line when it has no escapes) and skips every
//! other value without building it. Either way the result is what serde_json gives.
//! Errors are plain messages; the caller adds the file and line.
//!
//! A field name with a dot (`meta.url`) is a path into nested objects, unless the
//! record has a top-level key of exactly that name ([`lookup`]); such records are
//! read into a `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;

use super::id::RecordId;
use super::source::str_from_utf8;
use crate::simd::jsonl::plain_string_len;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The fields of one record that a run needs.
#[derive(Debug)]
pub struct Fields<'a> {
    /// The text.
    pub text: Cow<'a, str>,
    /// The id, if an id field was asked for: its JSON text as written.
    pub id: Option<RecordId>,
}

/// Parses one JSON line and returns its text field (and id field, when named).
pub fn extract<'a>(
    line: &'a [u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Result<Fields<'a>, String> {
    if text_field.contains('.') || id_field.is_some_and(|f| f.contains('.')) {
        return extract_nested(line, text_field, id_field);
    }
    match extract_plain(line, text_field, id_field) {
        Some(fields) => Ok(fields),
        None => extract_serde(line, text_field, id_field),
    }
}

/// [`extract`] through serde_json: every record, and the error messages.
fn extract_serde<'a>(
    line: &'a [u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Result<Fields<'a>, String> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let seed = RecordSeed {
        text_field,
        id_field,
    };
    let (text, id) = seed
        .deserialize(&mut de)
        .map_err(|e| format!("invalid JSON record: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON record: {e}"))?;
    let text = text.ok_or_else(|| format!("missing text field {text_field:?}"))?;
    let id = match id_field {
        None => None,
        Some(name) => Some(id.ok_or_else(|| format!("missing id field {name:?}"))?),
    };
    Ok(Fields { text, id })
}

/// The value at `path` in `record`: a top-level key of exactly that name, or
/// else the dot-separated parts through nested objects.
pub fn lookup<'v>(record: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    if let Some(value) = record.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let first = record.get(parts.next()?)?;
    parts.try_fold(first, |value, part| value.get(part))
}

/// The record of one JSON line as a value: an object, or an error saying why
/// not.
pub fn parse_object(line: &[u8]) -> Result<serde_json::Value, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("invalid JSON record: {e}"))?;
    if !value.is_object() {
        return Err("invalid JSON record: not a JSON object".into());
    }
    Ok(value)
}

/// [`extract`] for field paths with dots.
fn extract_nested<'a>(
    line: &'a [u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Result<Fields<'a>, String> {
    let record = parse_object(line)?;
    let text = match lookup(&record, text_field) {
        Some(serde_json::Value::String(text)) => Cow::Owned(text.clone()),
        Some(_) => return Err(format!("field {text_field:?} is not a string")),
        None => return Err(format!("missing text field {text_field:?}")),
    };
    let id = match id_field {
        None => None,
        Some(name) => match lookup(&record, name) {
            Some(value @ (serde_json::Value::String(_) | serde_json::Value::Number(_))) => {
                RecordId::from_json_text(&value.to_string())
            }
            Some(_) => return Err(format!("id field {name:?} must be a string or a number")),
            None => return Err(format!("missing id field {name:?}")),
        },
    };
    Ok(Fields { text, id })
}

/// A hand-written reader for the common shape of a record: an object whose keys
/// are plain ASCII strings naming only the text and id fields, a string text and
/// an id that is a string without escapes or a non-negative integer. It answers
/// `None` for anything else (including every malformed line), and the caller then
/// asks serde_json, so the result is always what serde_json gives.
fn extract_plain<'a>(
    line: &'a [u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Option<Fields<'a>> {
    read_plain(line, text_field, id_field).map(|(fields, _)| fields)
}

/// Where the text field's value (its quotes included) is in `line`, when the
/// line has the common shape that [`extract`] reads by hand (see
/// [`extract_plain`]); `None` for any other line, which the caller reads with
/// serde_json.
pub fn plain_text_span(
    line: &[u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Option<std::ops::Range<usize>> {
    plain_text_and_span(line, text_field, id_field).map(|(_, span)| span)
}

/// The text of `line`, as [`extract`] reads it, and where its value is (see
/// [`plain_text_span`]), read in one pass; `None` for a line of another shape.
pub fn plain_text_and_span<'a>(
    line: &'a [u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Option<(Cow<'a, str>, std::ops::Range<usize>)> {
    if text_field.contains('.') || id_field.is_some_and(|f| f.contains('.')) {
        return None;
    }
    read_plain(line, text_field, id_field).map(|(fields, span)| (fields.text, span))
}

/// [`extract_plain`], and where the (last) text value is in the line.
fn read_plain<'a>(
    line: &'a [u8],
    text_field: &str,
    id_field: Option<&str>,
) -> Option<(Fields<'a>, std::ops::Range<usize>)> {
    let mut p = Plain { line, pos: 0 };
    p.skip_ws();
    p.eat(b'{')?;
    let mut text = None;
    let mut span = 0..0;
    let mut id = None;
    loop {
        p.skip_ws();
        let key = p.plain_key()?;
        p.skip_ws();
        p.eat(b':')?;
        p.skip_ws();
        if key == text_field.as_bytes() {
            let start = p.pos;
            text = Some(p.string()?);
            span = start..p.pos;
        } else if Some(key) == id_field.map(str::as_bytes) {
            id = Some(p.id()?);
        } else {
            return None;
        }
        p.skip_ws();
        match p.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    p.skip_ws();
    if p.pos != line.len() {
        return None;
    }
    let text = text?;
    if id_field.is_some() && id.is_none() {
        return None;
    }
    Some((Fields { text, id }, span))
}

struct Plain<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Plain<'a> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.line.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.line.get(self.pos) {
            self.pos += 1;
        }
    }

    /// A key of printable ASCII without escapes.
    fn plain_key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.pos;
        loop {
            match self.next()? {
                b'"' => return Some(&self.line[start..self.pos - 1]),
                b'\\' => return None,
                0x20..=0x7E => {}
                _ => return None,
            }
        }
    }

    /// Moves to the next `"`, `\\` or control character at or after `pos` (or the
    /// end), sixteen bytes at a time while none is in sight.
    #[inline]
    fn skip_plain_string_bytes(&mut self) {
        self.pos += plain_string_len(&self.line[self.pos.min(self.line.len())..]);
    }

    /// A string value, borrowed when it has no escapes. Escapes other than
    /// `\\uXXXX` for a surrogate are decoded; control characters (which JSON
    /// forbids) and invalid UTF-8 give `None`.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        self.skip_plain_string_bytes();
        if self.line.get(self.pos) == Some(&b'"') {
            self.pos += 1;
            let s = str_from_utf8(&self.line[start..self.pos - 1])?;
            return Some(Cow::Borrowed(s));
        }
        let mut buf = Vec::with_capacity(self.line.len() - start);
        buf.extend_from_slice(&self.line[start..self.pos]);
        loop {
            match self.next()? {
                b'"' => break,
                b'\\' => {
                    let decoded = match self.next()? {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0C,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let hex = self.line.get(self.pos..self.pos + 4)?;
                            self.pos += 4;
                            let hex = std::str::from_utf8(hex).ok()?;
                            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return None;
                            }
                            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                            buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    buf.push(decoded);
                }
                b if b < 0x20 => return None,
                b => {
                    buf.push(b);
                    let from = self.pos;
                    self.skip_plain_string_bytes();
                    buf.extend_from_slice(&self.line[from..self.pos]);
                }
            }
        }
        str_from_utf8(&buf)?;
        // SAFETY: just checked.
        Some(Cow::Owned(unsafe { String::from_utf8_unchecked(buf) }))
    }

    /// An id: a string without escapes, or a non-negative integer that fits `u64`
    /// written plainly (no leading zero, fraction or exponent).
    fn id(&mut self) -> Option<RecordId> {
        match *self.line.get(self.pos)? {
            b'"' => {
                self.pos += 1;
                let start = self.pos;
                self.skip_plain_string_bytes();
                if self.next()? != b'"' {
                    return None;
                }
                let s = str_from_utf8(&self.line[start..self.pos - 1])?;
                // Without escapes or control characters, serde_json writes the
                // string back exactly as it stands in the line.
                Some(RecordId::from_string(s))
            }
            b'0'..=b'9' => {
                let start = self.pos;
                while self.line.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
                let digits = &self.line[start..self.pos];
                if digits.len() > 1 && digits[0] == b'0' {
                    return None;
                }
                if let Some(b'.' | b'e' | b'E') = self.line.get(self.pos) {
                    return None;
                }
                let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
                Some(RecordId::Int(n))
            }
            _ => None,
        }
    }
}

struct RecordSeed<'f> {
    text_field: &'f str,
    id_field: Option<&'f str>,
}

type Extracted<'a> = (Option<Cow<'a, str>>, Option<RecordId>);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Extracted<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Extracted<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut text = None;
        let mut id = None;
        while let Some(key) = map.next_key::<CowStr<'de>>()? {
            if key.0 == self.text_field {
                let value: MaybeStr<'de> = map.next_value()?;
                match value.0 {
                    Some(s) => text = Some(s),
                    None => {
                        return Err(de::Error::custom(format_args!(
                            "field {:?} is not a string",
                            self.text_field
                        )))
                    }
                }
            } else if Some(key.0.as_ref()) == self.id_field {
                // Kept as written: a number is not rounded through `f64`.
                let value: Box<serde_json::value::RawValue> = map.next_value()?;
                if !matches!(value.get().as_bytes()[0], b'"' | b'-' | b'0'..=b'9') {
                    return Err(de::Error::custom(format_args!(
                        "id field {:?} must be a string or a number",
                        key.0
                    )));
                }
                id = Some(RecordId::from_raw(value));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok((text, id))
    }
}

/// A string that borrows from the input when it can.
struct CowStr<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(CowStrVisitor).map(CowStr)
    }
}

struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A value that is a string (kept) or anything else (reported as `None`).
struct MaybeStr<'a>(Option<Cow<'a, str>>);

impl<'de> serde::Deserialize<'de> for MaybeStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_fields_reach_into_nested_objects_after_exact_keys() {
        let line = r#"{"meta":{"url":"https://a.kr/1","n":7},"body":{"text":"본문"},"a.b":"flat"}"#
            .as_bytes();
        let f = extract(line, "body.text", Some("meta.url")).expect("nested");
        assert_eq!(f.text, "본문");
        assert_eq!(f.id, Some(RecordId::from("https://a.kr/1")));
        let f = extract(line, "a.b", Some("meta.n")).expect("exact key first");
        assert_eq!(f.text, "flat");
        assert_eq!(f.id, Some(RecordId::Int(7)));
        assert_eq!(
            extract(line, "body.missing", None).expect_err("absent"),
            "missing text field \"body.missing\""
        );
        assert_eq!(
            extract(line, "meta.n", None).expect_err("number"),
            "field \"meta.n\" is not a string"
        );
        assert_eq!(
            extract(line, "body.text", Some("body")).expect_err("object id"),
            "id field \"body\" must be a string or a number"
        );
        assert!(extract(b"[1]", "a.b", None)
            .expect_err("array")
            .contains("not a JSON object"));
    }

    #[test]
    fn borrows_plain_text_and_unescapes_escaped_text() {
        let f = extract(
            br#"{"id":"a1","text":"plain","x":[1,{"y":2}]}"#,
            "text",
            Some("id"),
        )
        .expect("valid");
        assert!(matches!(f.text, Cow::Borrowed("plain")));
        assert_eq!(f.id, Some(RecordId::from("a1")));
        let f = extract(br#"{"text":"line\nbreak \u00e9"}"#, "text", None).expect("valid");
        assert_eq!(f.text, "line\nbreak é");
    }

    fn same(a: &Result<Fields<'_>, String>, b: &Result<Fields<'_>, String>) -> bool {
        match (a, b) {
            (Ok(a), Ok(b)) => a.text == b.text && a.id == b.id,
            (Err(a), Err(b)) => a == b,
            _ => false,
        }
    }

    #[test]
    fn plain_reader_takes_common_records_and_leaves_the_rest() {
        let taken: [&[u8]; 6] = [
            br#"{"id":"doc-1","text":"plain"}"#,
            br#" { "text" : "a\nb\t\"q\" \\ \/ \b\f\r \u00e9\uAC00" , "id" : 42 } "#,
            br#"{"id":0,"text":""}"#,
            "{\"id\":\"한\",\"text\":\"법률 \\n 제1조\"}".as_bytes(),
            br#"{"text":"x","id":"a","id":"b"}"#,
            br#"{"id":18446744073709551615,"text":"max"}"#,
        ];
        for line in taken {
            let plain = extract_plain(line, "text", Some("id"));
            assert!(plain.is_some(), "{}", String::from_utf8_lossy(line));
            let plain = Ok(plain.expect("taken"));
            let serde = extract_serde(line, "text", Some("id"));
            assert!(same(&plain, &serde), "{}", String::from_utf8_lossy(line));
        }
        let left: [&[u8]; 14] = [
            br#"{"id":"a","text":"x","other":1}"#,
            br#"{"id":"a","text":5}"#,
            br#"{"id":-1,"text":"x"}"#,
            br#"{"id":1.5,"text":"x"}"#,
            br#"{"id":01,"text":"x"}"#,
            br#"{"id":18446744073709551616,"text":"x"}"#,
            br#"{"id":"a\n","text":"x"}"#,
            br#"{"i\u0064":"a","text":"x"}"#,
            br#"{"id":"a","text":"\ud83d\ude00"}"#,
            b"{\"id\":\"a\",\"text\":\"tab\there\"}",
            b"{\"id\":\"a\",\"text\":\"\xff\"}",
            br#"{"id":"a","text":"x"} x"#,
            br#"{"id":"a","text":"x",}"#,
            br#"{"text":"x"}"#,
        ];
        for line in left {
            assert!(
                extract_plain(line, "text", Some("id")).is_none(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    proptest::proptest! {
        /// Lines glued from pieces of records, valid and not: whenever the plain
        /// reader answers, serde_json answers the same.
        #[test]
        fn plain_reader_agrees_with_serde(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "{", "}", " ", "\t", ",", ":", "\"", "\"id\"", "\"text\"", "\"other\"", "id", "text",
                "\\", "\\n", "\\\"", "\\u00", "\\uac00", "\\ud83d", "\\ude00", "\\x", "e9", "AC",
                "0", "7", "-", ".", "e5", "18446744073709551615", "abc", "한국", "\u{1}", "\u{7f}",
                "null", "[1]", "\\/", "\\b",
            ]), 0..30),
            with_id: bool,
        ) {
            let line = pieces.concat();
            let id_field = with_id.then_some("id");
            if let Some(plain) = extract_plain(line.as_bytes(), "text", id_field) {
                let serde = extract_serde(line.as_bytes(), "text", id_field);
                proptest::prop_assert!(same(&Ok(plain), &serde), "{:?}", line);
            }
        }

        /// Records as serde_json writes them (any text, string or number ids) are
        /// all taken by the plain reader, with serde_json's result.
        #[test]
        fn plain_reader_takes_serialised_records(
            text in "(\\PC|[\n\t\r\u{0}-\u{1f}\"\\\\/\u{7f}])*",
            id in "[ -~]{0,8}",
            number: Option<u64>,
            text_first: bool,
        ) {
            let id_value = number.map_or(serde_json::json!(id), serde_json::Value::from);
            let line = if text_first {
                format!("{{\"text\":{},\"id\":{}}}", serde_json::json!(text), id_value)
            } else {
                format!("{{\"id\":{},\"text\":{}}}", id_value, serde_json::json!(text))
            };
            let serde = extract_serde(line.as_bytes(), "text", Some("id"));
            let plain = extract_plain(line.as_bytes(), "text", Some("id"));
            if !id.contains(['"', '\\']) || number.is_some() {
                proptest::prop_assert!(plain.is_some(), "{:?}", line);
            }
            if let Some(plain) = plain {
                proptest::prop_assert!(same(&Ok(plain), &serde), "{:?}", line);
            }
        }
    }

    #[test]
    fn custom_field_names() {
        let f = extract(br#"{"body":"b","doc":7}"#, "body", Some("doc")).expect("valid");
        assert_eq!(f.text, "b");
        assert_eq!(f.id, Some(RecordId::Int(7)));
    }

    #[test]
    fn numeric_ids_keep_the_digits_the_line_has() {
        for (line, id) in [
            (
                &br#"{"text":"a","id":123456789012345678901234567890}"#[..],
                "123456789012345678901234567890",
            ),
            (br#"{"text":"a","id":1000.0}"#, "1000.0"),
            (br#"{"text":"a","id": -5 }"#, "-5"),
            (br#"{"text":"a","id":"x\u00e9"}"#, r#""x\u00e9""#),
        ] {
            let f = extract(line, "text", Some("id")).expect("valid");
            assert_eq!(f.id.expect("id").to_string(), id);
        }
    }

    #[test]
    fn reports_what_is_wrong() {
        let cases: [(&[u8], &str); 7] = [
            (br#"{"text": "a""#, "invalid JSON"),
            (br#"{"other": "a"}"#, "missing text field \"text\""),
            (br#"{"text": 5}"#, "is not a string"),
            (br#"[1, 2]"#, "invalid JSON"),
            (br#"{"text": "a"} trailing"#, "invalid JSON"),
            (b"{\"text\": \"\xff\"}", "invalid JSON"),
            (
                br#"{"text": "a", "id": null}"#,
                "must be a string or a number",
            ),
        ];
        for (line, expected) in cases {
            let err = extract(line, "text", Some("id")).expect_err("bad line");
            assert!(err.contains(expected), "{err} lacks {expected}");
        }
        let err = extract(br#"{"text": "a"}"#, "text", Some("id")).expect_err("no id");
        assert!(err.contains("missing id field"), "{err}");
    }
}
