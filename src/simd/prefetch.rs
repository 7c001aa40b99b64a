//! Asking the CPU to bring a cache line in ahead of its use, so that a lookup
//! in a table far larger than the cache does not wait for memory when its turn
//! comes. A prefetch is a hint: it never faults, reads nothing the program sees
//! and changes no result, so any address may be given, even a stale one. On a
//! CPU without such a hint it does nothing.

/// What the cache line will soon be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Soon {
    /// Read.
    Read,
    /// Written (such as a lock word): the line is fetched ready to be changed
    /// where the build may use PREFETCHW (`-C target-cpu` of a CPU with it);
    /// the baseline x86-64 build fetches it as for a read, which still brings
    /// it in early.
    Written,
}

/// Hints that the cache line holding `at` will soon be used as `soon` says.
#[inline(always)]
pub(crate) fn prefetch<T>(at: *const T, soon: Soon) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0, _MM_HINT_T0};
        let at = at.cast::<i8>();
        // SAFETY: SSE, which gives the hint, is part of every x86-64 CPU, and a
        // prefetch reads nothing the program sees, whatever the address.
        unsafe {
            match soon {
                Soon::Read => _mm_prefetch::<_MM_HINT_T0>(at),
                Soon::Written => _mm_prefetch::<_MM_HINT_ET0>(at),
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, soon);
}
