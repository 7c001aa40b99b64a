//! Where the plain part of a JSON string ends: the first `"`, `\` or control
//! character (below 0x20), looked for sixteen bytes at a time with SSE2.
//!
//! The JSONL reader calls this once per string and again after each escape, so
//! the version is chosen at compile time (SSE2 is part of every x86-64 CPU) and
//! inlines into the reader.

use super::Isa;

/// A plain-run scanner: the bytes, and the length of their leading plain run.
type PlainRunKernel = fn(&[u8]) -> usize;

/// The version [`plain_string_len`] runs, fixed when compiling.
const CHOSEN: PlainRunKernel = match select(Isa::BASELINE) {
    Some(kernel) => kernel,
    None => plain_string_len_portable,
};

/// Length of the leading run of `bytes` without `"`, `\` or control characters
/// (below 0x20): the bytes a JSON string holds as they are.
#[inline]
pub(crate) fn plain_string_len(bytes: &[u8]) -> usize {
    CHOSEN(bytes)
}

/// The plain-run scanner built for `isa`, if there is one and this CPU can run
/// it (only the portable one and the target's baseline are built).
const fn select(isa: Isa) -> Option<PlainRunKernel> {
    match isa {
        Isa::Portable => Some(plain_string_len_portable),
        #[cfg(target_arch = "x86_64")]
        Isa::Sse2 => Some(x86_64::plain_string_len_sse2),
        _ => None,
    }
}

/// Whether a JSON string can hold `b` as it is.
#[inline(always)]
fn is_plain(b: u8) -> bool {
    b != b'"' && b != b'\\' && b >= 0x20
}

/// [`plain_string_len`] one byte at a time, on any CPU.
#[inline]
fn plain_string_len_portable(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| !is_plain(b))
        .unwrap_or(bytes.len())
}

#[cfg(target_arch = "x86_64")]
mod x86_64 {
    use std::arch::x86_64::*;

    /// [`super::plain_string_len`] with SSE2: sixteen bytes at a time while no
    /// byte in them ends the run, then byte by byte.
    #[inline]
    pub(super) fn plain_string_len_sse2(bytes: &[u8]) -> usize {
        let mut pos = 0;
        while let Some(chunk) = bytes.get(pos..pos + 16) {
            // SAFETY: this module is compiled only for x86-64, every CPU of which
            // has SSE2; the load is unaligned and reads the sixteen bytes of `chunk`.
            let mask = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast());
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                // Unsigned v <= 0x1F exactly when max(v, 0x1F) == 0x1F.
                let low = _mm_set1_epi8(0x1F);
                let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
            };
            if mask != 0 {
                return pos + mask.trailing_zeros() as usize;
            }
            pos += 16;
        }
        pos + super::plain_string_len_portable(&bytes[pos..])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::scan_bytes;
    use super::*;

    /// Bytes a JSON string holds as they are, ASCII and not.
    const PLAIN: &[u8] = b" !#/09:@AZ[]az{}~\x7f\x80\xa2\xc3\xe3\xea\xed\xff";

    backend_tests! {
        plain_run: select, entry plain_string_len;
        (input in scan_bytes(PLAIN, 100)) => |kernel| {
            let (bytes, start) = &input;
            kernel(&bytes[*start..])
        }
    }

    #[test]
    fn stops_at_quotes_backslashes_and_control_characters() {
        assert_eq!(plain_string_len(b""), 0);
        assert_eq!(plain_string_len("plain é \u{7f} text \"end".as_bytes()), 16);
        assert_eq!(plain_string_len(&[b'x'; 40]), 40);
        for stop in [b'"', b'\\', 0x00, 0x0A, 0x1F] {
            let mut bytes = [b'x'; 40];
            bytes[33] = stop;
            assert_eq!(plain_string_len(&bytes), 33, "{stop:#x}");
        }
    }
}
