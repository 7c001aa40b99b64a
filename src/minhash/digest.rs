//! The 16-bit digest that compact signatures ([`super::compact`]) store of each
//! 32-bit MinHash value, on its own so that both the signature code and the
//! vectorised kernel that computes it a block at a time
//! (`crate::simd::minhash::digests`) call the one definition.

/// The 16-bit digest of the signature value `value` at position `position`: the
/// high half of the MurmurHash3 32-bit finaliser (which spreads the small minima
/// of classic MinHash over all 16 bits) of the value times an odd multiplier of
/// the position. For each position this is a bijection before truncation, so
/// equal values give equal digests; a different multiplier per position makes
/// the chance collisions of two values differ from position to position.
#[inline]
pub fn digest(value: u32, position: usize) -> u16 {
    let multiplier = 0x9E37_79B9u32.wrapping_mul((position as u32).wrapping_mul(2) | 1);
    let mut h = value.wrapping_mul(multiplier);
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    (h >> 16) as u16
}
