//! One-permutation MinHash with optimal densification.
//!
//! Classic MinHash evaluates `k` hash functions on every shingle. One-permutation
//! hashing (Li, Owen and Zhang, 2012) hashes each shingle once: the high bits of the
//! hash choose one of `k` bins, the low bits are the value, and each bin keeps its
//! minimum. That is `k` times fewer hash evaluations. Bins that no shingle fell into
//! are then filled by *optimal densification* (Shrivastava, 2017): an empty bin `i`
//! borrows the value of the first non-empty bin along a pseudo-random probe
//! sequence that depends only on `i` and the seed, never on the data, so two
//! documents make the same choices wherever their bin occupancy agrees. The fraction
//! of equal positions is then an unbiased Jaccard estimate, as for classic MinHash;
//! the tests compare its error with the classic signer's at equal `k`.
//!
//! Signatures use the same layout and conventions as [`super::MinHasher`]: `k`
//! `u32` values, all [`EMPTY_SLOT`] for an empty set, so LSH banding and
//! verification work unchanged.

use super::signer::{SplitMix64, EMPTY_SLOT};
use crate::mix::fmix64 as mix64;
use crate::simd::minhash::set_bits;

/// Largest `k` supported (the occupancy bitmap lives on the stack).
pub const MAX_BINS: usize = 4096;

/// Signers with at most this many bins densify sparse signatures from
/// [`FirstHits`]; larger ones probe.
const LISTED_MAX_BINS: usize = 256;

/// Probe attempts per bin that [`FirstHits`] lists, as a multiple of the bin
/// count: a bin misses every one of `m` filled bins in them with chance
/// `(1 - m/k)^(3k)`, under 0.3% from two filled bins on. Fewer are listed where
/// `3k` attempts do not fit an entry's 16 bits (above 128 bins).
const LISTED_ATTEMPTS_PER_BIN: usize = 3;

/// Whether a signature with `filled` of its `bins` bins filled densifies
/// from the rows of [`FirstHits`] (a vectorised minimum per filled bin), not
/// by probing forward (about `k / m` unpredictable probes per empty bin). The
/// choice changes speed only. Nanoseconds per signature (hashing included),
/// `k = 128`, one thread, 200,000 random sets each of sizes spread over a
/// range, 16-bit rows with AVX-512, medians of four rounds:
///
/// | set sizes | listed up to 1/2 filled | 2/3 | 4/5 | all |
/// | --- | ---: | ---: | ---: | ---: |
/// | 5–54 (paragraphs) | 299 | 300 | 307 | 314 |
/// | 50–149 | 926 | 655 | 618 | 650 |
/// | 150–349 | 888 | 908 | 887 | 1197 |
/// | 400–699 (articles) | 1271 | 1310 | 1282 | 1749 |
///
/// With 32-bit rows, a scalar minimum and listing up to 1/4 filled, sets of
/// 5–54 took 1,394 ns.
fn densifies_listed(filled: usize, bins: usize) -> bool {
    5 * filled <= 4 * bins
}

/// A one-permutation MinHash signer with `k` bins.
#[derive(Debug, Clone)]
pub struct OnePermHasher {
    bins: usize,
    seed: u64,
    /// Built the first time a sparse signature is densified.
    first_hits: std::sync::OnceLock<FirstHits>,
}

impl PartialEq for OnePermHasher {
    fn eq(&self, other: &Self) -> bool {
        (self.bins, self.seed) == (other.bins, other.seed)
    }
}

impl Eq for OnePermHasher {}

/// The probe sequences turned around: for each bin `j` and each bin `i`, the
/// first attempt of `i`'s probe sequence that reaches `j`, if it does within
/// the listed attempts, packed with `j` in 16 bits as `attempt << shift | j`
/// (so the smallest entry names both the attempt and the bin, and the table
/// of 128 bins takes 32 KiB, the size of a small first-level data cache).
/// Densifying a signature with few filled bins then takes,
/// for each empty bin, the smallest of the filled bins' rows (a vectorised
/// minimum over `k` lanes per filled bin) instead of probing each empty bin
/// `k / m` times; a bin none of them reaches is probed on from the first
/// unlisted attempt. Signatures with more filled bins look their first probes
/// up in `forward`. The probe sequences, and so the signatures, are those of
/// probing alone (the tests compare the two).
#[derive(Debug, Clone)]
struct FirstHits {
    /// Row `j` (`bins` entries from `j * bins`): for each bin `i`,
    /// `attempt << shift | j` for the first attempt reaching `j`, or
    /// [`NOT_LISTED`] if none of the listed ones does.
    attempts: Vec<u16>,
    /// Bits of an entry that hold the bin: enough for `bins - 1`.
    shift: u32,
    /// Attempts listed per bin: [`LISTED_ATTEMPTS_PER_BIN`] per bin, as many as
    /// fit below [`NOT_LISTED`] after the shift.
    listed: usize,
    /// The first [`FORWARD_ATTEMPTS`] bins of each bin's probe sequence, bin
    /// `i`'s at `forward[i * FORWARD_ATTEMPTS..]`: densifying a signature with
    /// many filled bins looks its few probes up instead of hashing them.
    forward: Vec<u16>,
}

/// A [`FirstHits`] entry for a bin whose listed attempts miss the other bin.
const NOT_LISTED: u16 = u16::MAX;

/// Whether bin `j` is set in the occupancy bitmap `filled`.
#[inline]
fn is_filled(filled: &[u64], j: usize) -> bool {
    filled[j / 64] & (1 << (j % 64)) != 0
}

/// Probe attempts per bin in [`FirstHits::forward`].
const FORWARD_ATTEMPTS: usize = 32;

impl OnePermHasher {
    /// A signer with `bins` bins (the signature length) and the given seed.
    ///
    /// # Panics
    ///
    /// Panics if `bins` is 0 or larger than [`MAX_BINS`]; configurations are
    /// validated before a signer is built.
    pub fn new(bins: usize, seed: u64) -> Self {
        assert!(
            (1..=MAX_BINS).contains(&bins),
            "one-permutation MinHash needs 1..={MAX_BINS} bins, got {bins}"
        );
        // Derive the hashing key from the seed so that seeds 0, 1, 2... differ in
        // every bit.
        let seed = SplitMix64::new(seed).next_u64();
        OnePermHasher {
            bins,
            seed,
            first_hits: std::sync::OnceLock::new(),
        }
    }

    /// The bin that attempt `attempt` of empty bin `i`'s probe sequence tries:
    /// a function of the seed, `i` and `attempt` only.
    #[inline]
    fn probe(&self, i: usize, attempt: u64) -> usize {
        let h = mix64(self.seed ^ ((i as u64) << 32 | attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (((h >> 32) * self.bins as u64) >> 32) as usize
    }

    /// The first bin of `i`'s probe sequence, from attempt `from` on, that
    /// `filled` has.
    fn probe_filled(&self, i: usize, from: u64, filled: &[u64]) -> usize {
        (from..)
            .map(|attempt| self.probe(i, attempt))
            .find(|&j| is_filled(filled, j))
            .expect("a signature with a filled bin ends every probe sequence")
    }

    fn first_hits(&self) -> &FirstHits {
        self.first_hits.get_or_init(|| {
            let shift = usize::BITS - (self.bins.max(2) - 1).leading_zeros();
            let listed =
                (LISTED_ATTEMPTS_PER_BIN * self.bins).min(usize::from(NOT_LISTED) >> shift);
            let mut attempts = vec![NOT_LISTED; self.bins * self.bins];
            for i in 0..self.bins {
                for attempt in 0..listed {
                    let j = self.probe(i, attempt as u64);
                    let first = &mut attempts[j * self.bins + i];
                    // Below NOT_LISTED: `listed << shift` fits in 16 bits.
                    *first = (*first).min((attempt << shift | j) as u16);
                }
            }
            let forward = (0..self.bins)
                .flat_map(|i| (0..FORWARD_ATTEMPTS).map(move |attempt| (i, attempt as u64)))
                .map(|(i, attempt)| self.probe(i, attempt) as u16)
                .collect();
            FirstHits {
                attempts,
                shift,
                listed,
                forward,
            }
        })
    }

    /// Signature length.
    pub fn num_perm(&self) -> usize {
        self.bins
    }

    /// Writes the signature of a set of shingle hashes into `out` (length
    /// `num_perm`). Repeats and order do not matter; an empty input gives all
    /// [`EMPTY_SLOT`]. No heap allocation.
    ///
    /// # Panics
    ///
    /// Panics if `out.len() != self.num_perm()`.
    pub fn sign_into(&self, shingles: &[u64], out: &mut [u32]) {
        assert_eq!(
            out.len(),
            self.bins,
            "signature buffer length must equal num_perm"
        );
        out.fill(EMPTY_SLOT);
        if shingles.is_empty() {
            return;
        }
        // Bins and values are hashed a block at a time (vectorised where the CPU
        // allows), then min-updated; the bins met are marked as they are.
        const BLOCK: usize = 64;
        let mut packed = [0u64; BLOCK];
        let mut filled = [0u64; MAX_BINS / 64];
        for block in shingles.chunks(BLOCK) {
            crate::simd::minhash::oph_bins(self.seed, self.bins as u64, block, &mut packed);
            for &p in &packed[..block.len()] {
                let (bin, value) = ((p >> 32) as usize, p as u32);
                debug_assert!(bin < out.len());
                // SAFETY: every kernel computes `bin = ((h >> 32) * k) >> 32` and
                // `(h >> 32) * k < 2^32 * k`, so `bin < k == out.len()`.
                let slot = unsafe { out.get_unchecked_mut(bin) };
                *slot = (*slot).min(value);
                // `bin / 64 < 64` already; the remainder lets the compiler see it.
                filled[(bin / 64) % filled.len()] |= 1 << (bin % 64);
            }
        }
        self.densify(out, &filled[..self.bins.div_ceil(64)]);
    }

    /// Fills every empty bin from the first non-empty bin on its probe
    /// sequence; `filled` marks the non-empty bins.
    fn densify(&self, out: &mut [u32], filled: &[u64]) {
        let count = filled
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum::<usize>();
        if count == out.len() {
            return;
        }
        if count == 1 {
            // Every probe sequence ends at the one filled bin.
            let value = out.iter().copied().min().expect("one bin is filled");
            out.fill(value);
            return;
        }
        if self.bins <= LISTED_MAX_BINS {
            if densifies_listed(count, self.bins) {
                self.densify_listed(out, filled);
            } else {
                self.densify_forward(out, filled);
            }
            return;
        }
        for i in 0..self.bins {
            if !is_filled(filled, i) {
                out[i] = out[self.probe_filled(i, 0, filled)];
            }
        }
    }

    /// [`Self::densify`] for signatures with many filled bins (each empty bin
    /// meets one within a few probes), the first probes looked up in
    /// [`FirstHits::forward`].
    fn densify_forward(&self, out: &mut [u32], filled: &[u64]) {
        let forward = &self.first_hits().forward;
        for i in 0..self.bins {
            if is_filled(filled, i) {
                continue;
            }
            let probes = &forward[i * FORWARD_ATTEMPTS..(i + 1) * FORWARD_ATTEMPTS];
            let j = match probes
                .iter()
                .map(|&j| usize::from(j))
                .find(|&j| is_filled(filled, j))
            {
                Some(j) => j,
                None => self.probe_filled(i, FORWARD_ATTEMPTS as u64, filled),
            };
            out[i] = out[j];
        }
    }

    /// [`Self::densify`] for signatures with few filled bins, through
    /// [`FirstHits`]: each empty bin takes the filled bin its sequence reaches
    /// first.
    fn densify_listed(&self, out: &mut [u32], filled: &[u64]) {
        let hits = self.first_hits();
        let bins = self.bins;
        // The first attempt reaching a filled bin, with that bin, per bin: the
        // minimum of the filled bins' rows (vectorised where the CPU allows).
        let mut first = [NOT_LISTED; LISTED_MAX_BINS];
        let first = &mut first[..bins];
        crate::simd::minhash::rows_min(&hits.attempts, filled, first);
        // A filled bin keeps its own value: it names itself.
        for j in set_bits(filled) {
            first[j] = j as u16;
        }
        let bin_mask = (1 << hits.shift) - 1;
        for i in 0..bins {
            let source = match first[i] {
                NOT_LISTED => self.probe_filled(i, hits.listed as u64, filled),
                entry => usize::from(entry) & bin_mask,
            };
            out[i] = out[source];
        }
    }

    /// Allocating convenience wrapper around [`OnePermHasher::sign_into`].
    pub fn sign(&self, shingles: &[u64]) -> Vec<u32> {
        let mut out = vec![EMPTY_SLOT; self.bins];
        self.sign_into(shingles, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::signer::{estimate_jaccard, is_empty_signature, MinHasher};
    use super::super::test_sets::{exact_jaccard, sets_with_overlap};
    use super::*;

    #[test]
    fn identical_sets_identical_signatures_and_order_does_not_matter() {
        let h = OnePermHasher::new(128, 7);
        let a: Vec<u64> = (0..500u64)
            .map(|i| i.wrapping_mul(0x1234_5678_9abc_def1))
            .collect();
        let mut b = a.clone();
        b.reverse();
        b.extend_from_slice(&a[..50]);
        assert_eq!(h.sign(&a), h.sign(&b));
        assert!(is_empty_signature(&h.sign(&[])));
        assert!(
            !h.sign(&[42]).contains(&EMPTY_SLOT),
            "one shingle fills every bin"
        );
    }

    /// The signer written out one shingle at a time, as a reference.
    fn sign_reference(h: &OnePermHasher, shingles: &[u64]) -> Vec<u32> {
        let mut out = vec![EMPTY_SLOT; h.bins];
        if shingles.is_empty() {
            return out;
        }
        let k = h.bins as u64;
        for &shingle in shingles {
            let x = mix64(shingle ^ h.seed);
            let bin = (((x >> 32) * k) >> 32) as usize;
            out[bin] = out[bin].min((x as u32).min(EMPTY_SLOT - 1));
        }
        // Optimal densification as defined: every empty bin probes until it
        // meets a bin that was filled.
        let filled: Vec<bool> = out.iter().map(|&v| v != EMPTY_SLOT).collect();
        let before = out.clone();
        for i in 0..h.bins {
            if !filled[i] {
                let j = (0u64..)
                    .map(|attempt| h.probe(i, attempt))
                    .find(|&j| filled[j])
                    .expect("a filled bin");
                out[i] = before[j];
            }
        }
        out
    }

    proptest::proptest! {
        /// Any shingles (more than one block of them too), any k and seed: the
        /// blocked, vectorised signer gives the reference signature.
        #[test]
        fn blocked_signer_matches_the_reference(
            shingles in proptest::collection::vec(proptest::num::u64::ANY, 0..700),
            k in 1usize..=MAX_BINS,
            seed: u64,
        ) {
            let h = OnePermHasher::new(k, seed);
            proptest::prop_assert_eq!(h.sign(&shingles), sign_reference(&h, &shingles));
        }
    }

    proptest::proptest! {
        /// Sparse sets (a few shingles, so most bins are densified, through the
        /// listed first hits for k up to 256 and by probing above): the
        /// reference signature.
        #[test]
        fn sparse_signatures_match_the_reference(
            shingles in proptest::collection::vec(proptest::num::u64::ANY, 0..80),
            k in proptest::sample::select(vec![1usize, 2, 3, 8, 64, 100, 128, 255, 256, 257, 512]),
            seed: u64,
        ) {
            let h = OnePermHasher::new(k, seed);
            proptest::prop_assert_eq!(h.sign(&shingles), sign_reference(&h, &shingles));
        }
    }

    #[test]
    fn different_seeds_give_different_signatures() {
        let a: Vec<u64> = (0..100).collect();
        assert_ne!(
            OnePermHasher::new(64, 1).sign(&a),
            OnePermHasher::new(64, 2).sign(&a)
        );
    }

    /// Mean error (bias) and mean squared error of both signers over many pairs.
    fn errors(k: usize, union_size: usize, target: f64, pairs: u64) -> [(f64, f64); 2] {
        let mut sums = [(0.0, 0.0); 2];
        for p in 0..pairs {
            let (a, b) = sets_with_overlap(1000 + p, union_size, target);
            let truth = exact_jaccard(&a, &b);
            let classic = MinHasher::new(k, p);
            let oph = OnePermHasher::new(k, p);
            let estimates = [
                estimate_jaccard(&classic.sign(&a), &classic.sign(&b)),
                estimate_jaccard(&oph.sign(&a), &oph.sign(&b)),
            ];
            for (sum, est) in sums.iter_mut().zip(estimates) {
                sum.0 += est - truth;
                sum.1 += (est - truth) * (est - truth);
            }
        }
        sums.map(|(e, se)| (e / pairs as f64, se / pairs as f64))
    }

    #[test]
    fn estimate_is_unbiased_with_classic_error_on_dense_sets() {
        // Sets much larger than k: few empty bins.
        for target in [0.3, 0.6, 0.9] {
            let [(_, classic_mse), (oph_bias, oph_mse)] = errors(128, 2000, target, 300);
            let var = target * (1.0 - target) / 128.0;
            assert!(
                oph_bias.abs() < 4.0 * (var / 300.0).sqrt() + 1e-3,
                "J={target}: bias {oph_bias}"
            );
            assert!(
                oph_mse < 1.3 * classic_mse + 1e-5,
                "J={target}: oph mse {oph_mse} vs classic {classic_mse}"
            );
        }
    }

    #[test]
    fn densified_estimate_stays_unbiased_on_sparse_sets() {
        // Sets smaller than k: most bins are filled by densification.
        for target in [0.5, 0.8] {
            let [(_, classic_mse), (oph_bias, oph_mse)] = errors(128, 40, target, 400);
            assert!(oph_bias.abs() < 0.02, "J={target}: bias {oph_bias}");
            assert!(
                oph_mse < 2.0 * classic_mse + 1e-4,
                "J={target}: oph mse {oph_mse} vs classic {classic_mse}"
            );
        }
    }
}
