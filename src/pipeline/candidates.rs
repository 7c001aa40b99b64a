//! The candidate stage: which pairs of units may be duplicates, by algorithm.
//!
//! ```text
//! MinHash: copy keys ──by key──▶ copies joined to their first unit (and left out of the bands);
//!          band keys ──by (band, key)──▶ buckets ──▶ star+chain pairs ──by pair──▶ distinct candidates
//! SimHash: copy keys ──by key──▶ copies joined to their first unit;
//!          fingerprints ──by value──▶ identical groups; block keys ──by table──▶ pairs within the radius
//! exact:   text keys ──by key──▶ identical groups
//! ```
//!
//! Each arrow is an [`Exchange::shuffle`]; with one worker it hands the items
//! straight back and the stage is the plain single-process algorithm.

use rayon::prelude::*;

use super::progress::{Progress, Total};
use super::share::{spread, Share};
use super::sketch::Signatures;
use crate::error::Result;
use crate::exchange::Exchange;
use crate::minhash::{compact, LshParams};

/// A candidate pair `(a, b, similarity known before verification)`, `a < b`
/// run-wide; the similarity is NaN where only verification will tell.
pub type Candidate = (u32, u32, f32);

/// A key of one LSH band or block table on its way to the worker that owns it:
/// `(band, table or destination worker, key or fingerprint, unit)`.
type TableKey = (u32, u64, u32);

/// One band's keys split by owner: `(key, unit)` bucketed here, and the
/// [`TableKey`]s sent to other workers.
type SplitBand = (Vec<(u64, u32)>, Vec<TableKey>);

/// The worker that buckets `key` of band `band`.
fn band_owner(band: u32, key: u64, peers: usize) -> usize {
    (spread(key ^ u64::from(band).wrapping_mul(0xA24B_AED4_963E_E407)) % peers as u64) as usize
}

/// MinHash candidates. First, copies (units with the same
/// [`UnitMeta::copy_key`](super::scan::UnitMeta::copy_key)) are found: copy
/// keys go to the worker owning the key, which pairs every copy with the first
/// unit of its key (see [`copies`]); the copies are then left out of the bands,
/// where they would only repeat their first unit's buckets (on real text most
/// paragraphs are copies). Then band keys go to the worker owning
/// `(band, key)`, which forms the buckets and their star and chain pairs; pairs
/// go to the worker owning the pair, which keeps each once. Bands are bucketed
/// a pass at a time so a worker's buckets fit `budget`. Indexed units take part
/// (worker 0 sends their keys); pairs of two indexed units were settled when the
/// index was built and are left out. Returns the distinct pairs this worker
/// found, sorted.
pub fn minhash<E: Exchange>(
    ex: &mut E,
    share: &Share<'_>,
    signatures: &Signatures<'_>,
    num_perm: usize,
    params: LshParams,
    budget: u64,
    progress: &dyn Progress,
) -> Vec<Candidate> {
    let bands = crate::lsh::usable_bands(params, num_perm);
    let peers = ex.peers();
    let per_band =
        (u64::from(share.total_units) / peers as u64 + 1) * crate::lsh::BAND_BYTES_PER_UNIT as u64;
    let bands_per_pass = usize::try_from(budget / per_band)
        .unwrap_or(usize::MAX)
        .clamp(1, bands.max(1));
    progress.stage("candidates", Some(Total::Items(bands as u64, "bands")));
    let (copy_pairs, copies_here) = copies(ex, share);
    // Units with no features (indexed ones: an empty signature) and copies are
    // in no bucket; decided once, not once per band.
    let units = &share.sketched.units;
    let prior_here = signatures.prior_units();
    let mut left_out = Vec::with_capacity(share.held());
    signatures.for_each(|local, signature| {
        left_out.push(if local < prior_here {
            compact::is_empty(signature)
        } else {
            units[(local - prior_here) as usize].features == 0
        });
    });
    for copy in copies_here {
        left_out[(copy - share.held_from) as usize] = true;
    }
    let me = ex.index();
    let mut mine: Vec<u64> = Vec::new();
    let band_list: Vec<usize> = (0..bands).collect();
    for pass in band_list.chunks(bands_per_pass) {
        // Each band's keys, split into those this worker owns (bucketed here
        // directly) and those sent to their owners.
        let split: Vec<SplitBand> = pass
            .par_iter()
            .map(|&band| {
                let mut own = Vec::with_capacity(left_out.len() / peers + 1);
                let mut others = Vec::new();
                signatures.for_each(|local, signature| {
                    if left_out[local as usize] {
                        return;
                    }
                    if let Some(key) = signatures.band_key(signature, band, params.rows) {
                        let unit = share.held_from + local;
                        if peers == 1 || band_owner(band as u32, key, peers) == me {
                            own.push((key, unit));
                        } else {
                            others.push((band as u32, key, unit));
                        }
                    }
                });
                (own, others)
            })
            .collect();
        let (mut by_band, others): (Vec<_>, Vec<_>) = split.into_iter().unzip();
        let got = ex.shuffle(others.concat(), move |&(band, key, _): &TableKey| {
            band_owner(band, key, peers)
        });
        let first_band = pass[0] as u32;
        for (band, key, unit) in got {
            by_band[(band - first_band) as usize].push((key, unit));
        }
        let mut pairs: Vec<u64> = by_band
            .into_par_iter()
            .flat_map_iter(|keys| {
                let pairs = crate::lsh::candidates::band_pairs(keys);
                progress.advance(1);
                pairs
            })
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        let got = ex.shuffle(pairs, move |&pair: &u64| {
            (spread(pair) % peers as u64) as usize
        });
        // Sorted already with one worker; several peers' sorted runs otherwise.
        mine = crate::lsh::candidates::add_pairs(mine, got);
    }
    progress.finish_stage();
    // A copy is in no bucket, so no band pair repeats a copy's pair.
    let mine = crate::lsh::candidates::add_pairs(mine, copy_pairs);
    let prior = share.prior;
    mine.into_iter()
        .map(crate::lsh::candidates::unpack)
        .filter(|&(_, b)| b >= prior)
        .map(|(a, b)| (a, b, f32::NAN))
        .collect()
}

/// Copies among the run's units: copy keys go to the worker owning the key,
/// which pairs each unit with the first unit (lowest number) of its key and
/// tells each copy's holder. Returns the pairs `(first, copy)` this worker
/// found, packed and sorted, and the copies this worker holds.
///
/// A copy's only candidate is then its first unit: verification keeps the pair
/// at similarity 1, and clustering takes the copy wherever its first unit goes
/// (see [`crate::cluster::SAME`]), so leaving copies out of the bands loses no
/// duplicate. Indexed units have no copy key and are not collapsed.
fn copies<E: Exchange>(ex: &mut E, share: &Share<'_>) -> (Vec<u64>, Vec<u32>) {
    let peers = ex.peers() as u64;
    let keyed: Vec<(u64, u32, u32)> = share
        .sketched
        .units
        .iter()
        .zip(share.first_unit..)
        .filter(|(meta, _)| meta.features > 0)
        .filter_map(|(meta, unit)| meta.copy_key().map(|(key, n)| (key, n, unit)))
        .collect();
    let mut got = ex.shuffle(keyed, move |&(key, _, _): &(u64, u32, u32)| {
        (spread(key) % peers) as usize
    });
    got.par_sort_unstable();
    let mut pairs: Vec<u64> = Vec::new();
    for group in got.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        let first = group[0].2;
        pairs.extend(
            group[1..]
                .iter()
                .map(|&(_, _, copy)| crate::lsh::candidates::pack(first, copy)),
        );
    }
    drop(got);
    pairs.par_sort_unstable();
    let owners = share.owners.clone();
    let copies: Vec<u32> = pairs
        .iter()
        .map(|&pair| crate::lsh::candidates::unpack(pair).1)
        .collect();
    let copies_here = ex.shuffle(copies, move |&copy: &u32| owners.of(copy));
    (pairs, copies_here)
}

/// SimHash candidates: copies are joined to the first unit of their text as for
/// MinHash (see [`copies`]: look-alikes with the same fingerprint, such as one
/// line naming different packages, must not stand between copies); the other
/// fingerprints go to the worker owning their value, which
/// joins identical ones to their first unit and keeps one representative; the
/// representatives go to the workers owning their buckets of the block tables
/// (see [`BucketPlace`]), which pair representatives within the Hamming radius.
/// A radius whose pairs would not fit the memory budget is refused by every
/// worker alike, from their samples' merged distances (see
/// [`crate::simhash::budget`]), and so is a search that finds more pairs than the
/// budget holds.
pub fn simhash<E: Exchange>(
    ex: &mut E,
    share: &Share<'_>,
    hamming: u32,
    budget: u64,
    progress: &dyn Progress,
) -> Result<Vec<Candidate>> {
    use crate::simhash::budget::{check_radius, max_pairs, too_many_pairs, DistanceSample};
    progress.stage("hamming search", None);
    let peers = ex.peers() as u64;
    let (copy_pairs, copies_here) = copies(ex, share);
    let mut is_copy = vec![false; share.sketched.units.len()];
    for copy in copies_here {
        is_copy[(copy - share.first_unit) as usize] = true;
    }
    let fingerprints: Vec<u64> = share.sketched.all_words();
    let own: Vec<(u64, u32)> = fingerprints
        .iter()
        .zip(&share.sketched.units)
        .zip(is_copy)
        .zip(share.first_unit..)
        .filter(|&(((_, meta), is_copy), _)| meta.features > 0 && !is_copy)
        .map(|(((&fp, _), _), unit)| (fp, unit))
        .collect();
    drop(fingerprints);
    let mut got = ex.shuffle(own, move |&(fp, _): &(u64, u32)| {
        (spread(fp) % peers) as usize
    });
    got.par_sort_unstable();
    // A copy's fingerprint is its first unit's: one edge each, at similarity 1.
    let mut edges: Vec<Candidate> = copy_pairs
        .into_iter()
        .map(|pair| {
            let (first, copy) = crate::lsh::candidates::unpack(pair);
            (first, copy, 1.0)
        })
        .collect();
    let mut representatives: Vec<(u64, u32)> = Vec::new();
    for group in got.chunk_by(|x, y| x.0 == y.0) {
        let first = group[0].1;
        representatives.push((group[0].0, first));
        edges.extend(group[1..].iter().map(|&(_, unit)| (first, unit, 1.0f32)));
    }
    drop(got);
    let distinct: u64 = ex.all_gather(representatives.len() as u64).iter().sum();
    if hamming == 0 {
        progress.finish_stage();
        return Ok(edges);
    }
    let own_fingerprints: Vec<u64> = representatives.iter().map(|&(fp, _)| fp).collect();
    let own_sample = DistanceSample::of(&own_fingerprints);
    drop(own_fingerprints);
    let mut sample = DistanceSample::default();
    for counts in ex.all_gather(own_sample.counts.to_vec()) {
        let mut theirs = DistanceSample::default();
        theirs.counts.copy_from_slice(&counts);
        sample.merge(&theirs);
    }
    ex.agree(
        "candidates",
        check_radius(&sample, distinct, hamming, budget),
    )?;
    let tables = crate::simhash::BlockTables::new(hamming, distinct as usize);
    let place = BucketPlace {
        families: tables.families(),
        peers: peers as usize,
    };
    // Each representative goes once to every worker that owns one of its
    // buckets (not once per table: with many tables that is every worker).
    let me = ex.index();
    let mut owned_here: Vec<(u64, u32)> = Vec::new();
    let mut outgoing: Vec<TableKey> = Vec::new();
    let mut destinations: Vec<usize> = Vec::new();
    for &(fp, unit) in &representatives {
        place.destinations(&tables, fp, &mut destinations);
        for &worker in &destinations {
            if worker == me {
                owned_here.push((fp, unit));
            } else {
                outgoing.push((worker as u32, fp, unit));
            }
        }
    }
    drop(representatives);
    let got = ex.shuffle(outgoing, |&(worker, _, _): &TableKey| worker as usize);
    owned_here.extend(got.into_iter().map(|(_, fp, unit)| (fp, unit)));
    // In number order, as the tables' buckets want their entries.
    owned_here.par_sort_unstable_by_key(|&(_, unit)| unit);
    let (values, numbers): (Vec<u64>, Vec<u32>) = owned_here.into_iter().unzip();
    // This worker's families of tables, a few at a time in parallel. Pairs
    // found in several tables are kept once.
    let mine: Vec<usize> = (0..tables.families())
        .filter(|&f| place.may_own(f, me))
        .collect();
    let mut near: Vec<(u32, u32, u32)> = mine
        .par_iter()
        .map_init(
            || {
                (
                    crate::simhash::SearchScratch::default(),
                    Vec::new(),
                    Vec::new(),
                )
            },
            |(scratch, own_values, own_numbers), &f| {
                let mut near = Vec::new();
                if place.whole_families() {
                    tables.family_pairs(f, (&values, &numbers), scratch, &mut near);
                } else {
                    own_values.clear();
                    own_numbers.clear();
                    for (&fp, &unit) in values.iter().zip(&numbers) {
                        if place.owner(f, tables.family_key(f, fp)) == me {
                            own_values.push(fp);
                            own_numbers.push(unit);
                        }
                    }
                    tables.family_pairs(f, (own_values, own_numbers), scratch, &mut near);
                }
                near
            },
        )
        .flatten_iter()
        .collect();
    near.par_sort_unstable();
    near.dedup_by_key(|&mut (a, b, _)| (a, b));
    let limit = max_pairs(budget);
    let found: u64 = ex.all_gather(near.len() as u64).iter().sum();
    if found > limit {
        return Err(too_many_pairs(
            &sample,
            distinct,
            hamming,
            budget,
            limit,
            "found more than",
        ));
    }
    edges.extend(
        near.into_iter()
            .map(|(a, b, distance)| (a, b, 1.0 - distance as f32 / 64.0)),
    );
    progress.finish_stage();
    Ok(edges)
}

/// Which worker owns a bucket `(family, key)` of the SimHash block tables
/// (see [`crate::simhash::BlockTables`]).
///
/// With at least as many families as workers, whole families are spread over
/// the workers (family `f` on worker `f % peers`): a representative then
/// reaches each worker once, whatever the number of tables (radius 12 takes
/// hundreds). With fewer families, each family's keys are split by hash over
/// `peers / families` workers, so every worker still gets a share.
#[derive(Debug, Clone, Copy)]
struct BucketPlace {
    families: usize,
    peers: usize,
}

impl BucketPlace {
    fn per_family(&self) -> usize {
        (self.peers / self.families.max(1)).max(1)
    }

    /// Whether each worker owns whole families (so every worker gets every
    /// representative, and owns every bucket of its families).
    fn whole_families(&self) -> bool {
        self.families >= self.peers
    }

    /// The workers that own a bucket of `fp` in some family, ascending, into
    /// `out`.
    fn destinations(&self, tables: &crate::simhash::BlockTables, fp: u64, out: &mut Vec<usize>) {
        out.clear();
        if self.whole_families() {
            out.extend(0..self.peers);
            return;
        }
        out.extend((0..self.families).map(|f| self.owner(f, tables.family_key(f, fp))));
        out.sort_unstable();
        out.dedup();
    }

    fn owner(&self, family: usize, key: u64) -> usize {
        if self.whole_families() {
            family % self.peers
        } else {
            let split = self.per_family();
            (family * split + (spread(key) % split as u64) as usize) % self.peers
        }
    }

    /// Whether `worker` owns any bucket of `family`.
    fn may_own(&self, family: usize, worker: usize) -> bool {
        if self.whole_families() {
            family % self.peers == worker
        } else {
            let split = self.per_family();
            (0..split).any(|s| (family * split + s) % self.peers == worker)
        }
    }
}

/// Exact matching: text keys go to the worker owning the key, which joins each
/// unit to the first unit with the same key.
pub fn exact<E: Exchange>(ex: &mut E, share: &Share<'_>) -> Vec<Candidate> {
    let peers = ex.peers() as u64;
    let keys: Vec<u128> = share.sketched.all_words();
    let own: Vec<(u64, u64, u32)> = keys
        .iter()
        .zip(&share.sketched.units)
        .zip(share.first_unit..)
        .filter(|((_, meta), _)| meta.features > 0)
        .map(|((&key, _), unit)| ((key >> 64) as u64, key as u64, unit))
        .collect();
    drop(keys);
    let mut got = ex.shuffle(own, move |&(high, low, _): &(u64, u64, u32)| {
        (spread(high ^ low) % peers) as usize
    });
    got.par_sort_unstable();
    let mut edges = Vec::new();
    for group in got.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        let first = group[0].2;
        edges.extend(group[1..].iter().map(|&(_, _, unit)| (first, unit, 1.0f32)));
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_bucket_has_one_owner_that_knows_it(
            families in 1usize..40,
            peers in 1usize..20,
            family_seed in 0usize..1000,
            key in any::<u64>(),
        ) {
            let place = BucketPlace { families, peers };
            let family = family_seed % families;
            let owner = place.owner(family, key);
            prop_assert!(owner < peers);
            prop_assert!(place.may_own(family, owner));
        }

        #[test]
        fn a_fingerprint_reaches_the_owner_of_each_of_its_buckets(
            radius in 1u32..16,
            peers in 1usize..300,
            fp in any::<u64>(),
        ) {
            let tables = crate::simhash::BlockTables::new(radius, 100_000);
            let place = BucketPlace { families: tables.families(), peers };
            let mut destinations = Vec::new();
            place.destinations(&tables, fp, &mut destinations);
            for family in 0..tables.families() {
                let owner = place.owner(family, tables.family_key(family, fp));
                prop_assert!(destinations.contains(&owner));
            }
        }
    }
}
