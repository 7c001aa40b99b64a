//! The library's errors as Python exceptions, with the message the command line
//! prints (the error and its causes, each once).
//!
//! The exception classes live in `neardedup/errors.py`, so that they can derive
//! from both `NeardedupError` and the built-in class a caller would catch
//! (`ValueError` for bad input and settings, `OSError` for files).

use neardedup::error::{join_causes, Error};
use pyo3::prelude::*;

/// The Python exception for a library error.
pub fn to_python(py: Python<'_>, error: &Error) -> PyErr {
    let class = match error {
        Error::Input { .. } | Error::NoInput(_) | Error::InputChanged { .. } => "InputError",
        Error::Config(_) | Error::InvalidSetting { .. } | Error::IndexSettings { .. } => {
            "SettingError"
        }
        Error::Io { .. } => "FileError",
        Error::InUse(_) | Error::OutputInUse(_) => "InUseError",
        _ => "NeardedupError",
    };
    raise(py, class, join_causes(error, |cause| cause.to_string()))
}

/// An exception of class `class` of `neardedup.errors` with `message`.
pub fn raise(py: Python<'_>, class: &str, message: String) -> PyErr {
    let made = py
        .import("neardedup.errors")
        .and_then(|errors| errors.getattr(class))
        .and_then(|class| class.call1((message.clone(),)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        // The package is incomplete: still say what went wrong.
        Err(_) => pyo3::exceptions::PyRuntimeError::new_err(message),
    }
}

/// Converts a library result for Python.
pub trait IntoPython<T> {
    /// The value, or the Python exception for the error.
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPython<T> for neardedup::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_python(py, &e))
    }
}
