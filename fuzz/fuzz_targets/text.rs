//! Normalisation, shingling and sketching of arbitrary text.
//!
//! The first two bytes pick the normalisation steps, the tokenizer, n and the
//! signature length; the rest, made valid UTF-8, is the text. Checked:
//! - normalisation equals the plain definition of its steps, applied one after
//!   another to the whole text (the fast paths may not differ from it);
//! - the number of shingles follows from the number of tokens of the normalised
//!   text, and with n = 1 each shingle is the shingle of its token alone;
//! - reused scratch buffers change nothing;
//! - MinHash signatures (both constructions, every instruction set the CPU has)
//!   and SimHash fingerprints do not depend on the order of the shingles.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neardedup::minhash::kernels::{self, Isa};
use neardedup::minhash::{MinHasher, Signer, Variant};
use neardedup::text::shingle::Scratch;
use neardedup::text::{normalize_into, NormalizeOptions, ShingleConfig, Shingler, Tokenizer};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let normalize = NormalizeOptions {
        nfkc: a & 1 != 0,
        lowercase: a & 2 != 0,
        fold_punctuation: a & 4 != 0,
        fold_whitespace: a & 8 != 0,
    };
    let tokenizer = match (a >> 4) & 3 {
        0 | 3 => Tokenizer::Word,
        1 => Tokenizer::Whitespace,
        _ => Tokenizer::Char,
    };
    let ngram = 1 + usize::from(a >> 6) + usize::from(b & 1) * 4;
    let num_perm = 1 + usize::from(b >> 1);
    let text = String::from_utf8_lossy(rest);

    let normalized = check_normalize(&text, normalize);
    let config = ShingleConfig {
        tokenizer,
        ngram,
        normalize,
    };
    let shingles = check_shingles(&text, &normalized, config);
    check_sketches(&shingles, num_perm, u64::from(*b));
});

/// Normalisation by its definition: NFKC of the whole text; then each character
/// that is neither alphanumeric nor white space becomes a space (punctuation
/// folding), and each other character is lower-cased; then runs of white space
/// become one space, with none at the ends.
fn reference(text: &str, o: NormalizeOptions) -> String {
    let text: String = if o.nfkc {
        text.nfkc().collect()
    } else {
        text.to_owned()
    };
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        if o.fold_punctuation && !c.is_alphanumeric() && !c.is_whitespace() {
            folded.push(' ');
        } else if o.lowercase {
            folded.extend(c.to_lowercase());
        } else {
            folded.push(c);
        }
    }
    if o.fold_whitespace {
        folded.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        folded
    }
}

fn check_normalize(text: &str, options: NormalizeOptions) -> String {
    let mut out = String::from("left over from an earlier text");
    normalize_into(text, options, &mut out);
    assert_eq!(out, reference(text, options), "options {options:?}");
    if options.fold_whitespace {
        assert!(!out.starts_with(' ') && !out.ends_with(' ') && !out.contains("  "));
    }
    out
}

/// The tokens of normalised text, by the tokenizer's definition: for words, the
/// UAX #29 words of each run between spaces.
fn tokens(normalized: &str, tokenizer: Tokenizer) -> Vec<String> {
    match tokenizer {
        Tokenizer::Word => normalized
            .split(' ')
            .flat_map(|run| run.unicode_words())
            .map(String::from)
            .collect(),
        Tokenizer::Whitespace => normalized.split_whitespace().map(String::from).collect(),
        Tokenizer::Char => normalized.chars().map(String::from).collect(),
    }
}

fn check_shingles(text: &str, normalized: &str, config: ShingleConfig) -> Vec<u64> {
    let shingler = Shingler::new(config).expect("n is at least 1");
    let mut scratch = Scratch::default();
    assert_eq!(shingler.normalize(text, &mut scratch), normalized);

    let mut shingles = vec![7, 7, 7];
    shingler.shingles_into(text, &mut scratch, &mut shingles);
    assert_eq!(
        shingles,
        shingler.shingles(text),
        "scratch buffers carry nothing over"
    );

    let tokens = tokens(normalized, config.tokenizer);
    let expected = match tokens.len() {
        0 => 0,
        k => (k + 1).saturating_sub(config.ngram).max(1),
    };
    assert_eq!(
        shingles.len(),
        expected,
        "{} tokens, n = {}",
        tokens.len(),
        config.ngram
    );

    // With n = 1 a shingle is its token's hash: the shingle of the token taken
    // alone, split on white space only and not normalised again.
    if config.ngram == 1 && tokens.iter().all(|t| !t.contains(char::is_whitespace)) {
        let one = Shingler::new(ShingleConfig {
            tokenizer: Tokenizer::Whitespace,
            ngram: 1,
            normalize: NormalizeOptions::none(),
        })
        .expect("n is 1");
        let each: Vec<u64> = tokens.iter().flat_map(|t| one.shingles(t)).collect();
        assert_eq!(shingles, each, "tokens {tokens:?}");
    }
    shingles
}

fn check_sketches(shingles: &[u64], num_perm: usize, seed: u64) {
    let mut reversed = shingles.to_vec();
    reversed.reverse();
    for variant in [Variant::Classic, Variant::OnePermutation] {
        let signer = Signer::new(variant, num_perm, seed);
        let mut signature = vec![0; num_perm];
        let mut again = vec![1; num_perm];
        signer.sign_into(shingles, &mut signature);
        signer.sign_into(&reversed, &mut again);
        assert_eq!(signature, again, "{variant:?} ignores order");
    }

    // Every kernel the CPU can run gives the portable kernel's answer.
    let classic = MinHasher::new(num_perm, seed);
    let (a_lo, a_hi, b) = classic.kernel_coefficients();
    let mut portable = vec![u32::MAX; num_perm];
    assert!(kernels::sign_with(
        Isa::Portable,
        a_lo,
        a_hi,
        b,
        shingles,
        &mut portable
    ));
    let mut bins = vec![0u64; shingles.len()];
    let key = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    assert!(kernels::oph_bins_with(
        Isa::Portable,
        key,
        num_perm as u64,
        shingles,
        &mut bins
    ));
    for isa in Isa::available() {
        let mut out = vec![u32::MAX; num_perm];
        assert!(kernels::sign_with(isa, a_lo, a_hi, b, shingles, &mut out));
        assert_eq!(out, portable, "{isa:?}");
        let mut out = vec![0u64; shingles.len()];
        assert!(kernels::oph_bins_with(
            isa,
            key,
            num_perm as u64,
            shingles,
            &mut out
        ));
        assert_eq!(out, bins, "{isa:?}");
    }

    let fingerprint = neardedup::simhash::fingerprint64(shingles);
    assert_eq!(fingerprint, neardedup::simhash::fingerprint64(&reversed));
    if shingles.is_empty() {
        assert_eq!(fingerprint, 0);
    }
}
