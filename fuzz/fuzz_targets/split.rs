//! Paragraph splitting of arbitrary text.
//!
//! The first byte picks the separator convention; the rest, made valid UTF-8, is
//! the article. The paragraphs must be numbered 0, 1, 2..., lie in the text in
//! order without overlapping, be trimmed and non-empty, hold every non-space
//! character of the text, and (one per line) never cross a line break; under the
//! blank-line convention, no paragraph holds a blank line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neardedup::corpus::{paragraphs, ParaSep};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, bytes)) = data.split_first() else {
        return;
    };
    let sep = if knobs & 1 == 0 {
        ParaSep::Line
    } else {
        ParaSep::Blank
    };
    let text = String::from_utf8_lossy(bytes);
    let text = text.as_ref();

    let found = paragraphs(text, sep);
    let mut end_of_previous = 0;
    let mut covered = 0;
    for (i, p) in found.iter().enumerate() {
        assert_eq!(p.index as usize, i, "numbered in order");
        assert!(p.span.start >= end_of_previous, "in order, not overlapping");
        assert!(p.span.start < p.span.end, "not empty");
        let piece = text.get(p.span.clone()).expect("a span on char boundaries");
        assert_eq!(piece, piece.trim(), "trimmed");
        match sep {
            ParaSep::Line => assert!(!piece.contains('\n'), "one line"),
            ParaSep::Blank => assert!(
                piece.split('\n').all(|line| !line.trim().is_empty()),
                "no blank line inside {piece:?}"
            ),
        }
        // Between paragraphs there is only white space.
        assert!(text[end_of_previous..p.span.start].trim().is_empty());
        covered += piece.chars().filter(|c| !c.is_whitespace()).count();
        end_of_previous = p.span.end;
    }
    assert!(
        text[end_of_previous..].trim().is_empty(),
        "nothing after the last"
    );
    let visible = text.chars().filter(|c| !c.is_whitespace()).count();
    assert_eq!(
        covered, visible,
        "every visible character is in a paragraph"
    );
});
