//! Index files from arbitrary bytes.
//!
//! The input is decoded as a whole index file, then again with a correct checksum
//! appended (so that damage past the checksum reaches the rest of the decoder).
//! Bad bytes must give an error naming the file, never a panic or an allocation
//! beyond the input's size. An index that decodes must hold one signature per
//! unit, answer the settings check, and come back equal after being written to a
//! file and read again.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use neardedup::index::SignatureIndex;
use neardedup::pipeline::DedupConfig;
use xxhash_rust::xxh3::xxh3_64;

const NAME: &str = "fuzz.ndx";

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&xxh3_64(data).to_le_bytes());
    check(&sealed);
});

fn check(bytes: &[u8]) {
    let index = match SignatureIndex::decode(bytes, Path::new(NAME)) {
        Ok(index) => index,
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with(NAME), "{shown}");
            return;
        }
    };
    assert_eq!(
        index.signatures.len(),
        index.units.len() * index.header.num_perm * 2,
        "one compact signature per unit"
    );
    let config = DedupConfig::default();
    let _ = index.incompatibility(&config);
    let mut same = config.clone();
    index.header.apply_to(&mut same);
    assert!(
        index.incompatibility(&same).is_none(),
        "its own settings fit"
    );

    let path = scratch().join("written.ndx");
    index.write(&path).expect("write to scratch");
    let again = SignatureIndex::read(&path).expect("a written index reads back");
    assert_eq!(again.header, index.header);
    assert_eq!(again.signatures, index.signatures);
    assert_eq!(again.units.len(), index.units.len());
    for (a, b) in again.units.iter().zip(&index.units) {
        assert_eq!(a.para, b.para);
        assert_eq!(
            a.id.json_text(),
            b.id.json_text(),
            "ids come back as written"
        );
    }
}

/// A folder for written indexes, in memory when the system has one.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let builder = tempfile::Builder::new()
            .prefix("neardedup-fuzz-")
            .tempdir_in(&shm);
        builder
            .or_else(|_| tempfile::tempdir())
            .expect("a scratch folder")
    })
    .path()
}
