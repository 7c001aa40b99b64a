//! How the kept records of one output file are encoded on disk.
//!
//! A run writes its records as JSON lines, plain, gzip- or zstd-compressed, as
//! Parquet, or (for a plain-text input file) as the article's text itself. Every
//! encoding takes the same thing, one record at a time through [`Sink::push`]:
//! a JSON object without its line break, or an article's text; [`Sink::finish`]
//! completes the file (the compressor's trailer, Parquet's footer). The bytes
//! of a file depend only on the records pushed, so a file assembled from
//! several workers' records is the same file one process writes.
//!
//! Compression uses every core and does not depend on how many there are:
//! gzip output is a series of members of [`GZIP_MEMBER_BYTES`] of records each
//! (compressed side by side, read back as one stream by any gzip reader), zstd
//! output one frame from zstd's own multithreaded compressor, whose bytes are
//! the same for any number of its workers.
//!
//! Parquet files are built through Arrow: the records are spooled to a
//! temporary file (memory stays flat however large the file), then decoded
//! into record batches with a schema: the input Parquet file's own schema when
//! there is one (so a Parquet file round-trips with its column types), the
//! schema inferred from every record otherwise.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};

use crate::error::{Error, Result};

/// Rows per Arrow record batch (and at most per Parquet row group chunk)
/// when a Parquet file is built: large enough for good compression, small
/// enough that a batch of long articles stays in tens of MB.
const PARQUET_BATCH_ROWS: usize = 8192;

/// zstd level of `.jsonl.zst` outputs: zstd's own default, fast with a good ratio.
const ZSTD_LEVEL: i32 = 3;

/// gzip level of `.jsonl.gz` outputs: the fast end, as gzip costs several
/// times zstd's time for a similar ratio (one gigabyte at level 6 would take
/// longer than deduplicating it).
const GZIP_LEVEL: u32 = 1;

/// Bytes of records per gzip member of a `.jsonl.gz` output: members are
/// compressed in parallel, and a reader decodes them as one stream.
const GZIP_MEMBER_BYTES: usize = 8 << 20;

/// A format a run can be asked to write its records in (`--output-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum RecordFormat {
    /// JSON lines.
    #[serde(rename = "jsonl")]
    #[cfg_attr(feature = "cli", value(name = "jsonl"))]
    Jsonl,
    /// Gzip-compressed JSON lines.
    #[serde(rename = "jsonl.gz")]
    #[cfg_attr(feature = "cli", value(name = "jsonl.gz"))]
    JsonlGz,
    /// Zstandard-compressed JSON lines.
    #[serde(rename = "jsonl.zst")]
    #[cfg_attr(feature = "cli", value(name = "jsonl.zst"))]
    JsonlZst,
    /// Apache Parquet.
    #[serde(rename = "parquet")]
    #[cfg_attr(feature = "cli", value(name = "parquet"))]
    Parquet,
}

crate::setting_names::by_setting_name!(RecordFormat);

impl RecordFormat {
    /// The file name extension, with its dot.
    pub fn extension(self) -> &'static str {
        match self {
            RecordFormat::Jsonl => ".jsonl",
            RecordFormat::JsonlGz => ".jsonl.gz",
            RecordFormat::JsonlZst => ".jsonl.zst",
            RecordFormat::Parquet => ".parquet",
        }
    }
}

/// How one output file is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoding {
    /// Records in a [`RecordFormat`]; for Parquet, the input Parquet file whose
    /// schema to use, if any.
    Records(RecordFormat, Option<PathBuf>),
    /// One article's text, as a plain-text input file holds it.
    Text,
}

/// One output file being written, one record at a time.
pub trait Sink {
    /// Adds one record: a JSON object (no line break), or an article's text.
    fn push(&mut self, record: &[u8]) -> Result<()>;
    /// Completes the file.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A sink writing `encoding` into `out`. `shown` names the file in errors;
/// `spool_dir` holds a Parquet file's temporary spool.
pub fn open<'w>(
    encoding: &Encoding,
    out: &'w mut (dyn Write + Send),
    shown: &Path,
    spool_dir: &Path,
) -> Result<Box<dyn Sink + 'w>> {
    let shown = shown.to_path_buf();
    Ok(match encoding {
        Encoding::Text => Box::new(Text { out, shown }),
        Encoding::Records(RecordFormat::Jsonl, _) => Box::new(Lines {
            out: Plain(out),
            shown,
        }),
        Encoding::Records(RecordFormat::JsonlGz, _) => Box::new(Lines {
            out: GzipMembers {
                out,
                pending: Vec::new(),
                wrote: false,
            },
            shown,
        }),
        Encoding::Records(RecordFormat::JsonlZst, _) => {
            let mut encoder =
                zstd::Encoder::new(out, ZSTD_LEVEL).map_err(|e| Error::io(&shown, e))?;
            let workers = rayon::current_num_threads().max(1) as u32;
            encoder
                .multithread(workers)
                .map_err(|e| Error::io(&shown, e))?;
            Box::new(Lines {
                out: encoder,
                shown,
            })
        }
        Encoding::Records(RecordFormat::Parquet, schema_from) => {
            let spool = tempfile::tempfile_in(spool_dir).map_err(|e| Error::io(spool_dir, e))?;
            Box::new(Parquet {
                out,
                spool: BufWriter::new(spool),
                schema_from: schema_from.clone(),
                shown,
            })
        }
    })
}

/// A plain-text article: its bytes as they are.
struct Text<'w> {
    out: &'w mut (dyn Write + Send),
    shown: PathBuf,
}

impl Sink for Text<'_> {
    fn push(&mut self, record: &[u8]) -> Result<()> {
        self.out
            .write_all(record)
            .map_err(|e| Error::io(&self.shown, e))
    }
    fn finish(self: Box<Self>) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.shown, e))
    }
}

/// A writer that the line sinks complete: a compressor writes its trailer.
trait Complete: Write {
    fn complete(self) -> std::io::Result<()>;
}

/// Uncompressed output.
struct Plain<'w>(&'w mut (dyn Write + Send));

impl Write for Plain<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Complete for Plain<'_> {
    fn complete(self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// gzip output as independent members of [`GZIP_MEMBER_BYTES`] of input
/// each, compressed in parallel a batch at a time (one member per thread).
struct GzipMembers<'w> {
    out: &'w mut (dyn Write + Send),
    /// Whole members' input waiting, and the member being filled last.
    pending: Vec<Vec<u8>>,
    /// Whether a member has been written.
    wrote: bool,
}

impl GzipMembers<'_> {
    /// Compresses and writes every pending member.
    fn drain(&mut self) -> std::io::Result<()> {
        use rayon::prelude::*;
        let members: Vec<std::io::Result<Vec<u8>>> = self
            .pending
            .par_iter()
            .filter(|block| !block.is_empty())
            .map(|block| {
                let level = flate2::Compression::new(GZIP_LEVEL);
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::with_capacity(block.len() / 3), level);
                encoder.write_all(block)?;
                encoder.finish()
            })
            .collect();
        self.pending.clear();
        for member in members {
            self.out.write_all(&member?)?;
            self.wrote = true;
        }
        Ok(())
    }
}

impl Write for GzipMembers<'_> {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let taken = buf.len();
        while !buf.is_empty() {
            match self.pending.last_mut() {
                Some(block) if block.len() < GZIP_MEMBER_BYTES => {
                    let room = GZIP_MEMBER_BYTES - block.len();
                    let (now, later) = buf.split_at(room.min(buf.len()));
                    block.extend_from_slice(now);
                    buf = later;
                }
                _ => {
                    if self.pending.len() >= rayon::current_num_threads().max(1) {
                        self.drain()?;
                    }
                    self.pending.push(Vec::with_capacity(GZIP_MEMBER_BYTES));
                }
            }
        }
        Ok(taken)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Complete for GzipMembers<'_> {
    fn complete(mut self) -> std::io::Result<()> {
        // A file without records is still a gzip stream: one empty member.
        if self.pending.is_empty() {
            self.pending.push(Vec::new());
        }
        if self.pending.iter().all(Vec::is_empty) && !self.wrote {
            let level = flate2::Compression::new(GZIP_LEVEL);
            let empty = flate2::write::GzEncoder::new(Vec::new(), level).finish()?;
            self.out.write_all(&empty)?;
        }
        self.drain()?;
        self.out.flush()
    }
}

impl<W: Write> Complete for zstd::Encoder<'_, W> {
    fn complete(self) -> std::io::Result<()> {
        self.finish()?.flush()
    }
}

/// JSON lines, through a compressor or not.
struct Lines<C> {
    out: C,
    shown: PathBuf,
}

impl<C: Complete> Sink for Lines<C> {
    fn push(&mut self, record: &[u8]) -> Result<()> {
        self.out
            .write_all(record)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| Error::io(&self.shown, e))
    }
    fn finish(self: Box<Self>) -> Result<()> {
        let Lines { out, shown } = *self;
        out.complete().map_err(|e| Error::io(&shown, e))
    }
}

/// Parquet: records are spooled as JSON lines, then converted at the end.
struct Parquet<'w> {
    out: &'w mut (dyn Write + Send),
    spool: BufWriter<File>,
    schema_from: Option<PathBuf>,
    shown: PathBuf,
}

impl Sink for Parquet<'_> {
    fn push(&mut self, record: &[u8]) -> Result<()> {
        self.spool
            .write_all(record)
            .and_then(|()| self.spool.write_all(b"\n"))
            .map_err(|e| Error::io(&self.shown, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let Parquet {
            out,
            spool,
            schema_from,
            shown,
        } = *self;
        let io = |e: std::io::Error| Error::io(&shown, e);
        let mut spool = spool.into_inner().map_err(|e| io(e.into_error()))?;
        spool.rewind().map_err(io)?;
        // With the input's schema, only the fields an annotated run adds (on
        // every record) are new: the first records show them.
        let sample = schema_from.as_ref().map(|_| SCHEMA_SAMPLE_RECORDS);
        let inferred = infer_schema(BufReader::new(&spool), sample, &shown)?;
        let schema = match schema_from {
            Some(input) => Arc::new(extended(&input_schema(&input)?, &inferred)),
            None => Arc::new(inferred),
        };
        spool.rewind().map_err(io)?;
        write_parquet(BufReader::new(&spool), schema, out, &shown)
    }
}

/// Records read to find the added fields of a Parquet output whose input
/// schema is known.
const SCHEMA_SAMPLE_RECORDS: usize = 100;

/// The schema of the JSON lines `lines` holds, all of them or the first
/// `sample` (an empty schema for none).
fn infer_schema(lines: impl BufRead, sample: Option<usize>, shown: &Path) -> Result<Schema> {
    arrow_json::reader::infer_json_schema(lines, sample)
        .map(|(schema, _)| schema)
        .map_err(|e| Error::in_file(shown, format!("cannot infer a Parquet schema: {e}")))
}

/// The Arrow schema of the Parquet file `path`.
pub fn input_schema(path: &Path) -> Result<Schema> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::in_file(path, format!("cannot read the Parquet schema: {e}")))?;
    Ok(reader.schema().as_ref().clone())
}

/// `base` followed by the fields of `inferred` that it lacks (the fields an
/// annotated run adds), so the input's own columns keep their types.
fn extended(base: &Schema, inferred: &Schema) -> Schema {
    let mut fields: Vec<_> = base.fields().iter().cloned().collect();
    for field in inferred.fields() {
        if base.field_with_name(field.name()).is_err() {
            fields.push(field.clone());
        }
    }
    Schema::new_with_metadata(fields, base.metadata().clone())
}

/// Decodes JSON `lines` with `schema` and writes them as one Parquet file.
fn write_parquet(
    lines: impl BufRead,
    schema: SchemaRef,
    out: &mut (dyn Write + Send),
    shown: &Path,
) -> Result<()> {
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        Error::in_file(shown, format!("cannot {what} Parquet: {e}"))
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(out, schema.clone(), Some(props))
        .map_err(|e| failed("write", &e))?;
    let reader = arrow_json::ReaderBuilder::new(schema)
        .with_batch_size(PARQUET_BATCH_ROWS)
        .build(lines)
        .map_err(|e| failed("convert records to", &e))?;
    for batch in reader {
        let batch = batch.map_err(|e| failed("convert records to", &e))?;
        writer.write(&batch).map_err(|e| failed("write", &e))?;
    }
    writer.close().map_err(|e| failed("write", &e))?;
    Ok(())
}

/// Reads back the records of an output file written in `format`, as JSON
/// values (for tests and for checking a run's output). Parquet rows leave
/// out their null fields.
pub fn read_records(path: &Path, format: RecordFormat) -> Result<Vec<serde_json::Value>> {
    use std::io::Read;
    let io = |e: std::io::Error| Error::io(path, e);
    let file = File::open(path).map_err(io)?;
    let mut text = String::new();
    match format {
        RecordFormat::Jsonl => {
            BufReader::new(file).read_to_string(&mut text).map_err(io)?;
        }
        RecordFormat::JsonlGz => {
            flate2::read::MultiGzDecoder::new(file)
                .read_to_string(&mut text)
                .map_err(io)?;
        }
        RecordFormat::JsonlZst => {
            zstd::Decoder::new(file)
                .map_err(io)?
                .read_to_string(&mut text)
                .map_err(io)?;
        }
        RecordFormat::Parquet => {
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .and_then(|b| b.build())
                    .map_err(|e| Error::in_file(path, format!("cannot read Parquet: {e}")))?;
            let mut json = arrow_json::LineDelimitedWriter::new(Vec::new());
            for batch in reader {
                let batch =
                    batch.map_err(|e| Error::in_file(path, format!("cannot read Parquet: {e}")))?;
                json.write(&batch)
                    .map_err(|e| Error::in_file(path, format!("cannot read Parquet: {e}")))?;
            }
            json.finish()
                .map_err(|e| Error::in_file(path, format!("cannot read Parquet: {e}")))?;
            text = String::from_utf8(json.into_inner())
                .map_err(|_| Error::in_file(path, "not valid UTF-8"))?;
        }
    };
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| Error::at_line(path, i as u64 + 1, format!("invalid JSON: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDS: [&str; 3] = [
        r#"{"id":1,"text":"alpha beta","meta":{"url":"http://a"}}"#,
        r#"{"id":2,"text":"gamma \u00e9","meta":{"url":"http://b"}}"#,
        // Parquet does not tell a null from an absent field: read back, a
        // null is left out.
        r#"{"id":3,"text":"","meta":{}}"#,
    ];

    fn written(format: RecordFormat, records: &[&str], schema_from: Option<PathBuf>) -> PathBuf {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let path = dir.join(format!("out{}", format.extension()));
        let mut file = BufWriter::new(File::create(&path).expect("create"));
        {
            let mut sink = open(
                &Encoding::Records(format, schema_from),
                &mut file,
                &path,
                &dir,
            )
            .expect("open");
            for r in records {
                sink.push(r.as_bytes()).expect("push");
            }
            sink.finish().expect("finish");
        }
        file.flush().expect("flush");
        path
    }

    fn values(records: &[&str]) -> Vec<serde_json::Value> {
        records
            .iter()
            .map(|r| serde_json::from_str(r).expect("json"))
            .collect()
    }

    #[test]
    fn every_format_reads_back_as_the_jsonl_records() {
        let expected = values(&RECORDS);
        let plain =
            std::fs::read_to_string(written(RecordFormat::Jsonl, &RECORDS, None)).expect("read");
        assert_eq!(plain, RECORDS.join("\n") + "\n", "JSONL keeps bytes");
        for format in [
            RecordFormat::Jsonl,
            RecordFormat::JsonlGz,
            RecordFormat::JsonlZst,
            RecordFormat::Parquet,
        ] {
            let path = written(format, &RECORDS, None);
            let back = read_records(&path, format).expect("read back");
            assert_eq!(back, expected, "{format:?}");
        }
    }

    #[test]
    fn compressed_files_have_the_same_bytes_for_any_thread_count_and_read_back() {
        // Over three gzip members' worth of records, of varied lengths.
        let many: Vec<String> = (0..120_000)
            .map(|i| {
                format!(
                    r#"{{"id":{i},"text":"{} {}"}}"#,
                    "record text ".repeat(i % 37),
                    i * 7919
                )
            })
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(many.iter().map(|r| r.len() + 1).sum::<usize>() > 3 * GZIP_MEMBER_BYTES);
        for format in [RecordFormat::JsonlGz, RecordFormat::JsonlZst] {
            let with = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                let path = pool.install(|| written(format, &many, None));
                std::fs::read(path).expect("read")
            };
            let one = with(1);
            assert_eq!(one, with(3), "{format:?}");
            let path = written(format, &many, None);
            let back = read_records(&path, format).expect("read back");
            assert_eq!(back.len(), many.len(), "{format:?}");
            assert_eq!(back[77_777], values(&[many[77_777]])[0], "{format:?}");
        }
    }

    #[test]
    fn compressed_files_are_really_compressed() {
        let many: Vec<String> = (0..2000)
            .map(|i| format!(r#"{{"id":{i},"text":"the same words again and again"}}"#))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let size = |f| {
            std::fs::metadata(written(f, &many, None))
                .expect("meta")
                .len()
        };
        let plain = size(RecordFormat::Jsonl);
        assert!(size(RecordFormat::JsonlGz) * 5 < plain);
        assert!(size(RecordFormat::JsonlZst) * 5 < plain);
    }

    #[test]
    fn parquet_keeps_the_input_schema_and_adds_new_fields() {
        // An input whose `n` is a 32-bit float: inference alone would give Float64.
        let input = written(RecordFormat::Parquet, &[r#"{"n":1.5,"text":"a"}"#], None);
        let schema = input_schema(&input).expect("schema");
        let narrowed = Schema::new(vec![
            arrow_schema::Field::new("n", arrow_schema::DataType::Float32, true),
            schema.field_with_name("text").expect("text").clone(),
        ]);
        let narrow_input = {
            let dir = tempfile::tempdir().expect("tempdir").keep();
            let path = dir.join("narrow.parquet");
            let mut file = File::create(&path).expect("create");
            write_parquet(
                BufReader::new(&br#"{"n":1.5,"text":"a"}"#[..]),
                Arc::new(narrowed),
                &mut file,
                &path,
            )
            .expect("write");
            path
        };
        let out = written(
            RecordFormat::Parquet,
            &[r#"{"n":2.5,"text":"b","duplicate":true}"#],
            Some(narrow_input),
        );
        let schema = input_schema(&out).expect("schema");
        assert_eq!(
            schema.field_with_name("n").expect("n").data_type(),
            &arrow_schema::DataType::Float32
        );
        assert_eq!(
            schema
                .field_with_name("duplicate")
                .expect("added")
                .data_type(),
            &arrow_schema::DataType::Boolean
        );
        let back = read_records(&out, RecordFormat::Parquet).expect("read");
        assert_eq!(back, values(&[r#"{"n":2.5,"text":"b","duplicate":true}"#]));
    }

    #[test]
    fn records_that_do_not_fit_the_input_schema_are_an_error_naming_the_file() {
        let input = written(RecordFormat::Parquet, &[r#"{"n":1,"text":"a"}"#], None);
        let dir = tempfile::tempdir().expect("tempdir");
        let shown = dir.path().join("shown.parquet");
        let mut out = Vec::new();
        let mut sink = open(
            &Encoding::Records(RecordFormat::Parquet, Some(input)),
            &mut out,
            &shown,
            dir.path(),
        )
        .expect("open");
        sink.push(br#"{"n":"not a number","text":"b"}"#)
            .expect("push");
        let err = sink.finish().expect_err("mismatch");
        assert!(err.to_string().contains("shown.parquet"), "{err}");
    }
}
