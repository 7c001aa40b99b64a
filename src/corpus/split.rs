//! Cutting an article's text into paragraphs.
//!
//! Two conventions: [`ParaSep::Line`] (the default) makes every non-empty line a
//! paragraph, which suits news text and most crawls; [`ParaSep::Blank`] makes every
//! block between blank lines a paragraph, which suits wrapped prose. Paragraphs are
//! trimmed, numbered from 0 in input order, and empty ones are skipped without using
//! up a number.

use std::ops::Range;

/// What separates paragraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ParaSep {
    /// Each non-empty line is a paragraph.
    Line,
    /// Paragraphs are separated by one or more blank lines.
    Blank,
}

crate::setting_names::by_setting_name!(ParaSep);

impl ParaSep {
    /// The separator used to join kept paragraphs back into an article.
    pub fn joiner(self) -> &'static str {
        match self {
            ParaSep::Line => "\n",
            ParaSep::Blank => "\n\n",
        }
    }
}

/// One paragraph: its number and where its (trimmed) text sits in the article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    /// 0-based number among the article's non-empty paragraphs.
    pub index: u32,
    /// Byte range in the article text.
    pub span: Range<usize>,
}

/// Splits `text` into its non-empty, trimmed paragraphs.
pub fn paragraphs(text: &str, sep: ParaSep) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut push = |start: usize, end: usize| {
        let piece = &text[start..end];
        let trimmed_start = start + (piece.len() - piece.trim_start().len());
        let trimmed_end = end - (piece.len() - piece.trim_end().len());
        if trimmed_start < trimmed_end {
            let index = u32::try_from(out.len()).expect("fewer than 2^32 paragraphs");
            out.push(Paragraph {
                index,
                span: trimmed_start..trimmed_end,
            });
        }
    };
    let mut offset = 0;
    let mut block_start: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        match sep {
            ParaSep::Line => push(start, offset),
            ParaSep::Blank => {
                if line.trim().is_empty() {
                    if let Some(b) = block_start.take() {
                        push(b, start);
                    }
                } else if block_start.is_none() {
                    block_start = Some(start);
                }
            }
        }
    }
    if let Some(b) = block_start {
        push(b, text.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "cli")]
    #[test]
    fn para_sep_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<ParaSep>();
    }

    fn texts(text: &str, sep: ParaSep) -> Vec<&str> {
        paragraphs(text, sep)
            .into_iter()
            .map(|p| &text[p.span])
            .collect()
    }

    #[test]
    fn lines_mode_skips_empty_lines_and_trims() {
        let text = "첫 문단\r\n\n  둘째 문단  \n\n\n셋째";
        assert_eq!(texts(text, ParaSep::Line), ["첫 문단", "둘째 문단", "셋째"]);
        let numbers: Vec<u32> = paragraphs(text, ParaSep::Line)
            .iter()
            .map(|p| p.index)
            .collect();
        assert_eq!(numbers, [0, 1, 2]);
    }

    #[test]
    fn blank_mode_joins_wrapped_lines() {
        let text = "one\ntwo\n\n \nthree\nfour\n";
        assert_eq!(texts(text, ParaSep::Blank), ["one\ntwo", "three\nfour"]);
    }

    #[test]
    fn empty_text_has_no_paragraphs() {
        assert!(paragraphs("", ParaSep::Line).is_empty());
        assert!(paragraphs("\n \n", ParaSep::Blank).is_empty());
    }
}
