//! Which unit of a cluster is kept: the keep policies.
//!
//! Clustering decides which units belong together; a [`KeepPolicy`] decides
//! which of them stays. Every policy is a ranking of units, best first, that
//! ends in input order, so the kept unit is the same for any thread count,
//! shard size or number of workers:
//!
//! - units of an index compared against (the *preferred* units, numbered first)
//!   always come first: they were kept by an earlier run;
//! - `central` ranks star clusters by verified edges (the most connected unit
//!   first) and components by input order: the default;
//! - `first` ranks by input order alone;
//! - `longest` and `shortest` rank by the unit's length in bytes;
//! - `max:FIELD` and `min:FIELD` rank by a record field (a dotted path such as
//!   `meta.timestamp`): numbers as numbers (exactly, integers beyond 2^53
//!   included), strings as strings; a record without the field, or with null,
//!   ranks last. One run ranks by numbers or by strings, never both, and any
//!   other value is an error naming the record;
//! - `drop-all` clusters as `central` but keeps no unit of a cluster of two or
//!   more (see [`KeepPolicy::keeps`]).
//!
//! A star clustering visits units in this order ([`Ranking::visit_order`]), so
//! the best unit of every cluster becomes a centre and every removed unit is
//! still verified against the unit kept for it; a component keeps its best unit
//! ([`Ranking::best_first`]). The per-unit values a policy ranks by are
//! [`Key`]s, read by [`KeepPolicy::key`] and held, by unit number, in [`Keys`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, Format, RecordId, RecordMeta};
use crate::error::{Error, Result};

/// Which unit of a cluster is kept (see the [module](self) documentation).
/// Written as one string: `central`, `first`, `longest`, `shortest`,
/// `drop-all`, `max:FIELD` or `min:FIELD`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeepPolicy {
    /// Star clusters: the unit with the most verified edges; components: the
    /// first in input order.
    #[default]
    Central,
    /// The first unit in input order.
    First,
    /// The longest unit, in bytes.
    Longest,
    /// The shortest unit, in bytes.
    Shortest,
    /// No unit of a cluster of two or more units (clusters as `Central`).
    DropAll,
    /// The unit whose record has the largest value at this field path.
    Max(String),
    /// The unit whose record has the smallest value at this field path.
    Min(String),
}

/// The names of the policies, as [`KeepPolicy::from_str`] reads them.
const POLICY_NAMES: &str =
    "\"central\", \"first\", \"longest\", \"shortest\", \"drop-all\", \"max:FIELD\", \"min:FIELD\"";

impl FromStr for KeepPolicy {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let field = |path: &str| -> std::result::Result<String, String> {
            if path.split('.').any(str::is_empty) {
                return Err(format!(
                    "{text:?} needs a field path after the colon, such as \"meta.timestamp\" \
                     (names joined by dots, none empty)"
                ));
            }
            Ok(path.to_string())
        };
        match text {
            "central" => Ok(KeepPolicy::Central),
            "first" => Ok(KeepPolicy::First),
            "longest" => Ok(KeepPolicy::Longest),
            "shortest" => Ok(KeepPolicy::Shortest),
            "drop-all" => Ok(KeepPolicy::DropAll),
            _ => match text.split_once(':') {
                Some(("max", path)) => field(path).map(KeepPolicy::Max),
                Some(("min", path)) => field(path).map(KeepPolicy::Min),
                _ => Err(format!(
                    "unknown keep policy {text:?}, expected one of {POLICY_NAMES}"
                )),
            },
        }
    }
}

impl fmt::Display for KeepPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepPolicy::Central => f.write_str("central"),
            KeepPolicy::First => f.write_str("first"),
            KeepPolicy::Longest => f.write_str("longest"),
            KeepPolicy::Shortest => f.write_str("shortest"),
            KeepPolicy::DropAll => f.write_str("drop-all"),
            KeepPolicy::Max(field) => write!(f, "max:{field}"),
            KeepPolicy::Min(field) => write!(f, "min:{field}"),
        }
    }
}

impl Serialize for KeepPolicy {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeepPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl KeepPolicy {
    /// The record field this policy ranks by, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            KeepPolicy::Max(field) | KeepPolicy::Min(field) => Some(field),
            _ => None,
        }
    }

    /// Whether units are ranked by a per-unit [`Key`] (a length or a field),
    /// which clustering then needs for every unit of a cluster.
    pub fn ranks_by_key(&self) -> bool {
        matches!(
            self,
            KeepPolicy::Longest | KeepPolicy::Shortest | KeepPolicy::Max(_) | KeepPolicy::Min(_)
        )
    }

    /// Whether star clusters visit the most connected units first.
    fn ranks_by_degree(&self) -> bool {
        matches!(self, KeepPolicy::Central | KeepPolicy::DropAll)
    }

    /// The rule that decides whether a unit stays: it is its cluster's kept
    /// unit (`centre`), it does not duplicate an indexed unit, and, under
    /// `drop-all`, its cluster (`cluster_size` units) has no other unit.
    pub fn keeps(&self, centre: bool, duplicates_indexed: bool, cluster_size: u32) -> bool {
        centre && !duplicates_indexed && !(*self == KeepPolicy::DropAll && cluster_size > 1)
    }

    /// Orders two keys under this policy, the better first; missing values
    /// last. Policies that rank by no key find every two keys equal.
    pub fn compare(&self, a: &Key, b: &Key) -> Ordering {
        let descending = match self {
            KeepPolicy::Longest | KeepPolicy::Max(_) => true,
            KeepPolicy::Shortest | KeepPolicy::Min(_) => false,
            _ => return Ordering::Equal,
        };
        match (a, b) {
            (Key::Missing, Key::Missing) => Ordering::Equal,
            (Key::Missing, _) => Ordering::Greater,
            (_, Key::Missing) => Ordering::Less,
            _ if descending => b.natural(a),
            _ => a.natural(b),
        }
    }

    /// The key of a unit of `len` bytes in `record` under this policy:
    /// its length, or its record's field value; [`Key::Missing`] for policies
    /// that rank by no key. A field value that is neither a number nor a
    /// string is an error naming the record's file and line.
    pub fn key(&self, corpus: &Corpus, record: &RecordMeta, len: usize) -> Result<Key> {
        match self {
            KeepPolicy::Longest | KeepPolicy::Shortest => Ok(Key::Length(len as u64)),
            KeepPolicy::Max(field) | KeepPolicy::Min(field) => {
                let value = corpus.record_field(record, field)?;
                self.field_key(corpus, record, field, value)
            }
            _ => Ok(Key::Missing),
        }
    }

    fn field_key(
        &self,
        corpus: &Corpus,
        record: &RecordMeta,
        field: &str,
        value: Option<serde_json::Value>,
    ) -> Result<Key> {
        use serde_json::Value;
        let kind = match value {
            None | Some(Value::Null) => return Ok(Key::Missing),
            Some(Value::Number(n)) => return Ok(Key::Number(Number::from_json(&n))),
            Some(Value::String(s)) => return Ok(Key::Text(s)),
            Some(Value::Bool(_)) => "a boolean",
            Some(Value::Array(_)) => "an array",
            Some(Value::Object(_)) => "an object",
        };
        Err(corpus.record_error(
            corpus.path(record.file),
            record.line,
            format!(
                "field {field:?} is {kind}, but `keep` {self} ranks records by a number or a \
                 string (a record without the field, or with null, ranks last)"
            ),
        ))
    }

    /// Checks, before any work, that the inputs can have the field this policy
    /// ranks by: plain-text records have none.
    pub fn check_inputs(&self, corpus: &Corpus) -> Result<()> {
        if self.field().is_none() {
            return Ok(());
        }
        let text_file = corpus
            .files()
            .iter()
            .position(|file| file.format == Format::Text);
        if let Some(file) = text_file {
            // A plain-text file is one record; asking it for the field gives
            // the reader's own error.
            let record = RecordMeta {
                file: file as u32,
                start: 0,
                len: 0,
                line: 1,
                id: RecordId::Int(0),
            };
            self.key(corpus, &record, 0)?;
        }
        Ok(())
    }

    /// Reads this policy's field in every one of `records` (in parallel):
    /// where the first number and the first string are, or the error of the
    /// first record whose value can rank neither way.
    pub fn survey(&self, corpus: &Corpus, records: &[RecordMeta]) -> Result<FieldKinds> {
        let Some(field) = self.field() else {
            return Ok(FieldKinds::default());
        };
        #[derive(Default)]
        struct Seen {
            number: Option<usize>,
            text: Option<usize>,
            bad: Option<(usize, Error)>,
        }
        fn earlier(a: Option<usize>, b: Option<usize>) -> Option<usize> {
            match (a, b) {
                (Some(x), Some(y)) => Some(x.min(y)),
                _ => a.or(b),
            }
        }
        let seen = records
            .par_iter()
            .enumerate()
            .fold(Seen::default, |mut seen, (i, record)| {
                if seen.bad.is_some() {
                    return seen;
                }
                let key = corpus
                    .record_field(record, field)
                    .and_then(|value| self.field_key(corpus, record, field, value));
                match key {
                    Ok(Key::Number(_)) => seen.number = earlier(seen.number, Some(i)),
                    Ok(Key::Text(_)) => seen.text = earlier(seen.text, Some(i)),
                    Ok(_) => {}
                    Err(e) => seen.bad = Some((i, e)),
                }
                seen
            })
            .reduce(Seen::default, |a, b| Seen {
                number: earlier(a.number, b.number),
                text: earlier(a.text, b.text),
                bad: match (a.bad, b.bad) {
                    (Some(x), Some(y)) => Some(if x.0 <= y.0 { x } else { y }),
                    (x, y) => x.or(y),
                },
            });
        if let Some((_, error)) = seen.bad {
            return Err(error);
        }
        let place = |i: usize| {
            let record = &records[i];
            let place = Place {
                file: record.file,
                line: record.line,
                shown: corpus.place(record),
            };
            (i as u64, place)
        };
        Ok(FieldKinds {
            number: seen.number.map(place),
            text: seen.text.map(place),
        })
    }
}

/// Where a record is, for messages (every worker numbers the input files
/// alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Its file, an index into [`Corpus::files`].
    pub file: u32,
    /// Its 1-based line.
    pub line: u64,
    /// How messages name it ([`Corpus::place`]).
    pub shown: String,
}

/// What kinds of value a share of the input has in the field a policy ranks
/// by: the first record with a number and the first with a string, each with
/// its position in the share.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldKinds {
    /// The first record whose field is a number.
    pub number: Option<(u64, Place)>,
    /// The first record whose field is a string.
    pub text: Option<(u64, Place)>,
}

impl FieldKinds {
    /// Checks that the shares `all` (in input order) together hold numbers or
    /// strings, not both; the error names the first record of the kind that
    /// came second, and the first of the other.
    pub fn check_one_kind(policy: &KeepPolicy, corpus: &Corpus, all: &[FieldKinds]) -> Result<()> {
        type Pick = fn(&FieldKinds) -> Option<&(u64, Place)>;
        let first = |pick: Pick| {
            all.iter()
                .enumerate()
                .find_map(|(share, kinds)| pick(kinds).map(|(at, place)| ((share, *at), place)))
        };
        let (Some((number_at, number)), Some((text_at, text))) =
            (first(|k| k.number.as_ref()), first(|k| k.text.as_ref()))
        else {
            return Ok(());
        };
        let (later, later_kind, earlier, earlier_kind) = if number_at < text_at {
            (text, "a string", number, "a number")
        } else {
            (number, "a number", text, "a string")
        };
        let field = policy.field().unwrap_or_default();
        Err(corpus.record_error(
            corpus.path(later.file),
            later.line,
            format!(
                "field {field:?} is {later_kind}, but at {} it is {earlier_kind}: `keep` \
                 {policy} ranks by numbers or by strings, not both",
                earlier.shown
            ),
        ))
    }
}

/// A number from a record field, compared exactly: integers as integers,
/// fractions as fractions, an integer and a fraction by their values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Number {
    /// A negative integer (or any that fits in `i64`).
    Int(i64),
    /// A positive integer beyond `i64`.
    UInt(u64),
    /// Any other number (finite; never `-0.0`).
    Float(f64),
}

impl Number {
    /// The number a JSON value holds.
    pub fn from_json(n: &serde_json::Number) -> Number {
        if let Some(i) = n.as_i64() {
            Number::Int(i)
        } else if let Some(u) = n.as_u64() {
            Number::UInt(u)
        } else {
            // JSON numbers are finite; -0.0 equals 0.0 for ranking.
            let f = n.as_f64().unwrap_or(0.0);
            Number::Float(if f == 0.0 { 0.0 } else { f })
        }
    }

    /// Compares two numbers by their exact values.
    pub fn compare(self, other: Number) -> Ordering {
        match (self.exact(), other.exact()) {
            (Exact::Int(a), Exact::Int(b)) => a.cmp(&b),
            (Exact::Float(a), Exact::Float(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            (Exact::Int(a), Exact::Float(b)) => int_against_float(a, b),
            (Exact::Float(a), Exact::Int(b)) => int_against_float(b, a).reverse(),
        }
    }

    fn exact(self) -> Exact {
        match self {
            Number::Int(i) => Exact::Int(i128::from(i)),
            Number::UInt(u) => Exact::Int(i128::from(u)),
            Number::Float(f) => Exact::Float(f),
        }
    }
}

enum Exact {
    Int(i128),
    Float(f64),
}

/// Orders an integer and a finite float by their exact values.
fn int_against_float(i: i128, f: f64) -> Ordering {
    // 2^127: every float below it in magnitude truncates to an `i128` exactly.
    const BOUND: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if f >= BOUND {
        return Ordering::Less;
    }
    if f < -BOUND {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    match i.cmp(&(whole as i128)) {
        // Same integer part: the float's fraction decides.
        Ordering::Equal => 0.0f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal),
        unequal => unequal,
    }
}

/// What a unit is ranked by under a policy that ranks by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Key {
    /// The unit's length in bytes.
    Length(u64),
    /// A number from its record's field.
    Number(Number),
    /// A string from its record's field.
    Text(String),
    /// No value: ranks last.
    Missing,
}

impl Key {
    /// Ascending order of two present keys (lengths, numbers, strings; a
    /// number before a string, which one run never compares).
    fn natural(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Length(a), Key::Length(b)) => a.cmp(b),
            (Key::Number(a), Key::Number(b)) => a.compare(*b),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            _ => self.kind().cmp(&other.kind()),
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Key::Length(_) => 0,
            Key::Number(_) => 1,
            Key::Text(_) => 2,
            Key::Missing => 3,
        }
    }

    /// Bytes of the key once encoded (for exchanged-bytes counts).
    pub fn encoded_len(&self) -> usize {
        match self {
            Key::Text(s) => 4 + 8 + s.len(),
            _ => 4 + 12,
        }
    }
}

/// Each unit's [`Key`], by unit number; a unit not listed has
/// [`Key::Missing`].
#[derive(Debug, Clone, Default)]
pub struct Keys(Vec<(u32, Key)>);

static MISSING: Key = Key::Missing;

impl Keys {
    /// No keys (every unit [`Key::Missing`]).
    pub const fn none() -> Keys {
        Keys(Vec::new())
    }

    /// The key of `unit`.
    pub fn get(&self, unit: u32) -> &Key {
        match self.0.binary_search_by_key(&unit, |&(u, _)| u) {
            Ok(at) => &self.0[at].1,
            Err(_) => &MISSING,
        }
    }
}

impl FromIterator<(u32, Key)> for Keys {
    /// Keys of units; of a unit listed twice, the first.
    fn from_iter<I: IntoIterator<Item = (u32, Key)>>(iter: I) -> Self {
        let mut keys: Vec<(u32, Key)> = iter.into_iter().collect();
        keys.sort_by_key(|&(unit, _)| unit);
        keys.dedup_by_key(|&mut (unit, _)| unit);
        Keys(keys)
    }
}

/// A policy with the keys it ranks by: the order in which clustering
/// considers units for keeping. Units below `preferred_below` (indexed
/// units) come before all others; input order (unit number) decides last.
#[derive(Debug, Clone, Copy)]
pub struct Ranking<'a> {
    /// The policy.
    pub policy: &'a KeepPolicy,
    /// Each unit's key, where the policy ranks by key.
    pub keys: &'a Keys,
    /// Units numbered below this are preferred.
    pub preferred_below: u32,
}

static CENTRAL: KeepPolicy = KeepPolicy::Central;
static NO_KEYS: Keys = Keys::none();

impl Ranking<'static> {
    /// The default ranking (`central`), with units below `preferred_below`
    /// first.
    pub fn central(preferred_below: u32) -> Self {
        Ranking {
            policy: &CENTRAL,
            keys: &NO_KEYS,
            preferred_below,
        }
    }
}

impl Ranking<'_> {
    /// The order in which a star clustering visits `a` and `b`, given as
    /// (unit, number of verified edges, key): preferred units, then the most
    /// connected (`central`, `drop-all`) or the better key, then input order.
    pub fn visit_order(&self, a: (u32, usize, &Key), b: (u32, usize, &Key)) -> Ordering {
        self.preferred(a.0, b.0)
            .then_with(|| {
                if self.policy.ranks_by_degree() {
                    b.1.cmp(&a.1)
                } else {
                    self.policy.compare(a.2, b.2)
                }
            })
            .then(a.0.cmp(&b.0))
    }

    /// Whether [`Self::visit_order`] reads no keys: units go by preference,
    /// then decreasing degree, then input order.
    pub fn ranks_by_degree(&self) -> bool {
        self.policy.ranks_by_degree()
    }

    /// The order of units `a` and `b` for keeping one of a component, the
    /// better first: preferred units, then the better key, then input order.
    pub fn best_first(&self, a: u32, b: u32) -> Ordering {
        self.preferred(a, b)
            .then_with(|| self.policy.compare(self.keys.get(a), self.keys.get(b)))
            .then(a.cmp(&b))
    }

    fn preferred(&self, a: u32, b: u32) -> Ordering {
        (a >= self.preferred_below).cmp(&(b >= self.preferred_below))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn policies_are_read_and_written_as_one_string() {
        for text in [
            "central",
            "first",
            "longest",
            "shortest",
            "drop-all",
            "max:meta.timestamp",
            "min:score",
        ] {
            let policy: KeepPolicy = text.parse().expect(text);
            assert_eq!(policy.to_string(), text);
            let stored = serde_json::to_value(&policy).expect("serialises");
            assert_eq!(stored, serde_json::Value::String(text.into()));
            let read: KeepPolicy = serde_json::from_value(stored).expect("deserialises");
            assert_eq!(read, policy);
        }
        assert_eq!(KeepPolicy::default(), KeepPolicy::Central);
        let err = "biggest".parse::<KeepPolicy>().expect_err("unknown");
        assert!(
            err.contains("\"drop-all\"") && err.contains("\"max:FIELD\""),
            "{err}"
        );
        for bad in ["max:", "min:a..b", "max:.a", "max:a."] {
            let err = bad.parse::<KeepPolicy>().expect_err(bad);
            assert!(err.contains("field path"), "{bad}: {err}");
        }
        assert!(serde_json::from_str::<KeepPolicy>("\"max:\"").is_err());
    }

    #[test]
    fn drop_all_keeps_only_units_alone_in_their_cluster() {
        let drop = KeepPolicy::DropAll;
        assert!(drop.keeps(true, false, 1));
        assert!(!drop.keeps(true, false, 2));
        assert!(!drop.keeps(false, false, 2));
        assert!(KeepPolicy::Central.keeps(true, false, 5));
        assert!(!KeepPolicy::Central.keeps(true, true, 1));
        assert!(!KeepPolicy::Longest.keeps(false, false, 3));
    }

    #[test]
    fn missing_values_rank_last_whichever_the_direction() {
        let (one, two) = (Key::Number(Number::Int(1)), Key::Number(Number::Int(2)));
        let max = KeepPolicy::Max("f".into());
        let min = KeepPolicy::Min("f".into());
        assert_eq!(max.compare(&two, &one), Ordering::Less);
        assert_eq!(min.compare(&one, &two), Ordering::Less);
        for policy in [&max, &min] {
            assert_eq!(policy.compare(&one, &Key::Missing), Ordering::Less);
            assert_eq!(policy.compare(&Key::Missing, &two), Ordering::Greater);
        }
        let (a, b) = (Key::Text("apple".into()), Key::Text("banana".into()));
        assert_eq!(max.compare(&b, &a), Ordering::Less);
        assert_eq!(
            KeepPolicy::Longest.compare(&Key::Length(9), &Key::Length(3)),
            Ordering::Less
        );
        assert_eq!(
            KeepPolicy::Shortest.compare(&Key::Length(9), &Key::Length(3)),
            Ordering::Greater
        );
        assert_eq!(KeepPolicy::First.compare(&one, &two), Ordering::Equal);
    }

    #[test]
    fn large_integers_and_fractions_compare_exactly() {
        let n = |text: &str| Number::from_json(&serde_json::from_str(text).expect("number"));
        // Neighbours beyond 2^53 that one f64 cannot tell apart.
        assert_eq!(
            n("1700000000000000001").compare(n("1700000000000000000")),
            Ordering::Greater
        );
        assert_eq!(
            n("18446744073709551615").compare(n("-1")),
            Ordering::Greater
        );
        assert_eq!(n("2.5").compare(n("2")), Ordering::Greater);
        assert_eq!(n("-2.5").compare(n("-2")), Ordering::Less);
        assert_eq!(n("2.0").compare(n("2")), Ordering::Equal);
        assert_eq!(n("-0.0").compare(n("0")), Ordering::Equal);
        assert_eq!(
            n("1e300").compare(n("18446744073709551615")),
            Ordering::Greater
        );
        assert_eq!(
            n("-1e300").compare(n("-9223372036854775808")),
            Ordering::Less
        );
    }

    #[test]
    fn a_run_mixing_numbers_and_strings_is_refused_at_the_later_record() {
        let file = |name: &str| (name.into(), Format::Jsonl, b"{\"text\": \"x\"}\n".to_vec());
        let corpus = Corpus::from_memory(
            [file("a.jsonl"), file("b.jsonl")],
            crate::corpus::CorpusOptions::default(),
        )
        .expect("corpus");
        let place = |at, file: u32, line| {
            let shown = format!("{}:{line}", ["a.jsonl", "b.jsonl"][file as usize]);
            Some((at, Place { file, line, shown }))
        };
        let policy = KeepPolicy::Max("ts".into());
        let numbers = FieldKinds {
            number: place(3, 0, 4),
            text: None,
        };
        let strings = FieldKinds {
            number: None,
            text: place(0, 1, 2),
        };
        let check = |all: &[FieldKinds]| FieldKinds::check_one_kind(&policy, &corpus, all);
        assert!(check(&[numbers.clone(), numbers.clone()]).is_ok());
        let err = check(&[numbers.clone(), strings.clone()])
            .expect_err("mixed")
            .to_string();
        assert!(
            err.starts_with("b.jsonl:2: field \"ts\" is a string"),
            "{err}"
        );
        assert!(err.contains("at a.jsonl:4 it is a number"), "{err}");
        let both = FieldKinds {
            number: place(8, 0, 9),
            text: place(2, 0, 3),
        };
        let err = check(&[FieldKinds::default(), both])
            .expect_err("mixed")
            .to_string();
        assert!(
            err.starts_with("a.jsonl:9: field \"ts\" is a number"),
            "{err}"
        );
    }

    fn number() -> impl Strategy<Value = Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::Int),
            (i64::MAX as u64..=u64::MAX).prop_map(Number::UInt),
            (-1e20f64..1e20).prop_map(|f| Number::Float(if f == 0.0 { 0.0 } else { f })),
            (-100i64..100).prop_map(|i| Number::Float(i as f64 / 4.0)),
            (-100i64..100).prop_map(Number::Int),
        ]
    }

    /// The slow, obvious order: both numbers written out exactly in decimal
    /// (every finite `f64` has at most 1074 digits after the point), compared
    /// by sign, then integer digits, then fraction digits.
    fn slow(a: Number, b: Number) -> Ordering {
        let text = |n: Number| match n {
            Number::Int(i) => format!("{i}"),
            Number::UInt(u) => format!("{u}"),
            Number::Float(f) => format!("{f:.1100}"),
        };
        let parts = |s: String| {
            let negative = s.starts_with('-');
            let digits = s.trim_start_matches('-');
            let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
            let whole = whole.trim_start_matches('0').to_string();
            let fraction = fraction.trim_end_matches('0').to_string();
            let zero = whole.is_empty() && fraction.is_empty();
            (negative && !zero, whole, fraction)
        };
        let (na, wa, fa) = parts(text(a));
        let (nb, wb, fb) = parts(text(b));
        let magnitude = (wa.len(), &wa, &fa).cmp(&(wb.len(), &wb, &fb));
        match (na, nb) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }

    proptest! {
        #[test]
        fn numbers_compare_as_their_exact_values(a in number(), b in number()) {
            prop_assert_eq!(a.compare(b), slow(a, b));
        }

        #[test]
        fn keys_collected_answer_by_unit(pairs in proptest::collection::vec((0u32..50, 0u64..9), 0..40)) {
            let keys: Keys = pairs.iter().map(|&(u, l)| (u, Key::Length(l))).collect();
            for unit in 0..50u32 {
                let expected = pairs
                    .iter()
                    .find(|&&(u, _)| u == unit)
                    .map_or(Key::Missing, |&(_, l)| Key::Length(l));
                prop_assert_eq!(keys.get(unit), &expected);
            }
        }
    }
}
