//! MinHash signing: turns a set of 64-bit shingle hashes into a fixed-length
//! signature of `u32` minima.
//!
//! This module owns the hash family and the hot signing loop. Permutation `i`
//! is the universal hash `h_i(x) = ((a_i * x + b_i) mod p) & 0xFFFF_FFFF`
//! with the Mersenne prime `p = 2^61 - 1`, the same family used by the
//! widely deployed `datasketch` library, so signatures have the familiar
//! statistical behaviour: for two sets `A` and `B` each signature position
//! agrees with probability close to their Jaccard similarity
//! `|A ∩ B| / |A ∪ B|`.
//!
//! The coefficients `a_i ∈ [1, p)` and `b_i ∈ [0, p)` are drawn from a
//! [`SplitMix64`] stream, so a `(num_perm, seed)` pair always reproduces the
//! same hash family on every platform. As in datasketch, the hashed value `x` is
//! 32 bits wide: each 64-bit shingle hash is folded to 32 bits first.
//!
//! With `x < 2^32`, `a * x` splits into two products of 32-bit halves that each
//! fit in 64 bits, and the reduction modulo `p` uses the Mersenne identity
//! `2^61 ≡ 1 (mod p)` (shifts, masks and adds). That arithmetic needs no 128-bit
//! multiply, so the per-permutation loop vectorises; `crate::simd::minhash` runs it
//! with AVX2 or AVX-512 where the CPU has them, with results identical to the
//! portable loop. The arithmetic itself is in [`super::family`].

pub use super::family::{EMPTY_SLOT, MERSENNE_61};

/// A tiny deterministic 64-bit pseudo-random stream (SplitMix64).
///
/// Used to derive hash-family coefficients from a seed. It is not a
/// cryptographic generator; it only needs to be fast, well mixed and
/// identical on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Starts a stream from `seed`. Equal seeds give equal streams.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Returns the next 64-bit value of the stream.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a value uniformly distributed in `[low, MERSENNE_61)`.
    ///
    /// Only `low` of 0 or 1 is meaningful for the hash family; any `low`
    /// below `MERSENNE_61` works. Uses rejection on 61-bit draws, so there
    /// is no modulo bias.
    fn next_below_mersenne(&mut self, low: u64) -> u64 {
        loop {
            let v = self.next_u64() >> 3;
            if v >= low && v < MERSENNE_61 {
                return v;
            }
        }
    }
}

/// A MinHash signer holding `num_perm` hash functions of the family
/// `h_i(x) = ((a_i * x + b_i) mod (2^61 - 1)) & 0xFFFF_FFFF`.
///
/// The signer is immutable after construction and can be shared freely
/// between threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinHasher {
    a: Vec<u64>,
    b: Vec<u64>,
    /// Low 32 bits of each `a`, for the signing kernels.
    a_lo: Vec<u32>,
    /// High bits (at most 29) of each `a`.
    a_hi: Vec<u32>,
}

impl MinHasher {
    /// Builds a signer with `num_perm` hash functions derived from `seed`.
    ///
    /// The same `(num_perm, seed)` always yields the same hash functions, and
    /// a signer with more permutations extends one with fewer (its first
    /// permutations are identical), so signatures of different lengths made
    /// with one seed share a prefix.
    ///
    /// # Panics
    ///
    /// Panics if `num_perm` is 0; callers are expected to validate
    /// configuration before building a signer.
    pub fn new(num_perm: usize, seed: u64) -> Self {
        assert!(num_perm >= 1, "MinHasher needs at least one permutation");
        let mut rng = SplitMix64::new(seed);
        let mut a = Vec::with_capacity(num_perm);
        let mut b = Vec::with_capacity(num_perm);
        for _ in 0..num_perm {
            a.push(rng.next_below_mersenne(1));
            b.push(rng.next_below_mersenne(0));
        }
        let a_lo = a.iter().map(|&a| a as u32).collect();
        let a_hi = a.iter().map(|&a| (a >> 32) as u32).collect();
        Self { a, b, a_lo, a_hi }
    }

    /// Number of hash functions, which is also the signature length.
    pub fn num_perm(&self) -> usize {
        self.a.len()
    }

    /// Writes the signature of a set of 64-bit shingle hashes into `out`.
    ///
    /// The input is treated as a set: order and repeated values do not change
    /// the result. An empty input yields a signature of all [`EMPTY_SLOT`]
    /// (`u32::MAX`). Each shingle hash is first folded to 32 bits.
    /// Performs no heap allocation.
    ///
    /// # Panics
    ///
    /// Panics if `out.len() != self.num_perm()`.
    pub fn sign_into(&self, shingles: &[u64], out: &mut [u32]) {
        assert_eq!(
            out.len(),
            self.num_perm(),
            "signature buffer length must equal num_perm"
        );
        out.fill(EMPTY_SLOT);
        crate::simd::minhash::sign(&self.a_lo, &self.a_hi, &self.b, shingles, out);
    }

    /// The coefficient arrays the signing kernels take: low and high halves of
    /// each `a`, and each `b`.
    pub fn kernel_coefficients(&self) -> (&[u32], &[u32], &[u64]) {
        (&self.a_lo, &self.a_hi, &self.b)
    }

    /// Returns the signature of a set of 64-bit shingle hashes.
    ///
    /// Allocating convenience wrapper around [`MinHasher::sign_into`].
    pub fn sign(&self, shingles: &[u64]) -> Vec<u32> {
        let mut out = vec![EMPTY_SLOT; self.num_perm()];
        self.sign_into(shingles, &mut out);
        out
    }
}

/// Returns `true` when `signature` is the signature of the empty set, i.e.
/// every position is [`EMPTY_SLOT`]. An empty slice also counts as empty.
pub fn is_empty_signature(signature: &[u32]) -> bool {
    signature.iter().all(|&v| v == EMPTY_SLOT)
}

/// Estimates the Jaccard similarity of two sets from their signatures as the
/// fraction of positions where the signatures agree.
///
/// Signatures are expected to have equal length. If they differ, positions
/// beyond the shorter one count as disagreements; if both are empty the
/// result is 0.0. Two signatures of empty sets agree everywhere and give 1.0,
/// so callers that must not match empty documents should filter them with
/// [`is_empty_signature`].
pub fn estimate_jaccard(a: &[u32], b: &[u32]) -> f64 {
    let len = a.len().max(b.len());
    if len == 0 {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / len as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::family::{fold32, mul_add_mod_x32};
    use crate::minhash::test_sets::{exact_jaccard, random_set_pair, sets_with_overlap};
    use proptest::prelude::*;

    /// Slow reference: `(a * x + b) mod p` with the division operator, on the
    /// shingle folded to 32 bits.
    fn reference_hash(a: u64, shingle: u64, b: u64) -> u32 {
        let p = u128::from(MERSENNE_61);
        let x = u128::from(fold32(shingle));
        ((u128::from(a) * x + u128::from(b)) % p) as u64 as u32
    }

    /// Slow reference signature straight from the definition.
    fn reference_sign(h: &MinHasher, shingles: &[u64]) -> Vec<u32> {
        (0..h.num_perm())
            .map(|i| {
                shingles
                    .iter()
                    .map(|&x| reference_hash(h.a[i], x, h.b[i]))
                    .min()
                    .unwrap_or(EMPTY_SLOT)
            })
            .collect()
    }

    fn tolerance(j: f64, k: usize) -> f64 {
        let k = k as f64;
        4.5 * (j * (1.0 - j) / k).sqrt() + 1.0 / k
    }

    #[test]
    fn reduction_matches_division_on_edge_values() {
        let p = MERSENNE_61;
        let coefficients = [1, 2, (1 << 32) - 1, 1 << 32, p / 2, p - 2, p - 1];
        let xs = [0, 1, 2, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x8000_0000];
        let bs = [0, 1, p / 2, p - 1];
        for &a in &coefficients {
            for &x in &xs {
                for &b in &bs {
                    let want =
                        ((u128::from(a) * u128::from(x) + u128::from(b)) % u128::from(p)) as u64;
                    let got = mul_add_mod_x32(a as u32, (a >> 32) as u32, x, b);
                    assert_eq!(got, want, "a={a} x={x} b={b}");
                }
            }
        }
        assert_eq!(fold32(0xFFFF_FFFF_0000_0000), 0xFFFF_FFFF);
        assert_eq!(fold32(0x0000_0001_0000_0001), 0);
    }

    #[test]
    fn coefficients_are_in_range_and_seeded() {
        let h = MinHasher::new(512, 7);
        assert_eq!(h.num_perm(), 512);
        assert!(h.a.iter().all(|&a| (1..MERSENNE_61).contains(&a)));
        assert!(h.b.iter().all(|&b| b < MERSENNE_61));
        assert_eq!(h, MinHasher::new(512, 7));
        assert_ne!(h, MinHasher::new(512, 8));
        // A longer family extends a shorter one with the same seed.
        let short = MinHasher::new(64, 7);
        assert_eq!(short.a[..], h.a[..64]);
        assert_eq!(short.b[..], h.b[..64]);
    }

    #[test]
    fn splitmix_is_deterministic_and_varies() {
        let mut x = SplitMix64::new(42);
        let mut y = SplitMix64::new(42);
        let xs: Vec<u64> = (0..16).map(|_| x.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| y.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut sorted = xs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), xs.len(), "stream repeated a value early");
    }

    #[test]
    fn empty_input_gives_all_max() {
        let h = MinHasher::new(32, 1);
        let sig = h.sign(&[]);
        assert_eq!(sig, vec![u32::MAX; 32]);
        assert!(is_empty_signature(&sig));
        assert!(!is_empty_signature(&h.sign(&[123])));
    }

    #[test]
    #[should_panic(expected = "num_perm")]
    fn sign_into_rejects_wrong_length() {
        let h = MinHasher::new(8, 1);
        let mut out = vec![0u32; 7];
        h.sign_into(&[1, 2, 3], &mut out);
    }

    #[test]
    #[should_panic(expected = "at least one permutation")]
    fn zero_permutations_rejected() {
        let _ = MinHasher::new(0, 1);
    }

    #[test]
    fn sign_into_overwrites_previous_contents() {
        let h = MinHasher::new(16, 3);
        let mut out = vec![0u32; 16];
        h.sign_into(&[10, 20, 30], &mut out);
        assert_eq!(out, h.sign(&[10, 20, 30]));
        h.sign_into(&[], &mut out);
        assert!(is_empty_signature(&out));
    }

    #[test]
    fn estimate_jaccard_counts_equal_positions() {
        assert_eq!(estimate_jaccard(&[1, 2, 3, 4], &[1, 9, 3, 9]), 0.5);
        assert_eq!(estimate_jaccard(&[1, 2], &[1, 2]), 1.0);
        assert_eq!(estimate_jaccard(&[1, 2], &[3, 4]), 0.0);
        assert_eq!(estimate_jaccard(&[], &[]), 0.0);
        // Unequal lengths: missing positions disagree.
        assert_eq!(estimate_jaccard(&[1, 2], &[1, 2, 3, 4]), 0.5);
    }

    #[test]
    fn identical_sets_give_identical_signatures() {
        let h = MinHasher::new(128, 11);
        let (a, _) = random_set_pair(5, 300, 0, 0);
        let mut shuffled = a.clone();
        shuffled.reverse();
        shuffled.extend_from_slice(&a[..50]);
        let sa = h.sign(&a);
        assert_eq!(sa, h.sign(&shuffled));
        assert_eq!(estimate_jaccard(&sa, &h.sign(&shuffled)), 1.0);
    }

    #[test]
    fn disjoint_sets_estimate_near_zero() {
        for k in [128, 256] {
            let h = MinHasher::new(k, 99);
            for seed in 0..20 {
                let (a, b) = random_set_pair(seed, 0, 200, 250);
                assert_eq!(exact_jaccard(&a, &b), 0.0);
                let est = estimate_jaccard(&h.sign(&a), &h.sign(&b));
                assert!(est <= tolerance(0.0, k), "k={k} seed={seed} est={est}");
            }
        }
    }

    #[test]
    fn estimate_within_expected_error_across_jaccard_range() {
        for k in [128, 256] {
            let h = MinHasher::new(k, 2024);
            for step in 0..=20u32 {
                let target = f64::from(step) / 20.0;
                for rep in 0..4u64 {
                    let seed = u64::from(step) * 1000 + rep + (k as u64) * 100_000;
                    let (a, b) = sets_with_overlap(seed, 400, target);
                    let j = exact_jaccard(&a, &b);
                    let est = estimate_jaccard(&h.sign(&a), &h.sign(&b));
                    let tol = tolerance(j, k);
                    assert!(
                        (est - j).abs() <= tol,
                        "k={k} target={target} exact={j} est={est} tol={tol}"
                    );
                }
            }
        }
    }

    #[test]
    fn estimate_is_unbiased_on_average() {
        let k = 128;
        let h = MinHasher::new(k, 31337);
        let pairs: u32 = 200;
        let mut signed_error = 0.0;
        for i in 0..pairs {
            // Spread targets over (0, 1) so the mean covers the whole range.
            let target = (f64::from(i) + 0.5) / f64::from(pairs);
            let (a, b) = sets_with_overlap(10_000 + u64::from(i), 300, target);
            let j = exact_jaccard(&a, &b);
            signed_error += estimate_jaccard(&h.sign(&a), &h.sign(&b)) - j;
        }
        let mean = signed_error / f64::from(pairs);
        assert!(mean.abs() < 0.01, "mean signed error {mean}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn fast_signature_matches_reference(
            shingles in proptest::collection::vec(any::<u64>(), 0..40),
            seed in any::<u64>(),
            num_perm in 1usize..24,
        ) {
            let h = MinHasher::new(num_perm, seed);
            prop_assert_eq!(h.sign(&shingles), reference_sign(&h, &shingles));
        }

        #[test]
        fn order_and_repeats_do_not_matter(
            shingles in proptest::collection::vec(any::<u64>(), 1..40),
            rotate in 0usize..40,
            repeat in 0usize..40,
        ) {
            let h = MinHasher::new(16, 5);
            let mut other = shingles.clone();
            let r = rotate % other.len();
            other.rotate_left(r);
            other.push(shingles[repeat % shingles.len()]);
            prop_assert_eq!(h.sign(&shingles), h.sign(&other));
        }

        #[test]
        fn superset_signature_is_pointwise_smaller(
            base in proptest::collection::vec(any::<u64>(), 0..30),
            extra in proptest::collection::vec(any::<u64>(), 0..30),
        ) {
            let h = MinHasher::new(16, 9);
            let mut sup = base.clone();
            sup.extend_from_slice(&extra);
            let s_base = h.sign(&base);
            let s_sup = h.sign(&sup);
            prop_assert!(s_sup.iter().zip(&s_base).all(|(x, y)| x <= y));
        }
    }
}
