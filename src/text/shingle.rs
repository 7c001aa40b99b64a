//! Tokenising normalised text and hashing its n-grams ("shingles") to 64 bits.
//!
//! Three tokenisers:
//! - [`Tokenizer::Word`] (the default) splits on Unicode word boundaries (UAX #29).
//!   That is script-aware by construction: Latin and Hangul words come out whole,
//!   while Han ideographs and kana, written without spaces, come out one character
//!   each, so word n-grams of Chinese or Japanese text behave like character n-grams.
//! - [`Tokenizer::Whitespace`] splits on whitespace only (what most Python peers do).
//! - [`Tokenizer::Char`] uses every character of the normalised text (spaces
//!   included) as a token.
//!
//! Each token is hashed once (xxh3); an n-gram's hash mixes its n token hashes, so no
//! n-gram is ever built as a string. A unit with fewer than n tokens (but at least
//! one) yields one shingle made of all its tokens, so short paragraphs still compare.
//!
//! Under punctuation and whitespace folding (the default), word tokens of text made
//! of ASCII, Hangul syllables and a few common separators are found in one pass
//! over the input, with no normalised copy: the runs between ASCII separators are
//! found 64 bytes at a time from bit masks, an ASCII run is one word, and a run
//! with other characters is split byte by byte; a run with any character other
//! than those alone is normalised and segmented. The tests hold that path to the
//! general one.

use unicode_segmentation::UnicodeSegmentation;
use xxhash_rust::xxh3::xxh3_64;

use super::normalize::{
    ascii_table_for, is_hangul_syllable_at, normalize_into, utf8_len, NormalizeOptions, ASCII_SPACE,
};
use crate::error::{Error, Result};
use crate::simd::shingle::{window_hashes, word_masks, WordMasks};

/// How text is cut into tokens before n-grams are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Tokenizer {
    /// Unicode word boundaries; Han and kana one character per token.
    Word,
    /// Runs of non-whitespace.
    Whitespace,
    /// Single characters of the normalised text.
    Char,
}

crate::setting_names::by_setting_name!(Tokenizer);

/// Everything that decides which shingles a text has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShingleConfig {
    /// How tokens are found.
    pub tokenizer: Tokenizer,
    /// Tokens per shingle (n of the n-gram), at least 1.
    pub ngram: usize,
    /// Normalisation applied before tokenising.
    pub normalize: NormalizeOptions,
}

impl ShingleConfig {
    /// Rejects an `ngram` of 0 (the only value that cannot work).
    pub fn validate(&self) -> Result<()> {
        if self.ngram == 0 {
            return Err(Error::invalid_setting("ngram", self.ngram, "at least 1"));
        }
        Ok(())
    }
}

impl Default for ShingleConfig {
    fn default() -> Self {
        ShingleConfig {
            tokenizer: Tokenizer::Word,
            ngram: 5,
            normalize: NormalizeOptions::default(),
        }
    }
}

/// Reusable buffers, one per worker thread, so shingling allocates nothing per unit
/// once the buffers have grown.
#[derive(Debug, Default)]
pub struct Scratch {
    normalized: String,
    token_hashes: Vec<u64>,
}

/// Turns texts into shingle hashes under one [`ShingleConfig`].
#[derive(Debug, Clone)]
pub struct Shingler {
    config: ShingleConfig,
}

impl Shingler {
    /// Checks the configuration (n must be at least 1) and builds a shingler.
    pub fn new(config: ShingleConfig) -> Result<Self> {
        config.validate()?;
        Ok(Shingler { config })
    }

    /// The configuration in force.
    pub fn config(&self) -> &ShingleConfig {
        &self.config
    }

    /// Normalises `text` into the scratch buffer and returns it.
    pub fn normalize<'s>(&self, text: &str, scratch: &'s mut Scratch) -> &'s str {
        normalize_into(text, self.config.normalize, &mut scratch.normalized);
        &scratch.normalized
    }

    /// Appends the shingle hashes of `text` to `out` (cleared first), in text order;
    /// repeated shingles appear repeatedly.
    pub fn shingles_into(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<u64>) {
        out.clear();
        let n = &self.config.normalize;
        if self.config.tokenizer == Tokenizer::Word && n.fold_punctuation && n.fold_whitespace {
            scratch.token_hashes.clear();
            plain_word_hashes(text, *n, &mut scratch.token_hashes, &mut scratch.normalized);
            ngrams_of(&scratch.token_hashes, self.config.ngram, out);
            return;
        }
        self.shingles_general(text, scratch, out);
    }

    /// The general path: normalise into a buffer, then tokenise it.
    fn shingles_general(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<u64>) {
        normalize_into(text, self.config.normalize, &mut scratch.normalized);
        let tokens = &mut scratch.token_hashes;
        tokens.clear();
        let normalized = scratch.normalized.as_str();
        match self.config.tokenizer {
            Tokenizer::Word => word_hashes(normalized, tokens),
            Tokenizer::Whitespace => tokens.extend(normalized.split_whitespace().map(hash_token)),
            Tokenizer::Char => {
                let mut buf = [0u8; 4];
                tokens.extend(
                    normalized
                        .chars()
                        .map(|c| hash_token(c.encode_utf8(&mut buf))),
                );
            }
        }
        ngrams_of(tokens, self.config.ngram, out);
    }

    /// Convenience wrapper around [`Shingler::shingles_into`] with fresh buffers.
    pub fn shingles(&self, text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        self.shingles_into(text, &mut Scratch::default(), &mut out);
        out
    }
}

/// Word-token hashes of `text` under punctuation and whitespace folding, exactly
/// as the general path (normalise, then split into words) makes them, mostly in
/// one pass with no normalised copy.
///
/// Under punctuation folding every ASCII byte other than a letter or digit
/// becomes a space, so the text is *spans* (runs of ASCII letters and digits and
/// of characters outside ASCII) between ASCII separators. Spans are found 64
/// bytes at a time from bit masks ([`word_masks`]). A span of ASCII letters and
/// digits alone is one word, hashed straight from the input unless it has a
/// capital the byte map lower-cases. A span with a character outside ASCII goes
/// through [`plain_span_hashes`]. ASCII characters are starters that never
/// compose with a neighbour, so the NFKC of the text is the NFKC of its spans and
/// separators put together; the other steps are per character, and the general
/// path splits words at spaces before segmenting, so the words of the text are
/// the words of its spans.
fn plain_word_hashes(
    text: &str,
    options: NormalizeOptions,
    tokens: &mut Vec<u64>,
    normalized: &mut String,
) {
    debug_assert!(options.fold_punctuation, "spans need punctuation folded");
    let bytes = text.as_bytes();
    let mut emit =
        |span: Span, end: usize| span.push_hashes(text, end, options, tokens, normalized);
    // A span that reaches the end of the block before, still open.
    let mut open: Option<Span> = None;
    let mut tail = [0u8; 64];
    let mut base = 0;
    while base < bytes.len() {
        let masks = match bytes.get(base..base + 64) {
            Some(block) => word_masks(block.try_into().expect("sixty-four bytes")),
            None => {
                // The last, short block, padded with NUL (a separator).
                let rest = &bytes[base..];
                tail[..rest.len()].copy_from_slice(rest);
                tail[rest.len()..].fill(0);
                word_masks(&tail)
            }
        };
        let mut word = masks.word;
        if let Some(span) = &mut open {
            let len = (!word).trailing_zeros() as usize;
            let inside = low_bits(len);
            span.absorb(&masks, inside);
            if len == 64 {
                base += 64;
                continue;
            }
            emit(*span, base + len);
            open = None;
            word &= !inside;
        }
        while word != 0 {
            let start = word.trailing_zeros() as usize;
            let end = start + (!(word >> start)).trailing_zeros() as usize;
            let inside = low_bits(end) & !low_bits(start);
            let mut span = Span {
                start: base + start,
                upper: false,
                high: false,
            };
            span.absorb(&masks, inside);
            if end == 64 {
                open = Some(span);
                break;
            }
            emit(span, base + end);
            word &= !inside;
        }
        base += 64;
    }
    if let Some(span) = open {
        emit(span, bytes.len());
    }
}

/// A run of word bytes (see [`WordMasks::word`]) found so far: where it starts
/// and what kinds of bytes it has.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    /// Has an ASCII capital.
    upper: bool,
    /// Has a byte outside ASCII.
    high: bool,
}

impl Span {
    /// Takes in the bytes of a block that `inside` marks.
    #[inline]
    fn absorb(&mut self, masks: &WordMasks, inside: u64) {
        self.upper |= masks.upper & inside != 0;
        self.high |= masks.high & inside != 0;
    }

    /// Appends the word-token hashes of the span, which ends at `end` of `text`.
    /// Inlined: it runs once per word.
    #[inline(always)]
    fn push_hashes(
        self,
        text: &str,
        end: usize,
        options: NormalizeOptions,
        tokens: &mut Vec<u64>,
        normalized: &mut String,
    ) {
        let bytes = text.as_bytes();
        if self.high {
            // Both ends sit next to an ASCII byte or the text's ends, so they
            // are char boundaries.
            plain_span_hashes(&text[self.start..end], options, tokens, normalized);
        } else if self.upper && options.lowercase {
            tokens.push(hash_lowered(bytes, self.start..end));
        } else {
            tokens.push(xxh3_64(&bytes[self.start..end]));
        }
    }
}

/// A mask of the lowest `n` bits, `n` up to 64.
#[inline]
fn low_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// Word-token hashes of one span (text with no ASCII separator) that has a
/// character outside ASCII, as the general path makes them.
///
/// Text made of ASCII letters and digits, Hangul syllables and the
/// [`is_plain_separator`] characters is its own NFKC apart from no-break spaces
/// (which become spaces), and every character in it is a starter that composes
/// with nothing, so normalisation is per character: the byte map for ASCII,
/// Hangul syllables kept, separators folded to spaces. Every run between those
/// separators is then ASCII letters and digits and Hangul syllables, one word
/// for UAX #29, hashed exactly as the general path hashes it: straight from the
/// input unless lower-casing changed a byte. Any other character sends the
/// whole span through the general path ([`general_span`]).
fn plain_span_hashes(
    text: &str,
    options: NormalizeOptions,
    tokens: &mut Vec<u64>,
    normalized: &mut String,
) {
    let table = ascii_table_for(options);
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    // How many tokens there were before the span.
    let first = tokens.len();
    loop {
        // Skip separators.
        loop {
            let Some(&b) = bytes.get(i) else {
                return;
            };
            if b < 0x80 || is_hangul_syllable_at(bytes, i) {
                break;
            }
            let len = utf8_len(b);
            if is_plain_separator(&bytes[i..i + len]) {
                i += len;
            } else {
                general_span(text, first, options, tokens, normalized);
                return;
            }
        }
        // A word: letters, digits and Hangul syllables.
        let start = i;
        let mut changed = false;
        while i < n {
            let b = bytes[i];
            if b < 0x80 {
                let mapped = table[usize::from(b)];
                debug_assert_ne!(mapped, ASCII_SPACE, "a span has no ASCII separator");
                changed |= mapped != b;
                i += 1;
            } else if is_hangul_syllable_at(bytes, i) {
                i += 3;
            } else {
                break;
            }
        }
        let word = &bytes[start..i];
        tokens.push(if changed {
            hash_mapped(word, table)
        } else {
            xxh3_64(word)
        });
    }
}

/// Replaces the tokens of `span` (text with no ASCII separator), from token
/// `first` on, with the general path's tokens of the whole span.
fn general_span(
    span: &str,
    first: usize,
    options: NormalizeOptions,
    tokens: &mut Vec<u64>,
    normalized: &mut String,
) {
    tokens.truncate(first);
    normalize_into(span, options, normalized);
    word_hashes(normalized, tokens);
}

/// The hash of the word at `range` of `bytes` (ASCII letters and digits only)
/// lower-cased, as the byte map lower-cases it: every such byte with bit 0x20
/// set (digits have it already).
///
/// A word of at most 16 (or 64) bytes with that many bytes of text from its
/// start is lower-cased in a fixed-size copy of those bytes, which compiles to a
/// vector move or four where copying the word alone would call `memcpy`.
#[inline(always)]
fn hash_lowered(bytes: &[u8], range: std::ops::Range<usize>) -> u64 {
    lowered_in::<16>(bytes, range.clone())
        .or_else(|| lowered_in::<64>(bytes, range.clone()))
        .unwrap_or_else(|| xxh3_64(&bytes[range].iter().map(|&b| b | 0x20).collect::<Vec<u8>>()))
}

/// [`hash_lowered`] in a copy of the `N` bytes from the word's start, if the
/// word fits in them and the text has them.
#[inline(always)]
fn lowered_in<const N: usize>(bytes: &[u8], range: std::ops::Range<usize>) -> Option<u64> {
    if range.len() > N {
        return None;
    }
    let mut block: [u8; N] = bytes.get(range.start..range.start + N)?.try_into().ok()?;
    for b in &mut block {
        *b |= 0x20;
    }
    Some(xxh3_64(&block[..range.len()]))
}

/// The hash of `word` (ASCII letters and digits and Hangul syllables) with its
/// ASCII bytes put through `table`.
fn hash_mapped(word: &[u8], table: &[u8; 128]) -> u64 {
    const SHORT: usize = 64;
    let map = |b: u8| if b < 0x80 { table[usize::from(b)] } else { b };
    if word.len() <= SHORT {
        let mut short = [0u8; SHORT];
        for (o, &b) in short.iter_mut().zip(word) {
            *o = map(b);
        }
        xxh3_64(&short[..word.len()])
    } else {
        xxh3_64(&word.iter().map(|&b| map(b)).collect::<Vec<u8>>())
    }
}

/// Non-ASCII characters common between words (in Korean text especially) that
/// [`plain_word_hashes`] folds to a space: no-break space (NFKC: a space) and
/// punctuation and symbols that are in NFKC, combining class 0 and never
/// compose: `·` U+00B7, `‘’“”` U+2018/2019/201C/201D, `‧` U+2027, `∙` U+2219,
/// `○` U+25CB, `「」` U+300C/300D, `・` U+30FB.
#[inline]
fn is_plain_separator(c: &[u8]) -> bool {
    matches!(
        c,
        [0xC2, 0xA0 | 0xB7]
            | [0xE2, 0x80, 0x98 | 0x99 | 0x9C | 0x9D | 0xA7]
            | [0xE2, 0x88, 0x99]
            | [0xE2, 0x97, 0x8B]
            | [0xE3, 0x80, 0x8C | 0x8D]
            | [0xE3, 0x83, 0xBB]
    )
}

/// Word-token hashes of normalised text in one pass over its bytes: each run
/// between ASCII spaces made only of ASCII letters and digits and Hangul syllables
/// (which UAX #29 keeps whole, see `is_single_word`) is one token, any other run
/// goes through the UAX #29 segmenter.
fn word_hashes(normalized: &str, tokens: &mut Vec<u64>) {
    let bytes = normalized.as_bytes();
    let mut finish = |start: usize, end: usize, single: bool| {
        if end > start {
            // Both ends sit next to an ASCII space or the text's ends, so they are
            // char boundaries.
            let run = &normalized[start..end];
            if single {
                tokens.push(hash_token(run));
            } else {
                tokens.extend(run.unicode_words().map(hash_token));
            }
        }
    };
    let mut start = 0;
    // Whether the run so far has only ASCII letters and digits and Hangul syllables.
    let mut single = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if b == b' ' {
                finish(start, i, single);
                start = i + 1;
                single = true;
            } else if !b.is_ascii_alphanumeric() {
                single = false;
            }
            i += 1;
        } else if is_hangul_syllable_at(bytes, i) {
            i += 3;
        } else {
            single = false;
            i += utf8_len(b);
        }
    }
    finish(start, bytes.len(), single);
}

/// True when UAX #29 would certainly keep `run` (which has no spaces) as one
/// word: it is made only of ASCII letters and digits and Hangul syllables, which
/// are all ALetter or Numeric, and no word boundary falls between those (rules
/// WB5, WB8, WB9, WB10). Anything else goes through the full segmenter.
/// (The test-side definition of what `word_hashes` checks byte by byte.)
#[cfg(test)]
fn is_single_word(run: &str) -> bool {
    if run.is_ascii() {
        return run.bytes().all(|b| b.is_ascii_alphanumeric());
    }
    run.chars()
        .all(|c| c.is_ascii_alphanumeric() || super::normalize::is_hangul_syllable(c))
}

fn hash_token(token: &str) -> u64 {
    xxh3_64(token.as_bytes())
}

/// Hashes every window of `n` consecutive token hashes; fewer than `n` tokens give
/// one shingle of all of them.
///
/// A window's hash is a polynomial in the token hashes (`t0·B^(n-1) + … + t(n-1)`,
/// wrapping), then finalised ([`window_hashes`], all windows at once).
/// `B ≡ 3 (mod 4)`, so swapping two different tokens changes the sum unless they
/// agree in 63 bits.
fn ngrams_of(tokens: &[u64], n: usize, out: &mut Vec<u64>) {
    const B: u64 = 0x9E37_79B9_7F4A_7C17;
    if tokens.is_empty() {
        return;
    }
    let width = n.min(tokens.len());
    let tag = (width as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    window_hashes(tokens, width, B, tag, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::fmix64;
    use std::collections::HashSet;

    #[cfg(feature = "cli")]
    #[test]
    fn tokenizer_has_one_name_per_value() {
        crate::setting_names::assert_one_name_per_value::<Tokenizer>();
    }

    fn shingler(tokenizer: Tokenizer, ngram: usize) -> Shingler {
        Shingler::new(ShingleConfig {
            tokenizer,
            ngram,
            normalize: NormalizeOptions::default(),
        })
        .expect("valid config")
    }

    /// The shingles of `text` by the fast paths and by the general path.
    fn fast_and_general(shingler: &Shingler, text: &str) -> (Vec<u64>, Vec<u64>) {
        let mut scratch = Scratch::default();
        let (mut fast, mut general) = (Vec::new(), Vec::new());
        shingler.shingles_into(text, &mut scratch, &mut fast);
        shingler.shingles_general(text, &mut scratch, &mut general);
        (fast, general)
    }

    #[test]
    fn word_ngram_count_is_tokens_minus_n_plus_one() {
        let s = shingler(Tokenizer::Word, 3);
        assert_eq!(s.shingles("one two three four five").len(), 3);
        assert_eq!(
            s.shingles("one two").len(),
            1,
            "short text gives one shingle"
        );
        assert!(s.shingles("  ... ").is_empty(), "no tokens, no shingles");
    }

    #[test]
    fn shingles_ignore_case_punctuation_and_spacing() {
        let s = shingler(Tokenizer::Word, 2);
        assert_eq!(s.shingles("The cat, sat!"), s.shingles("the   CAT sat"));
        assert_ne!(s.shingles("the cat sat"), s.shingles("the sat cat"));
    }

    #[test]
    fn han_is_split_per_character_and_hangul_per_word() {
        let s = shingler(Tokenizer::Word, 1);
        assert_eq!(s.shingles("中华人民").len(), 4);
        assert_eq!(s.shingles("대한민국 헌법").len(), 2);
    }

    #[test]
    fn char_ngrams_cover_spaces_between_words() {
        let s = shingler(Tokenizer::Char, 3);
        // "ab cd" has 5 chars -> 3 trigrams.
        assert_eq!(s.shingles("AB,  cd").len(), 3);
    }

    #[test]
    fn one_word_edit_changes_at_most_n_shingles() {
        let s = shingler(Tokenizer::Word, 5);
        let a = "시는 지난 5일 더플라자호텔 서울에서 열린 제8회 대한민국 신뢰받는 혁신대상에서 행정혁신부문 대상을 수상했다";
        let b = a.replace("서울에서", "부산에서");
        let sa: HashSet<u64> = s.shingles(a).into_iter().collect();
        let sb: HashSet<u64> = s.shingles(&b).into_iter().collect();
        let differing = sa.symmetric_difference(&sb).count();
        assert_eq!(
            differing,
            2 * 5,
            "each side loses the 5 windows covering the word"
        );
    }

    #[test]
    fn zero_ngram_is_a_config_error() {
        let config = ShingleConfig {
            ngram: 0,
            ..ShingleConfig::default()
        };
        assert!(Shingler::new(config).is_err());
    }

    proptest::proptest! {
        #[test]
        fn word_fast_path_matches_the_segmenter(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "a", "bc", "Z9", "7", " ", "  ", "\t", "\n", ",", ".", "'", "-", "_", "é", "한", "국어",
                "ㄱ", "中", "文", "の", "カナ", "ไทย", "Ω", "٣", "\u{301}", "·", "1.5", "don't",
            ]), 0..40),
            fold_punctuation: bool,
        ) {
            let text = pieces.concat();
            let normalize = NormalizeOptions { fold_punctuation, ..NormalizeOptions::default() };
            let shingler = Shingler::new(ShingleConfig { tokenizer: Tokenizer::Word, ngram: 1, normalize })
                .expect("valid config");
            let mut scratch = Scratch::default();
            let mut fast = Vec::new();
            shingler.shingles_into(&text, &mut scratch, &mut fast);
            let normalized = shingler.normalize(&text, &mut scratch).to_string();
            let tokens: Vec<u64> = normalized.unicode_words().map(hash_token).collect();
            let mut reference = Vec::new();
            ngrams_of(&tokens, 1, &mut reference);
            proptest::prop_assert_eq!(fast, reference, "{:?}", text);
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_single_pass_matches_the_general_path(
            text in "[ -~\t\n가-힣é中ㄱ]{0,300}",
            ngram in 1usize..6,
            lowercase: bool,
        ) {
            let normalize = NormalizeOptions { lowercase, ..NormalizeOptions::default() };
            let shingler = Shingler::new(ShingleConfig { tokenizer: Tokenizer::Word, ngram, normalize })
                .expect("valid config");
            let (fast, general) = fast_and_general(&shingler, &text);
            proptest::prop_assert_eq!(fast, general, "{:?}", text);
        }
    }

    proptest::proptest! {
        #[test]
        fn one_pass_word_split_matches_runs_then_segmenter(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "a", "Bc", "9", " ", "  ", "\t", "\u{a0}", "\u{3000}", ".", "'", "_", "가", "힣",
                "한국어", "\u{11A8}", "\u{1161}", "ㄱ", "ᆞ", "中", "の", "カナ", "é", "\u{301}",
                "٣", "ไทย", "·", "1.5", "don't", "Ω", "\u{D7A4}", "\u{ABFF}", "\u{D7FB}",
            ]), 0..50),
        ) {
            let text = pieces.concat();
            let mut fast = Vec::new();
            word_hashes(&text, &mut fast);
            let mut reference = Vec::new();
            for run in text.split(' ').filter(|r| !r.is_empty()) {
                if is_single_word(run) {
                    reference.push(hash_token(run));
                } else {
                    reference.extend(run.unicode_words().map(hash_token));
                }
            }
            proptest::prop_assert_eq!(fast, reference, "{:?}", text);
        }
    }

    /// Whether word shingles of `text` (punctuation and whitespace folded) come
    /// out alike from the fast paths and from the general path.
    fn word_paths_agree(
        text: &str,
        ngram: usize,
        lowercase: bool,
        nfkc: bool,
    ) -> std::result::Result<(), proptest::test_runner::TestCaseError> {
        let normalize = NormalizeOptions {
            nfkc,
            lowercase,
            ..NormalizeOptions::default()
        };
        let shingler = Shingler::new(ShingleConfig {
            tokenizer: Tokenizer::Word,
            ngram,
            normalize,
        })
        .expect("valid config");
        let (fast, general) = fast_and_general(&shingler, text);
        proptest::prop_assert_eq!(fast, general, "{:?}", text);
        Ok(())
    }

    #[test]
    fn plain_separators_are_stable_punctuation() {
        use unicode_normalization::char::canonical_combining_class;
        use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
        let mut found = Vec::new();
        for c in '\u{80}'..='\u{FFFF}' {
            if is_plain_separator(c.encode_utf8(&mut [0; 4]).as_bytes()) {
                found.push(c);
            }
        }
        assert_eq!(found.len(), 12, "{found:?}");
        for c in found {
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert!(!c.is_alphanumeric(), "{c:?}");
            if c == '\u{a0}' {
                assert_eq!(c.to_string().nfkc().collect::<String>(), " ");
            } else {
                assert_eq!(
                    is_nfkc_quick(std::iter::once(c)),
                    IsNormalized::Yes,
                    "{c:?}"
                );
                // Not even a candidate for composing with a preceding character.
                assert_eq!(
                    unicode_normalization::is_nfc_quick(std::iter::once(c)),
                    IsNormalized::Yes,
                    "{c:?}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Korean-like text (Hangul, ASCII, the separators the one-pass path folds,
        /// and characters that send it to the general path) shingles alike on both
        /// paths.
        #[test]
        fn plain_path_matches_the_general_path(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "가", "각", "한국어", "법률", "Ab", "x", "9", "Q7", " ", "  ", "\n", ".", ",", "(",
                "\u{a0}", "·", "‘", "’", "“", "”", "‧", "∙", "○", "「", "」", "・",
                "\u{3000}", "ㆍ", "․", "①", "ᆞ", "\u{1161}", "\u{11A8}", "\u{301}", "任", "é",
                "Ｋ", "\u{D7A4}", "\u{ABFF}",
            ]), 0..60),
            ngram in 1usize..5,
            lowercase: bool, nfkc: bool,
        ) {
            word_paths_agree(&pieces.concat(), ngram, lowercase, nfkc)?;
        }
    }

    /// What the block scan assumes of the byte maps it runs under (punctuation
    /// folded): a separator is exactly an ASCII byte that is not a letter or
    /// digit, and lower-casing a letter or digit sets its bit 0x20.
    #[test]
    fn block_scan_agrees_with_the_byte_maps() {
        for lowercase in [false, true] {
            let options = NormalizeOptions {
                lowercase,
                ..NormalizeOptions::default()
            };
            let table = ascii_table_for(options);
            for b in 0..128u8 {
                let mapped = table[usize::from(b)];
                assert_eq!(mapped == ASCII_SPACE, !b.is_ascii_alphanumeric(), "{b:#x}");
                if lowercase && b.is_ascii_alphanumeric() {
                    assert_eq!(mapped, b | 0x20, "{b:#x}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Words and spans longer than the 64-byte blocks the spans are found
        /// in, and ones that cross from one block into the next, whatever
        /// they hold.
        #[test]
        fn spans_across_blocks_match_the_general_path(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "abcdefghijklmnopqrstuvwxyz0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "q", "Z",
                "대한민국헌법", "가", "·", "é", "中", " ", ".", "\n",
            ]), 0..40),
            ngram in 1usize..5,
            lowercase: bool, nfkc: bool,
        ) {
            word_paths_agree(&pieces.concat(), ngram, lowercase, nfkc)?;
        }
    }

    proptest::proptest! {
        /// Mixed-script text whose non-plain characters sit anywhere (after
        /// punctuation, inside words, at the ends): combining marks, a mark that
        /// composes with `<`, joiners, format characters, compatibility forms,
        /// other scripts. Only the stretches around them leave the one-pass path,
        /// and the shingles are the general path's.
        #[test]
        fn spans_left_to_the_general_path_match_it(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "word", "Ab", "9", "가", "한국어", " ", "\n", ".", ",", "<", "=", "-", "'",
                "\u{a0}", "·", "“", "\u{301}", "\u{338}", "\u{345}", "\u{200d}", "\u{ad}",
                "\u{200b}", "\u{feff}", "é", "ﬁ", "Ｋ", "①", "ß", "İ", "Σ", "中", "カ", "ไทย",
                "—", "©", "…", "\u{1161}", "\u{11A8}", "ᄀ", "ㄱ", "٣", "\u{3000}",
            ]), 0..60),
            ngram in 1usize..5,
            lowercase: bool, nfkc: bool,
        ) {
            word_paths_agree(&pieces.concat(), ngram, lowercase, nfkc)?;
        }
    }

    #[test]
    fn long_ascii_tokens_hash_like_the_general_path() {
        let shingler = Shingler::new(ShingleConfig::default()).expect("valid config");
        for text in [
            format!("short {} words here and more", "x".repeat(200)),
            format!("Short {} Words 한국어", "X가".repeat(200)),
        ] {
            let (fast, general) = fast_and_general(&shingler, &text);
            assert_eq!(fast, general);
        }
    }

    #[test]
    fn windows_equal_the_rolling_polynomial() {
        // The reference: the first window by Horner's rule, each next one rolled
        // from it (the token leaving takes its weight out), then finalised.
        fn rolled(tokens: &[u64], n: usize) -> Vec<u64> {
            const B: u64 = 0x9E37_79B9_7F4A_7C17;
            let width = n.min(tokens.len());
            let tag = (width as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
            let top = (1..width).fold(1u64, |p, _| p.wrapping_mul(B));
            let mut h = tokens[..width]
                .iter()
                .fold(0u64, |h, &t| h.wrapping_mul(B).wrapping_add(t));
            let mut out = vec![fmix64(h ^ tag)];
            for (&enters, &leaves) in tokens[width..].iter().zip(tokens) {
                h = h
                    .wrapping_sub(leaves.wrapping_mul(top))
                    .wrapping_mul(B)
                    .wrapping_add(enters);
                out.push(fmix64(h ^ tag));
            }
            out
        }
        let tokens: Vec<u64> = (0..40u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xABCD)
            .collect();
        for len in [1, 2, 3, 7, 40] {
            for n in 1..8 {
                let mut windows = Vec::new();
                ngrams_of(&tokens[..len], n, &mut windows);
                assert_eq!(windows, rolled(&tokens[..len], n), "n={n}, {len} tokens");
            }
        }
        let mut swapped = tokens.clone();
        swapped.swap(0, 1);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        ngrams_of(&tokens[..3], 3, &mut a);
        ngrams_of(&swapped[..3], 3, &mut b);
        assert_ne!(a, b, "order matters");
    }
}
