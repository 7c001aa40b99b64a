//! Keyword arguments as the library's options ([`neardedup::options`]): the
//! command line's long options with `_` for `-` (`num_perm=64`,
//! `unit="paragraph"`, `keep_case=True`, `memory_budget="2GiB"`), read by the
//! same rules and with the same defaults.

use std::path::PathBuf;

use neardedup::dedup::Dedup;
use neardedup::DedupConfig;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

use crate::errors::{raise, IntoPython};

/// The options of `MinHash`, `SimHash` and `Index`: how a text is sketched.
pub const SKETCH_OPTIONS: [&str; 10] = [
    "num_perm",
    "seed",
    "ngram",
    "tokenizer",
    "minhash_variant",
    "no_nfkc",
    "keep_case",
    "keep_punctuation",
    "unit",
    "para_sep",
];

/// A keyword argument's value as the text the library reads: `True` as
/// `true`, numbers as Python writes them, paths by `os.fspath`; `None` for the
/// default.
fn value_text(value: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(switch) = value.cast::<PyBool>() {
        return Ok(Some(switch.is_true().to_string()));
    }
    if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        return Ok(Some(value.str()?.to_string()));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Some(text.to_string()));
    }
    if value.hasattr("__fspath__")? {
        let path: PathBuf = value.extract()?;
        return Ok(Some(path.to_string_lossy().into_owned()));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "an option's value is a str, int, float, bool, path or None, not {}",
        value.get_type().name()?
    )))
}

/// Sets `dedup`'s options from `kwargs`; only names in `allowed` (all of
/// [`neardedup::options::NAMES`] when `None`) are taken.
pub fn apply(
    py: Python<'_>,
    dedup: &mut Dedup,
    kwargs: Option<&Bound<'_, PyDict>>,
    allowed: Option<&[&str]>,
) -> PyResult<()> {
    let Some(kwargs) = kwargs else {
        return Ok(());
    };
    for (name, value) in kwargs.iter() {
        let name: String = name.extract()?;
        if let Some(allowed) = allowed {
            if !allowed.contains(&name.as_str()) {
                return Err(raise(
                    py,
                    "SettingError",
                    format!(
                        "unknown option `{name}`; the options are {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        let text = value_text(&value)?;
        neardedup::options::set(dedup, &name, text.as_deref()).py_err(py)?;
    }
    Ok(())
}

/// A run configuration from `kwargs` limited to `allowed`, over the defaults,
/// checked as a run checks it.
pub fn config(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
    allowed: &[&str],
) -> PyResult<DedupConfig> {
    let mut dedup = Dedup::new(Vec::new(), PathBuf::new());
    apply(py, &mut dedup, kwargs, Some(allowed))?;
    dedup.config.validate().py_err(py)?;
    Ok(dedup.config)
}
