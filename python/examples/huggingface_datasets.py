"""Deduplicate a Hugging Face `datasets.Dataset` by its text column.

    python huggingface_datasets.py CORPUS.jsonl

The dataset's Arrow column is handed to neardedup as it is (no copy into Python
strings); the kept mask then goes back into the dataset as a column, for
`Dataset.filter`, or straight to `Dataset.select`.
"""

import sys

import numpy as np
from datasets import load_dataset

import neardedup


def main(path):
    ds = load_dataset("json", data_files=path, split="train")
    result = neardedup.dedup(ds.data.column("text"), threshold=0.8, ngram=5, progress=False)

    # With a column: keep what `filter` keeps.
    flagged = ds.add_column("duplicate", result.duplicate.tolist())
    kept = flagged.filter(lambda row: not row["duplicate"]).remove_columns("duplicate")

    # Or by row numbers, without running Python per row.
    selected = ds.select(np.flatnonzero(result.kept))
    assert kept["id"] == selected["id"]
    print(f"rows: {len(ds)}, kept: {len(kept)}, removed: {len(ds) - len(kept)}")
    return kept


if __name__ == "__main__":
    main(sys.argv[1])
