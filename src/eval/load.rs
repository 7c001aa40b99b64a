//! Reading ground truth and predicted clusters, keyed by unit.
//!
//! A unit is a record (`id`) or a paragraph of one (`id` and `para`). Ids may be any
//! JSON value; they are compared by their rendering (a string as itself, anything
//! else as its JSON text), so `"7"` and `7` are the same id, which matches how the
//! CLI writes ids it read from a field. Both files are JSONL; blank lines are
//! skipped, unknown fields ignored, and every error names the file and the 1-based
//! line.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::synth::TruthRow;

/// Identifies one unit: a record, or one paragraph of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitKey {
    /// The record id, rendered as text.
    pub id: String,
    /// The 0-based paragraph index for paragraph units.
    pub para: Option<u32>,
}

impl fmt::Display for UnitKey {
    /// `id` for a record, `id#para` for a paragraph (the generator's cluster names).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.para {
            None => write!(f, "{}", self.id),
            Some(p) => write!(f, "{}#{}", self.id, p),
        }
    }
}

/// Renders a JSON id: strings as themselves, other values as JSON text.
pub fn render_id(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One labelled unit of the ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthUnit {
    /// The unit.
    pub key: UnitKey,
    /// Its true cluster's name.
    pub cluster: String,
    /// True Jaccard with the cluster's original, where the truth gives it (only
    /// recall by Jaccard needs it).
    pub jaccard: Option<f64>,
    /// Edit label (`original` marks the cluster's original).
    pub edit: String,
}

/// A loaded ground truth.
#[derive(Debug, Clone)]
pub struct Truth {
    path: PathBuf,
    units: Vec<TruthUnit>,
    lines: Vec<u64>,
    index: HashMap<UnitKey, usize>,
}

impl Truth {
    /// A truth from in-memory rows (as the generator makes them); `name` stands in
    /// for the file in messages.
    pub fn from_rows(name: impl Into<PathBuf>, rows: &[TruthRow]) -> Result<Truth> {
        let mut truth = Truth::empty(name.into());
        for (i, row) in rows.iter().enumerate() {
            let unit = TruthUnit {
                key: UnitKey {
                    id: row.id.clone(),
                    para: row.para,
                },
                cluster: row.cluster.clone(),
                jaccard: Some(row.jaccard),
                edit: row.edit.clone(),
            };
            truth.push(unit, i as u64 + 1)?;
        }
        Ok(truth)
    }

    fn empty(path: PathBuf) -> Truth {
        Truth {
            path,
            units: Vec::new(),
            lines: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn push(&mut self, unit: TruthUnit, line: u64) -> Result<()> {
        if let Some(jaccard) = unit.jaccard.filter(|j| !(0.0..=1.0).contains(j)) {
            return Err(Error::at_line(
                &self.path,
                line,
                format!("jaccard {jaccard} is outside [0, 1]"),
            ));
        }
        if let Some(&first) = self.index.get(&unit.key) {
            return Err(Error::at_line(
                &self.path,
                line,
                format!(
                    "unit {} already labelled on line {}",
                    unit.key, self.lines[first]
                ),
            ));
        }
        self.index.insert(unit.key.clone(), self.units.len());
        self.units.push(unit);
        self.lines.push(line);
        Ok(())
    }

    /// The file (or name) the truth came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The units in file order.
    pub fn units(&self) -> &[TruthUnit] {
        &self.units
    }

    /// 1-based line of unit `i`.
    pub fn line(&self, i: usize) -> u64 {
        self.lines.get(i).copied().unwrap_or(0)
    }

    /// Position of a unit in [`Truth::units`].
    pub fn position(&self, key: &UnitKey) -> Option<usize> {
        self.index.get(key).copied()
    }
}

/// One unit's predicted cluster and where it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Predicted {
    /// Predicted cluster id.
    pub cluster: u64,
    /// 1-based line in the predictions file.
    pub line: u64,
}

/// Loaded predicted clusters.
#[derive(Debug, Clone)]
pub struct Predictions {
    path: PathBuf,
    units: HashMap<UnitKey, Predicted>,
}

impl Predictions {
    /// Predictions from `(unit, cluster)` pairs; `name` stands in for the file.
    pub fn from_pairs(
        name: impl Into<PathBuf>,
        pairs: impl IntoIterator<Item = (UnitKey, u64)>,
    ) -> Result<Predictions> {
        let mut predictions = Predictions {
            path: name.into(),
            units: HashMap::new(),
        };
        for (i, (key, cluster)) in pairs.into_iter().enumerate() {
            predictions.insert(key, cluster, i as u64 + 1)?;
        }
        Ok(predictions)
    }

    fn insert(&mut self, key: UnitKey, cluster: u64, line: u64) -> Result<()> {
        if let Some(first) = self.units.get(&key) {
            return Err(Error::at_line(
                &self.path,
                line,
                format!("unit {key} already assigned on line {}", first.line),
            ));
        }
        self.units.insert(key, Predicted { cluster, line });
        Ok(())
    }

    /// The file (or name) the predictions came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of units with a prediction.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// True when no unit has a prediction.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The prediction for a unit.
    pub fn get(&self, key: &UnitKey) -> Option<Predicted> {
        self.units.get(key).copied()
    }

    /// Every unit with its prediction (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&UnitKey, &Predicted)> {
        self.units.iter()
    }
}

/// Reads a truth file (`truth.jsonl`): `id` (any JSON), optional `para` (u32),
/// `cluster` (string, or any JSON rendered like an id), optional `jaccard`
/// (number in [0, 1]; recall by Jaccard counts the units that have it),
/// optional `edit` (string).
pub fn load_truth(path: &Path) -> Result<Truth> {
    let mut truth = Truth::empty(path.to_owned());
    for_each_object(path, |line, object| {
        let key = unit_key(path, line, object)?;
        let cluster = match object.get("cluster") {
            Some(v) if !v.is_null() => render_id(v),
            _ => return Err(Error::at_line(path, line, "missing field \"cluster\"")),
        };
        let jaccard =
            match object.get("jaccard") {
                None | Some(Value::Null) => None,
                Some(value) => Some(value.as_f64().ok_or_else(|| {
                    Error::at_line(path, line, "field \"jaccard\" must be a number")
                })?),
            };
        let edit = match object.get("edit") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(Error::at_line(
                    path,
                    line,
                    "field \"edit\" must be a string",
                ))
            }
        };
        truth.push(
            TruthUnit {
                key,
                cluster,
                jaccard,
                edit,
            },
            line,
        )
    })?;
    Ok(truth)
}

/// Reads predicted clusters (`clusters.jsonl`): `id` (any JSON), `para` (u32, only
/// for paragraph units), `cluster` (u64).
pub fn load_predictions(path: &Path) -> Result<Predictions> {
    let mut predictions = Predictions {
        path: path.to_owned(),
        units: HashMap::new(),
    };
    for_each_object(path, |line, object| {
        let key = unit_key(path, line, object)?;
        let cluster = object
            .get("cluster")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                Error::at_line(path, line, "field \"cluster\" must be an unsigned integer")
            })?;
        predictions.insert(key, cluster, line)
    })?;
    Ok(predictions)
}

/// Calls `each` with the 1-based line number and object of every non-blank line.
fn for_each_object(
    path: &Path,
    mut each: impl FnMut(u64, &Map<String, Value>) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = BufReader::new(file);
    for (i, line) in reader.lines().enumerate() {
        let number = i as u64 + 1;
        let line =
            line.map_err(|e| Error::at_line(path, number, format!("unreadable line: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| Error::at_line(path, number, format!("invalid JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(Error::at_line(path, number, "expected a JSON object"));
        };
        each(number, &object)?;
    }
    Ok(())
}

fn unit_key(path: &Path, line: u64, object: &Map<String, Value>) -> Result<UnitKey> {
    let id = match object.get("id") {
        Some(v) if !v.is_null() => render_id(v),
        _ => return Err(Error::at_line(path, line, "missing field \"id\"")),
    };
    let para = match object.get("para") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|p| u32::try_from(p).ok())
                .ok_or_else(|| Error::at_line(path, line, "field \"para\" must be a u32"))?,
        ),
    };
    Ok(UnitKey { id, para })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    #[test]
    fn reads_truth_and_predictions_with_extra_fields_and_blank_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let truth = write(
            &dir,
            "truth.jsonl",
            "{\"id\":\"a\",\"cluster\":\"a\",\"jaccard\":1.0,\"edit\":\"original\",\"x\":1}\n\n{\"id\":7,\"para\":2,\"cluster\":\"a\",\"jaccard\":0.5}\n",
        );
        let truth = load_truth(&truth).expect("valid truth");
        assert_eq!(truth.units().len(), 2);
        assert_eq!(
            truth.units()[1].key,
            UnitKey {
                id: "7".into(),
                para: Some(2)
            }
        );
        assert_eq!(truth.line(1), 3);

        let preds = write(
            &dir,
            "clusters.jsonl",
            "{\"id\":\"7\",\"para\":2,\"cluster\":4,\"size\":2}\n",
        );
        let preds = load_predictions(&preds).expect("valid predictions");
        let key = UnitKey {
            id: "7".into(),
            para: Some(2),
        };
        assert_eq!(
            preds.get(&key),
            Some(Predicted {
                cluster: 4,
                line: 1
            })
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cases = [
            (
                "{\"id\":\"a\",\"cluster\":1}\nnot json\n",
                "clusters.jsonl:2: invalid JSON",
            ),
            (
                "{\"id\":\"a\",\"cluster\":-1}\n",
                "clusters.jsonl:1: field \"cluster\"",
            ),
            (
                "{\"cluster\":1}\n",
                "clusters.jsonl:1: missing field \"id\"",
            ),
            (
                "{\"id\":\"a\",\"para\":\"x\",\"cluster\":1}\n",
                "clusters.jsonl:1: field \"para\"",
            ),
            (
                "{\"id\":\"a\",\"cluster\":1}\n{\"id\":\"a\",\"cluster\":2}\n",
                "clusters.jsonl:2: unit a already assigned on line 1",
            ),
            ("[1]\n", "clusters.jsonl:1: expected a JSON object"),
        ];
        for (text, want) in cases {
            let path = write(&dir, "clusters.jsonl", text);
            let err = load_predictions(&path).expect_err(text);
            assert!(err.to_string().contains(want), "{err} lacks {want}");
        }
        let truth_cases = [
            ("{\"id\":\"a\",\"cluster\":\"a\",\"jaccard\":\"high\"}\n", "truth.jsonl:1: field \"jaccard\" must be a number"),
            ("{\"id\":\"a\",\"cluster\":\"a\",\"jaccard\":1.5}\n", "truth.jsonl:1: jaccard 1.5 is outside"),
            ("{\"id\":\"a\",\"jaccard\":1}\n", "truth.jsonl:1: missing field \"cluster\""),
            ("{\"id\":\"a\",\"cluster\":\"a\",\"jaccard\":1}\n{\"id\":\"a\",\"cluster\":\"a\",\"jaccard\":1}\n", "truth.jsonl:2: unit a already labelled on line 1"),
        ];
        for (text, want) in truth_cases {
            let path = write(&dir, "truth.jsonl", text);
            let err = load_truth(&path).expect_err(text);
            assert!(err.to_string().contains(want), "{err} lacks {want}");
        }
        let err = load_truth(&dir.path().join("absent.jsonl")).expect_err("missing file");
        assert!(err.to_string().contains("absent.jsonl"), "{err}");
    }

    #[test]
    fn ids_compare_by_rendering() {
        assert_eq!(render_id(&serde_json::json!("x y")), "x y");
        assert_eq!(render_id(&serde_json::json!(12)), "12");
        assert_eq!(render_id(&serde_json::json!([1, "a"])), "[1,\"a\"]");
        assert_eq!(
            UnitKey {
                id: "d".into(),
                para: Some(3)
            }
            .to_string(),
            "d#3"
        );
    }
}
