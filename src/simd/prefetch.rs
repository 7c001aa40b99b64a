//! Asking the CPU to bring a cache line in ahead of its use, so that a lookup
//! in a table far larger than the cache does not wait for memory when its turn
//! comes. A prefetch is a hint: it never faults, reads nothing the program sees
//! and changes no result, so any address may be given, even a stale one. On a
//! CPU without such a hint it does nothing.

/// Hints that the cache line holding `at` will soon be read.
#[inline(always)]
pub(crate) fn prefetch_read<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE, which gives the hint, is part of every x86-64 CPU, and
        // a prefetch reads nothing the program sees, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Hints that the cache line holding `at` will soon be written (such as a lock
/// word), so that it is fetched ready to be changed.
#[inline(always)]
pub(crate) fn prefetch_write<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0};
        // SAFETY: as in `prefetch_read`; a CPU without PREFETCHW takes it as
        // a plain prefetch or does nothing.
        unsafe { _mm_prefetch::<_MM_HINT_ET0>(at.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}
