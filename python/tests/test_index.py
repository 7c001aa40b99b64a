"""The persistent Index: datasketch's names, neardedup's file format."""

import json

import pytest

import neardedup

from conftest import DATASETS

REALTEXT = DATASETS / "realtext" / "docs" / "article" / "corpus.jsonl"


def records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_insert_query_and_insert_if_new():
    index = neardedup.Index(threshold=0.6)
    index.insert("seoul", "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 대상을 수상했다")
    index.insert(7, "In the beginning God created the heaven and the earth, and the earth was without")
    assert len(index) == 2
    edited = "시는 지난 5일 더플라자호텔 서울에서 열린 혁신대상에서 행정혁신부문 최우수상을 수상했다"
    assert index.query(edited) == ["seoul"]
    ((key, similarity),) = index.matches(edited)
    assert key == "seoul" and 0.6 <= similarity < 1.0
    assert index.query("an unrelated sentence about the weather in the mountains") == []
    assert index.insert_if_new("dup", edited) == [("seoul", similarity)]
    assert len(index) == 2, "a duplicate is not added"
    assert index.insert_if_new("new", "a sentence nobody has indexed before today, surely") == []
    assert len(index) == 3
    sketch = neardedup.MinHash(edited)
    assert index.query(sketch) == ["seoul"]
    with pytest.raises(ValueError, match="num_perm"):
        index.query(neardedup.MinHash(edited, num_perm=64))
    with pytest.raises(TypeError):
        index.insert(1.5, "text")
    with pytest.raises(ValueError):
        index.insert(-1, "text")
    with pytest.raises(TypeError):
        index.query(42)


def test_an_index_saved_and_loaded_answers_as_before(tmp_path):
    rows = records(REALTEXT)
    index = neardedup.Index(threshold=0.8, ngram=5)
    for row in rows[:60]:
        index.insert(row["id"], row["text"])
    before = [index.matches(row["text"]) for row in rows]
    index.save(tmp_path / "saved.ndx")
    loaded = neardedup.Index.load(tmp_path / "saved.ndx", threshold=0.8)
    assert len(loaded) == 60
    assert [loaded.matches(row["text"]) for row in rows] == before
    assert sum(1 for found in before[60:] if found) > 0, "some later texts repeat earlier ones"
    with pytest.raises(neardedup.InputError, match="ngram"):
        neardedup.Index.load(tmp_path / "saved.ndx", ngram=3)
    with pytest.raises(neardedup.FileError):
        neardedup.Index.load(tmp_path / "missing.ndx")
    (tmp_path / "junk.ndx").write_bytes(b"not an index at all")
    with pytest.raises(neardedup.NeardedupError, match="junk.ndx"):
        neardedup.Index.load(tmp_path / "junk.ndx")


def test_the_file_is_the_command_lines_and_so_are_the_matches(tmp_path, cli):
    rows = records(REALTEXT)
    first, second = rows[:45], rows[45:]
    (tmp_path / "first.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first))
    (tmp_path / "second.jsonl").write_text("".join(json.dumps(r) + "\n" for r in second))
    cli("index", "build", "--index", tmp_path / "cli.ndx", tmp_path / "first.jsonl",
        "-o", tmp_path / "built", "--quiet", "--threshold", "0.8")

    index = neardedup.Index(threshold=0.8)
    for row in first:
        index.insert(row["id"], row["text"])
    index.save(tmp_path / "py.ndx")
    assert (tmp_path / "py.ndx").read_bytes() == (tmp_path / "cli.ndx").read_bytes()

    # A run against the index removes exactly the texts a query finds in it.
    cli("dedup", tmp_path / "second.jsonl", "--against", tmp_path / "py.ndx",
        "-o", tmp_path / "against", "--quiet", "--threshold", "0.8")
    removed = records(tmp_path / "against" / "removed.jsonl")
    indexed = {r["id"] for r in first}
    from_index = {r["id"] for r in removed if r["kept_id"] in indexed}
    loaded = neardedup.Index.load(tmp_path / "cli.ndx", threshold=0.8)
    found = {row["id"] for row in second if loaded.query(row["text"])}
    assert found == from_index
    assert found, "the second half repeats some of the first"


def test_weights_choose_the_bands():
    with pytest.raises(neardedup.SettingError):
        neardedup.Index(weights=(-1.0, 1.0))
    with pytest.raises(neardedup.SettingError, match="not both"):
        neardedup.Index(weights=(0.5, 0.5), bands=8, rows=16)
    recall_first = neardedup.Index(threshold=0.5, weights=(0.01, 0.99))
    precision_first = neardedup.Index(threshold=0.5, weights=(0.99, 0.01))
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    edited = "one two three four five six seven eight nine ten eleven twelve thirteen fifteen"
    for index in (recall_first, precision_first):
        index.insert(1, text)
    assert recall_first.query(edited) == [1] or precision_first.query(edited) == []
