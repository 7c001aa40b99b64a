//! JSON strings written fast: the texts that output lines carry (a removed
//! unit's text, a record's trimmed text) are most of the bytes a paragraph run
//! writes.
//!
//! serde_json escapes a string one byte at a time through a lookup table; here
//! the runs of bytes that need no escape (everything but `"`, `\` and control
//! characters) are found sixteen bytes at a time by
//! [`crate::simd::jsonl::plain_string_len`], the scanner the JSONL reader uses,
//! and copied whole. The output is byte for byte what serde_json writes (a
//! property test checks it), so a line is the same whichever writes it.

/// Appends `text` as a JSON string (quotes included) to `out`, exactly as
/// `serde_json::to_writer` writes it.
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = text.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    loop {
        let plain = crate::simd::jsonl::plain_string_len(rest);
        out.extend_from_slice(&rest[..plain]);
        let Some(&byte) = rest.get(plain) else {
            break;
        };
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            control => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(control >> 4)],
                HEX[usize::from(control & 0xF)],
            ]),
        }
        rest = &rest[plain + 1..];
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, text);
        out
    }

    proptest! {
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text in any::<String>()) {
            prop_assert_eq!(ours(&text), serde_json::to_vec(&text).expect("a string"));
        }

        #[test]
        fn escapes_within_long_plain_runs_match_too(
            parts in prop::collection::vec(("[a-z가-힣 ]{0,40}", 0u8..0x80), 0..8),
        ) {
            let text: String = parts
                .iter()
                .map(|(run, byte)| format!("{run}{}", char::from(*byte)))
                .collect();
            prop_assert_eq!(ours(&text), serde_json::to_vec(&text).expect("a string"));
        }
    }

    #[test]
    fn every_escape() {
        let text = "\"\\\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}/é";
        let written = String::from_utf8(ours(text)).expect("utf8");
        assert_eq!(written, "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}/é\"");
        assert_eq!(ours(text), serde_json::to_vec(text).expect("a string"));
    }
}
