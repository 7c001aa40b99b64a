//! The `neardedup` Python package's native module, `neardedup._neardedup`.
//!
//! Every piece calls the `neardedup` library; nothing here decides what a
//! duplicate is. [`run`] is a whole run (`neardedup.dedup`), [`sketch`] the
//! `MinHash` and `SimHash` objects, [`index`] the persistent `Index`,
//! [`source`] how Python objects (paths, lists of strings, Arrow arrays) become
//! a run's input, [`options`] how keyword arguments become the library's
//! options, and [`errors`] how the library's errors become Python exceptions.

mod errors;
mod index;
mod options;
mod run;
mod sketch;
mod source;

use pyo3::prelude::*;

#[pymodule]
fn _neardedup(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("OPTIONS", neardedup::options::NAMES.to_vec())?;
    module.add_function(wrap_pyfunction!(run::dedup, module)?)?;
    module.add_class::<run::Result>()?;
    module.add_class::<sketch::MinHash>()?;
    module.add_class::<sketch::SimHash>()?;
    module.add_class::<index::Index>()?;
    Ok(())
}
