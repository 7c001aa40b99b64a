//! The arithmetic of the MinHash hash family
//! `h(x) = ((a * x + b) mod (2^61 - 1)) & 0xFFFF_FFFF` on 32-bit folded shingle
//! hashes, with 64-bit operations only. The signer ([`super::signer`]) and the
//! CPU-specific loops (`crate::simd::minhash`) both compute with it.

/// The Mersenne prime `2^61 - 1` used as the modulus of the hash family.
pub const MERSENNE_61: u64 = (1u64 << 61) - 1;

/// Signature value of a position that saw no shingle at all.
///
/// A signature made only of this value is the signature of the empty set.
pub const EMPTY_SLOT: u32 = u32::MAX;

/// Low 29 bits: the high half of a coefficient `a < 2^61` has at most 29 bits.
const LOW_29: u64 = (1 << 29) - 1;

/// Folds a 64-bit shingle hash to the 32-bit value the hash family takes.
#[inline(always)]
pub(crate) fn fold32(shingle: u64) -> u64 {
    (shingle ^ (shingle >> 32)) & 0xFFFF_FFFF
}

/// Computes `(a * x + b) mod p` for `a = a_hi * 2^32 + a_lo < p`, `x < 2^32` and
/// `b < p`, using only 64-bit arithmetic.
#[inline(always)]
pub(crate) fn mul_add_mod_x32(a_lo: u32, a_hi: u32, x: u64, b: u64) -> u64 {
    let low = u64::from(a_lo) * x; // < 2^64
    let high = u64::from(a_hi) * x; // < 2^61: the 2^32 multiple of a*x
                                    // high * 2^32 = (high mod 2^29) * 2^32 + (high >> 29) * 2^61
                                    //             ≡ (high & LOW_29) << 32 + (high >> 29)        (mod p)
                                    // and low ≡ (low & p) + (low >> 61). The sum stays below 2^63.
    let s = (low & MERSENNE_61) + (low >> 61) + ((high & LOW_29) << 32) + (high >> 29) + b;
    let r = (s & MERSENNE_61) + (s >> 61);
    // r < p + 4: at most one subtraction; `min` with the wrapped difference
    // picks it without a branch.
    r.min(r.wrapping_sub(MERSENNE_61))
}
