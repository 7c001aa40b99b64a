"""Checks a built collection level against the format and labelling invariants:
every line of every text non-empty after trimming; one truth row per unit; each
cluster has exactly one original (jaccard 1.0) that is itself in the cluster; a
sample of jaccard values recomputed with textsim.

Usage: python3 -m realtext.validate DIR...   (DIR holds corpus.jsonl, truth.jsonl)
"""

import json
import os
import random
import sys

from . import textsim


def validate(folder, sample=300):
    texts = {}
    with open(os.path.join(folder, "corpus.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            lines = d["text"].split("\n")
            assert all(l.strip() for l in lines), f"{folder}: empty line in {d['id']}"
            texts[d["id"]] = lines
    truth = [json.loads(l) for l in open(os.path.join(folder, "truth.jsonl"), encoding="utf-8")]
    paragraph = "para" in truth[0]
    units = {}
    for t in truth:
        key = f"{t['id']}#{t['para']}" if paragraph else t["id"]
        units[key] = t
    expected = sum(len(v) for v in texts.values()) if paragraph else len(texts)
    assert len(units) == len(truth) == expected, f"{folder}: {len(truth)} rows, {expected} units"
    originals = {}
    for key, t in units.items():
        if t["edit"] == "original":
            assert t["cluster"] == key and t["jaccard"] == 1.0, f"{folder}: bad original {key}"
            assert t["cluster"] not in originals
            originals[t["cluster"]] = key
    assert all(t["cluster"] in originals for t in truth), f"{folder}: cluster without original"

    def text_of(key):
        if paragraph:
            rid, p = key.rsplit("#", 1)
            return texts[rid][int(p)]
        return "\n".join(texts[key])

    rng = random.Random(0)
    for key in rng.sample(sorted(units), min(sample, len(units))):
        t = units[key]
        jac = textsim.jaccard(text_of(key), text_of(t["cluster"]))
        assert abs(jac - t["jaccard"]) < 1e-9, f"{folder}: {key} jaccard {t['jaccard']} != {jac}"
    return len(truth), len(originals)


def main():
    for folder in sys.argv[1:]:
        n, c = validate(folder)
        print(f"ok {folder}: {n} units, {c} clusters")


if __name__ == "__main__":
    main()
