"""Normalisation, word tokens, word-5-gram shingles and their Jaccard.

This is the single definition of similarity used by every other module (natural
grouping, planted-copy labels, look-alike statistics). It follows the detector's
defaults (src/text/): NFKC, case folding, punctuation and whitespace folded away,
words are maximal runs of letters and digits, except that Han ideographs and kana
are one token per character. Shingles are consecutive 5-token windows; a text with
fewer than 5 tokens is a single shingle of all its tokens; two empty sets have
Jaccard 1.0.
"""

import hashlib
import re
import unicodedata

NGRAM = 5

# Han ideographs and kana: written without spaces, one token per character.
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
# A token is one CJK character, or a maximal run of other letters/digits (the
# underscore is punctuation here, as in the detector).
_TOKEN = re.compile("[" + _CJK + "]|[^\\W_" + _CJK + "]+")
_HANGUL_SYLLABLE = re.compile("[\uac00-\ud7a3]")


def normalise(text):
    """NFKC then case folding (what the detector does before tokenising)."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text):
    """Word tokens of `text` after normalisation."""
    return _TOKEN.findall(normalise(text))


def fold_key(text):
    """The text with case, width, punctuation and whitespace folded away: two
    paragraphs with the same key are natural exact duplicates."""
    return " ".join(tokens(text))


def _hash(parts):
    return int.from_bytes(
        hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest(),
        "little",
    )


def shingles_of_tokens(toks, n=NGRAM):
    """The set of hashed word n-grams of a token list (see module doc)."""
    if not toks:
        return frozenset()
    if len(toks) < n:
        return frozenset((_hash(toks),))
    return frozenset(_hash(toks[i : i + n]) for i in range(len(toks) - n + 1))


def shingles(text, n=NGRAM):
    """The set of hashed word n-grams of `text`."""
    return shingles_of_tokens(tokens(text), n)


def jaccard_sets(a, b):
    """Jaccard of two shingle sets; two empty sets are identical (1.0)."""
    if not a and not b:
        return 1.0
    inter = len(a & b) if len(a) <= len(b) else len(b & a)
    return inter / (len(a) + len(b) - inter)


def jaccard(text_a, text_b):
    """True word-5-gram Jaccard of two texts."""
    return jaccard_sets(shingles(text_a), shingles(text_b))


def word_count(text):
    """Number of word tokens (the unit for "short" texts)."""
    return len(tokens(text))


def hangul_share(text):
    """Share of word tokens that contain a Hangul syllable (0.0 for no tokens)."""
    toks = tokens(text)
    if not toks:
        return 0.0
    return sum(1 for t in toks if _HANGUL_SYLLABLE.search(t)) / len(toks)


def is_hangul_syllable(ch):
    """True for a precomposed Hangul syllable."""
    return "\uac00" <= ch <= "\ud7a3"
