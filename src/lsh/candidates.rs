//! Sort-based LSH candidate generation whose cost stays linear in bucket
//! sizes.
//!
//! For every band, each unit's band slice is condensed to a 64-bit key
//! (`crate::lsh::band_key`), the `(key, unit)` list is sorted, and runs of
//! equal keys are the band's buckets. Bands are processed in parallel.
//!
//! # Star + chain pairs
//!
//! Emitting every pair of a bucket is quadratic: one boilerplate paragraph
//! repeated 100 000 times would produce 5·10⁹ pairs. Instead, for a bucket
//! whose members in ascending unit order are `u0 < u1 < … < um`, only
//!
//! * the *star* pairs `(u0, ui)` for `i = 1..=m`, and
//! * the *chain* pairs `(u(i-1), ui)` for `i = 2..=m`
//!
//! are emitted: at most `2m - 1` pairs for a bucket of `m + 1` members, so
//! the output of a band is at most twice the number of units, whatever the
//! bucket sizes. Each set of pairs alone already connects the whole bucket,
//! so any clustering by connected components over the candidate graph sees
//! every bucket as connected. The star ties every member to one
//! representative (good when the bucket is one tight cluster); the chain
//! ties neighbours together (good when a bucket mixes a few clusters and the
//! representative verifies against only one of them).
//!
//! What it can miss: a pair `(ui, uj)` with `1 <= i` and `j >= i + 2` is not
//! emitted directly by that bucket. Buckets of three or fewer members are
//! emitted completely. A larger bucket's missing pair is typically still
//! found through another band, where the bucket holds other units and the
//! two members become first or adjacent, and is otherwise usually reachable
//! through verified pairs via `u0` or the chain.
//!
//! Units whose signature is entirely `u32::MAX` (the signature of an empty
//! shingle set) are skipped: they would all share every bucket and say
//! nothing about similarity.

use crate::lsh::bands::{band_key, band_slice, usable_bands};
use crate::minhash::{is_empty_signature, LshParams};
use rayon::prelude::*;

/// Packs an ordered pair into one `u64` whose numeric order is the
/// lexicographic order of the pair.
#[inline]
pub(crate) fn pack(first: u32, second: u32) -> u64 {
    (u64::from(first) << 32) | u64::from(second)
}

#[inline]
pub(crate) fn unpack(packed: u64) -> (u32, u32) {
    ((packed >> 32) as u32, packed as u32)
}

/// Calls `emit(first, second)` for the star and chain pairs of one bucket
/// whose `members` are given in strictly ascending unit order.
fn for_each_star_chain_pair(members: &[u32], mut emit: impl FnMut(u32, u32)) {
    let Some((&first, rest)) = members.split_first() else {
        return;
    };
    for &unit in rest {
        emit(first, unit);
    }
    for window in rest.windows(2) {
        emit(window[0], window[1]);
    }
}

/// Returns the star and chain pairs of one bucket, as emitted by
/// [`candidate_pairs`].
///
/// `members` may be in any order and contain repeats; they are sorted and
/// deduplicated first. The result has at most `2 * (members - 1)` pairs,
/// each with `first < second`.
pub fn bucket_pairs(members: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Vec::with_capacity(2 * sorted.len());
    for_each_star_chain_pair(&sorted, |a, b| out.push((a, b)));
    out
}

/// Star and chain pairs (packed) of every bucket of one band, from the band's
/// `(key, unit)` list (sorted here).
pub(crate) fn band_pairs(mut keys: Vec<(u64, u32)>) -> Vec<u64> {
    // Sorting by (key, unit) groups buckets and orders members ascending; in
    // parallel, so a pass of one band (a large corpus, a small budget) still
    // uses every thread.
    keys.par_sort_unstable();
    let mut pairs = Vec::new();
    let mut members = Vec::new();
    for run in keys.chunk_by(|x, y| x.0 == y.0) {
        if run.len() < 2 {
            continue;
        }
        members.clear();
        members.extend(run.iter().map(|&(_, unit)| unit));
        for_each_star_chain_pair(&members, |a, b| pairs.push(pack(a, b)));
    }
    pairs
}

/// Adds a pass's packed pairs `more` (any order, repeats allowed) to `found`
/// (sorted, distinct), keeping it sorted and distinct: `more` is sorted only
/// if it is not already, and merged in linearly, so the pairs of earlier
/// passes are not sorted again.
pub(crate) fn add_pairs(found: Vec<u64>, mut more: Vec<u64>) -> Vec<u64> {
    if !more.windows(2).all(|w| w[0] < w[1]) {
        more.par_sort_unstable();
        more.dedup();
    }
    if found.is_empty() {
        more
    } else {
        merge_distinct(&found, &more)
    }
}

/// The sorted union of `a` and `b`, each sorted and free of duplicates, in
/// one linear merge.
fn merge_distinct(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Memory one band needs while its pairs are found: its `(key, unit)` list
/// and up to two pairs per unit.
pub const BAND_BYTES_PER_UNIT: usize = 32;

/// Finds candidate pairs among `units` units that share a bucket in any of
/// `bands` bands, where `band_keys(band, out)` appends `(key, unit)` for every
/// unit that takes part in a band (a unit left out is in no bucket of it).
///
/// Bands are processed `bands_per_pass` at a time (each in parallel), so the
/// memory in use is about [`BAND_BYTES_PER_UNIT`] bytes per unit per band of a
/// pass, plus the distinct pairs found so far; `after_band` is called as each
/// band finishes (for progress). Star and chain pairs only (see the module
/// documentation).
///
/// The result is sorted, free of duplicates, and every pair has
/// `first < second`.
pub fn candidate_pairs_by_key(
    units: u32,
    bands: usize,
    bands_per_pass: usize,
    band_keys: impl Fn(usize, &mut Vec<(u64, u32)>) + Sync,
    after_band: impl Fn() + Sync,
) -> Vec<(u32, u32)> {
    let mut all: Vec<u64> = Vec::new();
    let band_list: Vec<usize> = (0..bands).collect();
    for pass in band_list.chunks(bands_per_pass.max(1)) {
        let per_band: Vec<Vec<u64>> = pass
            .par_iter()
            .map(|&band| {
                let mut keys: Vec<(u64, u32)> = Vec::with_capacity(units as usize);
                band_keys(band, &mut keys);
                let pairs = band_pairs(keys);
                after_band();
                pairs
            })
            .collect();
        all = add_pairs(all, per_band.concat());
    }
    all.into_iter().map(unpack).collect()
}

/// Finds candidate pairs of units that share at least one LSH band.
///
/// `signatures` holds `n` signatures of `num_perm` values back to back
/// (unit `i` at `[i * num_perm, (i + 1) * num_perm)`); a trailing partial
/// signature is ignored. Band `j` covers positions
/// `[j * rows, (j + 1) * rows)`; if `params.bands * params.rows` exceeds
/// `num_perm`, only the bands that fit are used, and `rows == 0` or
/// `num_perm == 0` yields no pairs.
///
/// For every bucket only the star and chain pairs are emitted (see the
/// module documentation), so the work is `O(bands * n log n)` regardless of
/// bucket sizes. Units whose signature is entirely `u32::MAX` are skipped.
///
/// The result is sorted, free of duplicates, and every pair has
/// `first < second`.
pub fn candidate_pairs(signatures: &[u32], num_perm: usize, params: LshParams) -> Vec<(u32, u32)> {
    let bands = usable_bands(params, num_perm);
    if bands == 0 {
        return Vec::new();
    }
    // Unit indices are u32: at most u32::MAX units are addressed here.
    let units = (signatures.len() / num_perm).min(u32::MAX as usize);
    let signatures = &signatures[..units * num_perm];
    let empty: Vec<bool> = signatures
        .par_chunks_exact(num_perm)
        .map(is_empty_signature)
        .collect();
    let rows = params.rows;
    candidate_pairs_by_key(
        units as u32,
        bands,
        bands,
        |band, out| {
            for (unit, signature) in (0..=u32::MAX).zip(signatures.chunks_exact(num_perm)) {
                if !empty[unit as usize] {
                    if let Some(slice) = band_slice(signature, band, rows) {
                        out.push((band_key(slice), unit));
                    }
                }
            }
        },
        || {},
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::MinHasher;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap};

    /// Reference implementation keyed by the band contents themselves (no
    /// hashing, no sorting tricks), following the definition literally.
    fn reference_pairs(sigs: &[u32], num_perm: usize, params: LshParams) -> BTreeSet<(u32, u32)> {
        let mut out = BTreeSet::new();
        let n = sigs.len() / num_perm;
        for band in 0..params.bands {
            let lo = band * params.rows;
            let hi = lo + params.rows;
            if hi > num_perm {
                break;
            }
            let mut buckets: HashMap<Vec<u32>, Vec<u32>> = HashMap::new();
            for unit in 0..n {
                let sig = &sigs[unit * num_perm..(unit + 1) * num_perm];
                if sig.iter().all(|&v| v == u32::MAX) {
                    continue;
                }
                buckets
                    .entry(sig[lo..hi].to_vec())
                    .or_default()
                    .push(unit as u32);
            }
            for members in buckets.values() {
                let m = members.len();
                for i in 1..m {
                    out.insert((members[0], members[i]));
                    if i >= 2 {
                        out.insert((members[i - 1], members[i]));
                    }
                }
            }
        }
        out
    }

    /// Every pair of units that share at least one band.
    fn all_sharing_pairs(sigs: &[u32], num_perm: usize, params: LshParams) -> BTreeSet<(u32, u32)> {
        let n = sigs.len() / num_perm;
        let mut out = BTreeSet::new();
        let sig = |u: usize| &sigs[u * num_perm..(u + 1) * num_perm];
        for i in 0..n {
            for j in i + 1..n {
                let (a, b) = (sig(i), sig(j));
                if a.iter().all(|&v| v == u32::MAX) || b.iter().all(|&v| v == u32::MAX) {
                    continue;
                }
                let shares = (0..params.bands).any(|band| {
                    let lo = band * params.rows;
                    let hi = lo + params.rows;
                    hi <= num_perm && a[lo..hi] == b[lo..hi]
                });
                if shares {
                    out.insert((i as u32, j as u32));
                }
            }
        }
        out
    }

    fn components(n: usize, pairs: impl IntoIterator<Item = (u32, u32)>) -> Vec<usize> {
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let mut parent: Vec<usize> = (0..n).collect();
        for (a, b) in pairs {
            let (ra, rb) = (find(&mut parent, a as usize), find(&mut parent, b as usize));
            parent[ra.max(rb)] = ra.min(rb);
        }
        (0..n).map(|x| find(&mut parent, x)).collect()
    }

    #[test]
    fn bucket_pairs_star_and_chain() {
        assert!(bucket_pairs(&[]).is_empty());
        assert!(bucket_pairs(&[7]).is_empty());
        assert_eq!(bucket_pairs(&[9, 3]), vec![(3, 9)]);
        assert_eq!(bucket_pairs(&[5, 1, 3]), vec![(1, 3), (1, 5), (3, 5)]);
        let members = [40, 10, 30, 20, 10];
        let got = bucket_pairs(&members);
        let want = vec![(10, 20), (10, 30), (10, 40), (20, 30), (30, 40)];
        assert_eq!(got, want);
    }

    #[test]
    fn giant_bucket_stays_linear() {
        let n: u32 = 10_000;
        let num_perm = 32;
        let sig = MinHasher::new(num_perm, 1).sign(&[1, 2, 3, 4, 5]);
        let sigs: Vec<u32> = (0..n).flat_map(|_| sig.iter().copied()).collect();
        let pairs = candidate_pairs(&sigs, num_perm, LshParams::new(8, 4));
        // Star: n - 1 pairs (0, i); chain: n - 2 pairs (i - 1, i), i >= 2.
        let expected = 2 * n as usize - 3;
        assert_eq!(pairs.len(), expected);
        assert!(pairs.len() <= 2 * n as usize);
        assert!(pairs.iter().all(|&(a, b)| a < b));
        assert!(pairs.windows(2).all(|w| w[0] < w[1]));
        assert!((1..n).all(|i| pairs.binary_search(&(0, i)).is_ok()));
        assert!((2..n).all(|i| pairs.binary_search(&(i - 1, i)).is_ok()));
    }

    #[test]
    fn empty_signatures_are_skipped() {
        let num_perm = 8;
        let h = MinHasher::new(num_perm, 3);
        let mut sigs = h.sign(&[]);
        sigs.extend(h.sign(&[]));
        sigs.extend(h.sign(&[1, 2, 3]));
        sigs.extend(h.sign(&[]));
        sigs.extend(h.sign(&[1, 2, 3]));
        let pairs = candidate_pairs(&sigs, num_perm, LshParams::new(4, 2));
        assert_eq!(pairs, vec![(2, 4)]);
    }

    #[test]
    fn degenerate_parameters_give_no_pairs_or_fit_bands() {
        let sigs = vec![1u32; 40];
        assert!(candidate_pairs(&sigs, 8, LshParams::new(4, 0)).is_empty());
        assert!(candidate_pairs(&sigs, 0, LshParams::new(4, 2)).is_empty());
        assert!(candidate_pairs(&[], 8, LshParams::new(4, 2)).is_empty());
        // Too many bands: only those that fit are used. 36 values hold four
        // signatures of 8 plus a partial one, which is ignored.
        let pairs = candidate_pairs(&sigs[..36], 8, LshParams::new(100, 3));
        assert_eq!(pairs, vec![(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)]);
    }

    fn small_alphabet_signatures() -> impl Strategy<Value = (Vec<u32>, usize, LshParams)> {
        (1usize..5, 1usize..4, 0usize..40).prop_flat_map(|(bands, rows, units)| {
            let num_perm = bands * rows + 1;
            // Values from a tiny alphabet force many shared bands; u32::MAX
            // is in it so some signatures are (partly or wholly) empty.
            let value = prop_oneof![0u32..3, Just(u32::MAX)];
            proptest::collection::vec(value, units * num_perm)
                .prop_map(move |sigs| (sigs, num_perm, LshParams::new(bands, rows)))
        })
    }

    proptest! {
        #[test]
        fn adding_pairs_gives_the_sorted_union(
            a in proptest::collection::btree_set(0u64..200, 0..60),
            b in proptest::collection::btree_set(0u64..200, 0..60),
        ) {
            let (va, vb): (Vec<u64>, Vec<u64>) = (a.iter().copied().collect(), b.iter().copied().collect());
            let want: Vec<u64> = a.union(&b).copied().collect();
            prop_assert_eq!(merge_distinct(&va, &vb), want.clone());
            // Unsorted, with repeats: the same union.
            let mut more: Vec<u64> = vb.iter().rev().copied().collect();
            more.extend_from_slice(&vb);
            prop_assert_eq!(add_pairs(va, more), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn matches_reference_and_structure((sigs, num_perm, params) in small_alphabet_signatures()) {
            let got = candidate_pairs(&sigs, num_perm, params);
            prop_assert!(got.iter().all(|&(a, b)| a < b));
            prop_assert!(got.windows(2).all(|w| w[0] < w[1]));
            let got_set: BTreeSet<(u32, u32)> = got.iter().copied().collect();
            prop_assert_eq!(&got_set, &reference_pairs(&sigs, num_perm, params));

            let sharing = all_sharing_pairs(&sigs, num_perm, params);
            prop_assert!(got_set.is_subset(&sharing));
            let n = sigs.len() / num_perm;
            prop_assert_eq!(
                components(n, got.iter().copied()),
                components(n, sharing.iter().copied())
            );
        }
    }
}
