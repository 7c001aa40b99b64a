//! Word-level differences between two texts, for showing a duplicate beside the
//! unit it duplicates.
//!
//! Both texts are cut into tokens: Unicode words (UAX #29 word bounds, so Hangul
//! runs are words and each Han or kana character is one) and the runs of spaces
//! and punctuation between them. Concatenating a side's tokens gives its text back
//! byte for byte. The longest common subsequence of the two token lists is
//! computed after the common prefix and suffix are set aside; every word or
//! punctuation token outside it is marked as changed on its side. Whitespace is
//! marked exactly when the tokens on both sides of it are, so an edit reads as one
//! highlighted phrase.

use unicode_segmentation::UnicodeSegmentation;

/// Largest product of the two middle token counts diffed by the quadratic table
/// (4M cells of `u32`, 16 MB). Beyond it the whole middle is marked as changed:
/// the review page caps each text well below this.
const MAX_TABLE_CELLS: usize = 4 << 20;

/// One token of one side and whether it is in the other side too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The token's text.
    pub text: &'a str,
    /// True when the token is not part of the common subsequence.
    pub changed: bool,
}

/// Both sides of a diff, token by token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff<'a> {
    /// The left text's tokens.
    pub left: Vec<Piece<'a>>,
    /// The right text's tokens.
    pub right: Vec<Piece<'a>>,
}

impl Diff<'_> {
    /// Words (tokens with a letter or digit) marked as changed, left and right.
    pub fn changed_words(&self) -> (usize, usize) {
        let count =
            |side: &[Piece<'_>]| side.iter().filter(|p| p.changed && is_word(p.text)).count();
        (count(&self.left), count(&self.right))
    }
}

/// Cuts `text` into words and the runs of non-word characters between them.
pub fn tokens(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut run_start: Option<usize> = None;
    for (offset, piece) in text.split_word_bound_indices() {
        if is_word(piece) {
            if let Some(start) = run_start.take() {
                out.push(&text[start..offset]);
            }
            out.push(piece);
        } else if run_start.is_none() {
            run_start = Some(offset);
        }
    }
    if let Some(start) = run_start {
        out.push(&text[start..]);
    }
    out
}

/// True for a token with a letter or digit in it.
fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

/// Diffs `left` against `right` word by word.
pub fn diff<'a>(left: &'a str, right: &'a str) -> Diff<'a> {
    let a = tokens(left);
    let b = tokens(right);
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let (keep_a, keep_b) = common_subsequence(mid_a, mid_b);
    let side = |all: &[&'a str], keep: Vec<bool>| {
        let mut pieces: Vec<Piece<'a>> = all
            .iter()
            .enumerate()
            .map(|(i, &text)| Piece {
                text,
                changed: i >= prefix && i < all.len() - suffix && !keep[i - prefix],
            })
            .collect();
        join_changed_phrases(&mut pieces);
        pieces
    };
    Diff {
        left: side(&a, keep_a),
        right: side(&b, keep_b),
    }
}

/// For each token of `a` and of `b`, whether it is in the common subsequence that
/// keeps the most words and, among those, the most other tokens (dynamic
/// programming over the suffix table).
fn common_subsequence(a: &[&str], b: &[&str]) -> (Vec<bool>, Vec<bool>) {
    let (n, m) = (a.len(), b.len());
    let mut keep_a = vec![false; n];
    let mut keep_b = vec![false; m];
    if n == 0 || m == 0 || (n + 1) * (m + 1) > MAX_TABLE_CELLS {
        return (keep_a, keep_b);
    }
    // A common subsequence is at most min(n, m) <= sqrt(MAX_TABLE_CELLS) = 2048
    // tokens long, so a score of words * 4096 + other tokens orders subsequences by
    // words first and fits a u32.
    let weight = |token: &str| if is_word(token) { 1u32 << 12 } else { 1 };
    let width = m + 1;
    let mut table = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * width + j] = if a[i] == b[j] {
                table[(i + 1) * width + j + 1] + weight(a[i])
            } else {
                table[(i + 1) * width + j].max(table[i * width + j + 1])
            };
        }
    }
    // Matching equal tokens at once is never worse: any best subsequence that
    // leaves them unmatched can be changed to match them at the same score.
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            keep_a[i] = true;
            keep_b[j] = true;
            i += 1;
            j += 1;
        } else if table[(i + 1) * width + j] >= table[i * width + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (keep_a, keep_b)
}

/// Shows whitespace as changed exactly when the tokens on both sides of it are,
/// so that "A B" replaced by "C D" reads as one phrase, and a changed word is
/// not followed by a highlighted space that only the subsequence choice made
/// "changed".
fn join_changed_phrases(pieces: &mut [Piece<'_>]) {
    let changed: Vec<bool> = pieces.iter().map(|p| p.changed).collect();
    for (i, piece) in pieces.iter_mut().enumerate() {
        if piece.text.chars().all(char::is_whitespace) {
            let before = i > 0 && changed[i - 1];
            let after = i + 1 < changed.len() && changed[i + 1];
            piece.changed = before && after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(pieces: &[Piece<'_>]) -> String {
        pieces.iter().map(|p| p.text).collect()
    }

    fn changed<'a>(pieces: &[Piece<'a>]) -> Vec<&'a str> {
        pieces
            .iter()
            .filter(|p| p.changed && is_word(p.text))
            .map(|p| p.text)
            .collect()
    }

    #[test]
    fn tokens_reconstruct_the_text() {
        for text in [
            "",
            "  leading and trailing  ",
            "Hello, world!! It's 3.14 -- ok?",
            "시는 지난 5일 더플라자호텔 서울에서 열린 \"혁신대상\"에서… 수상했다.",
            "東京都は日本の首都です。中文也可以。",
            "tab\tand\r\nnewlines\n\n",
            "emoji 😀 mixed한국어text",
        ] {
            assert_eq!(tokens(text).concat(), text, "{text:?}");
        }
        assert_eq!(
            tokens("a, b  c."),
            ["a", ", ", "b", "  ", "c", "."],
            "punctuation and space runs are single tokens"
        );
    }

    #[test]
    fn marks_exactly_the_replaced_word() {
        let d = diff("the quick brown fox jumps", "the quick red fox jumps");
        assert_eq!(joined(&d.left), "the quick brown fox jumps");
        assert_eq!(joined(&d.right), "the quick red fox jumps");
        assert_eq!(changed(&d.left), ["brown"]);
        assert_eq!(changed(&d.right), ["red"]);
        assert_eq!(d.changed_words(), (1, 1));
    }

    #[test]
    fn korean_word_change_insertion_and_deletion() {
        let a =
            "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 대상을 수상했다.";
        let b = "시는 5일 더플라자호텔 서울에서 열린 2024 혁신대상에서 행정혁신부문 최우수상을 수상했다.";
        let d = diff(a, b);
        assert_eq!(joined(&d.left), a);
        assert_eq!(joined(&d.right), b);
        assert_eq!(changed(&d.left), ["지난", "대상을"]);
        assert_eq!(changed(&d.right), ["2024", "최우수상을"]);
    }

    #[test]
    fn identical_texts_have_no_changes_and_disjoint_ones_all() {
        let d = diff("같은 문장 입니다", "같은 문장 입니다");
        assert!(d.left.iter().chain(&d.right).all(|p| !p.changed));
        let d = diff("하나 둘", "셋 넷");
        assert_eq!(changed(&d.left), ["하나", "둘"]);
        assert_eq!(changed(&d.right), ["셋", "넷"]);
        assert!(
            d.left.iter().all(|p| p.changed),
            "space between changed words joins"
        );
        let d = diff("", "new text");
        assert!(d.left.is_empty());
        assert_eq!(changed(&d.right), ["new", "text"]);
    }

    #[test]
    fn cjk_characters_are_compared_one_by_one() {
        let d = diff("東京都は日本の首都です", "京都は日本の古都です");
        assert_eq!(changed(&d.left), ["東", "首"]);
        assert_eq!(changed(&d.right), ["古"]);
    }

    #[test]
    fn unchanged_words_are_a_longest_common_subsequence() {
        // Brute-force check on small inputs: the number of unchanged words equals
        // the LCS length computed independently.
        fn lcs(a: &[&str], b: &[&str]) -> usize {
            if a.is_empty() || b.is_empty() {
                return 0;
            }
            if a[0] == b[0] {
                1 + lcs(&a[1..], &b[1..])
            } else {
                lcs(&a[1..], b).max(lcs(a, &b[1..]))
            }
        }
        let words = ["가", "나", "다", "라"];
        let mut state = 7u64;
        for _ in 0..200 {
            let mut pick = |len: usize| -> String {
                (0..len)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        words[(state >> 33) as usize % words.len()]
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let (a, b) = (pick(6), pick(5));
            let d = diff(&a, &b);
            let kept = |side: &[Piece<'_>]| {
                side.iter()
                    .filter(|p| !p.changed && is_word(p.text))
                    .count()
            };
            let ta: Vec<&str> = tokens(&a).into_iter().filter(|t| is_word(t)).collect();
            let tb: Vec<&str> = tokens(&b).into_iter().filter(|t| is_word(t)).collect();
            let expected = lcs(&ta, &tb);
            assert_eq!(kept(&d.left), expected, "{a:?} vs {b:?}");
            assert_eq!(kept(&d.right), expected, "{a:?} vs {b:?}");
        }
    }
}
