//! Reviewing a finished run before deleting anything: one self-contained HTML page.
//!
//! [`review`] reads a run's output folder ([`run`]), draws a seeded sample of pairs
//! from every similarity band ([`sample`]), re-reads just those units' texts from
//! the run's inputs, and writes a page ([`html`]) with the run's summary, a
//! cluster-size and a similarity histogram, and each sampled pair side by side with
//! the differing words highlighted ([`diff`]). The page is written under a temporary
//! name and renamed, so a reader never sees half of it.
//!
//! The pairs are each duplicate with the unit kept in its place when
//! `clusters.jsonl` names it (`kept`, `similarity`), else the verified edges of
//! `pairs.jsonl`.

pub mod diff;
pub mod html;
pub mod run;
pub mod sample;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use run::{Pair, PairSource, Run, UnitRef};

/// Pairs drawn per band unless asked otherwise.
pub const DEFAULT_SAMPLE: usize = 10;

/// What to write and how many pairs to show.
#[derive(Debug, Clone)]
pub struct ReviewOptions {
    /// The page to write; `RUN_DIR/review.html` when `None`.
    pub out: Option<PathBuf>,
    /// Pairs drawn per similarity band.
    pub sample: usize,
    /// Seed of the draw.
    pub seed: u64,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        ReviewOptions {
            out: None,
            sample: DEFAULT_SAMPLE,
            seed: 1,
        }
    }
}

/// What [`review`] wrote.
#[derive(Debug, Clone)]
pub struct Reviewed {
    /// The page.
    pub path: PathBuf,
    /// Pairs of the run (duplicate-to-kept pairs or edges).
    pub pairs: usize,
    /// Pairs shown.
    pub shown: usize,
    /// Bands with at least one pair.
    pub bands: usize,
    /// Where the pairs came from.
    pub source: PairSource,
}

/// Writes the review page of the run in `run_dir`.
pub fn review(run_dir: &Path, options: &ReviewOptions) -> Result<Reviewed> {
    let run = Run::open(run_dir)?;
    let similarities: Vec<f32> = run.pairs.iter().map(|p| p.similarity).collect();
    let lowest = similarities.iter().copied().reduce(f32::min);
    let bands = sample::bands(run.report.parameters.threshold, lowest);
    let chosen = sample::sample(&bands, &similarities, options.sample, options.seed);

    let mut wanted = BTreeSet::new();
    for &i in chosen.iter().flatten() {
        let pair = &run.pairs[i];
        wanted.extend(run.unit_number(&pair.left));
        wanted.extend(run.unit_number(&pair.right));
    }
    let wanted: Vec<u32> = wanted.into_iter().collect();
    let texts = run.unit_texts(&wanted)?;
    let text_of = |unit: &UnitRef| {
        run.unit_number(unit)
            .and_then(|u| texts.get(&u))
            .map(String::as_str)
    };

    let mut totals = vec![0usize; bands.len()];
    for &s in &similarities {
        totals[sample::band_of(&bands, s)] += 1;
    }
    let shown_bands: Vec<html::ShownBand<'_>> = bands
        .iter()
        .zip(&chosen)
        .zip(&totals)
        .map(|((&band, indices), &total)| html::ShownBand {
            band,
            total,
            pairs: indices
                .iter()
                .map(|&i| {
                    let pair = &run.pairs[i];
                    html::ShownPair {
                        pair,
                        left: text_of(&pair.left),
                        right: text_of(&pair.right),
                    }
                })
                .collect(),
        })
        .collect();
    let page = html::render(
        &run,
        &shown_bands,
        &html::PageOptions {
            sample: options.sample,
            seed: options.seed,
        },
    );
    let path = options
        .out
        .clone()
        .unwrap_or_else(|| run_dir.join("review.html"));
    write_atomically(&path, page.as_bytes())?;
    Ok(Reviewed {
        path,
        pairs: run.pairs.len(),
        shown: chosen.iter().map(Vec::len).sum(),
        bands: totals.iter().filter(|&&t| t > 0).count(),
        source: run.source,
    })
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it
/// into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::Config(format!("{} is not a file name", path.display())))?;
    let temporary = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = fs::File::create(&temporary).map_err(|e| Error::io(&temporary, e))?;
        file.write_all(bytes)
            .map_err(|e| Error::io(&temporary, e))?;
        file.sync_all().map_err(|e| Error::io(&temporary, e))?;
        fs::rename(&temporary, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}
