//! Text normalisation, each step switchable.
//!
//! The steps run in a fixed order: Unicode NFKC (so full-width Latin, compatibility
//! Hangul jamo and ligatures compare equal to their plain forms), lower-casing
//! (`char::to_lowercase`, i.e. Unicode's default case mapping), punctuation folding
//! (every character that is neither alphanumeric nor whitespace becomes a space) and
//! whitespace folding (runs of whitespace become one ASCII space, ends trimmed).
//!
//! Pure-ASCII input skips NFKC, which is the identity on ASCII, and NFKC is also
//! skipped when the quick check already says the text is normalised.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Which normalisation steps to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NormalizeOptions {
    /// Apply Unicode NFKC.
    pub nfkc: bool,
    /// Lower-case every character.
    pub lowercase: bool,
    /// Turn punctuation and symbols into spaces.
    pub fold_punctuation: bool,
    /// Collapse whitespace runs to one space and trim the ends.
    pub fold_whitespace: bool,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            nfkc: true,
            lowercase: true,
            fold_punctuation: true,
            fold_whitespace: true,
        }
    }
}

impl NormalizeOptions {
    /// No step at all: the text is taken as it is.
    pub fn none() -> Self {
        NormalizeOptions {
            nfkc: false,
            lowercase: false,
            fold_punctuation: false,
            fold_whitespace: false,
        }
    }
}

/// Normalises `input` into `out` (cleared first), reusing `out`'s allocation.
pub fn normalize_into(input: &str, options: NormalizeOptions, out: &mut String) {
    out.clear();
    out.reserve(input.len());
    let needs_nfkc =
        options.nfkc && !input.is_ascii() && is_nfkc_quick(input.chars()) != IsNormalized::Yes;
    if needs_nfkc {
        fold_chars(input.nfkc(), options, out);
    } else {
        fold_chars(input.chars(), options, out);
    }
}

/// Applies the per-character steps (case, punctuation, whitespace) to a char stream.
fn fold_chars(chars: impl Iterator<Item = char>, options: NormalizeOptions, out: &mut String) {
    // `pending_space` delays a space until a non-space follows, which both collapses
    // runs and trims the end; `out.is_empty()` trims the start.
    let mut pending_space = false;
    for c in chars {
        let c = if options.fold_punctuation && !c.is_alphanumeric() && !c.is_whitespace() {
            ' '
        } else {
            c
        };
        if options.fold_whitespace && c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if options.lowercase {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = String::new();
        normalize_into(s, NormalizeOptions::default(), &mut out);
        out
    }

    #[test]
    fn folds_case_punctuation_and_whitespace() {
        assert_eq!(norm("  Hello,   WORLD!\n\tAgain.  "), "hello world again");
    }

    #[test]
    fn nfkc_unifies_full_width_and_compatibility_forms() {
        // Full-width Latin letters and digits.
        assert_eq!(norm("ＡＢＣ　１２３"), "abc 123");
        // The ligature "ﬁ" decomposes under NFKC.
        assert_eq!(norm("ﬁne"), "fine");
        // Hangul written as conjoining jamo composes to the precomposed syllables.
        assert_eq!(norm("\u{1100}\u{1161}\u{11A8}"), "각");
    }

    #[test]
    fn korean_text_keeps_its_letters() {
        assert_eq!(
            norm("시는 지난 5일 '제8회 2023 대한민국'에서 대상을 수상했다."),
            "시는 지난 5일 제8회 2023 대한민국 에서 대상을 수상했다"
        );
    }

    #[test]
    fn each_step_can_be_switched_off() {
        let mut out = String::new();
        normalize_into("A,  B", NormalizeOptions::none(), &mut out);
        assert_eq!(out, "A,  B");
        let only_case = NormalizeOptions {
            lowercase: true,
            ..NormalizeOptions::none()
        };
        normalize_into("A,  B", only_case, &mut out);
        assert_eq!(out, "a,  b");
    }

    #[test]
    fn output_has_no_leading_trailing_or_double_spaces() {
        for s in [
            "",
            "   ",
            "a",
            " a ",
            "a  b",
            "...a...b...",
            "\u{3000}가\u{3000}\u{3000}나",
        ] {
            let n = norm(s);
            assert!(
                !n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "),
                "{s:?} -> {n:?}"
            );
        }
    }
}
