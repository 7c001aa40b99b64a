//! `MinHash` and `SimHash`: one text's sketch, as a run makes it.
//!
//! `MinHash` keeps datasketch's method names where they mean the same:
//! `update` adds one token (bytes or str, hashed as given), `jaccard`
//! estimates the similarity of two sketches, `digest` gives the values.
//! Unlike datasketch, a `MinHash` can also be made from a text, shingled as a
//! run shingles it (`MinHash("some text")`, `MinHash.bulk(texts)`), and then
//! equals the signature a run or an `Index` computes for that text.
//! The signature is computed when first asked for, from the shingle hashes
//! added so far (a set: a token added twice counts once).

use std::sync::{Arc, OnceLock};

use neardedup::sketch::{MinHasher, Signature, SimHasher};
use numpy::PyArray1;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use rayon::prelude::*;

use crate::errors::IntoPython;
use crate::options::{config, SKETCH_OPTIONS};

/// A MinHash sketch of a set of shingles.
#[pyclass(module = "neardedup")]
#[derive(Clone)]
pub struct MinHash {
    hasher: Arc<MinHasher>,
    /// Shingle hashes added, in the order added.
    shingles: Vec<u64>,
    /// The signature of `shingles`, once computed.
    signature: OnceLock<Signature>,
}

impl MinHash {
    /// A sketch of `text` (or of nothing) under `hasher`.
    pub fn of(hasher: Arc<MinHasher>, text: Option<&str>) -> MinHash {
        let shingles = text.map(|t| hasher.shingles(t)).unwrap_or_default();
        MinHash {
            hasher,
            shingles,
            signature: OnceLock::new(),
        }
    }

    /// The signature of the shingles added so far.
    pub fn signature(&self) -> &Signature {
        self.signature
            .get_or_init(|| self.hasher.sign(&self.shingles))
    }

    /// The settings it was made with.
    pub fn config(&self) -> &neardedup::SketchConfig {
        self.hasher.config()
    }

    fn add(&mut self, hash: u64) {
        self.shingles.push(hash);
        self.signature = OnceLock::new();
    }
}

/// A token's hash: bytes as given, a str by its UTF-8 bytes.
fn token_hash(token: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(bytes) = token.cast::<PyBytes>() {
        return Ok(xxhash_rust::xxh3::xxh3_64(bytes.as_bytes()));
    }
    if let Ok(text) = token.cast::<PyString>() {
        return Ok(xxhash_rust::xxh3::xxh3_64(text.to_str()?.as_bytes()));
    }
    Err(PyTypeError::new_err(format!(
        "a token is bytes or str, not {}",
        token.get_type().name()?
    )))
}

/// The items of any iterable of texts (a list, a generator, a numpy array of
/// str), checked to be str.
pub fn collect_texts<'py>(texts: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyString>>> {
    texts
        .try_iter()?
        .enumerate()
        .map(|(at, text)| {
            text?
                .cast_into::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("texts[{at}] is not a str")))
        })
        .collect()
}

/// The texts of checked str objects, borrowed.
pub fn texts_of<'a>(texts: &'a [Bound<'a, PyString>]) -> PyResult<Vec<&'a str>> {
    texts.iter().map(|text| text.to_str()).collect()
}

/// A MinHasher from keyword options limited to the sketch settings.
pub fn minhasher(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<MinHasher> {
    let config = config(py, options, &SKETCH_OPTIONS)?;
    MinHasher::new(config.sketch).py_err(py)
}

#[pymethods]
impl MinHash {
    /// A sketch of `text`'s shingles (or an empty one), with the sketch
    /// options of a run: `num_perm=128`, `seed=1`, `ngram=4`,
    /// `tokenizer="word"`, `minhash_variant="oph"`, `no_nfkc`, `keep_case`,
    /// `keep_punctuation`.
    #[new]
    #[pyo3(signature = (text = None, **options))]
    fn new(
        py: Python<'_>,
        text: Option<&str>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        Ok(MinHash::of(Arc::new(minhasher(py, options)?), text))
    }

    /// Sketches every text of `texts` on all cores; the options of `MinHash()`.
    #[staticmethod]
    #[pyo3(signature = (texts, **options))]
    fn bulk(
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<MinHash>> {
        let hasher = Arc::new(minhasher(py, options)?);
        let texts = collect_texts(texts)?;
        let texts = texts_of(&texts)?;
        let sketched: Vec<(Vec<u64>, Signature)> = py.detach(|| {
            texts
                .par_iter()
                .map(|text| {
                    let shingles = hasher.shingles(text);
                    let signature = hasher.sign(&shingles);
                    (shingles, signature)
                })
                .collect()
        });
        Ok(sketched
            .into_iter()
            .map(|(shingles, signature)| MinHash {
                hasher: Arc::clone(&hasher),
                shingles,
                signature: OnceLock::from(signature),
            })
            .collect())
    }

    /// Adds one token (bytes or str), hashed as given (datasketch's `update`).
    fn update(&mut self, token: &Bound<'_, PyAny>) -> PyResult<()> {
        self.add(token_hash(token)?);
        Ok(())
    }

    /// Adds every token of `tokens`.
    fn update_batch(&mut self, tokens: &Bound<'_, PyAny>) -> PyResult<()> {
        for token in tokens.try_iter()? {
            self.add(token_hash(&token?)?);
        }
        Ok(())
    }

    /// Adds the shingles of `text`, cut as a run cuts them.
    fn update_text(&mut self, text: &str) {
        let more = self.hasher.shingles(text);
        self.shingles.extend(more);
        self.signature = OnceLock::new();
    }

    /// Adds the shingles of `other` (a sketch with the same options).
    fn merge(&mut self, other: &MinHash) -> PyResult<()> {
        self.check_same(other)?;
        self.shingles.extend_from_slice(&other.shingles);
        self.signature = OnceLock::new();
        Ok(())
    }

    /// Estimated Jaccard similarity of the two shingle sets.
    fn jaccard(&self, other: &MinHash) -> PyResult<f64> {
        self.check_same(other)?;
        Ok(self.signature().jaccard(other.signature()))
    }

    /// The signature's values: `num_perm` 16-bit digests, as runs and index
    /// files store them.
    fn digest<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u16>> {
        let values = self
            .signature()
            .bytes()
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        PyArray1::from_vec(py, values)
    }

    /// Whether no shingle was added (such a sketch matches nothing).
    fn is_empty(&self) -> bool {
        self.signature().is_empty_set()
    }

    /// Signature length.
    #[getter]
    fn num_perm(&self) -> usize {
        self.hasher.config().num_perm
    }

    /// Seed of the permutations.
    #[getter]
    fn seed(&self) -> u64 {
        self.hasher.config().seed
    }

    fn copy(&self) -> MinHash {
        self.clone()
    }

    fn __eq__(&self, other: &MinHash) -> bool {
        self.num_perm() == other.num_perm()
            && self.seed() == other.seed()
            && self.signature() == other.signature()
    }

    fn __repr__(&self) -> String {
        format!(
            "<neardedup.MinHash num_perm={} seed={} shingles={}>",
            self.num_perm(),
            self.seed(),
            self.shingles.len()
        )
    }
}

impl MinHash {
    fn check_same(&self, other: &MinHash) -> PyResult<()> {
        let (mine, theirs) = (self.hasher.config(), other.hasher.config());
        if mine.num_perm != theirs.num_perm || mine.seed != theirs.seed {
            return Err(PyValueError::new_err(format!(
                "sketches of num_perm {} seed {} and num_perm {} seed {} cannot be compared",
                mine.num_perm, mine.seed, theirs.num_perm, theirs.seed
            )));
        }
        Ok(())
    }
}

/// A 64-bit SimHash fingerprint of a text, as `algo="simhash"` runs make it.
#[pyclass(module = "neardedup", frozen)]
pub struct SimHash {
    value: u64,
}

/// A SimHasher from keyword options limited to the shingling settings.
fn simhasher(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<SimHasher> {
    let config = config(py, options, &SKETCH_OPTIONS)?;
    SimHasher::new(config.sketch.shingle).py_err(py)
}

#[pymethods]
impl SimHash {
    /// The fingerprint of `text`, with a run's shingling options (`ngram=4`,
    /// `tokenizer="word"`, `no_nfkc`, `keep_case`, `keep_punctuation`).
    #[new]
    #[pyo3(signature = (text, **options))]
    fn new(py: Python<'_>, text: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Ok(SimHash {
            value: simhasher(py, options)?.hash(text),
        })
    }

    /// The fingerprints of every text of `texts`, on all cores, as a numpy
    /// array of uint64.
    #[staticmethod]
    #[pyo3(signature = (texts, **options))]
    fn bulk<'py>(
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyArray1<u64>>> {
        let hasher = simhasher(py, options)?;
        let texts = collect_texts(texts)?;
        let texts = texts_of(&texts)?;
        let values = py.detach(|| texts.par_iter().map(|t| hasher.hash(t)).collect());
        Ok(PyArray1::from_vec(py, values))
    }

    /// The fingerprint.
    #[getter]
    fn value(&self) -> u64 {
        self.value
    }

    /// Bits in which the two fingerprints differ (0 to 64); a run counts
    /// fingerprints within `hamming` (12) as duplicates.
    fn distance(&self, other: &SimHash) -> u32 {
        SimHasher::distance(self.value, other.value)
    }

    fn __int__(&self) -> u64 {
        self.value
    }

    fn __eq__(&self, other: &SimHash) -> bool {
        self.value == other.value
    }

    fn __hash__(&self) -> u64 {
        self.value
    }

    fn __repr__(&self) -> String {
        format!("<neardedup.SimHash {:#018x}>", self.value)
    }
}
