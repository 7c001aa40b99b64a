//! `Index`: MinHash signatures in memory with their LSH buckets, saved and
//! loaded in the file format of `neardedup index` ([`neardedup::Index`]).
//!
//! Parameter names follow datasketch's `MinHashLSH` (`threshold`,
//! `num_perm`, `weights`, `insert`, `query`), and `query` gives keys as it
//! does; `matches` gives each key with its estimated similarity. Items are
//! texts (sketched with the index's options) or `MinHash` sketches made with
//! the same `num_perm` and `seed`.

use std::path::PathBuf;

use neardedup::corpus::RecordId;
use neardedup::dedup::Dedup;
use neardedup::index::SignatureIndex;
use neardedup::minhash::optimal_params;
use neardedup::sketch::Signature;
use neardedup::{DedupConfig, Match};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString, PyTuple};

use crate::errors::{raise, IntoPython};
use crate::options::SKETCH_OPTIONS;
use crate::sketch::MinHash;

/// Options an `Index` takes besides the sketch options: how a match is judged.
const JUDGING_OPTIONS: [&str; 3] = ["bands", "rows", "verify"];

/// A MinHash LSH index of texts, persistent in `neardedup index`'s format.
#[pyclass(module = "neardedup")]
pub struct Index {
    index: neardedup::Index,
}

/// A record id as Python sees it: an int, or the JSON value (usually a str).
pub fn id_to_python<'py>(py: Python<'py>, id: &RecordId) -> PyResult<Bound<'py, PyAny>> {
    match id {
        RecordId::Int(n) => Ok(n.into_pyobject(py)?.into_any()),
        // A string id is its JSON text: most are plain strings, read here.
        RecordId::Json(raw) => match serde_json::from_str::<String>(raw.get()) {
            Ok(text) => Ok(text.into_pyobject(py)?.into_any()),
            Err(_) => py.import("json")?.call_method1("loads", (raw.get(),)),
        },
    }
}

/// A key given by Python: a non-negative int or a str.
fn key_of(key: &Bound<'_, PyAny>) -> PyResult<RecordId> {
    if key.is_instance_of::<PyInt>() {
        let n: u64 = key
            .extract()
            .map_err(|_| PyValueError::new_err("an int key is at least 0"))?;
        return Ok(RecordId::Int(n));
    }
    if let Ok(text) = key.cast::<PyString>() {
        return Ok(RecordId::from_string(text.to_str()?));
    }
    Err(PyTypeError::new_err(format!(
        "a key is an int or a str, not {}",
        key.get_type().name()?
    )))
}

/// A match's key: the id, or (id, paragraph) for a paragraph-level index.
fn match_key<'py>(py: Python<'py>, found: &Match) -> PyResult<Bound<'py, PyAny>> {
    let id = id_to_python(py, &found.id)?;
    match found.para {
        None => Ok(id),
        Some(para) => Ok(PyTuple::new(py, [id, para.into_pyobject(py)?.into_any()])?.into_any()),
    }
}

/// The settings of an index: `base` with `threshold`, `num_perm`, `weights`
/// and `options` applied.
fn index_config(
    py: Python<'_>,
    base: DedupConfig,
    threshold: Option<f64>,
    num_perm: Option<usize>,
    weights: Option<(f64, f64)>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<DedupConfig> {
    let mut dedup = Dedup::new(Vec::new(), PathBuf::new());
    dedup.config = base;
    let allowed: Vec<&str> = SKETCH_OPTIONS
        .iter()
        .chain(&JUDGING_OPTIONS)
        .copied()
        .collect();
    crate::options::apply(py, &mut dedup, options, Some(&allowed))?;
    let mut config = dedup.config;
    if let Some(threshold) = threshold {
        config.threshold = threshold;
    }
    if let Some(num_perm) = num_perm {
        config.sketch.num_perm = num_perm;
    }
    if let Some((fp_weight, fn_weight)) = weights {
        if config.bands.is_some() {
            return Err(raise(
                py,
                "SettingError",
                "give `weights` or `bands` and `rows`, not both".into(),
            ));
        }
        let params = optimal_params(
            config.threshold,
            config.sketch.num_perm,
            fp_weight,
            fn_weight,
        )
        .map_err(|e| raise(py, "SettingError", e.to_string()))?;
        config.bands = Some(params.bands);
        config.rows = Some(params.rows);
    }
    config.validate().py_err(py)?;
    Ok(config)
}

impl Index {
    /// The signature of an item: a text sketched by the index, or a sketch.
    fn signature(&self, item: &Bound<'_, PyAny>) -> PyResult<Signature> {
        if let Ok(text) = item.cast::<PyString>() {
            return Ok(self.index.hasher().sketch(text.to_str()?));
        }
        if let Ok(sketch) = item.cast::<MinHash>() {
            let sketch = sketch.borrow();
            let (theirs, config) = (*sketch.config(), self.index.hasher().config());
            if theirs.num_perm != config.num_perm || theirs.seed != config.seed {
                return Err(PyValueError::new_err(format!(
                    "a MinHash of num_perm {} seed {} for an index of num_perm {} seed {}",
                    theirs.num_perm, theirs.seed, config.num_perm, config.seed
                )));
            }
            return Ok(sketch.signature().clone());
        }
        Err(PyTypeError::new_err(format!(
            "an item is a str or a MinHash, not {}",
            item.get_type().name()?
        )))
    }

    fn found(&self, py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<Vec<Match>> {
        let signature = self.signature(item)?;
        self.index.query_signature(&signature).py_err(py)
    }
}

#[pymethods]
impl Index {
    /// An empty index. `threshold` (0.9) is the estimated Jaccard similarity at
    /// which an item duplicates another; `weights=(fp, fn)` weighs false
    /// positives against false negatives in choosing the LSH bands (or give
    /// `bands` and `rows`); the sketch options are `MinHash()`'s.
    #[new]
    #[pyo3(signature = (threshold = None, num_perm = None, weights = None, **options))]
    fn new(
        py: Python<'_>,
        threshold: Option<f64>,
        num_perm: Option<usize>,
        weights: Option<(f64, f64)>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = index_config(
            py,
            DedupConfig::default(),
            threshold,
            num_perm,
            weights,
            options,
        )?;
        Ok(Index {
            index: neardedup::Index::new(&config).py_err(py)?,
        })
    }

    /// Loads an index saved by `save` or written by `neardedup index`, with its
    /// sketch settings; `threshold`, `weights`, `bands` and `rows` say how
    /// queries are judged (sketch options given must agree with the file's).
    #[staticmethod]
    #[pyo3(signature = (path, threshold = None, weights = None, **options))]
    fn load(
        py: Python<'_>,
        path: PathBuf,
        threshold: Option<f64>,
        weights: Option<(f64, f64)>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let saved = py.detach(|| SignatureIndex::read(&path)).py_err(py)?;
        let mut base = DedupConfig::default();
        saved.header.apply_to(&mut base);
        let config = index_config(py, base, threshold, None, weights, options)?;
        saved.check_compatible(&config, &path).py_err(py)?;
        let index = py
            .detach(|| neardedup::Index::from_saved(saved, &config))
            .py_err(py)?;
        Ok(Index { index })
    }

    /// Writes the index to `path` (replaced all at once).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.index.save(&path)).py_err(py)
    }

    /// Adds `item` (a text or a MinHash) under `key` (an int or a str).
    fn insert(
        &mut self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        item: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let signature = self.signature(item)?;
        self.index
            .insert_signature(key_of(key)?, &signature)
            .py_err(py)
    }

    /// Adds `item` under `key` unless it duplicates indexed items: the
    /// `(key, similarity)` of those it duplicates, or `[]` when it was added.
    fn insert_if_new<'py>(
        &mut self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, f32)>> {
        let signature = self.signature(item)?;
        let found = self
            .index
            .insert_signature_if_new(key_of(key)?, &signature)
            .py_err(py)?
            .unwrap_or_default();
        found
            .iter()
            .map(|m| Ok((match_key(py, m)?, m.similarity)))
            .collect()
    }

    /// The keys of the indexed items `item` duplicates, most similar first.
    fn query<'py>(
        &self,
        py: Python<'py>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.found(py, item)?
            .iter()
            .map(|m| match_key(py, m))
            .collect()
    }

    /// `(key, similarity)` of the indexed items `item` duplicates, most
    /// similar first.
    fn matches<'py>(
        &self,
        py: Python<'py>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, f32)>> {
        self.found(py, item)?
            .iter()
            .map(|m| Ok((match_key(py, m)?, m.similarity)))
            .collect()
    }

    /// A sketch of `text` made as this index makes them.
    fn minhash(&self, text: &str) -> MinHash {
        MinHash::of(std::sync::Arc::new(self.index.hasher().clone()), Some(text))
    }

    /// Number of indexed items.
    fn __len__(&self) -> usize {
        self.index.len()
    }

    fn __repr__(&self) -> String {
        let config = self.index.hasher().config();
        format!(
            "<neardedup.Index {} items, num_perm={} ngram={}>",
            self.index.len(),
            config.num_perm,
            config.shingle.ngram
        )
    }
}
