//! One dedup run, end to end: scan, index, verify, cluster.
//!
//! ```text
//! corpus ──scan (parallel)──▶ units + sketches ──index──▶ candidate pairs
//!        ──verify──▶ duplicate edges ──union-find──▶ cluster labels
//! ```
//!
//! The result ([`DedupOutcome`]) holds everything the writers need: the records and
//! units in input order, each unit's cluster label (the index of the first unit of its
//! cluster), the verified edges with their similarity, counts and stage timings.
//! Nothing here prints or writes files.

pub mod config;
pub mod progress;
pub mod scan;

use std::time::Instant;

use rayon::prelude::*;

pub use config::{Algo, DedupConfig, UnitKind, Verify};
pub use progress::{NoProgress, Progress};
pub use scan::{InvalidRecords, UnitMeta, UnitSplit};

use crate::cluster::UnionFind;
use crate::corpus::{Corpus, RecordMeta};
use crate::error::Result;
use crate::index::{IndexedUnit, SignatureIndex};
use crate::minhash::{estimate_jaccard, optimal_params, LshParams, Signer};
use crate::text::shingle::Scratch;
use crate::text::{ShingleSet, Shingler};

/// LSH false-positive and false-negative weights for the automatic band choice
/// (equal, as in the datasketch reference).
const LSH_FP_WEIGHT: f64 = 0.5;
const LSH_FN_WEIGHT: f64 = 0.5;

/// A confirmed duplicate pair of units.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Edge {
    /// The earlier unit.
    pub a: u32,
    /// The later unit.
    pub b: u32,
    /// Estimated or exact Jaccard (MinHash), 1 - distance/64 (SimHash), 1 (exact).
    pub similarity: f32,
}

/// Wall time of one stage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageTiming {
    /// Stage name.
    pub stage: &'static str,
    /// Seconds.
    pub seconds: f64,
}

/// Counts that summarise a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Records read.
    pub records: u64,
    /// Units compared.
    pub units: u64,
    /// Units with no features (empty after normalisation): never matched.
    pub featureless_units: u64,
    /// Clusters, singletons included.
    pub clusters: u64,
    /// Clusters with two or more units.
    pub duplicate_clusters: u64,
    /// Units that are not the first of their cluster (what dedup removes).
    pub duplicate_units: u64,
    /// `duplicate_units / units`.
    pub duplicate_fraction: f64,
    /// Candidate pairs before verification.
    pub candidate_pairs: u64,
    /// Verified duplicate edges.
    pub edges: u64,
    /// Bytes of unit text.
    pub unit_bytes: u64,
    /// Bytes of unit text in duplicate units.
    pub duplicate_bytes: u64,
}

/// Everything a run found.
#[derive(Debug)]
pub struct DedupOutcome {
    /// Records in input order.
    pub records: Vec<RecordMeta>,
    /// Units in input order.
    pub units: Vec<UnitMeta>,
    /// For each unit, the index of the first unit of its cluster.
    pub labels: Vec<u32>,
    /// Verified duplicate edges, sorted.
    pub edges: Vec<Edge>,
    /// With `--against`: for each unit, the indexed unit its cluster starts with,
    /// if any (such a unit is a duplicate of indexed text). Empty otherwise.
    pub index_matches: Vec<Option<IndexedUnit>>,
    /// With `--against`: verified pairs of an indexed unit and a unit.
    pub index_pairs: Vec<(IndexedUnit, u32, f32)>,
    /// MinHash: every unit's signature, `num_perm` values each (empty for other
    /// algorithms); what `--save-index` stores.
    pub signatures: Vec<u32>,
    /// Records skipped under `skip_invalid`.
    pub invalid: InvalidRecords,
    /// LSH bands and rows used (MinHash only).
    pub lsh: Option<LshParams>,
    /// Per-stage wall times.
    pub timings: Vec<StageTiming>,
    /// Summary counts.
    pub stats: Stats,
}

impl DedupOutcome {
    /// Is unit `u` kept by dedup (the first of its cluster, and not a duplicate of
    /// an indexed unit)?
    pub fn is_kept(&self, unit: u32) -> bool {
        self.labels[unit as usize] == unit
            && !matches!(self.index_matches.get(unit as usize), Some(Some(_)))
    }
}

/// Runs deduplication of `corpus` under `config`.
pub fn run(corpus: &Corpus, config: &DedupConfig, progress: &dyn Progress) -> Result<DedupOutcome> {
    run_against(corpus, config, None, progress)
}

/// Runs deduplication of `corpus` under `config`, also against the units of a
/// saved [`SignatureIndex`] when one is given: a unit that duplicates an indexed
/// unit is flagged (see [`DedupOutcome::index_matches`]) and not kept. Indexed
/// units come first in input order. Pairs with an indexed unit are verified by
/// signature estimate (the index holds no text); pairs of new units as `config`
/// says.
pub fn run_against(
    corpus: &Corpus,
    config: &DedupConfig,
    index: Option<&SignatureIndex>,
    progress: &dyn Progress,
) -> Result<DedupOutcome> {
    config.validate()?;
    if let Some(why) = index.and_then(|index| index.incompatibility(config)) {
        return Err(crate::error::Error::Config(why));
    }
    let prior = index.map_or(0, SignatureIndex::len);
    let shingler = Shingler::new(config.shingle)?;
    let split = UnitSplit {
        kind: config.unit,
        para_sep: config.para_sep,
        min_para_chars: config.min_para_chars,
    };
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |stage: &'static str, timings: &mut Vec<StageTiming>| {
        timings.push(StageTiming {
            stage,
            seconds: clock.elapsed().as_secs_f64(),
        });
        clock = Instant::now();
    };

    // Edges from an indexed unit (`a`, index numbering) to a new unit (`b`).
    let mut index_edges: Vec<Edge> = Vec::new();
    let (records, units, invalid, found) = match config.algo {
        Algo::Minhash => {
            let hasher = Signer::new(config.minhash_variant, config.num_perm, config.seed);
            let k = config.num_perm;
            let scanned = scan::scan(
                corpus,
                split,
                config.skip_invalid,
                progress,
                || (Scratch::default(), Vec::new()),
                |(scratch, shingles): &mut (Scratch, Vec<u64>), text, out: &mut Vec<u32>| {
                    shingler.shingles_into(text, scratch, shingles);
                    let start = out.len();
                    out.resize(start + k, 0);
                    hasher.sign_into(shingles, &mut out[start..]);
                    count(shingles.len())
                },
            )?;
            lap("read+sketch", &mut timings);
            let params = match (config.bands, config.rows) {
                (Some(bands), Some(rows)) => LshParams { bands, rows },
                _ => optimal_params(config.threshold, k, LSH_FP_WEIGHT, LSH_FN_WEIGHT)
                    .map_err(|e| crate::error::Error::Config(e.to_string()))?,
            };
            progress.stage("candidates", None);
            let combined: std::borrow::Cow<[u32]> = match index {
                Some(index) if !index.is_empty() => {
                    let mut all = index.signatures.clone();
                    all.extend_from_slice(&scanned.sketches);
                    std::borrow::Cow::Owned(all)
                }
                _ => std::borrow::Cow::Borrowed(&scanned.sketches),
            };
            let all_candidates = crate::lsh::candidate_pairs(&combined, k, params);
            // Pairs of new units, renumbered from 0, and pairs with an indexed unit
            // (indexed units are numbered first, so those have `a < prior`).
            let prior32 = prior as u32;
            // Pairs of two indexed units were settled when the index was built.
            type Pairs = Vec<(u32, u32)>;
            let (with_index, new_pairs): (Pairs, Pairs) = all_candidates
                .iter()
                .filter(|&&(_, b)| b >= prior32)
                .partition(|&&(a, _)| a < prior32);
            let candidates: Vec<(u32, u32)> = new_pairs
                .into_iter()
                .map(|(a, b)| (a - prior32, b - prior32))
                .collect();
            let index_threshold = if config.verify == Verify::None {
                0.0
            } else {
                config.threshold
            };
            index_edges =
                crate::lsh::verify_by_signature(&combined, k, &with_index, index_threshold)
                    .into_iter()
                    .map(|(a, b, similarity)| Edge {
                        a,
                        b: b - prior32,
                        similarity,
                    })
                    .collect();
            progress.finish_stage();
            lap("candidates", &mut timings);
            progress.stage("verify", None);
            let edges = match config.verify {
                Verify::Signature => crate::lsh::verify_by_signature(
                    &scanned.sketches,
                    k,
                    &candidates,
                    config.threshold,
                ),
                Verify::None => {
                    crate::lsh::verify_by_signature(&scanned.sketches, k, &candidates, 0.0)
                }
                Verify::Exact => {
                    // Only pairs whose signature estimate leaves the answer in doubt
                    // are re-shingled; the rest are settled by the estimate.
                    let (floor, ceiling) = settled_by_estimate(config.threshold, k);
                    let sketches = &scanned.sketches;
                    let estimated: Vec<(u32, u32, f32)> = candidates
                        .par_iter()
                        .map(|&(a, b)| {
                            let (x, y) = (a as usize * k, b as usize * k);
                            (
                                a,
                                b,
                                estimate_jaccard(&sketches[x..x + k], &sketches[y..y + k]) as f32,
                            )
                        })
                        .filter(|&(_, _, est)| f64::from(est) >= floor)
                        .collect();
                    let (mut accepted, doubtful): (Vec<_>, Vec<_>) = estimated
                        .into_iter()
                        .partition(|&(_, _, est)| f64::from(est) >= ceiling);
                    let doubtful: Vec<(u32, u32)> =
                        doubtful.into_iter().map(|(a, b, _)| (a, b)).collect();
                    accepted.extend(verify_exact(
                        corpus,
                        &scanned.records,
                        &scanned.units,
                        &shingler,
                        &doubtful,
                        config.threshold,
                    )?);
                    accepted.sort_unstable_by_key(|&(a, b, _)| (a, b));
                    accepted
                }
            };
            progress.finish_stage();
            lap("verify", &mut timings);
            let edges = edges
                .into_iter()
                .map(|(a, b, similarity)| Edge { a, b, similarity })
                .collect();
            drop(combined);
            let found = Found {
                candidates: (candidates.len() + with_index.len()) as u64,
                signatures: scanned.sketches,
                edges,
                lsh: Some(params),
            };
            (scanned.records, scanned.units, scanned.invalid, found)
        }
        Algo::Simhash => {
            let scanned = scan::scan(
                corpus,
                split,
                config.skip_invalid,
                progress,
                || (Scratch::default(), Vec::new()),
                |(scratch, shingles): &mut (Scratch, Vec<u64>), text, out: &mut Vec<u64>| {
                    shingler.shingles_into(text, scratch, shingles);
                    out.push(crate::simhash::fingerprint64(shingles));
                    count(shingles.len())
                },
            )?;
            lap("read+sketch", &mut timings);
            progress.stage("hamming search", None);
            let mut found = simhash_edges(&scanned.units, &scanned.sketches, config.hamming);
            progress.finish_stage();
            lap("candidates", &mut timings);
            if config.verify == Verify::Exact {
                progress.stage("verify", None);
                found.edges = verify_simhash_exact(
                    corpus,
                    &scanned.records,
                    &scanned.units,
                    &shingler,
                    &found.edges,
                    config.threshold,
                )?;
                progress.finish_stage();
                lap("verify", &mut timings);
            }
            (scanned.records, scanned.units, scanned.invalid, found)
        }
        Algo::Exact => {
            let scanned = scan::scan(
                corpus,
                split,
                config.skip_invalid,
                progress,
                Scratch::default,
                |scratch: &mut Scratch, text, out: &mut Vec<Option<u128>>| {
                    let key = crate::exact::text_key(shingler.normalize(text, scratch));
                    out.push(key);
                    u32::from(key.is_some())
                },
            )?;
            lap("read+sketch", &mut timings);
            let firsts = crate::exact::first_with_same_key(&scanned.sketches);
            let edges: Vec<Edge> = firsts
                .iter()
                .enumerate()
                .filter(|&(i, &first)| first as usize != i)
                .map(|(i, &first)| Edge {
                    a: first,
                    b: i as u32,
                    similarity: 1.0,
                })
                .collect();
            lap("candidates", &mut timings);
            let found = Found {
                candidates: edges.len() as u64,
                signatures: Vec::new(),
                edges,
                lsh: None,
            };
            (scanned.records, scanned.units, scanned.invalid, found)
        }
    };

    progress.stage("cluster", None);
    let (labels, index_matches) = if prior == 0 {
        (cluster_labels(units.len(), &found.edges), Vec::new())
    } else {
        labels_against_index(prior, units.len(), &found.edges, &index_edges)
    };
    progress.finish_stage();
    lap("cluster", &mut timings);
    let index_matches: Vec<Option<IndexedUnit>> = match index {
        Some(index) => index_matches
            .into_iter()
            .map(|m| m.map(|i| index.units[i as usize].clone()))
            .collect(),
        None => Vec::new(),
    };
    let index_pairs = match index {
        Some(index) => index_edges
            .iter()
            .map(|e| (index.units[e.a as usize].clone(), e.b, e.similarity))
            .collect(),
        None => Vec::new(),
    };
    let mut outcome = DedupOutcome {
        records,
        units,
        labels,
        edges: found.edges,
        signatures: found.signatures,
        index_matches,
        index_pairs,
        invalid,
        lsh: found.lsh,
        timings,
        stats: Stats::default(),
    };
    outcome.stats = summarise(&outcome, found.candidates);
    Ok(outcome)
}

/// Clusters new units together with indexed ones: returns each new unit's label
/// (the first new unit of its cluster) and, for units whose cluster holds an
/// indexed unit, the first such indexed unit.
fn labels_against_index(
    prior: usize,
    units: usize,
    new_edges: &[Edge],
    index_edges: &[Edge],
) -> (Vec<u32>, Vec<Option<u32>>) {
    let shift = prior as u32;
    let mut uf = UnionFind::new(prior + units);
    for e in new_edges {
        uf.union(e.a + shift, e.b + shift);
    }
    for e in index_edges {
        uf.union(e.a, e.b + shift);
    }
    let roots = uf.labels();
    let mut first_new: Vec<Option<u32>> = vec![None; prior + units];
    let mut labels = Vec::with_capacity(units);
    let mut matches = Vec::with_capacity(units);
    for u in 0..units as u32 {
        let root = roots[(u + shift) as usize];
        labels.push(*first_new[root as usize].get_or_insert(u));
        matches.push((root < shift).then_some(root));
    }
    (labels, matches)
}

/// What an algorithm's index-and-verify stages produced.
struct Found {
    candidates: u64,
    signatures: Vec<u32>,
    edges: Vec<Edge>,
    lsh: Option<LshParams>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Union-find over the edges; each unit's label is the first unit of its cluster.
pub fn cluster_labels(units: usize, edges: &[Edge]) -> Vec<u32> {
    let mut uf = UnionFind::new(units);
    for e in edges {
        uf.union(e.a, e.b);
    }
    uf.labels()
}

/// SimHash edges: identical fingerprints join their first unit, distinct
/// fingerprints within `hamming` bits join through their first units.
fn simhash_edges(units: &[UnitMeta], fingerprints: &[u64], hamming: u32) -> Found {
    let indexed: Vec<u32> = (0..units.len() as u32)
        .filter(|&u| units[u as usize].features > 0)
        .collect();
    let fps: Vec<u64> = indexed.iter().map(|&u| fingerprints[u as usize]).collect();
    let collapsed = crate::simhash::Collapsed::new(&fps);
    let first_unit = |d: usize| indexed[collapsed.members_of(d)[0] as usize];
    let mut edges = Vec::new();
    for d in 0..collapsed.len() {
        let members = collapsed.members_of(d);
        let first = indexed[members[0] as usize];
        edges.extend(members[1..].iter().map(|&m| Edge {
            a: first,
            b: indexed[m as usize],
            similarity: 1.0,
        }));
    }
    let near = crate::simhash::near_distinct_pairs(&collapsed.distinct, hamming, None);
    let candidates = (edges.len() + near.len()) as u64;
    edges.extend(near.into_iter().map(|(i, j, distance)| {
        let (a, b) = (first_unit(i as usize), first_unit(j as usize));
        Edge {
            a: a.min(b),
            b: a.max(b),
            similarity: 1.0 - distance as f32 / 64.0,
        }
    }));
    edges.sort_by_key(|e| (e.a, e.b));
    Found {
        candidates,
        signatures: Vec::new(),
        edges,
        lsh: None,
    }
}

/// SimHash with `verify = exact`: keeps the Hamming matches whose shingle sets reach
/// `threshold` in exact Jaccard (the edge's similarity becomes that Jaccard), so a
/// wide Hamming radius can be searched without letting chance matches join clusters.
fn verify_simhash_exact(
    corpus: &Corpus,
    records: &[RecordMeta],
    units: &[UnitMeta],
    shingler: &Shingler,
    edges: &[Edge],
    threshold: f64,
) -> Result<Vec<Edge>> {
    let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.a, e.b)).collect();
    let kept = verify_exact(corpus, records, units, shingler, &pairs, threshold)?;
    Ok(kept
        .into_iter()
        .map(|(a, b, similarity)| Edge { a, b, similarity })
        .collect())
}

/// How many standard deviations of a `k`-value signature estimate separate a pair
/// settled by its estimate from the threshold. Six binomial deviations also cover
/// the somewhat larger spread of densified one-permutation estimates on short
/// units (at most twice the variance in the tests), leaving an error chance per
/// pair far below 1e-4.
const VERIFY_MARGIN_SIGMAS: f64 = 6.0;

/// Estimates below the first bound prove a pair is under `threshold`, estimates at
/// or above the second prove it reaches it; only pairs in between need the exact
/// Jaccard.
fn settled_by_estimate(threshold: f64, k: usize) -> (f64, f64) {
    let k = k as f64;
    let margin = VERIFY_MARGIN_SIGMAS * (threshold * (1.0 - threshold) / k).sqrt() + 1.0 / k;
    (threshold - margin, threshold + margin)
}

/// Confirms candidates by the exact Jaccard of their shingle sets, re-shingling
/// each unit that appears in a candidate once (in parallel) rather than once per
/// pair.
///
/// Memory: the shingle sets of all candidate units are held at once, about 8
/// bytes per distinct shingle of those units.
fn verify_exact(
    corpus: &Corpus,
    records: &[RecordMeta],
    units: &[UnitMeta],
    shingler: &Shingler,
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
                let meta = &units[unit as usize];
                let text = corpus.record_text(&records[meta.record as usize])?;
                shingler.shingles_into(&text[meta.start..meta.start + meta.len], scratch, hashes);
                Ok(ShingleSet::from_hashes(std::mem::take(hashes)))
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

fn summarise(outcome: &DedupOutcome, candidates: u64) -> Stats {
    let (records, units, labels) = (&outcome.records, &outcome.units, &outcome.labels);
    // Labels are unit numbers, so a plain array counts cluster sizes (and keeps
    // the run free of randomly seeded hashing, for repeatable instruction counts).
    let mut cluster_sizes = vec![0u32; labels.len()];
    for &l in labels {
        cluster_sizes[l as usize] += 1;
    }
    let dropped = |i: usize| !outcome.is_kept(i as u32);
    let duplicate_units = (0..units.len()).filter(|&i| dropped(i)).count() as u64;
    let unit_bytes: u64 = units.iter().map(|u| u.len as u64).sum();
    let duplicate_bytes: u64 = units
        .iter()
        .enumerate()
        .filter(|&(i, _)| dropped(i))
        .map(|(_, u)| u.len as u64)
        .sum();
    Stats {
        records: records.len() as u64,
        units: units.len() as u64,
        featureless_units: units.iter().filter(|u| u.features == 0).count() as u64,
        clusters: cluster_sizes.iter().filter(|&&n| n > 0).count() as u64,
        duplicate_clusters: cluster_sizes.iter().filter(|&&n| n > 1).count() as u64,
        duplicate_units,
        duplicate_fraction: if units.is_empty() {
            0.0
        } else {
            duplicate_units as f64 / units.len() as f64
        },
        candidate_pairs: candidates,
        edges: (outcome.edges.len() + outcome.index_pairs.len()) as u64,
        unit_bytes,
        duplicate_bytes,
    }
}
