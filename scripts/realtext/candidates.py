"""Candidate pairs for Jaccard >= ~0.3 by MinHash LSH, verified exactly.

Used only to find which pairs to compare; every reported similarity is the exact
Jaccard of textsim. 128 hash functions in 64 bands of 2 rows: a pair at Jaccard
0.3 becomes a candidate with probability 0.998, at 0.5 with probability > 0.9999.
Candidates whose MinHash estimate is below ESTIMATE_FLOOR are not verified.
"""

import numpy as np

from . import textsim

PERMS, ROWS = 128, 2
ESTIMATE_FLOOR = 0.15
_SEED = 20240601
_MAX_BUCKET = 4000  # larger buckets are near-identical texts; compare to a few only


def _params():
    rs = np.random.RandomState(_SEED)
    a = rs.randint(1, 2**63 - 1, size=PERMS, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    b = rs.randint(0, 2**63 - 1, size=PERMS, dtype=np.int64).astype(np.uint64)
    return a, b


def signatures(sets):
    """MinHash signatures (len(sets) x PERMS, uint64) of hashed shingle sets."""
    a, b = _params()
    sig = np.full((len(sets), PERMS), np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, s in enumerate(sets):
            if not s:
                continue
            x = np.fromiter(s, dtype=np.uint64, count=len(s))
            for lo in range(0, len(x), 4096):
                h = np.multiply.outer(a, x[lo : lo + 4096]) + b[:, None]
                sig[i] = np.minimum(sig[i], h.min(axis=1))
    return sig


def candidate_pairs(sets):
    """Sorted list of (i, j), i < j, of sets likely to have Jaccard >= 0.3."""
    sig = signatures(sets)
    n = len(sets)
    pairs = set()
    for band in range(PERMS // ROWS):
        cols = sig[:, band * ROWS : (band + 1) * ROWS]
        keys = cols[:, 0] ^ (cols[:, 1] * np.uint64(0x9E3779B97F4A7C15))
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        ends = np.r_[starts[1:], n]
        for s, e in zip(starts.tolist(), ends.tolist()):
            if e - s < 2:
                continue
            members = sorted(order[s:e].tolist())
            if len(members) > _MAX_BUCKET:
                members = members[:_MAX_BUCKET]
            for x in range(len(members)):
                mx = members[x]
                for y in range(x + 1, len(members)):
                    pairs.add((mx, members[y]))
    if not pairs:
        return []
    arr = np.array(sorted(pairs), dtype=np.int64)
    est = (sig[arr[:, 0]] == sig[arr[:, 1]]).mean(axis=1)
    keep = arr[est >= ESTIMATE_FLOOR]
    return [tuple(p) for p in keep.tolist()]


def similar_pairs(sets, floor):
    """[(i, j, J)] with exact Jaccard >= floor, among the candidates."""
    out = []
    for i, j in candidate_pairs(sets):
        jac = textsim.jaccard_sets(sets[i], sets[j])
        if jac >= floor:
            out.append((i, j, jac))
    return out
