"""The examples run, and keep what a direct run keeps."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import neardedup

from conftest import DATASETS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CORPUS = DATASETS / "realtext" / "docs" / "article" / "corpus.jsonl"


def run_example(name, *args):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *map(str, args)],
        capture_output=True,
        text=True,
        env={"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", **__import__("os").environ},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def expected_kept():
    result = neardedup.dedup(CORPUS, threshold=0.8, ngram=5, progress=False)
    return int(result.kept.sum()), len(result)


def test_pandas_example():
    kept, rows = expected_kept()
    assert f"rows: {rows}, kept: {kept}, removed: {rows - kept}" in run_example("pandas_dedup.py", CORPUS)


def test_huggingface_datasets_example(tmp_path):
    pytest.importorskip("datasets")
    kept, rows = expected_kept()
    out = run_example("huggingface_datasets.py", CORPUS)
    assert f"rows: {rows}, kept: {kept}, removed: {rows - kept}" in out


def test_datatrove_style_step_streams_against_a_saved_index(tmp_path):
    out = run_example("datatrove_step.py", CORPUS, tmp_path / "seen.ndx")
    kept = int(out.split("documents kept: ")[1].split(",")[0])
    removed = int(out.split("removed: ")[1])
    records = sum(1 for _ in CORPUS.open())
    assert kept + removed == records and removed > 0
    # A second pass over the same corpus finds every document in the saved index.
    again = run_example("datatrove_step.py", CORPUS, tmp_path / "seen.ndx")
    assert f"documents kept: 0, removed: {records}" in again
    assert len(neardedup.Index.load(tmp_path / "seen.ndx")) == kept
