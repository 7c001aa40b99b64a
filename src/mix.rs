//! Bit mixers shared by the hashing code.
//!
//! The shingler finalises its n-gram hashes with [`fmix64`], and one-permutation
//! MinHash hashes each shingle with it again (keyed) to pick a bin and a value;
//! the vectorised loops of both ([`crate::simd`]) compute the same function.

/// The 64-bit finaliser from MurmurHash3: a bijection with full avalanche (also
/// the bin-and-value hash of one-permutation MinHash).
#[inline]
pub(crate) fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}
