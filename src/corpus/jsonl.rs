//! Pulling the text and id fields out of one JSON line without building a DOM.
//!
//! The object is streamed with serde: the two fields we need are kept (the text
//! borrowed straight from the line when it has no escapes), every other value is
//! skipped unparsed-into-memory. Errors are plain messages; the caller adds the file
//! and line.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// The fields of one record that a run needs.
#[derive(Debug)]
pub struct Fields<'a> {
    /// The text.
    pub text: Cow<'a, str>,
    /// The id, if an id field was asked for.
    pub id: Option<serde_json::Value>,
}

/// Parses one JSON line and returns its text field (and id field, when named).
pub fn extract<'a>(
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

struct RecordSeed<'f> {
    text_field: &'f str,
    id_field: Option<&'f str>,
}

type Extracted<'a> = (Option<Cow<'a, str>>, Option<serde_json::Value>);

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
                let value: serde_json::Value = map.next_value()?;
                if !(value.is_string() || value.is_number()) {
                    return Err(de::Error::custom(format_args!(
                        "id field {:?} must be a string or a number",
                        key.0
                    )));
                }
                id = Some(value);
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
    fn borrows_plain_text_and_unescapes_escaped_text() {
        let f = extract(
            br#"{"id":"a1","text":"plain","x":[1,{"y":2}]}"#,
            "text",
            Some("id"),
        )
        .expect("valid");
        assert!(matches!(f.text, Cow::Borrowed("plain")));
        assert_eq!(f.id, Some(serde_json::json!("a1")));
        let f = extract(br#"{"text":"line\nbreak \u00e9"}"#, "text", None).expect("valid");
        assert_eq!(f.text, "line\nbreak é");
    }

    #[test]
    fn custom_field_names() {
        let f = extract(br#"{"body":"b","doc":7}"#, "body", Some("doc")).expect("valid");
        assert_eq!(f.text, "b");
        assert_eq!(f.id, Some(serde_json::json!(7)));
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
