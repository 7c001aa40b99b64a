//! The verify stage: each candidate pair is settled by the worker holding its
//! later unit `b`, with what that worker needs of `a`.
//!
//! ```text
//! candidates ──to the holder of a──▶ + a's signature and location ──to the holder of b──▶ judged
//! ```
//!
//! Pairs whose two units one worker holds (every pair, with one worker) are
//! judged where they are; the rest travel in rounds small enough for half the
//! memory budget. Judging is [`Judge::pair`]; pairs left in doubt are settled by
//! the exact Jaccard of their shingle sets ([`verify_exact`]), reading `a`'s text
//! from the input through its location.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::candidates::Candidate;
use super::progress::{NoProgress, Progress, Total};
use super::scan::UnitMeta;
use super::share::{Share, UnitLoc};
use super::sketch::Signatures;
use super::verify::{verify_exact, Judge, Judgement, UnitTexts};
use super::{Algo, DedupConfig, Edge, Settled};
use crate::corpus::{Corpus, RecordMeta};
use crate::error::Result;
use crate::exchange::{Exchange, WireSize};
use crate::minhash::compact;
use crate::text::Shingler;

/// A candidate pair on its way to the holder of `b`, with what it needs of `a`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attached {
    a: u32,
    b: u32,
    /// Similarity known before verification (SimHash distance, exact match).
    similarity: f32,
    /// `a`'s compact signature (MinHash).
    signature: Vec<u8>,
    loc: UnitLoc,
}

impl WireSize for Attached {
    fn wire_size(&self) -> usize {
        12 + 8 + self.signature.len() + self.loc.wire_size()
    }
}

/// What verification found on one worker: the edges whose `b` it holds, sorted,
/// split into edges between the run's units and edges from an indexed unit.
pub struct Verified {
    /// Edges between two units of the run.
    pub edges: Vec<Edge>,
    /// Edges from an indexed unit `a` to a unit of the run.
    pub index_edges: Vec<Edge>,
    /// How this worker's pairs were settled.
    pub settled: Settled,
}

/// Everything verification reads.
pub struct Settle<'a> {
    /// The input.
    pub corpus: &'a Corpus,
    /// This worker's units and numbering.
    pub share: &'a Share<'a>,
    /// The run's settings.
    pub config: &'a DedupConfig,
    /// How units become shingles.
    pub shingler: &'a Shingler,
    /// The signatures of the units this worker holds (MinHash).
    pub signatures: &'a Signatures<'a>,
    /// The run's memory budget.
    pub budget: u64,
}

/// Verifies `candidates` (each on the worker that found it) and returns this
/// worker's edges.
pub fn verify<E: Exchange>(
    ex: &mut E,
    settle: &Settle<'_>,
    candidates: Vec<Candidate>,
    progress: &dyn Progress,
) -> Result<Verified> {
    let share = settle.share;
    let owners = share.owners.clone();
    let at_a = ex.shuffle(candidates, move |&(a, _, _): &Candidate| owners.of(a));
    let me = ex.index();
    let (mut local, outgoing): (Vec<Candidate>, Vec<Candidate>) = at_a
        .into_iter()
        .partition(|&(_, b, _)| share.owners.of(b) == me);
    local.par_sort_unstable_by_key(|&(a, b, _)| (a, b));
    let judge = Judge {
        config: settle.config,
        signatures: settle.signatures,
        held_from: share.held_from,
        prior: share.prior,
    };
    progress.stage(
        "verify",
        Some(Total::Items((local.len() + outgoing.len()) as u64, "pairs")),
    );

    // Pairs of units this worker holds.
    let judged: Vec<Judgement> = local
        .par_iter()
        .map(|&(a, b, similarity)| judge.pair(a, judge.own_signature(a), b, similarity))
        .collect();
    let mut accepted = Vec::new();
    let mut doubtful = Vec::new();
    sort_out(&judged, |i| local[i], &mut accepted, |i| doubtful.push(i));
    progress.advance((local.len() - doubtful.len()) as u64);
    let pairs: Vec<(u32, u32)> = doubtful
        .iter()
        .map(|&i| {
            let (a, b, _) = local[i];
            (share.local(a) as u32, share.local(b) as u32)
        })
        .collect();
    drop(doubtful);
    let texts = UnitTexts {
        corpus: settle.corpus,
        records: &share.sketched.records,
        units: &share.sketched.units,
        shingler: settle.shingler,
        budget_bytes: settle.budget / 2,
    };
    let first = share.first_unit;
    let exact = verify_exact(&texts, &pairs, settle.config.threshold, progress)?;
    let mut settled = Settled {
        estimate: (local.len() - pairs.len()) as u64,
        ..exact.settled()
    };
    accepted.extend(
        exact
            .kept
            .into_iter()
            .map(|(a, b, similarity)| (a + first, b + first, similarity)),
    );
    drop(local);

    // Pairs with another worker's `b`, in rounds.
    let k = settle.config.sketch.num_perm;
    let attached_bytes = (k * compact::BYTES_PER_VALUE + 128) as u64;
    let my_rounds = (outgoing.len() as u64 * attached_bytes).div_ceil((settle.budget / 2).max(1));
    let rounds = ex
        .all_gather(my_rounds)
        .into_iter()
        .max()
        .unwrap_or(0)
        .max(u64::from(ex.peers() > 1));
    let per_round = outgoing.len().div_ceil(rounds.max(1) as usize).max(1);
    for round in 0..rounds as usize {
        let part = outgoing.get(round * per_round..).unwrap_or(&[]);
        let attached: Vec<Attached> = part[..per_round.min(part.len())]
            .iter()
            .map(|&(a, b, similarity)| Attached {
                a,
                b,
                similarity,
                signature: match settle.config.algo {
                    Algo::Minhash => judge.own_signature(a).to_vec(),
                    Algo::Simhash | Algo::Exact => Vec::new(),
                },
                loc: if share.is_indexed(a) {
                    UnitLoc::default()
                } else {
                    share.loc(a)
                },
            })
            .collect();
        let owners = share.owners.clone();
        let foreign = ex.shuffle(attached, move |p: &Attached| owners.of(p.b));
        let judged: Vec<Judgement> = foreign
            .par_iter()
            .map(|p| judge.pair(p.a, &p.signature, p.b, p.similarity))
            .collect();
        let mut doubtful = Vec::new();
        sort_out(
            &judged,
            |i| (foreign[i].a, foreign[i].b, foreign[i].similarity),
            &mut accepted,
            |i| doubtful.push(i),
        );
        progress.advance((foreign.len() - doubtful.len()) as u64);
        let doubtful: Vec<(u32, u32, UnitLoc)> = doubtful
            .into_iter()
            .map(|i| (foreign[i].a, foreign[i].b, foreign[i].loc.clone()))
            .collect();
        let (kept, mut by) = verify_with_foreign(settle, &doubtful)?;
        accepted.extend(kept);
        by.estimate = (foreign.len() - doubtful.len()) as u64;
        settled = settled + by;
        progress.advance(doubtful.len() as u64);
    }
    accepted.par_sort_unstable_by_key(|&(a, b, _)| (a, b));
    let (index_edges, edges): (Vec<Edge>, Vec<Edge>) = accepted
        .into_iter()
        .map(|(a, b, similarity)| Edge { a, b, similarity })
        .partition(|e| share.is_indexed(e.a));
    progress.finish_stage();
    Ok(Verified {
        edges,
        index_edges,
        settled,
    })
}

/// Puts the pairs judged a keep into `accepted` and passes the position of each
/// doubtful one to `doubtful`; `pair(i)` is the i-th judged pair.
fn sort_out(
    judged: &[Judgement],
    pair: impl Fn(usize) -> Candidate,
    accepted: &mut Vec<Candidate>,
    mut doubtful: impl FnMut(usize),
) {
    for (i, judgement) in judged.iter().enumerate() {
        match *judgement {
            Judgement::Keep(similarity) => {
                let (a, b, _) = pair(i);
                accepted.push((a, b, similarity));
            }
            Judgement::Doubtful => doubtful(i),
            Judgement::Drop => {}
        }
    }
}

/// Exact Jaccard of the `doubtful` pairs `(a, b, where a is)`: `a` units are
/// read from the input through their locations, `b` units are this worker's.
/// Returns the pairs kept and how they were settled.
fn verify_with_foreign(
    settle: &Settle<'_>,
    doubtful: &[(u32, u32, UnitLoc)],
) -> Result<(Vec<Candidate>, Settled)> {
    if doubtful.is_empty() {
        return Ok((Vec::new(), Settled::default()));
    }
    let share = settle.share;
    // Only the units of doubtful pairs are listed, with their record's place.
    let mut records: Vec<RecordMeta> = Vec::new();
    let mut units: Vec<UnitMeta> = Vec::new();
    let mut listed: HashMap<u32, u32> = HashMap::new();
    let mut list = |unit: u32, loc: &dyn Fn() -> UnitLoc| -> u32 {
        *listed.entry(unit).or_insert_with(|| {
            let loc = loc();
            records.push(loc.record());
            units.push(loc.unit((records.len() - 1) as u32));
            (units.len() - 1) as u32
        })
    };
    let mut pairs = Vec::with_capacity(doubtful.len());
    for (a, b, loc) in doubtful {
        let a = list(*a, &|| loc.clone());
        let b = list(*b, &|| share.loc(*b));
        pairs.push((a, b));
    }
    let texts = UnitTexts {
        corpus: settle.corpus,
        records: &records,
        units: &units,
        shingler: settle.shingler,
        budget_bytes: settle.budget / 2,
    };
    let exact = verify_exact(&texts, &pairs, settle.config.threshold, &NoProgress)?;
    let settled = exact.settled();
    // Back to run-wide numbers.
    let position: HashMap<(u32, u32), usize> = pairs
        .iter()
        .enumerate()
        .map(|(p, &pair)| (pair, p))
        .collect();
    let kept = exact
        .kept
        .into_iter()
        .map(|(a, b, similarity)| {
            let (a, b, _) = &doubtful[position[&(a, b)]];
            (*a, *b, similarity)
        })
        .collect();
    Ok((kept, settled))
}
