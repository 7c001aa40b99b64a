//! Article-level corpora: originals cut from the sources, plus edited copies.
//!
//! An original is a run of consecutive paragraphs of one source document (Bible
//! verses grouped into short paragraphs, or statute paragraphs), 150-600 words in
//! English and 100-400 words (eojeol) in Korean, headed by the document's title when
//! the run starts the document. Each pass over a language's sources cuts the
//! documents at fresh random points, rewrites them through the pass's
//! [`Cipher`](super::cipher::Cipher), drops every chunk whose Jaccard with an
//! earlier chunk of the pass is 0.2 or more (the sources contain natural duplicates),
//! and shuffles what is left. Each original then gets 0..=`max_copies` copies made by
//! one [`Edit`] each, and every copy's Jaccard with its original is measured.

use rand::seq::SliceRandom;
use rand::Rng;

use super::edits::Edit;
use super::similarity::{keep_dissimilar, ShingleSet};
use super::sources::{word_count, SourceDoc, SourceLanguage};
use super::{LanguageState, Rates, DISSIMILAR_BELOW};
use crate::text::Shingler;

/// One record of a batch before ids are assigned.
#[derive(Debug, Clone)]
pub(crate) struct ArticleItem {
    /// Paragraphs of the record's text.
    pub paragraphs: Vec<String>,
    /// Index (in the batch) of the original this record derives from; its own index
    /// for an original.
    pub original: usize,
    /// True Jaccard with the original.
    pub jaccard: f64,
    /// Edit label (`original` for originals).
    pub edit: String,
}

/// Word-count range of one original.
fn chunk_words(language: SourceLanguage) -> (usize, usize) {
    match language {
        SourceLanguage::English => (150, 600),
        SourceLanguage::Korean => (100, 400),
    }
}

/// Cuts documents into originals: runs of consecutive paragraphs whose word count
/// reaches a random target in the language's range. A short tail joins the previous
/// chunk of its document; a whole document shorter than half the minimum is skipped.
/// English verses are first grouped into paragraphs of one to four verses.
pub(crate) fn chunk_docs<R: Rng>(
    docs: &[SourceDoc],
    language: SourceLanguage,
    rng: &mut R,
) -> Vec<Vec<String>> {
    let (min, max) = chunk_words(language);
    let mut chunks = Vec::new();
    for doc in docs {
        let paragraphs: Vec<String> = match language {
            SourceLanguage::English => {
                let mut grouped = Vec::new();
                let mut rest = &doc.paragraphs[..];
                while !rest.is_empty() {
                    let take = rng.gen_range(1..=4).min(rest.len());
                    grouped.push(rest[..take].join(" "));
                    rest = &rest[take..];
                }
                grouped
            }
            SourceLanguage::Korean => doc.paragraphs.clone(),
        };
        let first_chunk = chunks.len();
        let mut current: Vec<String> = vec![doc.title.clone()];
        let mut words = word_count(&doc.title);
        let mut target = rng.gen_range(min..=max);
        for paragraph in paragraphs {
            words += word_count(&paragraph);
            current.push(paragraph);
            if words >= target {
                chunks.push(std::mem::take(&mut current));
                words = 0;
                target = rng.gen_range(min..=max);
            }
        }
        if !current.is_empty() {
            if chunks.len() > first_chunk && words < min {
                if let Some(last) = chunks.last_mut() {
                    last.extend(current);
                }
            } else if words >= min / 2 {
                chunks.push(current);
            }
        }
    }
    chunks
}

/// The originals of one pass: chunks rewritten by the pass's cipher, near-duplicates
/// of earlier chunks dropped, order shuffled.
pub(crate) fn build_pass<R: Rng>(
    state: &LanguageState,
    shingler: &Shingler,
    rng: &mut R,
) -> Vec<Vec<String>> {
    let chunks: Vec<Vec<String>> = chunk_docs(&state.docs, state.language, rng)
        .into_iter()
        .map(|chunk| chunk.iter().map(|p| state.cipher.apply(p)).collect())
        .collect();
    let sets: Vec<ShingleSet> = chunks
        .iter()
        .map(|c| ShingleSet::of(shingler, &c.join("\n")))
        .collect();
    let keep = keep_dissimilar(&sets, DISSIMILAR_BELOW);
    let mut kept: Vec<Vec<String>> = keep.into_iter().map(|i| chunks[i].clone()).collect();
    kept.shuffle(rng);
    kept
}

/// Picks the edit for one copy. Word-level edits draw their rate from `rates`;
/// truncation keeps 30-98% of the words.
pub(crate) fn choose_edit<R: Rng>(paragraph_count: usize, rates: Rates, rng: &mut R) -> Edit {
    // Weights: exact 1, noise 1, boilerplate 1, reorder 1, truncate 1, substitute 2,
    // insert 1, delete 1, mixed 2.
    let roll = rng.gen_range(0..11);
    match roll {
        0 => Edit::Exact,
        1 => Edit::Noise,
        2 => Edit::Boilerplate,
        3 if paragraph_count >= 2 => Edit::Reorder,
        3 | 4 => Edit::Truncate(rng.gen_range(0.3..0.98)),
        5 | 6 => Edit::Substitute(rates.sample(rng)),
        7 => Edit::Insert(rates.sample(rng)),
        8 => Edit::Delete(rates.sample(rng)),
        _ => Edit::Mixed(rates.sample(rng)),
    }
}

/// The original and its copies, appended to `items`.
pub(crate) fn original_with_copies<R: Rng>(
    original: Vec<String>,
    state: &LanguageState,
    shingler: &Shingler,
    max_copies: usize,
    rates: Rates,
    rng: &mut R,
    items: &mut Vec<ArticleItem>,
) {
    let index = items.len();
    let original_set = ShingleSet::of(shingler, &original.join("\n"));
    let copies = rng.gen_range(0..=max_copies);
    let mut derived = Vec::with_capacity(copies);
    for _ in 0..copies {
        let edit = choose_edit(original.len(), rates, rng);
        let paragraphs = edit.apply(&original, &state.vocab, state.language, rng);
        let jaccard = ShingleSet::of(shingler, &paragraphs.join("\n")).jaccard(&original_set);
        derived.push(ArticleItem {
            paragraphs,
            original: index,
            jaccard,
            edit: edit.label(),
        });
    }
    items.push(ArticleItem {
        paragraphs: original,
        original: index,
        jaccard: 1.0,
        edit: super::ORIGINAL.into(),
    });
    items.extend(derived);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Sources;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn committed() -> Sources {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
        Sources::load(&dir).expect("committed sources")
    }

    #[test]
    fn chunks_stay_in_the_word_range_and_keep_source_order() {
        let sources = committed();
        for language in [SourceLanguage::English, SourceLanguage::Korean] {
            let docs = sources.docs(language);
            let chunks = chunk_docs(docs, language, &mut ChaCha8Rng::seed_from_u64(11));
            let (min, max) = chunk_words(language);
            assert!(chunks.len() >= 20, "{language:?}: {} chunks", chunks.len());
            let mut in_range = 0;
            for chunk in &chunks {
                let words: usize = chunk.iter().map(|p| word_count(p)).sum();
                // A merged tail can push a chunk past max by less than min words, and
                // a single long paragraph can overshoot its target.
                assert!(words >= min / 2, "{language:?}: chunk of {words} words");
                if (min..=max).contains(&words) {
                    in_range += 1;
                }
            }
            assert!(
                in_range * 10 >= chunks.len() * 8,
                "{language:?}: {in_range} of {} in range",
                chunks.len()
            );
            // Every chunk's text appears in its source document in order.
            let all_source: String = docs
                .iter()
                .flat_map(|d| std::iter::once(d.title.clone()).chain(d.paragraphs.clone()))
                .collect::<Vec<_>>()
                .join(" ");
            for chunk in chunks.iter().take(30) {
                assert!(
                    all_source.contains(&chunk[1..].join(" ")),
                    "{:?}",
                    &chunk[..2]
                );
            }
        }
    }

    #[test]
    fn natural_duplicates_in_the_sources_are_dropped() {
        // Psalm 53 repeats Psalm 14 and Isaiah 37 repeats 2 Kings 19: with both in
        // the sources, no two kept originals may reach the threshold.
        let sources = committed();
        let shingler = crate::synth::similarity::truth_shingler().expect("default config");
        let state = LanguageState::new(
            &sources,
            SourceLanguage::English,
            crate::synth::Level::Article,
            &shingler,
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        let state = state.expect("english state");
        let originals = build_pass(&state, &shingler, &mut ChaCha8Rng::seed_from_u64(5));
        let chunks = chunk_docs(
            &state.docs,
            state.language,
            &mut ChaCha8Rng::seed_from_u64(5),
        );
        assert!(originals.len() < chunks.len(), "some chunk was dropped");
        let sets: Vec<ShingleSet> = originals
            .iter()
            .map(|c| ShingleSet::of(&shingler, &c.join("\n")))
            .collect();
        for i in 0..sets.len() {
            for j in 0..i {
                assert!(
                    sets[i].jaccard(&sets[j]) < DISSIMILAR_BELOW,
                    "originals {i} and {j}"
                );
            }
        }
    }
}
