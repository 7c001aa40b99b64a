//! How an input file is stored on disk, and turning stored bytes back into
//! records.
//!
//! Corpora ship compressed (`.jsonl.gz`, `.jsonl.zst`, `.bz2`, `.xz`) or as
//! Parquet tables. Each such file, and anything read from a stream (standard
//! input, a named pipe), is decoded once, streaming, into an unnamed file in a
//! scratch folder, which is then mapped like any plain input. Memory stays
//! bounded whatever the size of the input (the decoded text lives in the page
//! cache and on disk, not in the process's own memory), the record readers,
//! chunking and checkpoints see one kind of input, and the decoded copy
//! disappears with the process, even a killed one. Parquet rows become JSON
//! lines ([`super::parquet`]).
//!
//! A file's container is known by its leading bytes (its "magic"), whatever its
//! name: a `.jsonl` file that is really gzip-compressed is decompressed. The
//! name only decides, once a compression suffix is taken off, whether records
//! are JSON lines or whole plain-text articles.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// How an input file's bytes are stored on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// The records themselves, UTF-8.
    Plain,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard (one or more frames).
    Zstd,
    /// bzip2 (one or more streams).
    Bzip2,
    /// xz (one or more streams).
    Xz,
    /// An Apache Parquet table: one record per row.
    Parquet,
}

impl Container {
    /// The file-name suffix of this container ("" for plain files).
    pub fn extension(self) -> &'static str {
        match self {
            Container::Plain => "",
            Container::Gzip => ".gz",
            Container::Zstd => ".zst",
            Container::Bzip2 => ".bz2",
            Container::Xz => ".xz",
            Container::Parquet => ".parquet",
        }
    }

    /// The name used in messages ("gzip", "Parquet").
    pub fn name(self) -> &'static str {
        match self {
            Container::Plain => "plain",
            Container::Gzip => "gzip",
            Container::Zstd => "zstd",
            Container::Bzip2 => "bzip2",
            Container::Xz => "xz",
            Container::Parquet => "Parquet",
        }
    }

    /// The container whose leading bytes `head` starts with: plain when none.
    pub fn sniff(head: &[u8]) -> Container {
        if head.starts_with(b"\x1f\x8b") {
            Container::Gzip
        } else if head.starts_with(b"\x28\xb5\x2f\xfd") {
            Container::Zstd
        } else if head.starts_with(b"\xfd7zXZ\x00") {
            Container::Xz
        } else if is_bzip2(head) {
            Container::Bzip2
        } else if head.starts_with(b"PAR1") {
            Container::Parquet
        } else {
            Container::Plain
        }
    }

    /// The container a file's name says (by its last suffix).
    pub fn of_name(path: &Path) -> Container {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        [
            Container::Gzip,
            Container::Zstd,
            Container::Bzip2,
            Container::Xz,
            Container::Parquet,
        ]
        .into_iter()
        .find(|c| {
            c.extension()[1..].eq_ignore_ascii_case(ext)
                || (*c == Container::Zstd && ext.eq_ignore_ascii_case("zstd"))
                || (*c == Container::Gzip && ext.eq_ignore_ascii_case("gzip"))
        })
        .unwrap_or(Container::Plain)
    }

    /// Whether the file must be decoded before it is read.
    pub fn is_decoded(self) -> bool {
        self != Container::Plain
    }
}

/// `BZh`, a block size digit, then the magic of a block or of the end of an
/// empty stream: a text beginning with `BZh` is not taken for bzip2.
pub(crate) fn is_bzip2(bytes: &[u8]) -> bool {
    bytes.len() >= 10
        && bytes.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&bytes[3])
        && (bytes[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || bytes[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
}

/// The leading bytes of `reader` (as many as its buffer holds, at least the
/// ten the signatures need unless the stream is shorter), without consuming
/// them.
pub(crate) fn peek<R: Read>(reader: &mut BufReader<R>, path: &Path) -> Result<Vec<u8>> {
    loop {
        let buffered = reader.buffer().len();
        if buffered >= 16 {
            break;
        }
        // `fill_buf` only reads when the buffer is empty; read the rest by hand.
        let had = reader.fill_buf().map_err(|e| Error::io(path, e))?.len();
        if had == buffered {
            break;
        }
    }
    Ok(reader.buffer().to_vec())
}

/// Decompresses `stored` (the bytes of `path`, in `container`, which is not
/// Parquet) into `out`; returns the number of bytes written. A stream that is
/// cut short or corrupt is an error naming the file, the container and how far
/// decoding got.
pub(crate) fn decompress(
    container: Container,
    stored: impl Read,
    path: &Path,
    out: &mut impl Write,
) -> Result<u64> {
    let stored = BufReader::with_capacity(1 << 20, stored);
    let mut decoded: Box<dyn Read> = match container {
        Container::Plain => Box::new(stored),
        Container::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(stored)),
        Container::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(stored).map_err(|e| Error::io(path, e))?,
        ),
        Container::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(stored)),
        Container::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(stored)),
        Container::Parquet => {
            return Err(Error::in_file(
                path,
                "a Parquet table is decoded by its own reader",
            ))
        }
    };
    let mut written = 0u64;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = match decoded.read(&mut buffer) {
            Ok(0) => return Ok(written),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(broken_stream(container, path, written, &e)),
        };
        out.write_all(&buffer[..n])
            .map_err(|e| Error::io(path, e))?;
        written += n as u64;
    }
}

/// The error for a compressed stream that stopped decoding after `written`
/// bytes of text.
fn broken_stream(container: Container, path: &Path, written: u64, cause: &std::io::Error) -> Error {
    let how = if cause.kind() == std::io::ErrorKind::UnexpectedEof {
        "is cut short (truncated)".to_string()
    } else {
        format!("is corrupt ({cause})")
    };
    Error::in_file(
        path,
        format!(
            "the {} stream {how} after {written} bytes of decompressed text; nothing of \
             this file is read",
            container.name()
        ),
    )
}

/// An unnamed scratch file in `dir` (removed by the system when the last
/// handle closes, even if the process is killed), buffered for writing.
pub(crate) fn scratch_file(dir: &Path, path: &Path) -> Result<BufWriter<std::fs::File>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let file = tempfile::tempfile_in(dir).map_err(|e| {
        Error::in_file(
            path,
            format!(
                "cannot create a scratch file to decode it into in {}: {e}",
                dir.display()
            ),
        )
    })?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

/// The file behind a filled scratch writer, flushed.
pub(crate) fn finish_scratch(out: BufWriter<std::fs::File>, path: &Path) -> Result<std::fs::File> {
    out.into_inner()
        .map_err(|e| Error::io(path, e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn compress(container: Container, text: &[u8]) -> Vec<u8> {
        match container {
            Container::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(text).expect("gzip");
                e.finish().expect("gzip")
            }
            Container::Zstd => zstd::encode_all(text, 1).expect("zstd"),
            Container::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(text).expect("bzip2");
                e.finish().expect("bzip2")
            }
            Container::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(text).expect("xz");
                e.finish().expect("xz")
            }
            Container::Plain | Container::Parquet => text.to_vec(),
        }
    }

    const COMPRESSED: [Container; 4] = [
        Container::Gzip,
        Container::Zstd,
        Container::Bzip2,
        Container::Xz,
    ];

    #[test]
    fn every_compressed_container_is_known_by_its_bytes_and_decodes() {
        let text = "{\"text\":\"본문 첫째\"}\n{\"text\":\"second\"}\n".repeat(50);
        for container in COMPRESSED {
            let stored = compress(container, text.as_bytes());
            assert_eq!(Container::sniff(&stored), container);
            let mut out = Vec::new();
            let n = decompress(container, &stored[..], Path::new("x"), &mut out).expect("decode");
            assert_eq!(n as usize, text.len());
            assert_eq!(out, text.as_bytes(), "{container:?}");
        }
        assert_eq!(Container::sniff(b"{\"text\":1}"), Container::Plain);
        assert_eq!(Container::sniff(b"BZh is a word"), Container::Plain);
    }

    #[test]
    fn concatenated_members_and_frames_all_decode() {
        for container in COMPRESSED {
            let mut stored = compress(container, b"first\n");
            stored.extend(compress(container, b"second\n"));
            let mut out = Vec::new();
            decompress(container, &stored[..], Path::new("x"), &mut out).expect("decode");
            assert_eq!(out, b"first\nsecond\n", "{container:?}");
        }
    }

    #[test]
    fn a_truncated_stream_is_an_error_naming_the_file_and_container() {
        let text = "a line of text that compresses\n".repeat(2000);
        for container in COMPRESSED {
            let stored = compress(container, text.as_bytes());
            let cut = &stored[..stored.len() / 2];
            let mut out = Vec::new();
            let err = decompress(container, cut, Path::new("crawl.jsonl"), &mut out)
                .expect_err("cut short");
            let shown = err.to_string();
            assert!(
                shown.starts_with(&format!("crawl.jsonl: the {} stream", container.name())),
                "{shown}"
            );
        }
    }

    #[test]
    fn names_give_containers() {
        for (name, container) in [
            ("a.jsonl.gz", Container::Gzip),
            ("a.jsonl.zst", Container::Zstd),
            ("a.txt.bz2", Container::Bzip2),
            ("a.xz", Container::Xz),
            ("a.parquet", Container::Parquet),
            ("a.jsonl", Container::Plain),
            ("a", Container::Plain),
        ] {
            assert_eq!(Container::of_name(Path::new(name)), container, "{name}");
        }
    }
}
