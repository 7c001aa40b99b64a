//! Finding and counting line breaks with `memchr` (SIMD).
//!
//! JSONL chunks are cut into lines and their line breaks counted before any record
//! is read; a byte-at-a-time scan of every byte for `\n` cost as much as reading
//! the JSON itself. The answers are exactly those of the plain scans (the tests
//! compare them).

/// Offset of the first `\n` in `bytes`, like `bytes.iter().position(|&b| b == b'\n')`.
#[inline]
pub fn find_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

/// Number of `\n` bytes in `bytes`.
pub fn count_newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

/// The lines of `bytes`, each with its `\n` (the last one may lack it), like
/// `bytes.split_inclusive(|&b| b == b'\n')`.
pub fn lines_inclusive(bytes: &[u8]) -> LinesInclusive<'_> {
    LinesInclusive { rest: bytes }
}

/// Iterator of [`lines_inclusive`].
#[derive(Debug, Clone)]
pub struct LinesInclusive<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for LinesInclusive<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let len = find_newline(self.rest).map_or(self.rest.len(), |p| p + 1);
        let (line, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Bytes that are mostly newlines, carriage returns, spaces and letters,
        /// looked at from every starting offset (so every alignment of the
        /// SIMD steps is met): the same answers as the plain scans.
        #[test]
        fn line_scans_match_the_plain_ones(
            bytes in proptest::collection::vec(proptest::prop_oneof![
                proptest::sample::select(vec![b'\n', b'\r', b' ', b'a', b'{', 0x8A, 0x0B]),
                proptest::num::u8::ANY,
            ], 0..200),
        ) {
            for from in 0..=bytes.len().min(20) {
                let b = &bytes[from..];
                proptest::prop_assert_eq!(find_newline(b), b.iter().position(|&x| x == b'\n'));
                proptest::prop_assert_eq!(
                    count_newlines(b),
                    b.iter().filter(|&&x| x == b'\n').count()
                );
                let ours: Vec<&[u8]> = lines_inclusive(b).collect();
                let plain: Vec<&[u8]> = b.split_inclusive(|&x| x == b'\n').collect();
                proptest::prop_assert_eq!(ours, plain);
            }
        }
    }

    #[test]
    fn long_lines_and_empty_input() {
        assert_eq!(lines_inclusive(b"").count(), 0);
        let mut bytes = vec![b'x'; 1000];
        bytes[700] = b'\n';
        bytes.push(b'\n');
        assert_eq!(find_newline(&bytes), Some(700));
        assert_eq!(count_newlines(&bytes), 2);
        let lines: Vec<usize> = lines_inclusive(&bytes).map(<[u8]>::len).collect();
        assert_eq!(lines, [701, 300]);
    }
}
