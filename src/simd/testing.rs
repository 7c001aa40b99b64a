//! The tests every kernel gets ([`backend_tests!`]) and the inputs they draw.

use proptest::prelude::*;

/// Defines the tests of one kernel, in a module named `$name`:
///
/// - `$select` offers the portable version, and offers it first;
/// - on every input drawn, each version `$select` offers on this CPU, and the
///   kernel's entry point `$entry`, give what the portable version gives.
///
/// The inputs are drawn as in `proptest!` (`name in strategy`, comma
/// separated); `|$kernel| $run` runs one version, bound to `$kernel`, on them
/// and returns the value compared.
macro_rules! backend_tests {
    (
        $name:ident: $select:path, entry $entry:path;
        ($($input:ident in $strategy:expr),+ $(,)?) => |$kernel:ident| $run:expr
    ) => {
        mod $name {
            use super::*;

            #[test]
            fn the_portable_version_comes_first() {
                let first = $crate::simd::runnable($select).next().map(|(isa, _)| isa);
                assert_eq!(first, Some($crate::simd::Isa::Portable));
            }

            proptest::proptest! {
                #[test]
                fn every_version_matches_the_portable_one($($input in $strategy),+) {
                    let mut outputs = Vec::new();
                    for (isa, $kernel) in $crate::simd::runnable($select) {
                        outputs.push((format!("{isa:?}"), $run));
                    }
                    {
                        let $kernel = $entry;
                        outputs.push(("the entry point".to_owned(), $run));
                    }
                    let (_, want) = &outputs[0];
                    for (version, got) in &outputs[1..] {
                        proptest::prop_assert_eq!(
                            got, want, "{} differs from the portable version", version
                        );
                    }
                }
            }
        }
    };
}

/// Lengths that exercise a loop's tails and the edges of vector widths: every
/// length up to 40, the lengths around multiples of 16 up to 257, and any length,
/// none above `max`.
pub(super) fn length(max: usize) -> impl Strategy<Value = usize> {
    let around_widths =
        prop::sample::select(vec![47, 48, 49, 63, 64, 65, 127, 128, 129, 255, 256, 257]);
    prop_oneof![0..=40usize, around_widths, 0..=max].prop_map(move |n| n.min(max))
}

/// Where a kernel starts reading in a drawn buffer, so that its loads are not
/// aligned the way the allocation is.
pub(super) fn start() -> impl Strategy<Value = usize> {
    0..64usize
}

/// Bytes from the whole range, the ones byte scanners stop at or sit next to
/// made common: quote, backslash, control bytes, the ends of the ASCII letter
/// and digit ranges and their neighbours, DEL, and bytes of multi-byte UTF-8
/// (lead and continuation) and of no UTF-8 at all.
pub(super) fn byte() -> impl Strategy<Value = u8> {
    let edges = prop::sample::select(vec![
        b'"', b'\\', 0x00, 0x09, 0x1F, 0x20, b'/', b'0', b'9', b':', b'@', b'A', b'Z', b'[', b'`',
        b'a', b'z', b'{', 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC2, 0xE3, 0xEA, 0xED, 0xF0, 0xFF,
    ]);
    prop_oneof![edges, any::<u8>()]
}

/// Bytes for a scanner to pass over and stop in, and where in them it starts:
/// [`start`] bytes of anything, a run of bytes from `run` (those the scanner
/// passes over), then bytes from [`byte`], the last two of lengths from
/// [`length`] up to `max`.
pub(super) fn scan_bytes(
    run: &'static [u8],
    max: usize,
) -> impl Strategy<Value = (Vec<u8>, usize)> {
    let before = start().prop_flat_map(|n| prop::collection::vec(any::<u8>(), n));
    let run =
        length(max).prop_flat_map(move |n| prop::collection::vec(prop::sample::select(run), n));
    let rest = length(max).prop_flat_map(|n| prop::collection::vec(byte(), n));
    (before, run, rest).prop_map(|(mut bytes, run, rest)| {
        let start = bytes.len();
        bytes.extend(run);
        bytes.extend(rest);
        (bytes, start)
    })
}
