//! What `neardedup.dedup` reads: files, or texts held by Python.
//!
//! - a `str` or `os.PathLike`: one input file or folder, read as the command
//!   line reads it (JSONL, plain text, compressed, Parquet);
//! - a list or tuple of `os.PathLike` (`pathlib.Path`): several inputs;
//! - a list or tuple of `str`: one text per record;
//! - a `pyarrow` `Array` or `ChunkedArray` of strings, a `pyarrow` `Table`
//!   (its `text_field` column, `text` by default), or any object with the Arrow
//!   PyCapsule interface's `__arrow_c_array__`: one text per row. Arrow buffers
//!   are read where they are, with no Python object per row.
//!
//! Texts are written once, as JSON lines (`{"text": ...}`), into a temporary
//! file that the run maps like any input: the run then works as it does on
//! files (bounded memory, checkpoints), and record `i` is text `i`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use arrow_array::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods, PyList, PyString, PyTuple};
use tempfile::TempDir;

/// The inputs of a run.
pub struct Inputs {
    /// The paths the run reads.
    pub paths: Vec<PathBuf>,
    /// The temporary folder holding the texts given in memory, if any; removed
    /// when dropped.
    pub texts: Option<TempDir>,
}

/// Writes texts as JSON lines into a temporary file.
struct TextsFile {
    folder: TempDir,
    path: PathBuf,
    out: BufWriter<std::fs::File>,
    count: usize,
}

impl TextsFile {
    fn new() -> PyResult<TextsFile> {
        let folder = tempfile::Builder::new()
            .prefix("neardedup-texts-")
            .tempdir()?;
        let path = folder.path().join("texts.jsonl");
        let out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
        Ok(TextsFile {
            folder,
            path,
            out,
            count: 0,
        })
    }

    fn push(&mut self, text: &str) -> PyResult<()> {
        self.out.write_all(b"{\"text\":")?;
        serde_json::to_writer(&mut self.out, text)
            .map_err(|e| PyErr::from(std::io::Error::other(e)))?;
        self.out.write_all(b"}\n")?;
        self.count += 1;
        Ok(())
    }

    fn finish(mut self) -> PyResult<Inputs> {
        self.out.flush()?;
        Ok(Inputs {
            paths: vec![self.path],
            texts: Some(self.folder),
        })
    }
}

/// The inputs `source` names or holds; `text_field` is the column of a table.
pub fn inputs(source: &Bound<'_, PyAny>, text_field: &str) -> PyResult<Inputs> {
    if let Some(path) = as_path(source)? {
        return Ok(Inputs {
            paths: vec![path],
            texts: None,
        });
    }
    if source.hasattr("__arrow_c_array__")?
        || source.hasattr("chunks")?
        || source.hasattr("column_names")?
    {
        let mut file = TextsFile::new()?;
        write_arrow(source, text_field, &mut file)?;
        return file.finish();
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(list) = source.cast::<PyList>() {
        list.iter().collect()
    } else if let Ok(tuple) = source.cast::<PyTuple>() {
        tuple.iter().collect()
    } else {
        return Err(PyTypeError::new_err(format!(
            "source is a path, a list of paths, a list of str or an Arrow array, not {}",
            source.get_type().name()?
        )));
    };
    if items
        .first()
        .is_some_and(|first| !first.is_instance_of::<PyString>())
    {
        let mut paths = Vec::with_capacity(items.len());
        for (at, item) in items.iter().enumerate() {
            match as_path(item)? {
                Some(path) if !item.is_instance_of::<PyString>() => paths.push(path),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "source[{at}] is {}: a list of paths holds os.PathLike objects \
                         (pathlib.Path) only; a list of str is a list of texts",
                        item.get_type().name()?
                    )))
                }
            }
        }
        return Ok(Inputs { paths, texts: None });
    }
    let mut file = TextsFile::new()?;
    for (at, item) in items.iter().enumerate() {
        let text = item.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "source[{at}] is {}, not a str: a list of texts holds str only",
                item.get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |n| n.to_string())
            ))
        })?;
        file.push(text.to_str()?)?;
    }
    file.finish()
}

/// The path `value` is, if it is a `str` or an `os.PathLike`.
fn as_path(value: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    if value.is_instance_of::<PyString>() || value.hasattr("__fspath__")? {
        return Ok(Some(value.extract()?));
    }
    Ok(None)
}

/// Writes the strings of an Arrow table column, chunked array or array.
fn write_arrow(source: &Bound<'_, PyAny>, text_field: &str, file: &mut TextsFile) -> PyResult<()> {
    if source.hasattr("column_names")? {
        let names: Vec<String> = source.getattr("column_names")?.extract()?;
        if !names.iter().any(|name| name == text_field) {
            return Err(crate::errors::raise(
                source.py(),
                "InputError",
                format!(
                    "the table has no column `{text_field}` (its columns: {}); name the text \
                     column with text_field=",
                    names.join(", ")
                ),
            ));
        }
        return write_arrow(
            &source.call_method1("column", (text_field,))?,
            text_field,
            file,
        );
    }
    if source.hasattr("chunks")? {
        for chunk in source.getattr("chunks")?.try_iter()? {
            write_arrow(&chunk?, text_field, file)?;
        }
        return Ok(());
    }
    let array = import_array(source)?;
    let first_row = file.count;
    let mut push_all = |texts: &mut dyn Iterator<Item = Option<&str>>| -> PyResult<()> {
        for (row, text) in texts.enumerate() {
            let Some(text) = text else {
                return Err(crate::errors::raise(
                    source.py(),
                    "InputError",
                    format!("row {}: the text is null", first_row + row),
                ));
            };
            file.push(text)?;
        }
        Ok(())
    };
    if let Some(strings) = array.as_any().downcast_ref::<StringArray>() {
        push_all(&mut strings.iter())
    } else if let Some(strings) = array.as_any().downcast_ref::<LargeStringArray>() {
        push_all(&mut strings.iter())
    } else if let Some(strings) = array.as_any().downcast_ref::<StringViewArray>() {
        push_all(&mut strings.iter())
    } else {
        Err(PyTypeError::new_err(format!(
            "an Arrow array of texts holds strings, not {}",
            array.data_type()
        )))
    }
}

/// An array through the Arrow PyCapsule interface (`__arrow_c_array__`), its
/// buffers shared, not copied.
fn import_array(source: &Bound<'_, PyAny>) -> PyResult<ArrayRef> {
    let pair = source.call_method0("__arrow_c_array__")?;
    let (schema, array): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
    let schema = schema.cast::<PyCapsule>()?;
    let array = array.cast::<PyCapsule>()?;
    let schema_ptr = schema.pointer_checked(Some(c"arrow_schema"))?;
    let array_ptr = array.pointer_checked(Some(c"arrow_array"))?;
    // SAFETY: the capsules hold an ArrowSchema and an ArrowArray by the names the
    // interface gives them; `from_raw` moves each out, leaving a released one for
    // the capsule's destructor, as the interface asks of a consumer.
    let (ffi_schema, ffi_array) = unsafe {
        (
            FFI_ArrowSchema::from_raw(schema_ptr.as_ptr().cast()),
            FFI_ArrowArray::from_raw(array_ptr.as_ptr().cast()),
        )
    };
    // SAFETY: the array and its schema come from one producer, as a pair.
    let data = unsafe { from_ffi(ffi_array, &ffi_schema) }
        .map_err(|e| PyTypeError::new_err(format!("not a readable Arrow array: {e}")))?;
    Ok(arrow_array::make_array(data))
}
