//! Per-pass vocabulary remapping, so a corpus can outgrow its source text.
//!
//! The sources hold a few hundred kilobytes of real text. A larger corpus needs more
//! originals than that, and reusing the same text would make "distinct" originals of
//! different passes duplicates of each other, which would make the ground truth
//! wrong. Pass 0 therefore uses the text as it is; every later pass rewrites it
//! through a [`Cipher`]: a random one-to-one map of the source's word tokens onto
//! themselves, drawn within bands of similar frequency so common words stay common.
//!
//! The map works on the tokens the shingler sees (NFKC, lower-cased runs of letters
//! and digits), and it is one-to-one, so within a pass it preserves every Jaccard
//! similarity exactly: the near-duplicate filtering done on the plain text holds for
//! every pass. Across passes the same source 5-gram becomes unrelated 5-grams, so
//! originals of different passes share almost nothing.

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use rand::Rng;
use unicode_normalization::UnicodeNormalization;

use crate::text::NormalizeOptions;
use unicode_segmentation::UnicodeSegmentation;

/// Tokens are permuted only among tokens of about the same frequency rank: the
/// sorted vocabulary is cut into bands of this many tokens.
const BAND: usize = 64;

/// The cipherable tokens of a text collection, most frequent first (ties by
/// token), computed once per language and reused by every pass's [`Cipher`].
#[derive(Debug, Clone, Default)]
pub struct CipherVocab {
    ranked: Vec<String>,
}

impl CipherVocab {
    /// Counts the cipherable tokens of `texts`.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> CipherVocab {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for text in texts {
            let nfkc: String = text.nfkc().collect();
            for run in alnum_runs(&nfkc) {
                if let Some(count) = counts.get_mut(run) {
                    *count += 1;
                } else if let Some(token) = cipherable(run) {
                    *counts.entry(token).or_insert(0) += 1;
                }
            }
        }
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        // A stable sort of the BTreeMap's order breaks ties by token.
        ranked.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        CipherVocab {
            ranked: ranked.into_iter().map(|(t, _)| t).collect(),
        }
    }

    /// Number of distinct cipherable tokens.
    pub fn len(&self) -> usize {
        self.ranked.len()
    }

    /// True when there is nothing to permute.
    pub fn is_empty(&self) -> bool {
        self.ranked.is_empty()
    }
}

/// A one-to-one rewrite of word tokens; the identity for pass 0.
#[derive(Debug, Clone, Default)]
pub struct Cipher {
    map: HashMap<String, String>,
}

impl Cipher {
    /// The identity: text passes through unchanged.
    pub fn identity() -> Cipher {
        Cipher::default()
    }

    /// True for the identity.
    pub fn is_identity(&self) -> bool {
        self.map.is_empty()
    }

    /// A random map over the tokens of `vocab`, permuting within frequency bands.
    pub fn new<R: Rng>(vocab: &CipherVocab, rng: &mut R) -> Cipher {
        let mut map = HashMap::with_capacity(vocab.ranked.len());
        for band in vocab.ranked.chunks(BAND) {
            let mut images = band.to_vec();
            images.shuffle(rng);
            for (from, to) in band.iter().zip(images) {
                map.insert(from.clone(), to);
            }
        }
        Cipher { map }
    }

    /// Rewrites `text`: every run of letters and digits whose token is in the map is
    /// replaced by its image (keeping an ASCII word's capitalisation pattern);
    /// everything else is kept. The identity returns the text unchanged; otherwise
    /// the result is in NFKC.
    pub fn apply(&self, text: &str) -> String {
        if self.is_identity() {
            return text.to_owned();
        }
        let nfkc: String = text.nfkc().collect();
        let mut out = String::with_capacity(nfkc.len());
        let mut rest = nfkc.as_str();
        while let Some(start) = rest.find(char::is_alphanumeric) {
            out.push_str(&rest[..start]);
            let run_len = rest[start..]
                .find(|c: char| !c.is_alphanumeric())
                .unwrap_or(rest.len() - start);
            let run = &rest[start..start + run_len];
            match self.map.get(&run.to_lowercase()) {
                Some(image) => out.push_str(&with_case_of(run, image)),
                None => out.push_str(run),
            }
            rest = &rest[start + run_len..];
        }
        out.push_str(rest);
        out
    }
}

/// Maximal runs of alphanumeric characters.
fn alnum_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|run| !run.is_empty())
}

/// The token of a run when the shingler would see the run as exactly one token equal
/// to its lower-cased form; `None` for runs it would split or rewrite (those are left
/// alone, which keeps the map consistent with what the shingler sees).
fn cipherable(run: &str) -> Option<String> {
    let lower = run.to_lowercase();
    let mut normalized = String::new();
    crate::text::normalize_into(&lower, NormalizeOptions::default(), &mut normalized);
    if normalized != lower {
        return None;
    }
    let mut words = normalized.unicode_words();
    match (words.next(), words.next()) {
        (Some(only), None) if only == lower => Some(lower),
        _ => None,
    }
}

/// `image` written with the capitalisation pattern of `run` when both are ASCII
/// (all caps, capitalised or lower case); otherwise `image` as it is.
fn with_case_of(run: &str, image: &str) -> String {
    if !run.is_ascii() || !image.is_ascii() {
        return image.to_owned();
    }
    let upper = run.chars().filter(char::is_ascii_uppercase).count();
    if upper == 0 {
        image.to_owned()
    } else if upper == run.len() && run.len() > 1 {
        image.to_ascii_uppercase()
    } else if run.starts_with(|c: char| c.is_ascii_uppercase()) {
        let mut out = image.to_owned();
        if let Some(first) = out.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        out
    } else {
        image.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::similarity::{truth_shingler, ShingleSet};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn identity_changes_nothing() {
        let c = Cipher::identity();
        assert_eq!(c.apply("Ａ text, ①"), "Ａ text, ①");
    }

    #[test]
    fn keeps_punctuation_spacing_and_case_pattern() {
        let texts = ["Alpha beta GAMMA, delta; epsilon."];
        let c = Cipher::new(&CipherVocab::new(texts), &mut ChaCha8Rng::seed_from_u64(7));
        let out = c.apply(texts[0]);
        let words: Vec<&str> = out.split(' ').collect();
        assert_eq!(words.len(), 5);
        assert!(words[0].starts_with(|ch: char| ch.is_ascii_uppercase()));
        assert!(words[2]
            .trim_end_matches(',')
            .chars()
            .all(|ch| ch.is_ascii_uppercase()));
        assert!(out.ends_with('.') && out.contains(", ") && out.contains("; "));
    }

    #[test]
    fn is_one_to_one_on_tokens() {
        let text = "a b c d e f g h i j k l m n o p q r s t u v w x y z";
        let c = Cipher::new(&CipherVocab::new([text]), &mut ChaCha8Rng::seed_from_u64(1));
        let out = c.apply(text);
        let mut images: Vec<&str> = out.split(' ').collect();
        assert_ne!(out, text, "26 tokens in one band are permuted");
        images.sort_unstable();
        images.dedup();
        assert_eq!(images.len(), 26);
    }

    /// The property the generator relies on: within one pass, Jaccard similarities
    /// between texts are exactly those of the plain texts, for English and Korean.
    #[test]
    fn preserves_jaccard_between_real_source_paragraphs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
        let sources = crate::synth::Sources::load(&dir).expect("committed sources");
        let shingler = truth_shingler().expect("default config");
        for docs in [&sources.english, &sources.korean] {
            let paras: Vec<String> = docs
                .iter()
                .flat_map(|d| d.paragraphs.windows(2).map(|w| w.join(" ")))
                .collect();
            let vocab = CipherVocab::new(paras.iter().map(String::as_str));
            let cipher = Cipher::new(&vocab, &mut ChaCha8Rng::seed_from_u64(3));
            let plain: Vec<ShingleSet> =
                paras.iter().map(|p| ShingleSet::of(&shingler, p)).collect();
            let coded: Vec<ShingleSet> = paras
                .iter()
                .map(|p| ShingleSet::of(&shingler, &cipher.apply(p)))
                .collect();
            let mut changed = 0;
            let mut overlapping = 0;
            // Neighbouring windows overlap by one paragraph, so many pairs have 0 < J < 1.
            for i in 0..paras.len() {
                for j in i..(i + 4).min(paras.len()) {
                    let (a, b) = (plain[i].jaccard(&plain[j]), coded[i].jaccard(&coded[j]));
                    assert_eq!(a, b, "pair {i},{j}");
                    if a > 0.0 && a < 1.0 {
                        overlapping += 1;
                    }
                }
                if coded[i] != plain[i] {
                    changed += 1;
                }
            }
            assert!(overlapping > 100, "{overlapping} overlapping pairs checked");
            assert!(
                changed * 10 > paras.len() * 9,
                "{changed} of {} changed",
                paras.len()
            );
        }
    }
}
