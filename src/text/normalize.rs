//! Text normalisation, each step switchable.
//!
//! The steps run in a fixed order: Unicode NFKC (so full-width Latin, compatibility
//! Hangul jamo and ligatures compare equal to their plain forms); then, for each
//! character of that text, punctuation folding (a character that is neither
//! alphanumeric nor whitespace becomes a space) or else lower-casing
//! (`char::to_lowercase`, i.e. Unicode's default case mapping); then whitespace
//! folding (runs of whitespace become one ASCII space, ends trimmed). A character
//! is judged before it is lower-cased, so what lower-casing makes is kept: `İ`
//! becomes `i` and a combining dot above.
//!
//! ASCII text skips NFKC (it is the identity there) and goes through a byte map.
//! Other text, under whitespace folding, is normalised in one pass: ASCII and
//! precomposed Hangul syllables go straight through (the byte map, or copied), and
//! NFKC runs only over the stretches of other characters between them; without
//! whitespace folding the whole text skips NFKC when the quick check says it is
//! already normalised.

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
    if options.fold_whitespace && input.is_ascii() {
        // ASCII is its own NFKC.
        fold_ascii(input.as_bytes(), options, out);
    } else if options.nfkc && options.fold_whitespace {
        fold_segmented(input, options, out);
    } else if options.nfkc && is_nfkc_quick(input.chars()) != IsNormalized::Yes {
        fold_chars(input.nfkc(), options, out);
    } else {
        fold_chars(input.chars(), options, out);
    }
}

/// NFKC and the per-character steps (with whitespace folding) in one pass, for
/// text of any script, fast for text made mostly of ASCII and Hangul syllables.
///
/// ASCII characters and precomposed Hangul syllables are *stable* under NFKC:
/// starters (canonical combining class 0) that are in NFKC and never compose with
/// a preceding character. NFKC therefore never reorders or composes across one,
/// and the NFKC of a text is the concatenation of the NFKC of its pieces when
/// every piece starts at such a character. Runs of those characters go straight
/// through the byte map (ASCII) or are copied (Hangul); each maximal run of other
/// characters is normalised together with the one character before it (which a
/// combining mark or a trailing jamo may compose with), after taking back that
/// character's output.
fn fold_segmented(input: &str, options: NormalizeOptions, out: &mut String) {
    let table = ascii_table_for(options);
    let bytes = input.as_bytes();
    let mut folded = Folded {
        // SAFETY: only whole UTF-8 sequences are written (ASCII bytes, Hangul
        // syllables copied from `input`, encoded chars), and truncation happens
        // only at lengths the buffer had between two such writes.
        buf: unsafe { out.as_mut_vec() },
        pending_space: false,
    };
    // The output length and pending-space flag from just before the previous
    // character (a fast one whenever `i > 0`) was folded, and where it starts.
    let mut before_prev = (0usize, false, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            before_prev = (folded.buf.len(), folded.pending_space, i);
            let mapped = table[usize::from(b)];
            if mapped == ASCII_SPACE {
                folded.space();
            } else {
                folded.flush_space();
                folded.buf.push(mapped);
            }
            i += 1;
            continue;
        }
        if is_hangul_syllable_at(bytes, i) {
            before_prev = (folded.buf.len(), folded.pending_space, i);
            folded.flush_space();
            folded.buf.extend_from_slice(&bytes[i..i + 3]);
            i += 3;
            continue;
        }
        // A run of other characters, up to the next ASCII byte or Hangul syllable.
        let mut end = i + utf8_len(b);
        while end < bytes.len() && bytes[end] >= 0x80 && !is_hangul_syllable_at(bytes, end) {
            end += utf8_len(bytes[end]);
        }
        let start = if i > 0 {
            let (len, pending, prev) = before_prev;
            folded.buf.truncate(len);
            folded.pending_space = pending;
            prev
        } else {
            0
        };
        let piece = &input[start..end];
        if is_nfkc_quick(piece.chars()) == IsNormalized::Yes {
            piece.chars().for_each(|c| folded.push(c, options));
        } else {
            piece.nfkc().for_each(|c| folded.push(c, options));
        }
        i = end;
    }
}

/// The output of [`fold_segmented`] under whitespace folding.
struct Folded<'a> {
    buf: &'a mut Vec<u8>,
    /// A space is owed before the next non-space (never at the start).
    pending_space: bool,
}

impl Folded<'_> {
    #[inline]
    fn space(&mut self) {
        self.pending_space = !self.buf.is_empty();
    }

    #[inline]
    fn flush_space(&mut self) {
        if self.pending_space {
            self.buf.push(b' ');
            self.pending_space = false;
        }
    }

    /// Folds one character (the steps of [`fold_chars`]).
    fn push(&mut self, c: char, options: NormalizeOptions) {
        let mut utf8 = [0u8; 4];
        match classify(c, options) {
            CharClass::Space => self.space(),
            CharClass::Keep => {
                self.flush_space();
                self.buf
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            CharClass::Lower => {
                self.flush_space();
                for l in c.to_lowercase() {
                    self.buf
                        .extend_from_slice(l.encode_utf8(&mut utf8).as_bytes());
                }
            }
        }
    }
}

/// Length of the UTF-8 sequence that starts with byte `b` (a leading byte).
#[inline]
pub(crate) fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// True when a precomposed Hangul syllable (U+AC00..=U+D7A3, UTF-8 `EA B0 80` to
/// `ED 9E A3`) starts at `bytes[i]`, which starts a character of valid UTF-8.
///
/// Three-byte UTF-8 sequences sort as their code points do, so the three bytes
/// read as one big-endian number are compared with the encodings of the ends
/// of the range (a shorter character with the bytes after it, or a longer one,
/// falls outside it).
#[inline]
pub(crate) fn is_hangul_syllable_at(bytes: &[u8], i: usize) -> bool {
    let Some(&[b0, b1, b2]) = bytes.get(i..i + 3) else {
        return false;
    };
    (0xEA_B080..=0xED_9EA3).contains(&u32::from_be_bytes([0, b0, b1, b2]))
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

    /// The byte test agrees with the character test on every character, at
    /// the end of the text and followed by any of the bytes that can follow.
    #[test]
    fn hangul_bytes_test_matches_the_character_test() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut buf = [0u8; 8];
            let len = c.encode_utf8(&mut buf).len();
            for after in [&[][..], b"a", "\u{ac00}".as_bytes(), "\u{10000}".as_bytes()] {
                let mut text = buf[..len].to_vec();
                text.extend_from_slice(after);
                assert_eq!(
                    is_hangul_syllable_at(&text, 0),
                    is_hangul_syllable(c),
                    "{c:?} then {after:?}"
                );
            }
        }
    }

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
    fn punctuation_is_judged_before_lower_casing() {
        // U+0130 lower-cases to `i` and U+0307, a combining mark that is not
        // alphanumeric; it stays, as the letter it came from was one.
        assert_eq!(norm("İstanbul"), "i\u{307}stanbul");
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
            "가",
            "\u{11A8}",
            "\u{1161}",
            "e",
            "\u{323}",
            "②",
            "「",
            "”",
            "ᆞ",
            "ｶ",
            "\u{FF9E}",
            "\u{FDFA}",
            "ẞ",
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

        /// The one-pass path on Korean-like text: Hangul and ASCII with the
        /// characters found between them in real text, and the ones that compose
        /// with (or reorder around) a preceding ASCII letter or Hangul syllable.
        #[test]
        fn segmented_path_matches_the_reference(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "가", "각", "한국어", "법률", "Ab", "x", "9", " ", "  ", "\n", ".", ",", "(", "'",
                "\u{a0}", "\u{3000}", "·", "ㆍ", "‧", "○", "①", "②", "「", "」", "“", "”", "’",
                "ᆞ", "\u{1100}", "\u{1161}", "\u{11A8}", "\u{11C2}", "\u{301}", "\u{323}",
                "\u{300}", "\u{345}", "任", "用", "權", "ⓒ", "～", "･", "｢", "ｶ", "\u{FF9E}",
                "Ｋ", "ﬁ", "é", "É", "Σ", "İ", "ß", "\u{FDFA}", "\u{2126}", "K", "\u{212B}",
            ]), 0..60),
            lowercase: bool, fold_punctuation: bool,
        ) {
            let text = pieces.concat();
            let o = NormalizeOptions { nfkc: true, lowercase, fold_punctuation, fold_whitespace: true };
            let mut out = String::new();
            normalize_into(&text, o, &mut out);
            proptest::prop_assert_eq!(out, reference(&text, o), "{:?} {:?}", text, o);
        }
    }
}
