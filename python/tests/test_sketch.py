"""MinHash and SimHash objects: the sketches a run makes, with datasketch's methods."""

import random

import numpy as np
import pytest

import neardedup

SEOUL = "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 대상을 수상했다"
SEOUL_EDITED = "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 최우수상을 수상했다"
GENESIS = "In the beginning God created the heaven and the earth, and the earth was without form"


def test_a_sketch_of_a_text_is_the_same_made_alone_in_bulk_or_by_an_index():
    alone = neardedup.MinHash(SEOUL, ngram=2)
    (bulk, _) = neardedup.MinHash.bulk([SEOUL, GENESIS], ngram=2)
    index = neardedup.Index(ngram=2)
    assert alone == bulk
    assert alone == index.minhash(SEOUL)
    assert alone.digest().dtype == np.uint16
    assert len(alone.digest()) == alone.num_perm == 128
    assert np.array_equal(alone.digest(), bulk.digest())
    (from_generator,) = neardedup.MinHash.bulk(t for t in [SEOUL])
    assert from_generator == neardedup.MinHash(SEOUL)


def test_similar_texts_have_similar_sketches_in_any_script():
    a, b, c = neardedup.MinHash.bulk([SEOUL, SEOUL_EDITED, GENESIS], ngram=2, num_perm=256)
    assert a.jaccard(b) > 0.5
    assert a.jaccard(c) < 0.1
    assert a.jaccard(a) == 1.0


def exact_jaccard(x, y):
    return len(x & y) / len(x | y)


@pytest.mark.parametrize("seed", range(5))
def test_the_estimate_from_tokens_is_near_the_exact_jaccard(seed):
    rng = random.Random(seed)
    universe = [f"token-{i}" for i in range(2000)]
    x = set(rng.sample(universe, 400))
    y = set(rng.sample(sorted(x), rng.randrange(100, 400))) | set(rng.sample(universe, 150))
    mx, my = neardedup.MinHash(num_perm=256), neardedup.MinHash(num_perm=256)
    mx.update_batch(sorted(x))
    for token in sorted(y):
        my.update(token.encode())
    assert abs(mx.jaccard(my) - exact_jaccard(x, y)) < 0.12


def test_tokens_form_a_set():
    once, twice, shuffled = (neardedup.MinHash() for _ in range(3))
    tokens = [b"a", b"b", b"c", b"d"]
    once.update_batch(tokens)
    twice.update_batch(tokens + tokens)
    shuffled.update_batch(list(reversed(tokens)))
    assert once == twice == shuffled
    # str and bytes of the same text are one token.
    as_str = neardedup.MinHash()
    as_str.update_batch(["a", "b", "c", "d"])
    assert as_str == once
    assert neardedup.MinHash().is_empty()
    assert not once.is_empty()


def test_merge_is_the_union():
    left, right, both = (neardedup.MinHash() for _ in range(3))
    left.update_batch([b"a", b"b"])
    right.update_batch([b"c", b"d"])
    both.update_batch([b"a", b"b", b"c", b"d"])
    merged = left.copy()
    merged.merge(right)
    assert merged == both
    assert left != both, "copy() leaves the original alone"


def test_sketches_of_other_settings_cannot_be_compared():
    with pytest.raises(ValueError, match="num_perm"):
        neardedup.MinHash(SEOUL).jaccard(neardedup.MinHash(SEOUL, num_perm=64))
    with pytest.raises(ValueError):
        neardedup.MinHash(SEOUL).merge(neardedup.MinHash(SEOUL, seed=2))
    with pytest.raises(neardedup.SettingError, match="unknown option `threshold`"):
        neardedup.MinHash(SEOUL, threshold=0.5)
    with pytest.raises(neardedup.SettingError, match="num_perm"):
        neardedup.MinHash(num_perm=0)
    with pytest.raises(TypeError):
        neardedup.MinHash().update(3)
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        neardedup.MinHash.bulk(["text", None])


def test_simhash_fingerprints():
    a = neardedup.SimHash(SEOUL, ngram=2)
    assert a.distance(neardedup.SimHash(SEOUL, ngram=2)) == 0
    assert a == neardedup.SimHash(SEOUL, ngram=2)
    near = a.distance(neardedup.SimHash(SEOUL_EDITED, ngram=2))
    far = a.distance(neardedup.SimHash(GENESIS, ngram=2))
    assert near < far
    assert a.distance(neardedup.SimHash(GENESIS, ngram=2)) == neardedup.SimHash(
        GENESIS, ngram=2
    ).distance(a)
    bulk = neardedup.SimHash.bulk([SEOUL, GENESIS], ngram=2)
    assert bulk.dtype == np.uint64
    assert int(bulk[0]) == a.value == int(a)
