"""Writes a labelled collection: corpus.jsonl, truth.jsonl, records.tsv, and
computes its statistics (true pairs, look-alike negative pairs)."""

import json
import os
from collections import Counter

from . import candidates, textsim

LOOKALIKE_FLOORS = (0.3, 0.5)


def _dump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _pairs(n):
    return n * (n - 1) // 2


def article_outputs(units, rng, prefix):
    """Shuffles article units, names them and returns (rows, truth) in corpus
    order: rows are (id, unit), truth dicts in the eval's format."""
    order = list(range(len(units)))
    rng.shuffle(order)
    name = {u: f"{prefix}-{k:06d}" for k, u in enumerate(order)}
    rows, truth = [], []
    for u in order:
        unit = units[u]
        rows.append((name[u], unit))
        truth.append({"id": name[u], "cluster": name[unit["origin"]],
                      "jaccard": unit["jaccard"], "edit": unit["edit"]})
    return rows, truth


def paragraph_outputs(records, prefix):
    """Names paragraph-level records and returns (rows, truth): rows are
    (id, record with text), truth one dict per paragraph."""
    loc = {}
    rows = []
    for k, r in enumerate(records):
        rid = f"{prefix}-{k:06d}"
        for i, p in enumerate(r["paras"]):
            loc[id(p)] = (rid, i)
        rows.append((rid, r))
    truth = []
    for rid, r in rows:
        for i, p in enumerate(r["paras"]):
            orid, opara = loc[id(p["origin"])]
            truth.append({"id": rid, "para": i, "cluster": f"{orid}#{opara}",
                          "jaccard": p["jaccard"], "edit": p["edit"]})
    return rows, truth


def write_level(out_dir, rows, truth, text_of):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "corpus.jsonl"), "w", encoding="utf-8") as fh:
        for rid, r in rows:
            fh.write(_dump({"id": rid, "text": text_of(r)}) + "\n")
    with open(os.path.join(out_dir, "truth.jsonl"), "w", encoding="utf-8") as fh:
        for t in truth:
            fh.write(_dump(t) + "\n")
    with open(os.path.join(out_dir, "records.tsv"), "w", encoding="utf-8") as fh:
        fh.write("id\tregistry\tpackage\tversion\tpath\tlicence\n")
        for rid, r in rows:
            d = r["doc"]
            fh.write("\t".join([rid, d["registry"], d["package"], d["version"], d["path"],
                                d["licence"].replace("\t", " ")]) + "\n")


def article_text(unit):
    return unit["text"]


def paragraph_text(record):
    return "\n".join(p["text"] for p in record["paras"])


def _edit_kind(edit):
    return edit.split(":")[0]


def stats_for(truth, unit_sets, unit_cluster, unit_weight=None):
    """Statistics of a labelled level. unit_sets/unit_cluster/unit_weight describe
    the distinct texts (weight = how many units share it) for look-alike counts."""
    sizes = Counter(t["cluster"] for t in truth)
    edits = Counter(_edit_kind(t["edit"]) for t in truth)
    natural = sum(v for k, v in edits.items() if k.startswith("natural-"))
    derived = sum(v for k, v in edits.items() if k != "original")
    weight = unit_weight or [1] * len(unit_sets)
    look = {f: 0 for f in LOOKALIKE_FLOORS}
    for i, j, jac in candidates.similar_pairs(unit_sets, min(LOOKALIKE_FLOORS)):
        if unit_cluster[i] != unit_cluster[j]:
            for f in LOOKALIKE_FLOORS:
                if jac >= f:
                    look[f] += weight[i] * weight[j]
    return {
        "units": len(truth), "clusters": len(sizes),
        "true_pairs": sum(_pairs(n) for n in sizes.values()),
        "largest_cluster": max(sizes.values()) if sizes else 0,
        "derived_units": derived, "natural_derived": natural,
        "planted_derived": derived - natural,
        "lookalike_pairs_j03": look[0.3], "lookalike_pairs_j05": look[0.5],
        "edits": dict(sorted(edits.items())),
    }


def article_stats(rows, truth):
    sets = [r["set"] for _, r in rows]
    clusters = [t["cluster"] for t in truth]
    return stats_for(truth, sets, clusters)


def paragraph_stats(rows, truth):
    by_key, order = {}, []
    k = 0
    for _, r in rows:
        for p in r["paras"]:
            t = truth[k]
            k += 1
            if p["key"] not in by_key:
                by_key[p["key"]] = [textsim.shingles(p["text"]), t["cluster"], 0]
                order.append(p["key"])
            by_key[p["key"]][2] += 1
    sets = [by_key[x][0] for x in order]
    clusters = [by_key[x][1] for x in order]
    weights = [by_key[x][2] for x in order]
    return stats_for(truth, sets, clusters, weights)
