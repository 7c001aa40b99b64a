//! Parquet tables as records: each row becomes one JSON line.
//!
//! A table is read row group by row group with the `parquet` crate's Arrow
//! reader, and every row is written as a JSON object (nested columns as nested
//! objects, nulls left out) by `arrow-json`. The run then reads those lines like
//! any JSONL input: the text and id fields are columns named the same way
//! (dotted paths reach into struct columns), record numbers are row numbers, and
//! a kept row can be written back with the table's own schema.
//!
//! Before any row is read the schema is checked, so a table without the text
//! column, or whose text column does not hold strings, fails at once with the
//! columns it does have.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Rows converted to JSON at a time (by one thread).
const BATCH_ROWS: usize = 4096;

/// The Arrow schema of the Parquet file at `path`.
pub fn schema(path: &Path) -> Result<Arc<Schema>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(metadata(&file, path)?.schema().clone())
}

fn metadata(file: &std::fs::File, path: &Path) -> Result<ArrowReaderMetadata> {
    ArrowReaderMetadata::load(file, Default::default()).map_err(|e| {
        Error::in_file(
            path,
            format!("not a readable Parquet file (its footer or schema is damaged): {e}"),
        )
    })
}

/// Writes every row of the Parquet file at `path` to `out` as one JSON line,
/// after checking that `text_field` names a string column (and `id_field`, if
/// given, a column); returns the number of rows.
pub(crate) fn decode(
    path: &Path,
    text_field: &str,
    id_field: Option<&str>,
    out: &mut impl Write,
) -> Result<u64> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let metadata = metadata(&file, path)?;
    check_columns(metadata.schema(), text_field, id_field).map_err(|m| Error::in_file(path, m))?;
    let groups = metadata.metadata().num_row_groups();
    // Batches are turned into JSON side by side, a few per thread at a time,
    // and written in order: memory stays at a few batches.
    let window = 2 * rayon::current_num_threads().max(1);
    let mut rows = 0u64;
    for group in 0..groups {
        let in_group = |e: &dyn std::fmt::Display| {
            Error::in_file(path, format!("row group {group}: cannot be read: {e}"))
        };
        let file = file.try_clone().map_err(|e| Error::io(path, e))?;
        let mut reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
            .with_row_groups(vec![group])
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| in_group(&e))?;
        loop {
            let batches = reader
                .by_ref()
                .take(window)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| in_group(&e))?;
            if batches.is_empty() {
                break;
            }
            let lines: Vec<std::result::Result<Vec<u8>, _>> =
                batches.par_iter().map(json_lines).collect();
            for (batch, lines) in batches.iter().zip(lines) {
                rows += batch.num_rows() as u64;
                out.write_all(&lines.map_err(|e| in_group(&e))?)
                    .map_err(|e| Error::io(path, e))?;
            }
        }
    }
    Ok(rows)
}

/// The rows of `batch` as JSON lines.
fn json_lines(batch: &RecordBatch) -> std::result::Result<Vec<u8>, arrow_schema::ArrowError> {
    let mut lines = Vec::with_capacity(batch.get_array_memory_size());
    let mut writer = arrow_json::LineDelimitedWriter::new(&mut lines);
    writer.write(batch)?;
    writer.finish()?;
    drop(writer);
    Ok(lines)
}

/// Whether `schema` has a string column at `text_field` and, when given, a
/// column at `id_field`; the message says what is wrong and which columns
/// there are.
pub fn check_columns(
    schema: &Schema,
    text_field: &str,
    id_field: Option<&str>,
) -> std::result::Result<(), String> {
    let text = column(schema.fields(), text_field).ok_or_else(|| {
        format!(
            "no column `{text_field}` to read the text from (the columns are: {}); name the \
             text column with `text_field`",
            column_names(schema)
        )
    })?;
    if !is_text(text.data_type()) {
        return Err(format!(
            "column `{text_field}` holds {} values, not text; name a string column with \
             `text_field`",
            text.data_type()
        ));
    }
    if let Some(id_field) = id_field {
        if column(schema.fields(), id_field).is_none() {
            return Err(format!(
                "no column `{id_field}` to read ids from (the columns are: {})",
                column_names(schema)
            ));
        }
    }
    Ok(())
}

/// Whether `schema` has a column at `path` holding strings or integers: what
/// an `id` column must hold to be taken as the records' ids.
pub fn has_id_column(schema: &Schema, path: &str) -> bool {
    column(schema.fields(), path)
        .is_some_and(|f| is_text(f.data_type()) || f.data_type().is_integer())
}

/// The column at dotted `path`: a top-level column of that exact name first,
/// else the path's parts through struct columns.
fn column<'a>(fields: &'a Fields, path: &str) -> Option<&'a Field> {
    if let Some((_, field)) = fields.find(path) {
        return Some(field);
    }
    let (head, rest) = path.split_once('.')?;
    let (_, field) = fields.find(head)?;
    match field.data_type() {
        DataType::Struct(inner) => column(inner, rest),
        _ => None,
    }
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

fn column_names(schema: &Schema) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{} ({})", f.name(), f.data_type()))
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, StructArray};
    use parquet::arrow::ArrowWriter;

    /// A Parquet file of `ids` and `texts` (and a nested `meta.source`), in row
    /// groups of `group_rows`.
    pub(crate) fn table(ids: &[i64], texts: &[&str], group_rows: usize) -> Vec<u8> {
        let source: ArrayRef = Arc::new(StringArray::from(
            ids.iter()
                .map(|i| format!("site-{}", i % 3))
                .collect::<Vec<_>>(),
        ));
        let meta = StructArray::from(vec![(
            Arc::new(Field::new("source", DataType::Utf8, false)),
            source,
        )]);
        let batch = RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(ids.to_vec())) as ArrayRef),
            (
                "text",
                Arc::new(StringArray::from(texts.to_vec())) as ArrayRef,
            ),
            ("meta", Arc::new(meta) as ArrayRef),
        ])
        .expect("batch");
        let mut bytes = Vec::new();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(group_rows))
            .build();
        let mut writer =
            ArrowWriter::try_new(&mut bytes, batch.schema(), Some(props)).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        bytes
    }

    #[test]
    fn rows_become_json_lines_in_order_across_row_groups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.parquet");
        let texts = ["가나다", "second \"quoted\"", "third", "fourth", "fifth"];
        std::fs::write(&path, table(&[1, 2, 3, 4, 5], &texts, 2)).expect("write");
        let mut out = Vec::new();
        let rows = decode(&path, "text", Some("meta.source"), &mut out).expect("decode");
        assert_eq!(rows, 5);
        let lines: Vec<serde_json::Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 5);
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["text"], texts[i]);
            assert_eq!(line["id"], i as i64 + 1);
            assert_eq!(line["meta"]["source"], format!("site-{}", (i + 1) % 3));
        }
    }

    #[test]
    fn a_missing_or_mistyped_text_column_is_named_with_the_columns_there_are() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.parquet");
        std::fs::write(&path, table(&[1], &["a"], 10)).expect("write");
        let err = decode(&path, "body", None, &mut Vec::new()).expect_err("no body");
        let shown = err.to_string();
        assert!(shown.contains("no column `body`"), "{shown}");
        assert!(shown.contains("text (Utf8)"), "{shown}");
        let err = decode(&path, "id", None, &mut Vec::new()).expect_err("int column");
        assert!(
            err.to_string()
                .contains("column `id` holds Int64 values, not text"),
            "{err}"
        );
        let err = decode(&path, "text", Some("url"), &mut Vec::new()).expect_err("no url");
        assert!(err.to_string().contains("no column `url`"), "{err}");
    }

    #[test]
    fn a_damaged_footer_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.parquet");
        let mut bytes = table(&[1, 2], &["a", "b"], 10);
        let n = bytes.len();
        bytes[n - 12..n - 4].copy_from_slice(b"garbage!");
        std::fs::write(&path, &bytes).expect("write");
        let err = decode(&path, "text", None, &mut Vec::new()).expect_err("damaged");
        assert!(
            err.to_string()
                .starts_with(&format!("{}: not a readable Parquet file", path.display())),
            "{err}"
        );
    }
}
