"""Shared fixtures: the repository's datasets, the command line for comparisons."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"


def cli_binary():
    """The `neardedup` binary to compare with: $NEARDEDUP_BIN, or one cargo built."""
    given = os.environ.get("NEARDEDUP_BIN")
    if given:
        return Path(given)
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / "neardedup"
        if path.exists():
            return path
    found = shutil.which("neardedup")
    return Path(found) if found else None


@pytest.fixture
def cli():
    """Runs the command line; skipped without a binary, except in CI, where the
    README's test command builds it first."""
    binary = cli_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no neardedup binary: run `cargo build` first (or set NEARDEDUP_BIN)")
        pytest.skip("no neardedup binary (cargo build, or set NEARDEDUP_BIN)")

    def run(*args):
        done = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    return run


@pytest.fixture
def korean_article():
    return DATASETS / "korean-news-article.txt"


@pytest.fixture
def labelled_article():
    """A small labelled corpus shipped with the repository (JSONL with ids)."""
    return DATASETS / "labelled" / "article" / "corpus.jsonl"
