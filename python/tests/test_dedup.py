"""Whole runs from Python: the same results as the command line, from every kind of
source, with results that agree with each other."""

import gzip
import json
import os
import tempfile
import threading
import _thread
import time

import numpy as np
import pyarrow as pa
import pytest

import neardedup

from conftest import DATASETS

REALTEXT = DATASETS / "realtext" / "docs" / "article" / "corpus.jsonl"


def corpus_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def test_the_korean_article_loses_its_eight_repeated_paragraphs(korean_article):
    result = neardedup.dedup(korean_article, unit="paragraph", progress=False)
    assert len(result) == 1
    assert len(result.unit_kept) == 18
    assert int((~result.unit_kept).sum()) == 8
    assert len(result.clusters()) == 8
    assert all(len(cluster) == 2 for cluster in result.clusters())
    (clean,) = result.texts()
    paragraphs = [p for p in clean.split("\n") if p.strip()]
    assert len(paragraphs) == 10
    assert len(set(paragraphs)) == 10, "every paragraph once"
    original = korean_article.read_text(encoding="utf-8")
    assert all(p in original for p in paragraphs)
    # By article, the article is one document: nothing to remove.
    whole = neardedup.dedup(korean_article, progress=False)
    assert whole.kept.tolist() == [True]


def test_a_run_with_out_writes_what_the_command_line_writes(tmp_path, cli):
    options = ["--ngram", "5", "--threshold", "0.8", "--unit", "paragraph"]
    cli("dedup", REALTEXT, "-o", tmp_path / "cli", "--quiet", *options)
    result = neardedup.dedup(
        REALTEXT, out=tmp_path / "py", ngram=5, threshold=0.8, unit="paragraph", progress=False
    )
    assert result.out == tmp_path / "py"
    for name in ["clusters.jsonl", "pairs.jsonl", "removed.jsonl", "deduped/corpus.jsonl"]:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    cli_report = json.loads((tmp_path / "cli" / "report.json").read_text())
    assert result.report["counts"] == cli_report["counts"]
    assert result.report["parameters"] == cli_report["parameters"]


def test_outputs_can_be_left_out(tmp_path):
    full = neardedup.dedup(REALTEXT, unit="paragraph", out=tmp_path / "full", progress=False)
    lean = neardedup.dedup(
        REALTEXT, unit="paragraph", out=tmp_path / "lean", omit="pairs,removed", progress=False
    )
    assert not (tmp_path / "lean" / "pairs.jsonl").exists()
    assert not (tmp_path / "lean" / "removed.jsonl").exists()
    for name in ["clusters.jsonl", "deduped/corpus.jsonl"]:
        assert (tmp_path / "lean" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()
    assert lean.report["output"]["omit"] == ["pairs", "removed"]
    assert lean.report["counts"] == full.report["counts"]
    assert "omit" in neardedup.OPTIONS


def test_results_kept_in_memory_match_the_written_ones(tmp_path):
    in_memory = neardedup.dedup(REALTEXT, threshold=0.7, progress=False)
    written = neardedup.dedup(REALTEXT, threshold=0.7, out=tmp_path / "out", progress=False)
    assert in_memory.out is None
    assert np.array_equal(in_memory.kept, written.kept)
    assert np.array_equal(in_memory.cluster, written.cluster)
    assert in_memory.report["counts"] == written.report["counts"]
    kept_lines = (tmp_path / "out" / "deduped" / "corpus.jsonl").read_text().splitlines()
    assert len(kept_lines) == int(in_memory.kept.sum())
    assert [json.loads(line)["id"] for line in kept_lines] == [
        id for id, kept in zip(in_memory.ids, in_memory.kept) if kept
    ]


def test_every_source_of_the_same_texts_gives_the_same_results():
    texts = corpus_texts(REALTEXT)
    expected = neardedup.dedup(REALTEXT, line_ids=True, threshold=0.7, progress=False)
    sources = {
        "list": texts,
        "tuple": tuple(texts),
        "array": pa.array(texts),
        "large_string": pa.array(texts, type=pa.large_string()),
        "string_view": pa.array(texts, type=pa.string_view()),
        "chunked": pa.chunked_array([texts[:30], texts[30:]]),
        "table": pa.table({"body": texts, "n": list(range(len(texts)))}),
    }
    assert expected.kept.sum() < len(texts), "the corpus holds duplicates"
    for name, source in sources.items():
        result = neardedup.dedup(source, text_field="body", threshold=0.7, progress=False)
        assert np.array_equal(result.kept, expected.kept), name
        assert np.array_equal(result.cluster, expected.cluster), name
        assert result.ids == list(range(len(texts))), name
    assert expected.ids == list(range(1, len(texts) + 1))
    by_id = neardedup.dedup(REALTEXT, threshold=0.7, progress=False)
    assert by_id.ids[:2] == ["doc-000000", "doc-000001"]


def test_per_record_and_per_unit_values_agree():
    result = neardedup.dedup(REALTEXT, unit="paragraph", threshold=0.8, progress=False)
    units = len(result.unit_kept)
    assert len(result.unit_record) == len(result.unit_para) == len(result.cluster) == units
    texts = result.texts()
    assert [t is not None for t in texts] == result.kept.tolist()
    assert np.array_equal(result.duplicate, ~result.kept)
    # A removed unit shares its cluster with a kept one, through a verified pair.
    pairs = result.pairs
    assert len(pairs["a"]) == len(pairs["b"]) == len(pairs["similarity"]) > 0
    assert (pairs["a"] < pairs["b"]).all()
    assert (pairs["similarity"] >= 0.8).all()
    for cluster in result.clusters():
        assert result.unit_kept[cluster[0]]
        assert not result.unit_kept[cluster[1:]].any()
        assert (result.cluster_size[cluster] == len(cluster)).all()
    assert result.report["counts"]["units"] == units
    assert result.report["counts"]["duplicate_units"] == int((~result.unit_kept).sum())


def test_options_reach_the_run():
    texts = ["alpha beta gamma delta epsilon zeta eta theta iota kappa"] * 2 + [
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron"
    ]
    loose = neardedup.dedup(texts, threshold=0.5, keep="longest", progress=False)
    assert loose.kept.tolist() == [False, False, True]
    strict = neardedup.dedup(texts, threshold=0.95, progress=False)
    assert strict.kept.tolist() == [True, False, True]
    simhash = neardedup.dedup(texts, algo="simhash", progress=False)
    assert simhash.report["parameters"]["algo"] == "simhash"
    assert not simhash.kept[1]
    annotated = neardedup.dedup(texts, mode="annotate", threads=1, progress=False)
    assert annotated.report["output"]["mode"] == "annotate"


def test_a_run_can_save_an_index_and_a_later_run_deduplicate_against_it(tmp_path):
    texts = corpus_texts(REALTEXT)
    index_path = tmp_path / "first.ndx"
    neardedup.dedup(texts[:50], save_index=index_path, progress=False)
    again = neardedup.dedup(texts[:10], against=index_path, progress=False)
    assert not again.kept.any(), "every text is in the index"
    with pytest.raises(neardedup.SettingError, match="ngram"):
        neardedup.dedup(texts[:10], against=index_path, ngram=3, progress=False)


def leftovers():
    names = os.listdir(tempfile.gettempdir())
    return {n for n in names if n.startswith(("neardedup-texts-", "neardedup-work-"))}


def test_ctrl_c_stops_a_run_and_leaves_nothing_behind():
    words = [f"w{i}" for i in range(5000)]
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(words, 200)) for _ in range(60_000)]
    before = leftovers()
    timer = threading.Timer(0.2, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        neardedup.dedup(texts, progress=False)
        # The run may end before the signal lands: wait for it here instead.
        time.sleep(30)
    timer.join()
    assert time.monotonic() - started < 30
    assert leftovers() == before
    # The interpreter and the package go on working.
    assert neardedup.dedup(["a b c d e f", "a b c d e f"], progress=False).kept.tolist() == [
        True,
        False,
    ]


def test_bad_input_raises_with_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "one two three"}\n{"body": "no text field"}\n')
    with pytest.raises(neardedup.InputError, match=r"bad\.jsonl:2: missing text field"):
        neardedup.dedup(bad, progress=False)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine"}\n{"text": "unterminated\n')
    with pytest.raises(neardedup.InputError, match=r"broken\.jsonl:2"):
        neardedup.dedup(broken, progress=False)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(neardedup.InputError, match="latin1.txt"):
        neardedup.dedup(latin1, progress=False)
    truncated = tmp_path / "cut.jsonl.gz"
    lines = "".join(json.dumps({"text": f"record {i} of many"}) + "\n" for i in range(5000))
    whole = gzip.compress(lines.encode())
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(neardedup.InputError, match=r"cut\.jsonl\.gz"):
        neardedup.dedup(truncated, progress=False)
    with pytest.raises(neardedup.FileError, match="no-such-file.jsonl") as missing:
        neardedup.dedup(tmp_path / "no-such-file.jsonl", progress=False)
    assert isinstance(missing.value, OSError)
    with pytest.raises(neardedup.InputError):
        neardedup.dedup([], progress=False)
    with pytest.raises(neardedup.InputError, match="row 1: the text is null"):
        neardedup.dedup(pa.array(["text", None]), progress=False)
    with pytest.raises(neardedup.InputError, match="no column `body`"):
        neardedup.dedup(pa.table({"text": ["a"]}), text_field="body", progress=False)
    with pytest.raises(TypeError, match=r"source\[1\]"):
        neardedup.dedup(["text", 3], progress=False)
    with pytest.raises(TypeError, match="int"):
        neardedup.dedup(42, progress=False)


def test_bad_options_raise_setting_errors():
    texts = ["one two three four five"]
    with pytest.raises(neardedup.SettingError, match="num_perm = 0: must be between"):
        neardedup.dedup(texts, num_perm=0, progress=False)
    with pytest.raises(neardedup.SettingError, match="unknown option `nmu_perm`"):
        neardedup.dedup(texts, nmu_perm=64, progress=False)
    with pytest.raises(neardedup.SettingError, match='"article" or "paragraph"'):
        neardedup.dedup(texts, unit="sentence", progress=False)
    with pytest.raises(ValueError):
        neardedup.dedup(texts, threshold=1.5, progress=False)
    with pytest.raises(TypeError):
        neardedup.dedup(texts, threshold=[0.5], progress=False)


def test_every_command_line_option_is_an_option():
    assert "num_perm" in neardedup.OPTIONS
    assert "keep_case" in neardedup.OPTIONS
    assert "out" not in neardedup.OPTIONS
