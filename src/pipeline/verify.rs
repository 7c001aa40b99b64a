//! Verification: which candidate pairs are duplicates.
//!
//! MinHash pairs are judged by their signature estimate; with exact verification,
//! only pairs whose estimate leaves the answer in doubt are re-shingled from the
//! input and judged by the exact Jaccard of their shingle sets. Re-shingling runs
//! in batches whose shingle sets fit the run's memory budget.

use rayon::prelude::*;

pub use crate::lsh::{judge_estimate, settled_by_estimate, Judgement};

use super::scan::UnitMeta;
use super::sketch::Signatures;
use super::{Algo, DedupConfig, Progress, Verify};
use crate::corpus::{Corpus, RecordMeta};
use crate::error::Result;
use crate::minhash::compact;
use crate::text::shingle::Scratch;
use crate::text::{ShingleSet, Shingler};

/// Bytes of memory a shingle set takes per shingle (one `u64`).
const SET_BYTES_PER_SHINGLE: u64 = 8;

/// Where the text of the run's units is, for exact verification.
pub struct UnitTexts<'a> {
    /// The input.
    pub corpus: &'a Corpus,
    /// The run's records.
    pub records: &'a [RecordMeta],
    /// The run's units.
    pub units: &'a [UnitMeta],
    /// How units become shingles.
    pub shingler: &'a Shingler,
    /// Memory the shingle sets of one batch may take.
    pub budget_bytes: u64,
}

/// How a worker judges a candidate pair by what is known before exact
/// verification: the one place that says which rule applies to which pair.
pub struct Judge<'a> {
    /// The run's settings.
    pub config: &'a DedupConfig,
    /// The signatures of the units this worker holds (MinHash).
    pub signatures: &'a Signatures<'a>,
    /// The run-wide number of the first unit in `signatures`.
    pub held_from: u32,
    /// Units of the index compared against (numbered first).
    pub prior: u32,
}

impl Judge<'_> {
    /// The compact signature of a unit this worker holds (MinHash).
    pub fn own_signature(&self, unit: u32) -> &[u8] {
        match self.config.algo {
            Algo::Minhash => self.signatures.get(unit - self.held_from),
            Algo::Simhash | Algo::Exact => &[],
        }
    }

    /// Judges `(a, b)` from `a`'s signature, `b` (a unit this worker holds) and
    /// the similarity the candidate stage found. Pairs with an indexed unit are
    /// settled by their estimate: the index holds no text.
    pub fn pair(&self, a: u32, signature_a: &[u8], b: u32, similarity: f32) -> Judgement {
        let config = self.config;
        match config.algo {
            Algo::Minhash => {
                let estimate = compact::estimate(signature_a, self.own_signature(b)) as f32;
                let verify = match config.verify {
                    Verify::Exact if a < self.prior => Verify::Signature,
                    verify => verify,
                };
                judge_estimate(verify, config.threshold, config.sketch.num_perm, estimate)
            }
            Algo::Simhash if config.verify == Verify::Exact => Judgement::Doubtful,
            Algo::Simhash | Algo::Exact => Judgement::Keep(similarity),
        }
    }
}

/// Keeps the `candidates` whose exact shingle-set Jaccard reaches `threshold`,
/// returning `(a, b, jaccard)` in candidate order.
///
/// Candidates are taken in batches whose units' shingle sets (about 8 bytes per
/// shingle) fit `texts.budget_bytes`; within a batch each unit is re-shingled
/// once, in parallel, and the pairs are compared in parallel. A unit in pairs of
/// several batches is re-shingled once per batch.
pub fn verify_exact(
    texts: &UnitTexts<'_>,
    candidates: &[(u32, u32)],
    threshold: f64,
    progress: &dyn Progress,
) -> Result<Vec<(u32, u32, f32)>> {
    let set_bytes =
        |unit: u32| u64::from(texts.units[unit as usize].features).max(1) * SET_BYTES_PER_SHINGLE;
    // For each unit, the last batch that counted its set.
    let mut counted_in: Vec<u32> = vec![u32::MAX; texts.units.len()];
    let mut kept = Vec::new();
    let (mut start, mut batch) = (0, 0u32);
    while start < candidates.len() {
        let mut bytes = 0u64;
        let mut end = start;
        while end < candidates.len() && (end == start || bytes < texts.budget_bytes) {
            let (a, b) = candidates[end];
            for unit in [a, b] {
                if counted_in[unit as usize] != batch {
                    counted_in[unit as usize] = batch;
                    bytes += set_bytes(unit);
                }
            }
            end += 1;
        }
        kept.extend(verify_exact_batch(
            texts,
            &candidates[start..end],
            threshold,
        )?);
        progress.advance((end - start) as u64);
        (start, batch) = (end, batch + 1);
    }
    Ok(kept)
}

fn verify_exact_batch(
    texts: &UnitTexts<'_>,
    candidates: &[(u32, u32)],
    threshold: f64,
) -> Result<Vec<(u32, u32, f32)>> {
    let mut involved: Vec<u32> = candidates.iter().flat_map(|&(a, b)| [a, b]).collect();
    involved.par_sort_unstable();
    involved.dedup();
    let sets: Vec<ShingleSet> = involved
        .par_iter()
        .map_init(
            || (Scratch::default(), Vec::new()),
            |(scratch, hashes), &unit| -> Result<ShingleSet> {
                let meta = &texts.units[unit as usize];
                let text = texts
                    .corpus
                    .record_text(&texts.records[meta.record as usize])?;
                texts.shingler.shingles_into(
                    &text[meta.start..meta.start + meta.len],
                    scratch,
                    hashes,
                );
                // Sort and deduplicate in the reused buffer, then keep an exact-size
                // copy: a batch's sets take what its budget counted.
                hashes.sort_unstable();
                hashes.dedup();
                Ok(ShingleSet::from_hashes(hashes.clone()))
            },
        )
        .collect::<Result<_>>()?;
    let set_of = |unit: u32| {
        let at = involved
            .binary_search(&unit)
            .expect("every candidate unit has a shingle set");
        &sets[at]
    };
    Ok(candidates
        .par_iter()
        .filter_map(|&(a, b)| {
            let j = set_of(a).jaccard(set_of(b));
            (j >= threshold).then_some((a, b, j as f32))
        })
        .collect())
}
