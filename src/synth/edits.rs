//! The edit operations that turn an original into a derived near-duplicate.
//!
//! Each [`Edit`] models something that happens to text in the wild: word-level
//! noise from re-typing or OCR (insertions, deletions, substitutions at a rate),
//! paragraphs moved around, a site's header and footer wrapped around a syndicated
//! story, a story cut short, formatting noise that normalisation removes, and plain
//! copies. Edits work on a document as a list of paragraphs and always return
//! paragraphs that are trimmed, non-empty and free of line breaks, so joining them
//! with `"\n"` gives exactly one non-empty line per paragraph.

use rand::seq::SliceRandom;
use rand::Rng;

use super::sources::SourceLanguage;

/// One way of deriving a near-duplicate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Edit {
    /// An unchanged copy.
    Exact,
    /// Each word is replaced by a different vocabulary word with this probability.
    Substitute(f64),
    /// A vocabulary word is inserted after each word with this probability.
    Insert(f64),
    /// Each word is dropped with this probability.
    Delete(f64),
    /// Substitution, insertion and deletion, each at a third of this rate.
    Mixed(f64),
    /// The paragraphs in a different order.
    Reorder,
    /// A header line and a footer line from a made-up publisher added.
    Boilerplate,
    /// Only the leading fraction of the words kept (at least one word).
    Truncate(f64),
    /// Case, punctuation and whitespace changes that normalisation folds away.
    Noise,
}

impl Edit {
    /// The label written to the truth file's `edit` field, e.g. `substitute:0.050`.
    pub fn label(&self) -> String {
        match self {
            Edit::Exact => "exact".into(),
            Edit::Substitute(r) => format!("substitute:{r:.3}"),
            Edit::Insert(r) => format!("insert:{r:.3}"),
            Edit::Delete(r) => format!("delete:{r:.3}"),
            Edit::Mixed(r) => format!("mixed:{r:.3}"),
            Edit::Reorder => "reorder".into(),
            Edit::Boilerplate => "boilerplate".into(),
            Edit::Truncate(keep) => format!("truncate:{keep:.3}"),
            Edit::Noise => "noise".into(),
        }
    }

    /// Applies the edit. `vocab` supplies inserted and substituted words (it must not
    /// be empty for the word-level edits to do anything); `language` picks the
    /// boilerplate's language.
    pub fn apply<R: Rng>(
        &self,
        paragraphs: &[String],
        vocab: &[String],
        language: SourceLanguage,
        rng: &mut R,
    ) -> Vec<String> {
        let edited = match *self {
            Edit::Exact => paragraphs.to_vec(),
            Edit::Substitute(rate) => word_edit(paragraphs, rng, |w, rng, out| {
                if rng.gen_bool(clamp(rate)) {
                    out.push(replacement(w, vocab, rng));
                } else {
                    out.push(w.to_owned());
                }
            }),
            Edit::Insert(rate) => word_edit(paragraphs, rng, |w, rng, out| {
                out.push(w.to_owned());
                if rng.gen_bool(clamp(rate)) {
                    if let Some(extra) = vocab.choose(rng) {
                        out.push(extra.clone());
                    }
                }
            }),
            Edit::Delete(rate) => word_edit(paragraphs, rng, |w, rng, out| {
                if !rng.gen_bool(clamp(rate)) {
                    out.push(w.to_owned());
                }
            }),
            Edit::Mixed(rate) => word_edit(paragraphs, rng, |w, rng, out| {
                let third = clamp(rate) / 3.0;
                let roll: f64 = rng.gen();
                if roll < third {
                    out.push(replacement(w, vocab, rng));
                } else if roll < 2.0 * third {
                    // deleted
                } else {
                    out.push(w.to_owned());
                    if roll < 3.0 * third {
                        if let Some(extra) = vocab.choose(rng) {
                            out.push(extra.clone());
                        }
                    }
                }
            }),
            Edit::Reorder => reorder(paragraphs, rng),
            Edit::Boilerplate => {
                let (header, footer) = boilerplate(language, rng);
                let mut out = Vec::with_capacity(paragraphs.len() + 2);
                out.push(header);
                out.extend_from_slice(paragraphs);
                out.push(footer);
                out
            }
            Edit::Truncate(keep) => truncate(paragraphs, keep),
            Edit::Noise => paragraphs.iter().map(|p| noisy(p, rng)).collect(),
        };
        let cleaned: Vec<String> = edited
            .into_iter()
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect();
        if cleaned.is_empty() {
            // Everything was deleted: keep the first word, so a record is never empty.
            let first = paragraphs
                .iter()
                .flat_map(|p| p.split_whitespace())
                .next()
                .unwrap_or("-");
            return vec![first.to_owned()];
        }
        if *self == Edit::Noise {
            // Noise may add whitespace inside paragraphs; keep it (it is the point of
            // the edit) but only within a line.
            return noisy_spacing(cleaned, rng);
        }
        cleaned
    }
}

fn clamp(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// Runs `each` over every word of every paragraph, collecting its output words per
/// paragraph.
fn word_edit<R: Rng>(
    paragraphs: &[String],
    rng: &mut R,
    mut each: impl FnMut(&str, &mut R, &mut Vec<String>),
) -> Vec<String> {
    paragraphs
        .iter()
        .map(|p| {
            let mut out = Vec::new();
            for w in p.split_whitespace() {
                each(w, rng, &mut out);
            }
            out.join(" ")
        })
        .collect()
}

/// A vocabulary word that differs from `word` (ignoring case and surrounding
/// punctuation); `word` itself when the vocabulary offers nothing else.
fn replacement<R: Rng>(word: &str, vocab: &[String], rng: &mut R) -> String {
    let core = word
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    for _ in 0..16 {
        match vocab.choose(rng) {
            Some(candidate) if candidate.to_lowercase() != core => return candidate.clone(),
            Some(_) => continue,
            None => break,
        }
    }
    word.to_owned()
}

/// The paragraphs shuffled into an order different from the input's (when there are
/// at least two distinct paragraphs).
fn reorder<R: Rng>(paragraphs: &[String], rng: &mut R) -> Vec<String> {
    let mut out = paragraphs.to_vec();
    out.shuffle(rng);
    if out == paragraphs && out.len() > 1 {
        out.rotate_left(1);
    }
    out
}

/// The first `keep` fraction of the words (rounded up, at least one), paragraph
/// breaks kept.
fn truncate(paragraphs: &[String], keep: f64) -> Vec<String> {
    let total: usize = paragraphs
        .iter()
        .map(|p| p.split_whitespace().count())
        .sum();
    let mut budget = ((total as f64) * clamp(keep)).ceil().max(1.0) as usize;
    let mut out = Vec::new();
    for p in paragraphs {
        if budget == 0 {
            break;
        }
        let words: Vec<&str> = p.split_whitespace().take(budget).collect();
        budget -= words.len();
        out.push(words.join(" "));
    }
    out
}

/// Per-word formatting noise that leaves the normalised tokens unchanged: case
/// changes on ASCII words, punctuation added after a word, trailing punctuation
/// removed.
fn noisy<R: Rng>(paragraph: &str, rng: &mut R) -> String {
    const MARKS: [&str; 6] = [",", ";", ":", "!", "...", " -"];
    let words: Vec<String> = paragraph
        .split_whitespace()
        .map(|w| {
            let mut w = w.to_owned();
            if w.is_ascii() && rng.gen_bool(0.1) {
                w = match rng.gen_range(0..3) {
                    0 => w.to_ascii_uppercase(),
                    1 => w.to_ascii_lowercase(),
                    _ => {
                        let mut s = w.to_ascii_lowercase();
                        if let Some(first) = s.get_mut(..1) {
                            first.make_ascii_uppercase();
                        }
                        s
                    }
                };
            }
            if rng.gen_bool(0.05) {
                let trimmed = w.trim_end_matches(|c: char| !c.is_alphanumeric());
                if !trimmed.is_empty() {
                    w.truncate(trimmed.len());
                }
            } else if rng.gen_bool(0.04) {
                if let Some(mark) = MARKS.choose(rng) {
                    w.push_str(mark);
                }
            }
            w
        })
        .collect();
    words.join(" ")
}

/// Doubles some spaces and turns some into tabs, within lines only.
fn noisy_spacing<R: Rng>(paragraphs: Vec<String>, rng: &mut R) -> Vec<String> {
    paragraphs
        .into_iter()
        .map(|p| {
            let mut out = String::with_capacity(p.len() + 8);
            for (i, w) in p.split(' ').enumerate() {
                if i > 0 {
                    out.push_str(match rng.gen_range(0..20) {
                        0 => "  ",
                        1 => "\t",
                        2 => " \u{a0}",
                        _ => " ",
                    });
                }
                out.push_str(w);
            }
            out
        })
        .collect()
}

/// A made-up publisher's header and footer lines.
fn boilerplate<R: Rng>(language: SourceLanguage, rng: &mut R) -> (String, String) {
    let year = rng.gen_range(2009..=2024);
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    match language {
        SourceLanguage::English => {
            const SITES: [&str; 6] = [
                "The Riverside Courier",
                "Northgate Daily",
                "Harbor Evening Post",
                "The Valley Ledger",
                "Eastfield Gazette",
                "Plainsman Weekly",
            ];
            const SECTIONS: [&str; 5] = ["Opinion", "Culture", "Local", "Faith & Life", "Archive"];
            const MONTHS: [&str; 12] = [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ];
            let site = pick(&SITES, rng);
            let header = format!(
                "{site} | {} | {} {day}, {year} | {} min read",
                pick(&SECTIONS, rng),
                MONTHS[month - 1],
                rng.gen_range(2..=12)
            );
            let footer = match rng.gen_range(0..3) {
                0 => format!("Copyright {year} {site}. All rights reserved. This material may not be republished without permission."),
                1 => format!("Subscribe to {site} for more stories like this one, delivered to your inbox every morning."),
                _ => format!("Share this story. Comments are closed. Read more from the {site} archive."),
            };
            (header, footer)
        }
        SourceLanguage::Korean => {
            const SITES: [&str; 5] = [
                "푸른강일보",
                "동녘신문",
                "한솔뉴스",
                "바른소리일보",
                "새벽통신",
            ];
            const SECTIONS: [&str; 4] = ["정치", "사회", "법률", "오피니언"];
            let site = pick(&SITES, rng);
            let header = format!(
                "[{site}] {} | 입력 {year}.{month:02}.{day:02} | 기자 {}",
                pick(&SECTIONS, rng),
                rng.gen_range(100..=999)
            );
            let footer = match rng.gen_range(0..3) {
                0 => format!("ⓒ {site}. 무단 전재 및 재배포 금지."),
                1 => format!("{site} 구독하기: 매일 아침 주요 소식을 전해 드립니다."),
                _ => format!("이 기사에 대한 의견은 {site} 독자센터로 보내 주십시오."),
            };
            (header, footer)
        }
    }
}

fn pick<'a, R: Rng>(items: &[&'a str], rng: &mut R) -> &'a str {
    items.choose(rng).copied().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::similarity::{truth_shingler, ShingleSet};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sample_doc(words: usize) -> Vec<String> {
        // Distinct words w0 w1 ..., ten per paragraph.
        let all: Vec<String> = (0..words).map(|i| format!("w{i}")).collect();
        all.chunks(10).map(|c| c.join(" ")).collect()
    }

    fn vocab() -> Vec<String> {
        (0..500).map(|i| format!("v{i}")).collect()
    }

    fn words(paras: &[String]) -> Vec<String> {
        paras
            .iter()
            .flat_map(|p| p.split_whitespace().map(str::to_owned))
            .collect()
    }

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    fn assert_well_formed(paras: &[String]) {
        assert!(!paras.is_empty());
        for p in paras {
            assert!(!p.trim().is_empty(), "empty paragraph");
            assert!(
                !p.contains('\n') && !p.contains('\r'),
                "line break in {p:?}"
            );
            assert_eq!(p.trim(), p.as_str(), "untrimmed {p:?}");
        }
    }

    #[test]
    fn substitution_changes_about_rate_of_the_words() {
        let doc = sample_doc(10_000);
        for rate in [0.01, 0.1, 0.3] {
            let out =
                Edit::Substitute(rate).apply(&doc, &vocab(), SourceLanguage::English, &mut rng(1));
            assert_well_formed(&out);
            let (before, after) = (words(&doc), words(&out));
            assert_eq!(before.len(), after.len(), "substitution keeps the length");
            let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count();
            let expected = rate * before.len() as f64;
            // Binomial: 4 standard deviations is far outside chance.
            let sd = (before.len() as f64 * rate * (1.0 - rate)).sqrt();
            assert!(
                (changed as f64 - expected).abs() < 4.0 * sd,
                "rate {rate}: {changed} changed"
            );
            assert!(after
                .iter()
                .zip(&before)
                .all(|(a, b)| a == b || a.starts_with('v')));
        }
    }

    #[test]
    fn insertion_adds_and_deletion_removes_about_rate_words_in_order() {
        let doc = sample_doc(10_000);
        let out = Edit::Insert(0.2).apply(&doc, &vocab(), SourceLanguage::English, &mut rng(2));
        let after = words(&out);
        let added = after.len() - 10_000;
        assert!((1_840..2_160).contains(&added), "{added} inserted");
        let kept: Vec<&String> = after.iter().filter(|w| w.starts_with('w')).collect();
        assert_eq!(kept.len(), 10_000, "every original word survives, in order");
        assert!(kept
            .windows(2)
            .all(|w| w[0][1..].parse::<u32>().ok() < w[1][1..].parse::<u32>().ok()));

        let out = Edit::Delete(0.2).apply(&doc, &vocab(), SourceLanguage::English, &mut rng(3));
        assert_well_formed(&out);
        let after = words(&out);
        let removed = 10_000 - after.len();
        assert!((1_840..2_160).contains(&removed), "{removed} deleted");
        assert!(after.iter().all(|w| w.starts_with('w')));
    }

    #[test]
    fn deleting_everything_still_leaves_a_word() {
        let doc = sample_doc(30);
        let out = Edit::Delete(1.0).apply(&doc, &vocab(), SourceLanguage::English, &mut rng(4));
        assert_eq!(out, ["w0"]);
    }

    #[test]
    fn truncation_keeps_a_prefix_of_the_words() {
        let doc = sample_doc(95);
        for keep in [0.0, 0.31, 0.5, 0.99, 1.0] {
            let out =
                Edit::Truncate(keep).apply(&doc, &vocab(), SourceLanguage::English, &mut rng(5));
            assert_well_formed(&out);
            let (before, after) = (words(&doc), words(&out));
            let want = (95.0 * keep).ceil().max(1.0) as usize;
            assert_eq!(after.len(), want, "keep {keep}");
            assert_eq!(&before[..want], &after[..]);
        }
    }

    #[test]
    fn reorder_permutes_paragraphs_and_never_returns_the_same_order() {
        let doc = sample_doc(40);
        for seed in 0..50 {
            let out = Edit::Reorder.apply(&doc, &vocab(), SourceLanguage::English, &mut rng(seed));
            assert_ne!(out, doc);
            let (mut a, mut b) = (out.clone(), doc.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn boilerplate_wraps_the_text_in_a_header_and_footer() {
        let doc = sample_doc(40);
        for language in [SourceLanguage::English, SourceLanguage::Korean] {
            let out = Edit::Boilerplate.apply(&doc, &vocab(), language, &mut rng(6));
            assert_well_formed(&out);
            assert_eq!(out.len(), doc.len() + 2);
            assert_eq!(&out[1..out.len() - 1], &doc[..]);
        }
    }

    #[test]
    fn noise_and_exact_copies_keep_the_shingles() {
        let shingler = truth_shingler().expect("default config");
        let doc = vec![
            "And God said, Let there be light: and there was light.".to_owned(),
            "대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다.".to_owned(),
        ];
        let original = ShingleSet::of(&shingler, &doc.join("\n"));
        for seed in 0..40 {
            let out = Edit::Noise.apply(&doc, &vocab(), SourceLanguage::English, &mut rng(seed));
            assert_well_formed(&out);
            let edited = ShingleSet::of(&shingler, &out.join("\n"));
            assert_eq!(edited, original, "{out:?}");
        }
        let noisy_somewhere = (0..40).any(|seed| {
            Edit::Noise.apply(&doc, &vocab(), SourceLanguage::English, &mut rng(seed)) != doc
        });
        assert!(
            noisy_somewhere,
            "noise changed the bytes of at least one copy"
        );
        assert_eq!(
            Edit::Exact.apply(&doc, &vocab(), SourceLanguage::Korean, &mut rng(0)),
            doc
        );
    }

    #[test]
    fn higher_rates_give_lower_jaccard() {
        let shingler = truth_shingler().expect("default config");
        let doc = sample_doc(2_000);
        let original = ShingleSet::of(&shingler, &doc.join("\n"));
        let mut last = 1.0;
        for rate in [0.01, 0.05, 0.15, 0.3] {
            let out = Edit::Mixed(rate).apply(&doc, &vocab(), SourceLanguage::English, &mut rng(9));
            let j = ShingleSet::of(&shingler, &out.join("\n")).jaccard(&original);
            assert!(j < last, "rate {rate}: J {j} not below {last}");
            last = j;
        }
        assert!(last < 0.3);
    }

    #[test]
    fn labels_name_the_kind_and_rate() {
        assert_eq!(Edit::Substitute(0.05).label(), "substitute:0.050");
        assert_eq!(Edit::Truncate(0.5).label(), "truncate:0.500");
        assert_eq!(Edit::Exact.label(), "exact");
    }
}
