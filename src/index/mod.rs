//! A saved MinHash index of a corpus, for incremental deduplication.
//!
//! `neardedup index build` sketches a corpus once and saves every unit's id,
//! paragraph number and signature; `neardedup index add` appends more corpora;
//! `neardedup dedup --against INDEX` flags units of a new corpus that duplicate
//! indexed ones without sketching the indexed corpus again. The header records the
//! settings that decide what a signature means (shingling, MinHash variant, length
//! and seed, unit kind), and a run against the index must use the same ones.
//!
//! # File format (version 2, little-endian)
//!
//! ```text
//! magic        8 bytes   "NDDXINDX"
//! version      u32       2
//! header_len   u32       then `header_len` bytes of JSON (IndexHeader)
//! units        u64       number of units n
//! ids_len      u64       then `ids_len` bytes: n JSON lines {"id": ..., "para": ...}
//! signatures   n * num_perm u16 (compact signatures, see crate::minhash::compact)
//! checksum     u64       xxh3-64 of every byte before it
//! ```
//!
//! Files are written to a temporary name, synced and renamed only once the run's
//! other outputs are complete ([`file`](mod@file)), so a failed or killed run leaves the
//! index as it was; a damaged file fails its checksum.
//!
//! An indexed unit is known by its record id and paragraph number. Adding a unit
//! whose id and paragraph are already indexed is refused by the command line (see
//! [`SignatureIndex::already_indexed`]): it would be a duplicate of itself.

pub mod file;
pub mod memory;

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use crate::config::{Algo, DedupConfig, SketchConfig};
use crate::corpus::RecordId;
use crate::error::{Error, Result};
use crate::minhash::compact::BYTES_PER_VALUE;
use crate::work::codec::{Decoder, Truncated};

/// First bytes of every index file.
pub const MAGIC: &[u8; 8] = b"NDDXINDX";

/// The format version this build reads and writes. Version 1 (full 32-bit
/// signature values) and version 2 (digests that did not depend on the
/// position, see [`crate::minhash::compact`]) are no longer read: rebuild such
/// an index.
pub const FORMAT_VERSION: u32 = 3;

/// The settings that give an index's signatures their meaning: the sketch
/// settings of the runs that built it.
pub type IndexHeader = SketchConfig;

impl IndexHeader {
    /// The header a run with `config` would write.
    pub fn for_config(config: &DedupConfig) -> IndexHeader {
        config.sketch
    }

    /// Sets the signature-defining settings of `config` from this header.
    pub fn apply_to(&self, config: &mut DedupConfig) {
        config.sketch = *self;
    }
}

/// The settings an index fixes, by name: every field of [`IndexHeader`], the
/// normalisation switches one by one.
pub const FIXED_SETTINGS: [&str; 11] = [
    "unit",
    "para_sep",
    "min_para_chars",
    "tokenizer",
    "ngram",
    "nfkc",
    "lowercase",
    "fold_punctuation",
    "minhash_variant",
    "num_perm",
    "seed",
];

pub use crate::error::SettingDifference;

impl IndexHeader {
    /// The value of setting `name` (one of [`FIXED_SETTINGS`]) as its option
    /// value.
    pub fn setting(&self, name: &str) -> Option<String> {
        let shingle = &self.shingle;
        let normalize = &shingle.normalize;
        Some(match name {
            "unit" => as_option_value(&self.unit),
            "para_sep" => as_option_value(&self.para_sep),
            "min_para_chars" => self.min_para_chars.to_string(),
            "tokenizer" => as_option_value(&shingle.tokenizer),
            "ngram" => shingle.ngram.to_string(),
            "nfkc" => normalize.nfkc.to_string(),
            "lowercase" => normalize.lowercase.to_string(),
            "fold_punctuation" => normalize.fold_punctuation.to_string(),
            "minhash_variant" => as_option_value(&self.minhash_variant),
            "num_perm" => self.num_perm.to_string(),
            "seed" => self.seed.to_string(),
            _ => return None,
        })
    }

    /// The settings among `given` (names from [`FIXED_SETTINGS`]) whose value in
    /// `config` differs from this header's, in the order of `given`.
    pub fn differences(&self, config: &DedupConfig, given: &[&str]) -> Vec<SettingDifference> {
        let run = config.sketch;
        FIXED_SETTINGS
            .iter()
            .filter(|name| given.contains(name))
            .filter_map(|&name| {
                let (given, indexed) = (run.setting(name)?, self.setting(name)?);
                (given != indexed).then_some(SettingDifference {
                    name,
                    given,
                    indexed,
                })
            })
            .collect()
    }
}

/// A setting's value as an option takes it (the settings serialise to their
/// option values).
fn as_option_value(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

/// One indexed unit: where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedUnit {
    /// The record id it had when indexed (its JSON text as the input wrote it).
    pub id: crate::corpus::RecordId,
    /// Its paragraph number (paragraph units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub para: Option<u32>,
}

/// The units and signatures of one or more indexed corpora.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureIndex {
    /// What the signatures mean.
    pub header: IndexHeader,
    /// Indexed units, in the order they were added.
    pub units: Vec<IndexedUnit>,
    /// Compact signatures (see [`crate::minhash::compact`]) of the units, back to
    /// back: `2 * header.num_perm` bytes each.
    pub signatures: Vec<u8>,
}

impl SignatureIndex {
    /// An empty index for runs with `config`.
    pub fn new(config: &DedupConfig) -> SignatureIndex {
        SignatureIndex {
            header: IndexHeader::for_config(config),
            units: Vec::new(),
            signatures: Vec::new(),
        }
    }

    /// Number of indexed units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Appends units with their compact signatures (`2 * num_perm` bytes each).
    pub fn append(&mut self, units: Vec<IndexedUnit>, signatures: &[u8]) -> Result<()> {
        if signatures.len() != units.len() * self.header.num_perm * BYTES_PER_VALUE {
            return Err(Error::Config(format!(
                "{} signature bytes for {} units of {} permutations",
                signatures.len(),
                units.len(),
                self.header.num_perm
            )));
        }
        self.units.extend(units);
        self.signatures.extend_from_slice(signatures);
        Ok(())
    }

    /// Why a run with `config` would make signatures that cannot be compared with
    /// these, or `None` when it would not.
    pub fn incompatibility(&self, config: &DedupConfig) -> Option<String> {
        if config.algo != Algo::Minhash {
            return Some(
                "an index holds MinHash signatures: runs against it must use `algo` minhash".into(),
            );
        }
        let wanted = IndexHeader::for_config(config);
        if wanted == self.header {
            return None;
        }
        let have = serde_json::to_value(self.header).unwrap_or_default();
        let want = serde_json::to_value(wanted).unwrap_or_default();
        let differing: Vec<String> = match (have.as_object(), want.as_object()) {
            (Some(h), Some(w)) => h
                .iter()
                .filter(|(k, v)| w.get(*k) != Some(v))
                .map(|(k, v)| {
                    format!(
                        "{k} (index: {v}, run: {})",
                        w.get(k).cloned().unwrap_or_default()
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(format!(
            "index was built with different settings: {}",
            differing.join("; ")
        ))
    }

    /// Checks that a run with `config` makes signatures comparable with these,
    /// naming the index file `path` in the error.
    pub fn check_compatible(&self, config: &DedupConfig, path: &Path) -> Result<()> {
        match self.incompatibility(config) {
            None => Ok(()),
            Some(why) if config.algo != Algo::Minhash => Err(Error::Config(why)),
            Some(why) => Err(Error::in_file(path, why)),
        }
    }

    /// Positions in `new` of the units (record id and paragraph number) that
    /// are already in this index, in the order of `new`.
    ///
    /// Units are compared by a 128-bit hash of their JSON form; the hashes of
    /// `new` are held in memory, the index is streamed past them.
    pub fn already_indexed<'a>(
        &self,
        new: impl IntoIterator<Item = (&'a RecordId, Option<u32>)>,
    ) -> Vec<usize> {
        let new: Vec<u128> = new
            .into_iter()
            .map(|(id, para)| unit_key(id, para))
            .collect();
        let wanted: HashSet<u128> = new.iter().copied().collect();
        let found: HashSet<u128> = self
            .units
            .iter()
            .map(|u| unit_key(&u.id, u.para))
            .filter(|key| wanted.contains(key))
            .collect();
        new.iter()
            .enumerate()
            .filter(|(_, key)| found.contains(key))
            .map(|(i, _)| i)
            .collect()
    }

    /// Writes the index to `path` (via a synced temporary file and a rename; see
    /// [`file::IndexFile`] to keep the old index until other outputs are done).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut target = file::IndexFile::open(path)?;
        target.stage(self)?;
        target.commit()
    }

    /// The index's bytes, in the file format above.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(64 + self.signatures.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        // Plain structs and JSON values: serialising them into memory cannot fail.
        let header = serde_json::to_vec(&self.header).expect("header serialises");
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header);
        let mut ids = Vec::new();
        for unit in &self.units {
            serde_json::to_writer(&mut ids, unit).expect("unit serialises");
            ids.push(b'\n');
        }
        bytes.extend_from_slice(&(self.units.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&(ids.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&ids);
        bytes.extend_from_slice(&self.signatures);
        let checksum = xxh3_64(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// Reads an index written by [`SignatureIndex::write`], checking magic,
    /// version and checksum.
    pub fn read(path: &Path) -> Result<SignatureIndex> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        SignatureIndex::decode(&bytes, path)
    }

    /// Decodes the bytes of an index file like [`SignatureIndex::read`]; errors
    /// name `path` as the file at fault.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<SignatureIndex> {
        let bad = |message: String| Error::in_file(path, message);
        if bytes.len() < MAGIC.len() + 4 + 4 + 8 + 8 + 8 || &bytes[..8] != MAGIC {
            return Err(bad("not a neardedup index (bad magic number)".into()));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let stored = u64::from_le_bytes(tail.try_into().expect("8-byte tail"));
        let mut cursor = Decoder::new(body);
        cursor
            .take(MAGIC.len())
            .map_err(|_| bad("truncated header".into()))?;
        let version = cursor.u32().map_err(|_| bad("truncated header".into()))?;
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "index format version {version}, this build reads version {FORMAT_VERSION} \
                 (rebuild the index with `neardedup index build`)"
            )));
        }
        if xxh3_64(body) != stored {
            return Err(bad("index is damaged (checksum mismatch)".into()));
        }
        let header_len = cursor.u32().map_err(|_| bad("truncated header".into()))? as usize;
        let header_bytes = cursor
            .take(header_len)
            .map_err(|_| bad("truncated header".into()))?;
        let header: IndexHeader = serde_json::from_slice(header_bytes)
            .map_err(|e| bad(format!("invalid index header: {e}")))?;
        let count = cursor
            .u64()
            .map_err(|_| bad("truncated unit count".into()))? as usize;
        let ids_len = cursor.u64().map_err(|_| bad("truncated id block".into()))? as usize;
        let ids = cursor
            .take(ids_len)
            .map_err(|_| bad("truncated id block".into()))?;
        let units = ids
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(serde_json::from_slice::<IndexedUnit>)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("invalid unit entry: {e}")))?;
        let values = count
            .checked_mul(header.num_perm)
            .ok_or_else(|| bad("unit count overflows".into()))?;
        let sig_bytes = values
            .checked_mul(BYTES_PER_VALUE)
            .ok_or(Truncated)
            .and_then(|len| cursor.take(len))
            .map_err(|_| bad("truncated signatures".into()))?;
        if units.len() != count || cursor.position() != body.len() {
            return Err(bad(format!(
                "inconsistent index: {} unit entries for a count of {count}",
                units.len()
            )));
        }
        Ok(SignatureIndex {
            header,
            units,
            signatures: sig_bytes.to_vec(),
        })
    }
}

/// What identifies an indexed unit: its record id (compared as duplicate-id
/// checks compare ids, [`RecordId::key`]) and paragraph number.
fn unit_key(id: &RecordId, para: Option<u32>) -> u128 {
    let mut bytes = id.key().into_owned().into_bytes();
    match para {
        Some(para) => {
            bytes.push(b'#');
            bytes.extend_from_slice(&para.to_le_bytes());
        }
        None => bytes.push(b'-'),
    }
    xxh3_128(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SignatureIndex {
        let config = DedupConfig {
            sketch: SketchConfig {
                num_perm: 4,
                ..DedupConfig::default().sketch
            },
            ..DedupConfig::default()
        };
        let mut index = SignatureIndex::new(&config);
        index
            .append(
                vec![
                    IndexedUnit {
                        id: "a".into(),
                        para: None,
                    },
                    IndexedUnit {
                        id: 7.into(),
                        para: Some(2),
                    },
                ],
                &crate::minhash::compact::compact(&[1, 2, 3, 4, 5, 6, 7, u32::MAX]),
            )
            .expect("lengths match");
        index
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.ndx");
        let index = sample();
        index.write(&path).expect("write");
        assert_eq!(SignatureIndex::read(&path).expect("read"), index);
        let mut leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        leftovers.sort();
        assert_eq!(
            leftovers,
            [".x.ndx.lock", "x.ndx"],
            "no temporary file left behind"
        );
    }

    #[test]
    fn units_already_indexed_are_found_by_id_and_paragraph() {
        let index = sample();
        let a = RecordId::from("a");
        let seven = RecordId::from(7);
        let seven_text = RecordId::from("7");
        let new = [
            (&seven, Some(3)),      // same id, other paragraph
            (&seven, Some(2)),      // indexed
            (&seven_text, Some(2)), // the string "7" is another id
            (&a, None),             // indexed
            (&a, Some(0)),          // a paragraph of an indexed article
        ];
        assert_eq!(index.already_indexed(new), [1, 3]);
        assert!(index.already_indexed([]).is_empty());
    }

    #[test]
    fn encoding_is_what_write_puts_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.ndx");
        let index = sample();
        index.write(&path).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), index.encode());
    }

    #[test]
    fn damage_and_foreign_files_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.ndx");
        sample().write(&path).expect("write");
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        let err = SignatureIndex::read(&path).expect_err("damaged");
        assert!(err.to_string().contains("checksum mismatch"), "{err}");

        std::fs::write(&path, b"{\"text\": \"not an index\"}\n").expect("write");
        let err = SignatureIndex::read(&path).expect_err("foreign");
        assert!(err.to_string().contains("bad magic number"), "{err}");

        let mut future = Vec::from(&MAGIC[..]);
        future.extend_from_slice(&99u32.to_le_bytes());
        future.extend_from_slice(&[0u8; 40]);
        std::fs::write(&path, &future).expect("write");
        let err = SignatureIndex::read(&path).expect_err("version");
        assert!(err.to_string().contains("format version 99"), "{err}");
    }

    #[test]
    fn incompatible_settings_are_named() {
        let index = sample();
        let config = DedupConfig {
            sketch: SketchConfig {
                num_perm: 8,
                ..DedupConfig::default().sketch
            },
            ..DedupConfig::default()
        };
        let err = index
            .check_compatible(&config, Path::new("i.ndx"))
            .expect_err("different num_perm");
        assert!(
            err.to_string().contains("num_perm (index: 4, run: 8)"),
            "{err}"
        );
        let same = DedupConfig {
            sketch: SketchConfig {
                num_perm: 4,
                ..DedupConfig::default().sketch
            },
            ..DedupConfig::default()
        };
        assert!(index.check_compatible(&same, Path::new("i.ndx")).is_ok());
    }
}
