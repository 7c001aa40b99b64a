//! Text normalisation, each step switchable.
//!
//! The steps run in a fixed order: Unicode NFKC (so full-width Latin, compatibility
//! Hangul jamo and ligatures compare equal to their plain forms), lower-casing
//! (`char::to_lowercase`, i.e. Unicode's default case mapping), punctuation folding
//! (every character that is neither alphanumeric nor whitespace becomes a space) and
//! whitespace folding (runs of whitespace become one ASCII space, ends trimmed).
//!
//! Text made only of ASCII and precomposed Hangul syllables skips NFKC (it is the
//! identity there), other text skips it when the quick check says it is already
//! normalised. ASCII and Hangul syllables also take a fast path past the Unicode
//! property tables in the per-character steps.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Which normalisation steps to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    let needs_nfkc = options.nfkc
        && !is_nfkc_stable_fast(input)
        && is_nfkc_quick(input.chars()) != IsNormalized::Yes;
    if needs_nfkc {
        fold_chars(input.nfkc(), options, out);
    } else if options.fold_whitespace && input.is_ascii() {
        fold_ascii(input.as_bytes(), options, out);
    } else {
        fold_chars(input.chars(), options, out);
    }
}

/// True when every character is ASCII or a precomposed Hangul syllable: such text
/// is already in NFKC, and checking that is much cheaper than the general quick check.
fn is_nfkc_stable_fast(input: &str) -> bool {
    input.is_ascii() || input.chars().all(|c| c.is_ascii() || is_hangul_syllable(c))
}

/// Applies the per-character steps (case, punctuation, whitespace) to a char stream.
fn fold_chars(chars: impl Iterator<Item = char>, options: NormalizeOptions, out: &mut String) {
    // `pending_space` delays a space until a non-space follows, which both collapses
    // runs and trims the end; `out.is_empty()` trims the start.
    let mut pending_space = false;
    for c in chars {
        let class = classify(c, options);
        if class == CharClass::Space {
            if options.fold_whitespace {
                pending_space = !out.is_empty();
                continue;
            }
        } else if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match class {
            CharClass::Space => out.push(if c.is_whitespace() { c } else { ' ' }),
            CharClass::Keep => out.push(c),
            CharClass::Lower => {
                if c.is_ascii() {
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.extend(c.to_lowercase());
                }
            }
        }
    }
}

/// The per-character steps for pure-ASCII input with whitespace folding, a byte at
/// a time through a lookup table.
fn fold_ascii(input: &[u8], options: NormalizeOptions, out: &mut String) {
    let table =
        &ASCII_TABLES[usize::from(options.lowercase) * 2 + usize::from(options.fold_punctuation)];
    // SAFETY: only ASCII bytes are ever written, so the buffer stays valid UTF-8.
    let buf = unsafe { out.as_mut_vec() };
    buf.clear();
    // Every output byte stands for at least one input byte, so `input.len()` bounds
    // the output.
    buf.resize(input.len(), 0);
    let mut written = 0;
    let mut pending_space = false;
    for &b in input {
        let mapped = table[usize::from(b)];
        if mapped == ASCII_SPACE {
            pending_space = written != 0;
            continue;
        }
        if pending_space {
            buf[written] = b' ';
            written += 1;
            pending_space = false;
        }
        buf[written] = mapped;
        written += 1;
    }
    buf.truncate(written);
}

/// The byte map [`fold_ascii`] uses under `options`: each ASCII byte's output
/// byte, or [`ASCII_SPACE`] for a byte that becomes whitespace.
pub(crate) fn ascii_table_for(options: NormalizeOptions) -> &'static [u8; 128] {
    &ASCII_TABLES[usize::from(options.lowercase) * 2 + usize::from(options.fold_punctuation)]
}

/// Byte maps for [`fold_ascii`], indexed by `lowercase * 2 + fold_punctuation`:
/// each ASCII byte maps to its output byte, or to [`ASCII_SPACE`] for "whitespace".
const ASCII_TABLES: [[u8; 128]; 4] = [
    ascii_table(false, false),
    ascii_table(false, true),
    ascii_table(true, false),
    ascii_table(true, true),
];

/// Marks "whitespace" in [`ASCII_TABLES`]: not an ASCII byte, so never an output.
pub(crate) const ASCII_SPACE: u8 = 0xFF;

const fn ascii_table(lowercase: bool, fold_punctuation: bool) -> [u8; 128] {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_whitespace() || byte == 0x0B {
            ASCII_SPACE
        } else if byte.is_ascii_alphanumeric() {
            if lowercase {
                byte.to_ascii_lowercase()
            } else {
                byte
            }
        } else if fold_punctuation {
            ASCII_SPACE
        } else {
            byte
        };
        b += 1;
    }
    table
}

/// What the per-character steps do with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    /// Whitespace, or punctuation folded to whitespace.
    Space,
    /// Kept as it is.
    Keep,
    /// Kept, lower-cased.
    Lower,
}

/// Classifies `c`, with fast answers for ASCII and Hangul syllables (the bulk of
/// English and Korean text) before the general Unicode tables.
#[inline]
fn classify(c: char, options: NormalizeOptions) -> CharClass {
    let case = if options.lowercase {
        CharClass::Lower
    } else {
        CharClass::Keep
    };
    if c.is_ascii() {
        // One definition of what happens to ASCII: the byte map of `fold_ascii`.
        let mapped = ascii_table_for(options)[c as usize];
        return if mapped == ASCII_SPACE {
            CharClass::Space
        } else if mapped != c as u8 {
            CharClass::Lower
        } else {
            CharClass::Keep
        };
    }
    if is_hangul_syllable(c) {
        // Alphanumeric and caseless.
        return CharClass::Keep;
    }
    if c.is_whitespace() || (options.fold_punctuation && !c.is_alphanumeric()) {
        CharClass::Space
    } else {
        case
    }
}

/// Precomposed Hangul syllables (U+AC00..=U+D7A3).
#[inline]
pub(crate) fn is_hangul_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
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

    /// The obvious, slow definition of every step, for the fast paths to match.
    fn reference(input: &str, o: NormalizeOptions) -> String {
        let text: String = if o.nfkc {
            input.nfkc().collect()
        } else {
            input.to_string()
        };
        let folded: String = text
            .chars()
            .map(|c| {
                if o.fold_punctuation && !c.is_alphanumeric() && !c.is_whitespace() {
                    ' '
                } else {
                    c
                }
            })
            .flat_map(|c| {
                let lower: Vec<char> = if o.lowercase {
                    c.to_lowercase().collect()
                } else {
                    vec![c]
                };
                lower
            })
            .collect();
        if o.fold_whitespace {
            folded.split_whitespace().collect::<Vec<_>>().join(" ")
        } else {
            folded
        }
    }

    fn text_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let pieces = prop::sample::select(vec![
            "a",
            "Z",
            "q",
            "7",
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "\u{b}",
            "\u{c}",
            ",",
            ".",
            "'",
            "-",
            "_",
            "!",
            "\u{0}",
            "\u{7f}",
            "é",
            "É",
            "ß",
            "İ",
            "한",
            "국어",
            "ㄱ",
            "\u{1100}\u{1161}",
            "中",
            "の",
            "カ",
            "ﬁ",
            "Ａ",
            "①",
            "²",
            "\u{a0}",
            "\u{3000}",
            "·",
            "\u{301}",
            "ไทย",
            "Ω",
            "ǅ",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_match_the_reference(
            text in text_strategy(),
            nfkc: bool, lowercase: bool, fold_punctuation: bool, fold_whitespace: bool,
        ) {
            let o = NormalizeOptions { nfkc, lowercase, fold_punctuation, fold_whitespace };
            let mut out = String::new();
            normalize_into(&text, o, &mut out);
            proptest::prop_assert_eq!(out, reference(&text, o), "{:?} {:?}", text, o);
        }
    }
}
