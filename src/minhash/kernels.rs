//! The MinHash signing loop, compiled for the best instruction set the CPU has.
//!
//! One loop body (`sign_body`) is written once in portable Rust, in a shape the
//! compiler vectorises (32×32→64-bit multiplies, shifts, masks, `min`). It is
//! compiled three times: plain (any CPU), with AVX2, and with AVX-512; the CPU is
//! checked once and the choice cached. Because every version runs the same integer
//! arithmetic, their signatures are bit-identical, which the tests check. This file
//! is the only place that selects code by target architecture.

use super::signer::{fold32, mul_add_mod_x32};

/// Signature of the signing kernels: coefficient halves, additive terms, the
/// shingles, and the output (pre-filled with the empty value).
type Kernel = fn(&[u32], &[u32], &[u64], &[u64], &mut [u32]);

/// The instruction sets a kernel can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust; every CPU.
    Portable,
    /// x86-64 AVX2.
    Avx2,
    /// x86-64 AVX-512 (F, DQ, VL).
    Avx512,
}

impl Isa {
    /// The instruction sets this CPU can run, portable first.
    pub fn available() -> Vec<Isa> {
        let mut isas = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                isas.push(Isa::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                isas.push(Isa::Avx512);
            }
        }
        isas
    }

    /// The best instruction set this CPU can run.
    pub fn best() -> Isa {
        Isa::available().last().copied().unwrap_or(Isa::Portable)
    }
}

/// Min-updates `out` with every permutation of every shingle, using the fastest
/// kernel for this CPU (chosen once per process).
pub fn sign(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    static CHOSEN: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
    let kernel = CHOSEN.get_or_init(|| kernel_for(Isa::best()));
    kernel(a_lo, a_hi, b, shingles, out);
}

/// Runs the kernel built for `isa`. Returns `false` (doing nothing) when the CPU
/// cannot run it.
pub fn sign_with(
    isa: Isa,
    a_lo: &[u32],
    a_hi: &[u32],
    b: &[u64],
    shingles: &[u64],
    out: &mut [u32],
) -> bool {
    if !Isa::available().contains(&isa) {
        return false;
    }
    kernel_for(isa)(a_lo, a_hi, b, shingles, out);
    true
}

/// The kernel for `isa`, which the caller has checked the CPU supports.
fn kernel_for(isa: Isa) -> Kernel {
    match isa {
        Isa::Portable => sign_portable,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => |a_lo, a_hi, b, shingles, out| {
            // SAFETY: `kernel_for` is only reached for an ISA in `Isa::available()`,
            // which checked the CPU for AVX2.
            unsafe { x86::sign_avx2(a_lo, a_hi, b, shingles, out) }
        },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => |a_lo, a_hi, b, shingles, out| {
            // SAFETY: as above, for AVX-512 F, DQ and VL.
            unsafe { x86::sign_avx512(a_lo, a_hi, b, shingles, out) }
        },
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Avx2 | Isa::Avx512 => sign_portable,
    }
}

fn sign_portable(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    sign_body(a_lo, a_hi, b, shingles, out);
}

/// The loop every kernel runs: for each shingle, each permutation's value,
/// min-updated into `out`.
#[inline(always)]
fn sign_body(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u64], out: &mut [u32]) {
    let k = out.len();
    let (a_lo, a_hi, b) = (&a_lo[..k], &a_hi[..k], &b[..k]);
    for &shingle in shingles {
        let x = fold32(shingle);
        for i in 0..k {
            let h = mul_add_mod_x32(a_lo[i], a_hi[i], x, b[i]) as u32;
            out[i] = out[i].min(h);
        }
    }
}

/// Signature of the one-permutation hashing kernels: the hashing key, the
/// number of bins, the shingles, and one packed `bin << 32 | value` per shingle.
type OphKernel = fn(u64, u64, &[u64], &mut [u64]);

/// Bins and values of one-permutation MinHash (see [`super::OnePermHasher`]) for
/// `shingles`, written to the front of `out` (at least as long), using the fastest
/// kernel for this CPU (chosen once per process).
pub fn oph_bins(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
    static CHOSEN: std::sync::OnceLock<OphKernel> = std::sync::OnceLock::new();
    let kernel = CHOSEN.get_or_init(|| oph_kernel_for(Isa::best()));
    kernel(key, bins, shingles, out);
}

/// Runs the one-permutation kernel built for `isa`. Returns `false` (doing
/// nothing) when the CPU cannot run it.
pub fn oph_bins_with(isa: Isa, key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) -> bool {
    if !Isa::available().contains(&isa) {
        return false;
    }
    oph_kernel_for(isa)(key, bins, shingles, out);
    true
}

/// The one-permutation kernel for `isa`, which the caller has checked the CPU
/// supports.
fn oph_kernel_for(isa: Isa) -> OphKernel {
    match isa {
        Isa::Portable => oph_portable,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => |key, bins, shingles, out| {
            // SAFETY: `oph_kernel_for` is only reached for an ISA in
            // `Isa::available()`, which checked the CPU for AVX2.
            unsafe { x86::oph_avx2(key, bins, shingles, out) }
        },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => |key, bins, shingles, out| {
            // SAFETY: as above, for AVX-512 F, DQ and VL.
            unsafe { x86::oph_avx512(key, bins, shingles, out) }
        },
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Avx2 | Isa::Avx512 => oph_portable,
    }
}

fn oph_portable(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
    oph_body(key, bins, shingles, out);
}

/// The loop every one-permutation kernel runs: each shingle hashed once; the
/// high 32 bits pick the bin (fast range reduction), the low 32 bits are the
/// value, with [`EMPTY_SLOT`](super::signer::EMPTY_SLOT) reserved for "empty".
#[inline(always)]
fn oph_body(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
    let out = &mut out[..shingles.len()];
    for (o, &shingle) in out.iter_mut().zip(shingles) {
        let h = crate::text::shingle::fmix64(shingle ^ key);
        let bin = ((h >> 32) * bins) >> 32;
        let value = (h as u32).min(super::signer::EMPTY_SLOT - 1);
        *o = bin << 32 | u64::from(value);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{oph_body, sign_body};

    /// The loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn sign_avx2(
        a_lo: &[u32],
        a_hi: &[u32],
        b: &[u64],
        shingles: &[u64],
        out: &mut [u32],
    ) {
        sign_body(a_lo, a_hi, b, shingles, out);
    }

    /// The loop compiled with AVX-512.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn sign_avx512(
        a_lo: &[u32],
        a_hi: &[u32],
        b: &[u64],
        shingles: &[u64],
        out: &mut [u32],
    ) {
        sign_body(a_lo, a_hi, b, shingles, out);
    }

    /// The one-permutation loop compiled with AVX2.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn oph_avx2(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
        oph_body(key, bins, shingles, out);
    }

    /// The one-permutation loop compiled with AVX-512.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, DQ and VL.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
    pub(super) unsafe fn oph_avx512(key: u64, bins: u64, shingles: &[u64], out: &mut [u64]) {
        oph_body(key, bins, shingles, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::MinHasher;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_kernel_matches_the_portable_one_bit_for_bit(
            shingles in prop::collection::vec(any::<u64>(), 0..200),
            k in 1usize..300,
            seed in any::<u64>(),
        ) {
            let h = MinHasher::new(k, seed);
            let (a_lo, a_hi, b) = h.kernel_coefficients();
            let mut want = vec![u32::MAX; k];
            sign_portable(a_lo, a_hi, b, &shingles, &mut want);
            for isa in Isa::available() {
                let mut got = vec![u32::MAX; k];
                prop_assert!(sign_with(isa, a_lo, a_hi, b, &shingles, &mut got));
                prop_assert_eq!(&got, &want, "{:?}", isa);
            }
        }
    }

    proptest! {
        #[test]
        fn every_oph_kernel_matches_the_portable_one_bit_for_bit(
            shingles in prop::collection::vec(any::<u64>(), 0..200),
            bins in 1u64..=4096,
            key in any::<u64>(),
        ) {
            let mut want = vec![0u64; shingles.len()];
            oph_portable(key, bins, &shingles, &mut want);
            for isa in Isa::available() {
                let mut got = vec![0u64; shingles.len()];
                prop_assert!(oph_bins_with(isa, key, bins, &shingles, &mut got));
                prop_assert_eq!(&got, &want, "{:?}", isa);
            }
        }
    }

    #[test]
    fn portable_is_always_available() {
        assert_eq!(Isa::available()[0], Isa::Portable);
    }
}
