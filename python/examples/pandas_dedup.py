"""Drop near-duplicate rows of a pandas DataFrame by their text column.

    python pandas_dedup.py CORPUS.jsonl

The text column goes to neardedup as an Arrow array (no Python string per row is
made for the run); `result.kept` is the boolean mask of rows to keep.
"""

import sys

import pandas as pd
import pyarrow as pa

import neardedup


def main(path):
    df = pd.read_json(path, lines=True)
    result = neardedup.dedup(pa.array(df["text"]), threshold=0.8, ngram=5, progress=False)
    deduped = df[result.kept]
    # Which rows each removed row repeats: its cluster, named by a unit in it.
    df["cluster"] = result.cluster
    repeated = df[~result.kept].groupby("cluster").size()
    print(f"rows: {len(df)}, kept: {len(deduped)}, removed: {len(df) - len(deduped)}")
    print(f"clusters with removed rows: {len(repeated)}")
    return deduped


if __name__ == "__main__":
    main(sys.argv[1])
