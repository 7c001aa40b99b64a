//! Verification: which candidate pairs are duplicates.
//!
//! MinHash pairs are judged by their signature estimate; with exact verification,
//! only pairs whose estimate leaves the answer in doubt go further (every pair,
//! when the run keeps band keys instead of signatures: see
//! [`super::sketch::SignatureWords`]). Of those, a
//! pair of units with equal shingle sequences (equal [`UnitMeta::content`] keys,
//! as exact copies have) is kept at Jaccard 1 without re-reading either text; a
//! pair whose two shingle sequences an earlier pair had (a copy of each side)
//! takes that pair's Jaccard; the rest are re-shingled from the input and judged
//! by the exact Jaccard of their shingle sets, in batches whose shingle sets fit
//! the run's memory budget, each unit shingled once per batch. [`Settled`] counts
//! the pairs each way settled.

use std::collections::HashMap;

use rayon::prelude::*;

pub use crate::lsh::{judge_estimate, settled_by_estimate, Judgement};

use super::scan::UnitMeta;
use super::sketch::Signatures;
use super::{Algo, DedupConfig, Progress, Settled, Verify};
use crate::cluster::SAME;
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
    /// The compact signature of a unit this worker holds (MinHash; empty when
    /// the run keeps band keys instead, see [`Signatures::estimate`]).
    pub fn own_signature(&self, unit: u32) -> &[u8] {
        match self.config.algo {
            Algo::Minhash if self.signatures.estimate() => {
                self.signatures.get(unit - self.held_from)
            }
            Algo::Minhash | Algo::Simhash | Algo::Exact => &[],
        }
    }

    /// Judges `(a, b)` from `a`'s signature, `b` (a unit this worker holds) and
    /// the similarity the candidate stage found. Pairs with an indexed unit are
    /// settled by their estimate: the index holds no text. Without signatures
    /// (a run verified exactly that keeps band keys) every pair is left to its
    /// text.
    pub fn pair(&self, a: u32, signature_a: &[u8], b: u32, similarity: f32) -> Judgement {
        let config = self.config;
        match config.algo {
            Algo::Minhash if !self.signatures.estimate() => Judgement::Doubtful,
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

/// What [`verify_exact`] found.
#[derive(Debug, Default)]
pub struct ExactVerified {
    /// The pairs kept, `(a, b, jaccard)` in candidate order.
    pub kept: Vec<(u32, u32, f32)>,
    /// Pairs settled by equal shingle sequences.
    pub equal_shingles: u64,
    /// Pairs that took the Jaccard of an earlier pair with the same two shingle
    /// sequences (copies of a compared pair).
    pub repeated: u64,
    /// Pairs whose shingle sets were built and compared.
    pub compared: u64,
}

impl ExactVerified {
    /// How its pairs were settled (none by an estimate).
    pub fn settled(&self) -> Settled {
        Settled {
            estimate: 0,
            equal_shingles: self.equal_shingles,
            repeated: self.repeated,
            jaccard: self.compared,
        }
    }
}

/// Whether the pair `(a, b)` has equal shingle sequences, which makes its exact
/// Jaccard 1 (see [`crate::exact::shingles_key`]).
fn equal_shingles(units: &[UnitMeta], a: u32, b: u32) -> bool {
    let key = units[a as usize].copy_key();
    key.is_some() && key == units[b as usize].copy_key()
}

/// Keeps the `candidates` whose exact shingle-set Jaccard reaches `threshold`.
///
/// What settles a pair, cheapest first: equal shingle sequences (Jaccard 1, no
/// shingling); an earlier pair with the same two shingle sequences (its
/// Jaccard: with many copies of a text, each distinct pair of texts is
/// compared once); else its own comparison. Compared pairs are taken in
/// batches whose units' shingle sets (about 8 bytes per shingle) fit
/// `texts.budget_bytes`; within a batch each unit is re-shingled once, in
/// parallel, and the pairs are compared in parallel. A unit in pairs of several
/// batches is re-shingled once per batch.
pub fn verify_exact(
    texts: &UnitTexts<'_>,
    candidates: &[(u32, u32)],
    threshold: f64,
    progress: &dyn Progress,
) -> Result<ExactVerified> {
    let units = texts.units;
    let mut verified = ExactVerified::default();
    // For each candidate, the position in `compared` of the pair whose Jaccard
    // it takes (`None`: equal shingle sequences).
    let mut takes: Vec<Option<u32>> = Vec::with_capacity(candidates.len());
    let mut compared: Vec<(u32, u32)> = Vec::new();
    let mut first_with: HashMap<(u64, u64), u32> = HashMap::new();
    for &(a, b) in candidates {
        if equal_shingles(units, a, b) {
            verified.equal_shingles += 1;
            takes.push(None);
            continue;
        }
        let next = compared.len() as u32;
        let (key_a, key_b) = (units[a as usize].content, units[b as usize].content);
        let at = if key_a != 0 && key_b != 0 {
            *first_with
                .entry((key_a.min(key_b), key_a.max(key_b)))
                .or_insert(next)
        } else {
            next
        };
        if at == next {
            compared.push((a, b));
        } else {
            verified.repeated += 1;
        }
        takes.push(Some(at));
    }
    drop(first_with);
    verified.compared = compared.len() as u64;
    let jaccards = jaccards_in_batches(texts, &compared, progress)?;
    progress.advance((candidates.len() - compared.len()) as u64);
    verified.kept = candidates
        .iter()
        .zip(&takes)
        .filter_map(|(&(a, b), takes)| {
            let jaccard = takes.map_or(1.0, |at| jaccards[at as usize]);
            (jaccard >= threshold).then_some((a, b, edge_similarity(jaccard)))
        })
        .collect();
    Ok(verified)
}

/// `jaccard` as an edge keeps it: a Jaccard below 1 stays below 1 in `f32`
/// (it would round to 1 for sets of more than 2^24 shingles), since 1 means
/// equal sets to the clustering (see [`crate::cluster::SAME`]).
fn edge_similarity(jaccard: f64) -> f32 {
    let similarity = jaccard as f32;
    if similarity == SAME && jaccard < 1.0 {
        f32::from_bits(SAME.to_bits() - 1)
    } else {
        similarity
    }
}

/// The exact Jaccard of each of `pairs`, in batches that fit the budget.
fn jaccards_in_batches(
    texts: &UnitTexts<'_>,
    pairs: &[(u32, u32)],
    progress: &dyn Progress,
) -> Result<Vec<f64>> {
    let set_bytes =
        |unit: u32| u64::from(texts.units[unit as usize].features).max(1) * SET_BYTES_PER_SHINGLE;
    // For each unit, the last batch that counted its set.
    let mut counted_in: Vec<u32> = vec![u32::MAX; texts.units.len()];
    let mut jaccards = Vec::with_capacity(pairs.len());
    let (mut start, mut batch) = (0, 0u32);
    while start < pairs.len() {
        let mut bytes = 0u64;
        let mut end = start;
        while end < pairs.len() && (end == start || bytes < texts.budget_bytes) {
            let (a, b) = pairs[end];
            for unit in [a, b] {
                if counted_in[unit as usize] != batch {
                    counted_in[unit as usize] = batch;
                    bytes += set_bytes(unit);
                }
            }
            end += 1;
        }
        jaccards.extend(verify_exact_batch(texts, &pairs[start..end])?);
        progress.advance((end - start) as u64);
        (start, batch) = (end, batch + 1);
    }
    Ok(jaccards)
}

/// The exact Jaccard of each of `pairs`, each unit shingled once.
fn verify_exact_batch(texts: &UnitTexts<'_>, pairs: &[(u32, u32)]) -> Result<Vec<f64>> {
    let mut involved: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
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
    Ok(pairs
        .par_iter()
        .map(|&(a, b)| set_of(a).jaccard(set_of(b)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::CorpusOptions;
    use crate::pipeline::engine::sketch_corpus;
    use crate::pipeline::progress::NoProgress;
    use proptest::prelude::*;

    /// The exact Jaccard of two units, shingled from scratch.
    fn reference_jaccard(texts: &UnitTexts<'_>, a: u32, b: u32) -> f64 {
        let set = |unit: u32| {
            let meta = &texts.units[unit as usize];
            let text = texts
                .corpus
                .record_text(&texts.records[meta.record as usize])
                .expect("readable");
            let mut hashes = texts
                .shingler
                .shingles(&text[meta.start..meta.start + meta.len]);
            hashes.sort_unstable();
            hashes.dedup();
            ShingleSet::from_hashes(hashes)
        };
        set(a).jaccard(&set(b))
    }

    #[test]
    fn only_equal_sets_have_similarity_one() {
        assert_eq!(edge_similarity(1.0), SAME);
        let nearly = 1.0 - 1.0 / (1u64 << 30) as f64;
        assert_eq!(nearly as f32, SAME, "rounds to 1 in f32");
        assert!(edge_similarity(nearly) < SAME);
        assert_eq!(edge_similarity(0.75), 0.75);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Equal shingle sequences and repeated pairs settle exactly as comparing
        /// every pair would, whatever the batch size.
        #[test]
        fn shortcuts_agree_with_comparing_every_pair(
            bases in prop::collection::vec(prop::collection::vec(0usize..6, 0..14), 1..5),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 2..12),
            threshold in 0.05f64..1.0,
            budget_bytes in prop::sample::select(vec![1u64, 64, 1 << 20]),
        ) {
            const WORDS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "누리", "바다"];
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("c.jsonl");
            let lines: Vec<String> = picks
                .iter()
                .map(|pick| {
                    let words: Vec<&str> = pick.get(&bases).iter().map(|&w| WORDS[w]).collect();
                    serde_json::json!({ "text": words.join(" ") }).to_string()
                })
                .collect();
            std::fs::write(&path, lines.join("\n") + "\n").expect("write");
            let corpus = Corpus::open(&[path], CorpusOptions::default()).expect("open");
            let mut config = DedupConfig::default();
            config.sketch.shingle.ngram = 2;
            let sketched = sketch_corpus(&corpus, &config, true).expect("sketch");
            let shingler = Shingler::new(config.sketch.shingle).expect("shingler");
            let texts = UnitTexts {
                corpus: &corpus,
                records: &sketched.records,
                units: &sketched.units,
                shingler: &shingler,
                budget_bytes,
            };
            let n = sketched.units.len() as u32;
            let pairs: Vec<(u32, u32)> = (0..n)
                .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
                .filter(|&(a, b)| sketched.units[a as usize].features > 0 && sketched.units[b as usize].features > 0)
                .collect();
            let found = verify_exact(&texts, &pairs, threshold, &NoProgress).expect("verify");
            let expected: Vec<(u32, u32, f32)> = pairs
                .iter()
                .filter_map(|&(a, b)| {
                    let j = reference_jaccard(&texts, a, b);
                    (j >= threshold).then_some((a, b, j as f32))
                })
                .collect();
            prop_assert_eq!(found.kept, expected);
            // Every pair of identical texts, and only those, is settled unread.
            let identical = pairs
                .iter()
                .filter(|&&(a, b)| lines[a as usize] == lines[b as usize])
                .count() as u64;
            prop_assert_eq!(found.equal_shingles, identical);
        }
    }
}
