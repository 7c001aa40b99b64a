//! Shared, seeded inputs for every bench: real English and Korean text cut into
//! documents of three named sizes, their shingle hashes, MinHash signatures and
//! SimHash fingerprints at 10k/100k/1M units, and a generated JSONL corpus on disk.
//!
//! Everything is built from `datasets/sources` through `neardedup::synth` with fixed
//! seeds, so every implementation in a group sees byte-identical inputs and two runs
//! of the same build measure the same work.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use neardedup::minhash::{LshParams, MinHasher};
use neardedup::simhash::fingerprint64;
use neardedup::synth::{GenConfig, Generator, Language, Level, Sources};
use neardedup::text::shingle::Scratch;
use neardedup::text::{ShingleConfig, Shingler};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seed of every input.
pub const SEED: u64 = 0x5eed_2026;
/// MinHash seed shared by all signatures built here.
pub const MINHASH_SEED: u64 = 1;
/// LSH threshold the index benches use (the CLI default).
pub const THRESHOLD: f64 = 0.8;
/// Permutations of the signatures the LSH benches index (the CLI default).
pub const LSH_PERM: usize = 128;
/// SimHash radius the Hamming benches search (the CLI default).
pub const HAMMING: u32 = 3;

/// Criterion settings for the fast per-document benches: short, so a full run stays
/// within a few minutes on two cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
}

/// Source language of a document set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    fn synth(self) -> Language {
        match self {
            Lang::En => Language::English,
            Lang::Ko => Language::Korean,
        }
    }
}

/// Named document size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// About 300 bytes.
    Paragraph,
    /// About 3 KB.
    Article,
    /// About 30 KB.
    Long,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Paragraph, Size::Article, Size::Long];

    pub fn name(self) -> &'static str {
        match self {
            Size::Paragraph => "paragraph",
            Size::Article => "article",
            Size::Long => "long",
        }
    }

    /// Target bytes of one document.
    pub fn bytes(self) -> usize {
        match self {
            Size::Paragraph => 300,
            Size::Article => 3_000,
            Size::Long => 30_000,
        }
    }

    /// Bytes of one document set: at least 256 KB and 16 documents, so per-call
    /// overheads average out and every size does a comparable amount of work.
    pub fn set_bytes(self) -> usize {
        (256 << 10).max(16 * self.bytes())
    }
}

/// `en-paragraph`, `ko-long`, ...
pub fn label(lang: Lang, size: Size) -> String {
    format!("{}-{}", lang.name(), size.name())
}

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The committed real-text sources.
pub fn sources() -> Sources {
    Sources::load(&manifest_dir().join("datasets/sources"))
        .expect("datasets/sources must hold en-kjv.txt and ko-law.txt")
}

fn generator(sources: &Sources, language: Language, level: Level, seed: u64) -> Generator {
    let config = GenConfig {
        seed,
        language,
        level,
        originals: 200,
        max_copies: 2,
        ..GenConfig::default()
    };
    Generator::new(sources, config).expect("valid generator configuration")
}

/// Cuts `line` to at most about `max` bytes at a character boundary, preferring a
/// space.
fn cut(line: &str, max: usize) -> &str {
    if line.len() <= max {
        return line;
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    match line[..end].rfind(' ') {
        Some(space) if space > max / 2 => &line[..space],
        _ => &line[..end],
    }
}

/// Documents of about `size` bytes in `lang`, together at least `size.set_bytes()`
/// bytes: lines of generated article-level records (originals and their edited
/// copies, so near duplicates occur as in real data), joined with `\n` until a
/// document reaches its target size. Deterministic.
pub fn documents(lang: Lang, size: Size) -> Vec<String> {
    let sources = sources();
    let mut gen = generator(&sources, lang.synth(), Level::Article, SEED);
    let target = size.bytes();
    let mut docs = Vec::new();
    let mut total = 0;
    let mut doc = String::new();
    while total < size.set_bytes() {
        let batch = gen.next_batch().expect("generation from committed sources");
        for record in &batch.records {
            for line in record.text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if !doc.is_empty() {
                    doc.push('\n');
                }
                doc.push_str(cut(line, target + target / 4 - doc.len().min(target)));
                if doc.len() >= target {
                    total += doc.len();
                    docs.push(std::mem::take(&mut doc));
                }
            }
        }
    }
    docs
}

/// Total bytes of a document set.
pub fn total_bytes(docs: &[String]) -> u64 {
    docs.iter().map(|d| d.len() as u64).sum()
}

/// The default shingler (word tokens, 5-grams, full normalisation).
pub fn shingler() -> Shingler {
    Shingler::new(ShingleConfig::default()).expect("default shingle configuration")
}

/// Shingle hashes of every document under the default shingler.
pub fn shingles(docs: &[String]) -> Vec<Vec<u64>> {
    let shingler = shingler();
    let mut scratch = Scratch::default();
    docs.iter()
        .map(|d| {
            let mut out = Vec::new();
            shingler.shingles_into(d, &mut scratch, &mut out);
            out
        })
        .collect()
}

/// Real paragraph-sized units of both languages (original text and edited copies).
fn real_units() -> Vec<Vec<u64>> {
    let mut units = Vec::new();
    for lang in Lang::ALL {
        units.extend(shingles(&documents(lang, Size::Paragraph)));
    }
    units.retain(|u| !u.is_empty());
    units
}

/// Index sizes of the LSH and Hamming benches.
pub const UNIT_COUNTS: [(usize, &str); 3] = [(10_000, "10k"), (100_000, "100k"), (1_000_000, "1M")];

/// `n` MinHash signatures of [`LSH_PERM`] values back to back. The first ones are
/// signatures of real paragraphs; the rest are seeded edits of them: 10% near copies
/// (each value replaced with probability 0.05, so estimated Jaccard about 0.95) and
/// 90% distant relatives (probability 0.7, Jaccard about 0.3). The last unit is a
/// near copy of unit 0 (three values replaced): the planted pair `(0, n - 1)` that
/// every LSH implementation must report.
pub fn signatures(n: usize) -> Vec<u32> {
    assert!(n >= 2);
    let hasher = MinHasher::new(LSH_PERM, MINHASH_SEED);
    let real: Vec<Vec<u32>> = real_units().iter().map(|u| hasher.sign(u)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ n as u64);
    let mut out = Vec::with_capacity(n * LSH_PERM);
    for i in 0..n - 1 {
        let base = &real[i % real.len()];
        if i < real.len() {
            out.extend_from_slice(base);
            continue;
        }
        let p = if rng.gen_bool(0.1) { 0.05 } else { 0.7 };
        out.extend(base.iter().map(|&v| {
            if rng.gen_bool(p) {
                rng.gen_range(0..u32::MAX)
            } else {
                v
            }
        }));
    }
    let mut planted = real[0].clone();
    for slot in [3, 50, 100] {
        planted[slot] = planted[slot].wrapping_add(1);
    }
    out.extend_from_slice(&planted);
    out
}

/// LSH layout for [`THRESHOLD`] and [`LSH_PERM`].
pub fn lsh_params() -> LshParams {
    LshParams::for_threshold(THRESHOLD, LSH_PERM).expect("valid threshold")
}

/// `n` SimHash fingerprints: first those of real paragraphs, then seeded edits of
/// them: 10% near copies (1 to 3 bits flipped), 90% distant (each bit flipped with
/// probability 0.5). The last is unit 0 with two bits flipped (a planted pair).
pub fn fingerprints(n: usize) -> Vec<u64> {
    assert!(n >= 2);
    let real: Vec<u64> = real_units().iter().map(|u| fingerprint64(u)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ (n as u64).rotate_left(17));
    let mut out = Vec::with_capacity(n);
    for i in 0..n - 1 {
        let base = real[i % real.len()];
        if i < real.len() {
            out.push(base);
        } else if rng.gen_bool(0.1) {
            let mut v = base;
            for _ in 0..rng.gen_range(1..=3) {
                v ^= 1 << rng.gen_range(0..64);
            }
            out.push(v);
        } else {
            out.push(base ^ rng.gen::<u64>());
        }
    }
    out.push(real[0] ^ (1 << 7) ^ (1 << 40));
    out
}

/// A generated JSONL corpus of about `bytes` bytes (mixed English and Korean) written
/// to a file in `dir`; returns its path and size.
pub fn corpus_file(dir: &Path, level: Level, bytes: u64) -> (PathBuf, u64) {
    let sources = sources();
    let config = GenConfig {
        seed: SEED,
        language: Language::Mixed,
        level,
        ..GenConfig::default()
    };
    let corpus = dir.join("corpus.jsonl");
    let truth = dir.join("truth.jsonl");
    let stats = neardedup::synth::generate_to_files(
        &sources,
        &config,
        bytes,
        &corpus,
        &truth,
        &neardedup::pipeline::NoProgress,
    )
    .expect("writing the generated corpus");
    (corpus, stats.corpus_bytes)
}
