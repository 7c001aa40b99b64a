//! The rest of an ASCII word: how many of sixteen bytes are lower-case ASCII
//! letters or digits, looked at all at once with SSE2.
//!
//! The one-pass word shingler calls this for every ASCII word, so the version is
//! chosen at compile time (SSE2 is part of every x86-64 CPU) and inlines into
//! the shingler.

use super::Isa;

/// A word-run counter: sixteen bytes, and how many of the leading ones are
/// lower-case ASCII letters or digits.
type LowerAlnumKernel = fn(&[u8; 16]) -> usize;

/// The version [`lower_alnum_prefix`] runs, fixed when compiling.
const CHOSEN: LowerAlnumKernel = match select(Isa::BASELINE) {
    Some(kernel) => kernel,
    None => lower_alnum_prefix_portable,
};

/// How many of the leading bytes of `chunk` are ASCII lower-case letters or
/// digits (bytes that every byte map keeps as they are inside a word).
#[inline]
pub(crate) fn lower_alnum_prefix(chunk: &[u8; 16]) -> usize {
    CHOSEN(chunk)
}

/// The word-run counter built for `isa`, if there is one and this CPU can run
/// it (only the portable one and the target's baseline are built).
const fn select(isa: Isa) -> Option<LowerAlnumKernel> {
    match isa {
        Isa::Portable => Some(lower_alnum_prefix_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Sse2 => Some(x86_64::lower_alnum_prefix_sse2),
        _ => None,
    }
}

/// [`lower_alnum_prefix`] one byte at a time, on any CPU.
#[inline]
fn lower_alnum_prefix_portable(chunk: &[u8; 16]) -> usize {
    chunk
        .iter()
        .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        .count()
}

#[cfg(target_arch = "x86_64")]
mod x86_64 {
    use std::arch::x86_64::*;

    /// [`super::lower_alnum_prefix`] with SSE2.
    #[inline]
    pub(super) fn lower_alnum_prefix_sse2(chunk: &[u8; 16]) -> usize {
        // SAFETY: this module is compiled only for x86-64, every CPU of which has
        // SSE2; the load is unaligned and reads the sixteen bytes of `chunk`.
        let mask = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            let within = |lo: u8, hi: u8| {
                // Signed compares: bytes from 0x80 are negative, so outside both
                // ranges.
                _mm_and_si128(
                    _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
                    _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
                )
            };
            _mm_movemask_epi8(_mm_or_si128(within(b'a', b'z'), within(b'0', b'9'))) as u32
        };
        (!mask).trailing_zeros() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_bytes;
    use super::*;

    backend_tests! {
        word_run: select, entry lower_alnum_prefix;
        (input in scan_bytes(b"abcmxyz0189", 20)) => |kernel| {
            let (bytes, start) = &input;
            // Sixteen bytes from the (unaligned) start, padded where the draw is
            // shorter.
            let mut bytes = bytes.clone();
            bytes.resize(bytes.len().max(start + 16), b' ');
            let chunk = bytes[*start..start + 16].try_into().expect("sixteen bytes");
            kernel(chunk)
        }
    }

    #[test]
    fn counts_lower_case_letters_and_digits() {
        assert_eq!(lower_alnum_prefix(b"abcxyz0189abcdef"), 16);
        assert_eq!(lower_alnum_prefix(b"abc Def012345678"), 3);
        assert_eq!(lower_alnum_prefix(b"Abcdefghijklmnop"), 0);
        assert_eq!(lower_alnum_prefix(b"z9{`/:\xc3\xa9........"), 2);
    }
}
