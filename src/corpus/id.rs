//! Record ids, written back exactly as the input wrote them.
//!
//! An id read from a JSONL field is kept as its JSON text: `123456789012345678901234567890`,
//! `1000.0`, `1e3` and `"caf\u00e9"` come out of every output file byte for byte as
//! they went in, never parsed into a floating-point number or re-escaped, so a user
//! can match output ids against the input with a plain string comparison. Ids the
//! corpus makes up (line numbers, paths, `path:line`) are a number or a JSON string.
//!
//! A plain non-negative integer that fits `u64` (no sign, no leading zero, no
//! fraction or exponent: the text `u64` prints) is held as the number, which
//! costs no allocation and writes back to the same digits; anything else is held
//! as its JSON text. Equality and hashing compare that text, so the same id read
//! twice is equal, while `1000` and `1000.0` (or `"é"` and `"\u00e9"`) are not;
//! see [`RecordId::key`] for the comparison duplicate checks use.
//!
//! Serialising writes the text unchanged, but only through `serde_json`, the one
//! format ids are written in; deserialising likewise needs `serde_json` reading
//! the text directly (not through `#[serde(flatten)]` or untagged enums, which
//! buffer values first).
//!
//! Ids must tell records apart in the outputs: [`duplicates`] finds records that
//! share an id, by sorting 64-bit hashes of the ids (8 bytes per record for the
//! length of the check) and comparing the ids only where hashes meet.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A record's id as the outputs write it.
#[derive(Clone)]
pub enum RecordId {
    /// A plain non-negative integer (a line number, or an integer id written
    /// the way `u64` prints).
    Int(u64),
    /// Any other id: its JSON text exactly as read (or as made, for a string).
    Json(Box<RawValue>),
}

impl RecordId {
    /// The id of a JSON string with the text `s` (escaped as `serde_json` does).
    pub fn from_string(s: &str) -> RecordId {
        RecordId::Json(serde_json::value::to_raw_value(s).expect("a string serialises"))
    }

    /// The id whose JSON text is `text` (any JSON value); `None` when `text` is
    /// not JSON. The text is kept as it is, surrounding whitespace aside.
    pub fn from_json_text(text: &str) -> Option<RecordId> {
        let raw = RawValue::from_string(text.trim().to_owned()).ok()?;
        Some(RecordId::from_raw(raw))
    }

    /// Appends the id's JSON text to `out`: what serializing it writes.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            RecordId::Int(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            RecordId::Json(raw) => out.extend_from_slice(raw.get().as_bytes()),
        }
    }

    /// The id whose JSON text is `raw`.
    pub fn from_raw(raw: Box<RawValue>) -> RecordId {
        match plain_u64(raw.get()) {
            Some(n) => RecordId::Int(n),
            None => RecordId::Json(raw),
        }
    }

    /// The JSON text of the id, as the outputs write it.
    pub fn json_text(&self) -> Cow<'_, str> {
        match self {
            RecordId::Int(n) => Cow::Owned(n.to_string()),
            RecordId::Json(raw) => Cow::Borrowed(raw.get()),
        }
    }

    /// The id as a reader sees it: a string without its quotes (escapes
    /// decoded), anything else as its JSON text.
    pub fn display_text(&self) -> Cow<'_, str> {
        match self {
            RecordId::Json(raw) if raw.get().starts_with('"') => {
                let text = raw.get();
                let inner = &text[1..text.len() - 1];
                if inner.contains('\\') {
                    Cow::Owned(serde_json::from_str::<String>(text).unwrap_or_else(|_| text.into()))
                } else {
                    Cow::Borrowed(inner)
                }
            }
            other => other.json_text(),
        }
    }

    /// What duplicate-id checks compare: the JSON text, with a string's escapes
    /// decoded (`"é"` and `"\u00e9"` name the same id for any JSON reader) and
    /// numbers as written (`1000` and `1000.0` differ, as the input wrote them
    /// differently).
    pub fn key(&self) -> Cow<'_, str> {
        match self {
            RecordId::Json(raw) if raw.get().starts_with('"') && raw.get().contains('\\') => {
                // Written again with serde_json's escaping, which is how an
                // unescaped string's text already reads.
                match serde_json::from_str::<String>(raw.get()) {
                    Ok(s) => Cow::Owned(serde_json::to_string(&s).expect("a string serialises")),
                    Err(_) => Cow::Borrowed(raw.get()),
                }
            }
            other => other.json_text(),
        }
    }

    /// The id as a `serde_json::Value` (numbers beyond `f64` lose digits there:
    /// use [`RecordId::json_text`] to write it).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            RecordId::Int(n) => serde_json::Value::from(*n),
            RecordId::Json(raw) => {
                serde_json::from_str(raw.get()).unwrap_or(serde_json::Value::Null)
            }
        }
    }
}

/// A 64-bit hash of `id`'s [`RecordId::key`], for finding duplicates.
pub fn key_hash(id: &RecordId) -> u64 {
    match id {
        RecordId::Int(n) => xxhash_rust::xxh3::xxh3_64_with_seed(&n.to_le_bytes(), 1),
        other => xxhash_rust::xxh3::xxh3_64(other.key().as_bytes()),
    }
}

/// Records that share an id with an earlier record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// How many records have the id of an earlier record.
    pub count: u64,
    /// The first such record in input order, and the earlier record with its
    /// id: `(earlier, later)`, as indexes.
    pub first: Option<(usize, usize)>,
}

/// Finds records among `ids` (in input order) whose id is the id of an earlier
/// one, ids compared by [`RecordId::key`].
pub fn duplicates(ids: &[&RecordId]) -> Duplicates {
    let mut hashes: Vec<u64> = ids.iter().map(|id| key_hash(id)).collect();
    hashes.sort_unstable();
    let mut shared: Vec<u64> = hashes
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    drop(hashes);
    if shared.is_empty() {
        return Duplicates::default();
    }
    shared.dedup();
    // Only records whose hash is shared are looked at again.
    let mut groups: std::collections::HashMap<u64, Vec<usize>> =
        shared.iter().map(|&h| (h, Vec::new())).collect();
    for (index, id) in ids.iter().enumerate() {
        if let Some(group) = groups.get_mut(&key_hash(id)) {
            group.push(index);
        }
    }
    let mut found = Duplicates::default();
    for group in groups.values() {
        let mut seen: std::collections::HashMap<Cow<'_, str>, usize> =
            std::collections::HashMap::new();
        for &index in group {
            match seen.entry(ids[index].key()) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    found.count += 1;
                    if found.first.is_none_or(|(_, later)| index < later) {
                        found.first = Some((*first.get(), index));
                    }
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
    }
    found
}

/// `text` as a `u64` when it is exactly how that number prints.
fn plain_u64(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let plain = !bytes.is_empty()
        && bytes.len() <= 20
        && bytes.iter().all(u8::is_ascii_digit)
        && (bytes.len() == 1 || bytes[0] != b'0');
    if plain {
        text.parse().ok()
    } else {
        None
    }
}

impl PartialEq for RecordId {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (RecordId::Int(a), RecordId::Int(b)) => a == b,
            (RecordId::Json(a), RecordId::Json(b)) => a.get() == b.get(),
            // `from_raw` makes every plain integer an `Int`.
            _ => false,
        }
    }
}

impl Eq for RecordId {}

impl Hash for RecordId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            RecordId::Int(n) => {
                state.write_u8(0);
                n.hash(state);
            }
            RecordId::Json(raw) => {
                state.write_u8(1);
                raw.get().hash(state);
            }
        }
    }
}

impl fmt::Display for RecordId {
    /// The JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordId::Int(n) => write!(f, "{n}"),
            RecordId::Json(raw) => f.write_str(raw.get()),
        }
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

impl From<u64> for RecordId {
    fn from(n: u64) -> Self {
        RecordId::Int(n)
    }
}

impl From<&str> for RecordId {
    fn from(s: &str) -> Self {
        RecordId::from_string(s)
    }
}

impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RecordId::Int(n) => serializer.serialize_u64(*n),
            RecordId::Json(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(RecordId::from_raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ids_json_text_is_what_serde_writes() {
        let ids = [
            RecordId::from(0),
            RecordId::from(u64::MAX),
            RecordId::from_string("a \"quoted\"\n id"),
            RecordId::from_json_text("-12").expect("JSON"),
            RecordId::from_json_text("1.5e3").expect("JSON"),
            RecordId::from_json_text("[1, {\"k\": null}]").expect("JSON"),
        ];
        for id in ids {
            let mut written = Vec::new();
            id.write_json(&mut written);
            assert_eq!(
                written,
                serde_json::to_vec(&id).expect("serialises"),
                "{id}"
            );
        }
    }

    #[test]
    fn numeric_ids_round_trip_byte_for_byte() {
        for text in [
            "123456789012345678901234567890",
            "1000.0",
            "1e3",
            "-0",
            "18446744073709551616",
            "-7",
            "0.1",
        ] {
            let id = RecordId::from_json_text(text).expect("json");
            assert_eq!(id.to_string(), text);
            assert_eq!(serde_json::to_string(&id).expect("ser"), text);
            let back: RecordId = serde_json::from_str(text).expect("de");
            assert_eq!(back, id);
        }
    }

    #[test]
    fn plain_integers_are_numbers_and_equal_however_made() {
        let read: RecordId = serde_json::from_str(" 42 ").expect("de");
        assert_eq!(read, RecordId::Int(42));
        assert_eq!(
            RecordId::from_json_text("18446744073709551615"),
            Some(RecordId::Int(u64::MAX))
        );
        assert_eq!(RecordId::from_json_text("007"), None, "not JSON");
        assert!(matches!(
            RecordId::from_json_text("7.0"),
            Some(RecordId::Json(_))
        ));
        assert_ne!(
            RecordId::from_json_text("1000.0"),
            Some(RecordId::Int(1000))
        );
    }

    #[test]
    fn string_ids_keep_their_escapes_and_show_without_quotes() {
        let id = RecordId::from_json_text(r#""caf\u00e9""#).expect("json");
        assert_eq!(id.to_string(), r#""caf\u00e9""#);
        assert_eq!(id.display_text(), "café");
        assert_eq!(id.key(), RecordId::from_string("café").key());
        assert_ne!(id, RecordId::from_string("café"), "different texts");
        let made = RecordId::from_string("a \"q\" b");
        assert_eq!(made.to_string(), r#""a \"q\" b""#);
        assert_eq!(made.display_text(), "a \"q\" b");
    }

    #[test]
    fn duplicates_are_found_with_the_first_pair_in_input_order() {
        let ids: Vec<RecordId> = [r#""a""#, "7", r#""b""#, r#""\u0062""#, "7", "7.0", r#""a""#]
            .iter()
            .map(|t| RecordId::from_json_text(t).expect("json"))
            .collect();
        let refs: Vec<&RecordId> = ids.iter().collect();
        let found = duplicates(&refs);
        assert_eq!(found.first, Some((2, 3)), "\"\\u0062\" is \"b\"");
        assert_eq!(found.count, 3, "b, 7 and a again; 7.0 is another id");
        let unique: Vec<RecordId> = (0..10_000u64).map(RecordId::Int).collect();
        let refs: Vec<&RecordId> = unique.iter().collect();
        assert_eq!(duplicates(&refs), Duplicates::default());
    }

    #[test]
    fn ids_nested_in_written_structs_stay_raw() {
        #[derive(Serialize, Deserialize)]
        struct Unit {
            id: RecordId,
            para: Option<u32>,
        }
        let line = r#"{"id":1.2345678901234567890123e+29,"para":3}"#;
        let unit: Unit = serde_json::from_str(line).expect("de");
        assert_eq!(serde_json::to_string(&unit).expect("ser"), line);
    }
}
