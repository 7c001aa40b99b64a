//! Every piece of code that depends on the CPU, one submodule per job:
//!
//! - [`minhash`]: the MinHash signing loops (classic and one-permutation),
//!   compiled for AVX2 and AVX-512 as well as for any CPU;
//! - [`jsonl`]: finding where the plain part of a JSON string ends, sixteen
//!   bytes at a time with SSE2;
//! - [`shingle`]: measuring the run of lower-case ASCII letters and digits that
//!   continues a word, sixteen bytes at a time with SSE2;
//! - [`hamming`]: the SimHash search's loops: packing a block table's key bits
//!   (one BMI2 `pext` each), and finding the pairs of a bucket of fingerprints
//!   within a Hamming radius, eight at a time with AVX-512's vector popcount.
//!
//! This module is the only place in the crate that names a target architecture,
//! calls intrinsics or asks the CPU what it supports; its callers see safe
//! functions that answer the same on every machine.
//!
//! Each kernel has a portable version, written in plain Rust and compiled
//! everywhere: it is both the fallback and the definition the other versions are
//! tested against. Each kernel lists its versions in one `select` function, which
//! hands out the version built for an [`Isa`] only when this CPU can run it. The
//! kernel's entry point takes the best of them in one of two ways:
//!
//! - a version for an instruction set that every CPU of the compile target has
//!   ([`Isa::BASELINE`], SSE2 on x86-64) is chosen at compile time, so it inlines
//!   into the caller's loop (the byte scanners run once per string or word);
//! - versions for optional instruction sets (AVX2, AVX-512) are chosen once per
//!   process, after checking the CPU, and the choice is cached (the signing
//!   loops run once per document, over many values).
//!
//! The tests of every kernel come from one macro, `backend_tests!`: on random
//! inputs (edge lengths, unaligned starts, bytes from the whole range), every
//! version this CPU can run, and the entry point, must give what the portable
//! version gives, bit for bit. A version the CPU lacks is skipped, not failed.

#[cfg(test)]
#[macro_use]
mod testing;

pub(crate) mod hamming;
pub(crate) mod jsonl;
pub(crate) mod minhash;
pub(crate) mod prefetch;
pub(crate) mod shingle;

/// The instruction sets a kernel can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Isa {
    /// Plain Rust; every CPU.
    Portable,
    /// x86-64 SSE2, which every x86-64 CPU has.
    Sse2,
    /// x86-64 AVX2, with BMI2 (which every CPU with AVX2 has in practice).
    Avx2,
    /// x86-64 AVX-512 (F, DQ and VL).
    Avx512,
    /// x86-64 AVX-512 (F, DQ and VL) with VPOPCNTDQ, the vector popcount.
    Avx512Popcnt,
}

impl Isa {
    /// Every instruction set, from the least to the most preferred.
    pub(crate) const ALL: [Isa; 5] = [
        Isa::Portable,
        Isa::Sse2,
        Isa::Avx2,
        Isa::Avx512,
        Isa::Avx512Popcnt,
    ];

    /// The instruction set that every CPU of the compile target has.
    pub(crate) const BASELINE: Isa = if cfg!(target_arch = "x86_64") {
        Isa::Sse2
    } else {
        Isa::Portable
    };

    /// Whether this CPU can run code built for `self` (checked at run time; the
    /// standard library caches what it learns).
    pub(crate) fn is_available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("bmi2")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Popcnt => {
                Isa::Avx512.is_available() && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Sse2 | Isa::Avx2 | Isa::Avx512 | Isa::Avx512Popcnt => false,
        }
    }
}

/// The most preferred version that a kernel's `select` hands out on this CPU.
fn best<K>(select: impl Fn(Isa) -> Option<K>) -> Option<K> {
    Isa::ALL.into_iter().rev().find_map(select)
}

/// Every version that a kernel's `select` hands out on this CPU, with its
/// instruction set, the portable one first.
#[cfg(test)]
fn runnable<K>(select: impl Fn(Isa) -> Option<K>) -> impl Iterator<Item = (Isa, K)> {
    Isa::ALL
        .into_iter()
        .filter_map(move |isa| select(isa).map(|kernel| (isa, kernel)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_and_portable_are_always_available() {
        assert!(Isa::Portable.is_available());
        assert!(Isa::BASELINE.is_available());
        assert_eq!(Isa::ALL[0], Isa::Portable);
    }

    #[test]
    fn best_is_the_last_version_offered() {
        let offered = |isa: Isa| (isa < Isa::Avx512).then_some(isa);
        assert_eq!(best(offered), Some(Isa::Avx2));
        let order: Vec<Isa> = runnable(offered).map(|(isa, _)| isa).collect();
        assert_eq!(order, [Isa::Portable, Isa::Sse2, Isa::Avx2]);
    }
}
