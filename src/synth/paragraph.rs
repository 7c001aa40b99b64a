//! Paragraph-level corpora: articles whose paragraphs repeat within and across
//! articles.
//!
//! Each language has a pool of source paragraphs (English: two to four consecutive
//! verses; Korean: statute paragraphs, short ones merged with the next), at least
//! [`MIN_PARAGRAPH_WORDS`] words each, from which every paragraph with Jaccard 0.2 or
//! more against an earlier pool paragraph has been dropped. Pool paragraphs are
//! handed out in order, each once per pass; a pass after the first rewrites them
//! through that pass's cipher, which keeps the pool's pairwise similarities.
//!
//! An article takes 3-8 consecutive pool paragraphs ("fresh": each the original of
//! its own cluster), then gains 0..=`max_copies` repeats, each an edited copy of a
//! fresh paragraph of the same article or of an earlier article of the batch,
//! placed at a random position. Some articles carry their whole body twice (a page
//! published with the story pasted in again), and some end in a boilerplate line
//! that recurs across the whole corpus.

use rand::Rng;

use super::edits::Edit;
use super::similarity::{keep_dissimilar, ShingleSet};
use super::sources::{word_count, SourceDoc, SourceLanguage};
use super::{Rates, DISSIMILAR_BELOW};
use crate::text::Shingler;

/// Pool paragraphs have at least this many words, so one edit does not wipe out
/// every shingle.
pub const MIN_PARAGRAPH_WORDS: usize = 12;

/// Chance that an article carries its whole body a second time.
const BODY_REPEAT: f64 = 0.15;
/// Chance that an article ends with a boilerplate line.
const BOILERPLATE_LINE: f64 = 0.3;

/// Where a paragraph of a generated article comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A pool paragraph: the original of its own cluster.
    Fresh,
    /// A copy of paragraph `slot` of article `article` (indices into the batch's
    /// articles and that article's slots).
    Copy { article: usize, slot: usize },
    /// Boilerplate line number `line` of the article's language.
    Boilerplate { line: usize },
}

/// One paragraph of an article under construction.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// The paragraph's text (one line, trimmed, non-empty).
    pub text: String,
    /// Where it comes from.
    pub origin: Origin,
    /// True Jaccard with its cluster's original paragraph.
    pub jaccard: f64,
    /// Edit label.
    pub edit: String,
}

/// An article under construction: slots, and the reading order over them (slot
/// indices stay stable while repeats are inserted, so copies can point at them).
#[derive(Debug, Clone)]
pub(crate) struct ParaArticle {
    /// The language the article's paragraphs come from.
    pub language: SourceLanguage,
    /// The paragraphs, in creation order.
    pub slots: Vec<Slot>,
    /// Reading order: `order[k]` is the slot shown as paragraph `k`.
    pub order: Vec<usize>,
}

/// Builds a language's paragraph pool from its documents.
pub(crate) fn build_pool<R: Rng>(
    docs: &[SourceDoc],
    language: SourceLanguage,
    shingler: &Shingler,
    rng: &mut R,
) -> Vec<String> {
    let mut candidates = Vec::new();
    for doc in docs {
        let mut current: Vec<&str> = Vec::new();
        let mut words = 0;
        // English: 2-4 verses per paragraph; Korean: whole lines, merged until long enough.
        let mut group = match language {
            SourceLanguage::English => rng.gen_range(2..=4),
            SourceLanguage::Korean => 1,
        };
        for line in &doc.paragraphs {
            current.push(line);
            words += word_count(line);
            if current.len() >= group && words >= MIN_PARAGRAPH_WORDS {
                candidates.push(current.join(" "));
                current.clear();
                words = 0;
                if language == SourceLanguage::English {
                    group = rng.gen_range(2..=4);
                }
            }
        }
        if words >= MIN_PARAGRAPH_WORDS {
            candidates.push(current.join(" "));
        }
    }
    let sets: Vec<ShingleSet> = candidates
        .iter()
        .map(|p| ShingleSet::of(shingler, p))
        .collect();
    let keep = keep_dissimilar(&sets, DISSIMILAR_BELOW);
    keep.into_iter().map(|i| candidates[i].clone()).collect()
}

/// Recurring boilerplate lines of one language (pairwise dissimilar; see the tests).
pub(crate) fn boilerplate_lines(language: SourceLanguage) -> &'static [&'static str] {
    match language {
        SourceLanguage::English => &[
            "Sign up for our free morning newsletter and never miss a headline again.",
            "This article was corrected after publication to fix a misspelled name.",
            "Photographs courtesy of the county historical society, used with kind permission.",
            "Readers may send letters to the editor through the contact page on our website.",
            "Our reporting is supported by subscribers like you; please consider joining today.",
        ],
        SourceLanguage::Korean => &[
            "이 기사는 독자 여러분의 후원으로 제작되었습니다. 지금 정기 후원에 참여해 주세요.",
            "기사 내용에 대한 정정 요청은 편집국 고객센터 전화로 접수하실 수 있습니다.",
            "사진은 해당 기관에서 제공받았으며 허락 없이 다른 용도로 사용할 수 없습니다.",
            "매일 아침 주요 뉴스를 무료 메일로 받아 보시려면 홈페이지에서 신청하세요.",
        ],
    }
}

/// Picks the edit for one repeated paragraph.
fn choose_edit<R: Rng>(rates: Rates, rng: &mut R) -> Edit {
    match rng.gen_range(0..9) {
        0 | 1 => Edit::Exact,
        2 => Edit::Noise,
        3 => Edit::Truncate(rng.gen_range(0.5..0.98)),
        4 | 5 => Edit::Substitute(rates.sample(rng)),
        6 => Edit::Insert(rates.sample(rng)),
        7 => Edit::Delete(rates.sample(rng)),
        _ => Edit::Mixed(rates.sample(rng)),
    }
}

/// Applies `edit` to one paragraph and measures the result against it.
fn edited_copy<R: Rng>(
    original: &str,
    edit: Edit,
    vocab: &[String],
    language: SourceLanguage,
    shingler: &Shingler,
    rng: &mut R,
) -> (String, f64) {
    let text = edit
        .apply(&[original.to_owned()], vocab, language, rng)
        .join(" ");
    let jaccard = ShingleSet::of(shingler, &text).jaccard(&ShingleSet::of(shingler, original));
    (text, jaccard)
}

/// Inputs for building one article.
pub(crate) struct ArticleInputs<'a> {
    /// The article's language.
    pub language: SourceLanguage,
    /// Its fresh paragraphs, already ciphered for the pass.
    pub fresh: Vec<String>,
    /// Vocabulary for word edits.
    pub vocab: &'a [String],
    /// Upper bound of repeats.
    pub max_copies: usize,
    /// Rate range of word edits.
    pub rates: Rates,
}

/// Builds one article and appends it to `articles` (earlier articles of the batch
/// may be copied from).
pub(crate) fn build_article<R: Rng>(
    inputs: ArticleInputs<'_>,
    shingler: &Shingler,
    articles: &mut Vec<ParaArticle>,
    rng: &mut R,
) {
    let ArticleInputs {
        language,
        fresh,
        vocab,
        max_copies,
        rates,
    } = inputs;
    let fresh_count = fresh.len();
    let mut article = ParaArticle {
        language,
        slots: fresh
            .into_iter()
            .map(|text| Slot {
                text,
                origin: Origin::Fresh,
                jaccard: 1.0,
                edit: super::ORIGINAL.into(),
            })
            .collect(),
        order: (0..fresh_count).collect(),
    };
    let this = articles.len();
    let earlier: Vec<usize> = articles
        .iter()
        .enumerate()
        .filter(|(_, a)| a.language == language)
        .map(|(i, _)| i)
        .collect();

    for _ in 0..rng.gen_range(0..=max_copies) {
        let across = !earlier.is_empty() && rng.gen_bool(0.5);
        let (source_article, source_text, source_slot) = if across {
            let a = earlier[rng.gen_range(0..earlier.len())];
            let fresh_slots: Vec<usize> = articles[a]
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.origin == Origin::Fresh)
                .map(|(i, _)| i)
                .collect();
            let slot = fresh_slots[rng.gen_range(0..fresh_slots.len())];
            (a, articles[a].slots[slot].text.clone(), slot)
        } else {
            let slot = rng.gen_range(0..fresh_count);
            (this, article.slots[slot].text.clone(), slot)
        };
        let edit = choose_edit(rates, rng);
        let (text, jaccard) = edited_copy(&source_text, edit, vocab, language, shingler, rng);
        article.slots.push(Slot {
            text,
            origin: Origin::Copy {
                article: source_article,
                slot: source_slot,
            },
            jaccard,
            edit: edit.label(),
        });
        let at = rng.gen_range(0..=article.order.len());
        article.order.insert(at, article.slots.len() - 1);
    }

    if max_copies > 0 && rng.gen_bool(BODY_REPEAT) {
        for slot in 0..fresh_count {
            let edit = if rng.gen_bool(0.5) {
                Edit::Exact
            } else {
                Edit::Noise
            };
            let source_text = article.slots[slot].text.clone();
            let (text, jaccard) = edited_copy(&source_text, edit, vocab, language, shingler, rng);
            article.slots.push(Slot {
                text,
                origin: Origin::Copy {
                    article: this,
                    slot,
                },
                jaccard,
                edit: format!("body-repeat:{}", edit.label()),
            });
            article.order.push(article.slots.len() - 1);
        }
    }

    if rng.gen_bool(BOILERPLATE_LINE) {
        let lines = boilerplate_lines(language);
        let line = rng.gen_range(0..lines.len());
        article.slots.push(Slot {
            text: lines[line].to_owned(),
            origin: Origin::Boilerplate { line },
            jaccard: 1.0,
            edit: "boilerplate".into(),
        });
        article.order.push(article.slots.len() - 1);
    }
    articles.push(article);
}

/// Number of fresh paragraphs of the next article.
pub(crate) fn fresh_count<R: Rng>(rng: &mut R) -> usize {
    rng.gen_range(3..=8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::similarity::truth_shingler;
    use crate::synth::Sources;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn pool_paragraphs_are_long_enough_and_pairwise_dissimilar() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sources");
        let sources = Sources::load(&dir).expect("committed sources");
        let shingler = truth_shingler().expect("default config");
        for language in [SourceLanguage::English, SourceLanguage::Korean] {
            let pool = build_pool(
                sources.docs(language),
                language,
                &shingler,
                &mut ChaCha8Rng::seed_from_u64(2),
            );
            assert!(pool.len() >= 150, "{language:?}: {} paragraphs", pool.len());
            let sets: Vec<ShingleSet> = pool.iter().map(|p| ShingleSet::of(&shingler, p)).collect();
            for (i, p) in pool.iter().enumerate() {
                assert!(word_count(p) >= MIN_PARAGRAPH_WORDS, "{p:?}");
                for j in 0..i {
                    assert!(
                        sets[i].jaccard(&sets[j]) < DISSIMILAR_BELOW,
                        "{language:?} {i} vs {j}"
                    );
                }
                for line in boilerplate_lines(language) {
                    assert!(sets[i].jaccard(&ShingleSet::of(&shingler, line)) < DISSIMILAR_BELOW);
                }
            }
        }
    }

    #[test]
    fn boilerplate_lines_are_pairwise_dissimilar() {
        let shingler = truth_shingler().expect("default config");
        for language in [SourceLanguage::English, SourceLanguage::Korean] {
            let lines = boilerplate_lines(language);
            for (i, a) in lines.iter().enumerate() {
                for b in &lines[..i] {
                    let j = ShingleSet::of(&shingler, a).jaccard(&ShingleSet::of(&shingler, b));
                    assert!(j < DISSIMILAR_BELOW, "{a:?} vs {b:?}: {j}");
                }
            }
        }
    }

    #[test]
    fn repeats_point_at_fresh_paragraphs_and_the_order_covers_every_slot() {
        let shingler = truth_shingler().expect("default config");
        let vocab: Vec<String> = (0..50).map(|i| format!("word{i}")).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut articles = Vec::new();
        for a in 0..30 {
            let fresh = (0..fresh_count(&mut rng))
                .map(|p| {
                    format!("article {a} paragraph {p} has some distinct words in it here and more")
                })
                .collect();
            let inputs = ArticleInputs {
                language: SourceLanguage::English,
                fresh,
                vocab: &vocab,
                max_copies: 4,
                rates: Rates::new(0.01, 0.3),
            };
            build_article(inputs, &shingler, &mut articles, &mut rng);
        }
        let mut across = 0;
        for (i, article) in articles.iter().enumerate() {
            let mut order = article.order.clone();
            order.sort_unstable();
            assert_eq!(order, (0..article.slots.len()).collect::<Vec<_>>());
            for slot in &article.slots {
                assert!(!slot.text.trim().is_empty() && !slot.text.contains('\n'));
                if let Origin::Copy {
                    article: a,
                    slot: s,
                } = slot.origin
                {
                    assert!(a <= i);
                    assert_eq!(articles[a].slots[s].origin, Origin::Fresh);
                    across += usize::from(a != i);
                }
            }
        }
        assert!(across > 0, "some repeats cross articles");
    }
}
