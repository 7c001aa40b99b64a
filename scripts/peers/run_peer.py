#!/usr/bin/env python3
"""Run one peer near-duplicate detector on a neardedup JSONL corpus.

Used by scripts/compare-peers so that neardedup and the Python peers (datasketch,
rensa, gaoya, text-dedup) are scored the same way: each run writes

    OUT/clusters.jsonl   one {"id": ..., "cluster": <int>} per unit (neardedup's format,
                         read by `neardedup eval`); with `--unit paragraph` one
                         {"id": ..., "para": <int>, "cluster": <int>} per paragraph.
                         Clusters are the connected components of the duplicate pairs
                         the peer's own index/query API returned;
    OUT/stats.json       sketch seconds (signature computation only), corpus bytes, the
                         peer's version and the exact settings used.

Every peer gets the same shingles: lower-cased text split on whitespace (`text.split()`),
word 5-grams joined by a space. `--shingles own` times tokenising + sketching (how the
peer is normally used); `--shingles pre` prepares the shingles before the timed region
and times sketching alone. text-dedup is a command-line pipeline with its own tokeniser
(`\\W` split) and is run as such.

Units are records (`--unit article`) or paragraphs (`--unit paragraph`): the non-empty
lines of each record, trimmed and numbered from 0 as neardedup numbers them, each
deduplicated as a unit of its own (text-dedup gets them as a JSONL file of units).

The `table` subcommand renders the rows collected by scripts/compare-peers as markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path


# --------------------------------------------------------------------------- input


def read_corpus(path: Path, id_field: str, text_field: str) -> tuple[list[str], list[str]]:
    """Return the ids and texts of a JSONL corpus, in input order."""
    ids, texts = [], []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                ids.append(rec[id_field])
                texts.append(rec[text_field])
            except (json.JSONDecodeError, KeyError) as e:
                sys.exit(f"run_peer: {path}:{line_no}: bad record: {e}")
    return ids, texts


def paragraphs(text: str) -> list[str]:
    """The non-empty lines of `text`, trimmed: neardedup's `--unit paragraph` (`--para-sep
    line`), numbered from 0 in this order."""
    return [p for p in (line.strip() for line in text.split("\n")) if p]


def to_units(ids: list[str], texts: list[str], unit: str) -> tuple[list[dict], list[str]]:
    """Unit keys ({"id"} or {"id", "para"}) and unit texts for article or paragraph units."""
    if unit == "article":
        return [{"id": i} for i in ids], texts
    keys, units = [], []
    for rid, text in zip(ids, texts):
        for k, para in enumerate(paragraphs(text)):
            keys.append({"id": rid, "para": k})
            units.append(para)
    return keys, units


def shingles(text: str, n: int) -> list[str]:
    """Distinct lower-cased whitespace-token n-grams, joined by a space."""
    toks = text.lower().split()
    if len(toks) < n:
        return [" ".join(toks)] if toks else []
    return list({" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)})


def shingles_bytes(text: str, n: int) -> list[bytes]:
    return [s.encode("utf-8") for s in shingles(text, n)]


# --------------------------------------------------------------------------- output


class UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller index (earlier record) stays the root
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def write_clusters(out: Path, keys: list[dict], uf: UnionFind) -> int:
    """Write clusters.jsonl (one row per unit: its key, cluster and whether it is a
    duplicate); return the number of units in a cluster of two or more."""
    roots = [uf.find(i) for i in range(len(keys))]
    sizes: dict[int, int] = {}
    for r in roots:
        sizes[r] = sizes.get(r, 0) + 1
    with (out / "clusters.jsonl").open("w", encoding="utf-8") as f:
        for i, r in enumerate(roots):
            f.write(json.dumps({**keys[i], "cluster": r, "duplicate": r != i}) + "\n")
    return sum(1 for r in roots if sizes[r] > 1)


def union_results(uf: UnionFind, results) -> None:
    """Union each query document with every id its query returned."""
    for i, found in enumerate(results):
        for j in found:
            uf.union(i, int(j))


def version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------- peers
# Each peer function returns (sketch_seconds, uf, settings dict).


def peer_datasketch(args, keys, texts):
    """datasketch MinHash (sha1 over shingle bytes) + MinHashLSH; duplicates = LSH query
    results (datasketch does not verify candidates; that is its normal use)."""
    from datasketch import MinHash, MinHashLSH

    n = len(texts)
    if args.shingles == "pre":
        toks = [shingles_bytes(t, args.ngram) for t in texts]
        t0 = time.perf_counter()
        sigs = list(MinHash.generator(toks, num_perm=args.num_perm))
        sketch = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        sigs = list(
            MinHash.generator((shingles_bytes(t, args.ngram) for t in texts), num_perm=args.num_perm)
        )
        sketch = time.perf_counter() - t0
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    with lsh.insertion_session() as session:
        for i, m in enumerate(sigs):
            session.insert(i, m, check_duplication=False)
    uf = UnionFind(n)
    union_results(uf, (lsh.query(m) for m in sigs))
    settings = {
        "num_perm": args.num_perm,
        "threshold": args.threshold,
        "lsh": f"{lsh.b} bands x {lsh.r} rows (datasketch's own choice)",
        "verify": "none (LSH candidates)",
    }
    return sketch, uf, settings


def peer_rensa(args, keys, texts):
    """rensa RMinHash + RMinHashLSH with neardedup's bands/rows; candidates are kept when
    the RMinHash Jaccard estimate reaches the threshold (as in rensa's examples).
    RMinHashLSH needs num_perm divisible by the band count, so the sketch has
    bands*rows permutations (the same 117 of 128 that neardedup's LSH uses)."""
    from rensa import RMinHash, RMinHashLSH

    n = len(texts)
    num_perm = args.bands * args.rows
    if args.shingles == "pre":
        toks = [shingles(t, args.ngram) for t in texts]
        t0 = time.perf_counter()
        sigs = RMinHash.from_token_sets(toks, num_perm, args.seed)
        sketch = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        sigs = RMinHash.from_token_sets(
            (shingles(t, args.ngram) for t in texts), num_perm, args.seed
        )
        sketch = time.perf_counter() - t0
    lsh = RMinHashLSH(args.threshold, num_perm, args.bands)
    for i, m in enumerate(sigs):
        lsh.insert(i, m)
    uf = UnionFind(n)
    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            if j != i and m.jaccard(sigs[j]) >= args.threshold:
                uf.union(i, j)
    settings = {
        "num_perm": num_perm,
        "threshold": args.threshold,
        "lsh": f"{args.bands} bands x {args.rows} rows (neardedup's choice; rensa has no automatic choice)",
        "verify": "RMinHash Jaccard estimate >= threshold",
    }
    return sketch, uf, settings


def peer_gaoya_minhash(args, keys, texts):
    """gaoya MinHashStringIndex (32-bit hashes) with neardedup's bands/rows; its query
    returns documents whose estimated Jaccard reaches the threshold. `own` uses gaoya's
    built-in Rust word analyzer (whitespace tokens, lower-cased, 5-grams), multi-threaded."""
    from gaoya.minhash import MinHashStringIndex

    n = len(texts)
    id_list = list(range(n))
    if args.shingles == "pre":
        toks = [shingles(t, args.ngram) for t in texts]
        index = MinHashStringIndex(
            32, args.threshold, args.bands, args.rows, None, lambda doc: doc, False, None
        )
        t0 = time.perf_counter()
        index.par_bulk_insert_docs(id_list, toks)
        sketch = time.perf_counter() - t0
        results = index.par_bulk_query(toks)
    else:
        index = MinHashStringIndex(
            32, args.threshold, args.bands, args.rows, None, "word", True, (args.ngram, args.ngram)
        )
        t0 = time.perf_counter()
        index.par_bulk_insert_docs(id_list, texts)
        sketch = time.perf_counter() - t0
        results = index.par_bulk_query(texts)
    uf = UnionFind(n)
    union_results(uf, results)
    settings = {
        "num_perm": args.bands * args.rows,
        "threshold": args.threshold,
        "lsh": f"{args.bands} bands x {args.rows} rows (neardedup's choice)",
        "verify": "gaoya's query (estimated Jaccard >= threshold)",
        "note": "sketch time includes inserting into the band tables",
    }
    return sketch, uf, settings


def peer_gaoya_simhash(args, keys, texts):
    """gaoya SimHashStringIndex, 64 bits, Hamming distance <= k, word 5-grams."""
    from gaoya.simhash import SimHashStringIndex

    n = len(texts)
    blocks = args.hamming + 3  # gaoya needs more blocks than the distance; its default is 6 for k=3
    if args.shingles == "pre":
        toks = [shingles(t, args.ngram) for t in texts]
        index = SimHashStringIndex(64, blocks, args.hamming, lambda doc: doc, False, None)
        docs = toks
    else:
        index = SimHashStringIndex(64, blocks, args.hamming, "word", True, (args.ngram, args.ngram))
        docs = texts
    t0 = time.perf_counter()
    for i, d in enumerate(docs):
        index.insert_document(i, d)
    sketch = time.perf_counter() - t0
    uf = UnionFind(n)
    if args.shingles == "pre":
        # gaoya 0.2's par_bulk_query fails with a callable analyzer; query one by one
        union_results(uf, (index.query(d) for d in docs))
    else:
        union_results(uf, index.par_bulk_query(docs))
    settings = {
        "bits": 64,
        "hamming": args.hamming,
        "blocks": blocks,
        "note": "sketch time includes inserting into the block tables",
    }
    return sketch, uf, settings


def run_text_dedup(args, texts, module: str, extra: list[str], stage: str):
    """Run a text-dedup module offline on the units; read its union-find (--debug).
    The units are written to a JSONL file ({"uid": unit number, "text": ...}) so that
    article and paragraph units go through text-dedup the same way."""
    work = args.out / "text-dedup"
    work.mkdir(parents=True, exist_ok=True)
    units_path = work / "units.jsonl"
    with units_path.open("w", encoding="utf-8") as f:
        for k, text in enumerate(texts):
            f.write(json.dumps({"uid": k, "text": text}, ensure_ascii=False) + "\n")
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", COLUMNS="400")
    cmd = [
        sys.executable, "-m", f"text_dedup.{module}",
        "--path", "json", "--data_files", str(units_path), "--split", "train",
        "--column", "text", "--idx_column", "uid",
        "--cache_dir", str(work / "cache"), "--output", str(work / "output"),
        "--debug", "--num_proc", str(os.cpu_count() or 1),
    ] + extra
    log_path = args.out / "text-dedup.log"
    with log_path.open("w") as log:
        rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    log_text = log_path.read_text(errors="replace")
    if rc != 0:
        tail = log_text.strip().splitlines()[-5:]
        sys.exit(f"run_peer: text_dedup.{module} exited with {rc}: " + " | ".join(tail))
    m = re.search(rf"{stage}\s*:\s*([0-9.]+)\s*s", log_text)
    if not m:
        sys.exit(f"run_peer: no '{stage}' time in {log_path}")
    sketch = float(m.group(1))
    with (work / "output" / "uf.pkl").open("rb") as f:
        tuf = pickle.load(f)  # text_dedup.utils.UnionFind keyed by the id column
    uf = UnionFind(len(texts))
    for x in list(tuf.parent):
        uf.union(int(x), int(tuf.find(x)))
    return sketch, uf


def peer_text_dedup_minhash(args, keys, texts):
    """text-dedup's MinHash pipeline (datasets map over all cores, sha1, `\\W` tokens,
    its own bands/rows choice, duplicates = any shared band, no verification)."""
    extra = [
        "--num_perm", str(args.num_perm), "--threshold", str(args.threshold),
        "--ngram", str(args.ngram),
    ]
    sketch, uf = run_text_dedup(args, texts, "minhash", extra, "MinHashing")
    settings = {
        "num_perm": args.num_perm,
        "threshold": args.threshold,
        "lsh": "text-dedup's own choice (optimal_param, as datasketch)",
        "verify": "none (shared band)",
        "args": " ".join(extra),
    }
    return sketch, uf, settings


def peer_text_dedup_simhash(args, keys, texts):
    """text-dedup's SimHash pipeline (64 bits, `\\W` tokens, bit_diff k, its default
    num_bucket k+1)."""
    extra = [
        "--ngram", str(args.ngram), "--f", "64", "--bit_diff", str(args.hamming),
        "--num_bucket", str(args.hamming + 1),
    ]
    sketch, uf = run_text_dedup(args, texts, "simhash", extra, "SimHashing")
    settings = {"bits": 64, "hamming": args.hamming, "args": " ".join(extra)}
    return sketch, uf, settings


PEERS = {
    "datasketch": (peer_datasketch, "datasketch"),
    "rensa": (peer_rensa, "rensa"),
    "gaoya-minhash": (peer_gaoya_minhash, "gaoya"),
    "gaoya-simhash": (peer_gaoya_simhash, "gaoya"),
    "text-dedup-minhash": (peer_text_dedup_minhash, "text-dedup"),
    "text-dedup-simhash": (peer_text_dedup_simhash, "text-dedup"),
}


def cmd_run(args) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    func, pkg = PEERS[args.peer]
    t0 = time.perf_counter()
    ids, texts = read_corpus(args.corpus, args.id_field, args.text_field)
    keys, texts = to_units(ids, texts, args.unit)
    read_s = time.perf_counter() - t0
    sketch, uf, settings = func(args, keys, texts)
    settings["ngram"] = args.ngram
    dup_units = write_clusters(args.out, keys, uf)
    stats = {
        "peer": args.peer,
        "package": pkg,
        "version": version(pkg),
        "shingles": args.shingles,
        "input_bytes": args.corpus.stat().st_size,
        "records": len(ids),
        "unit": args.unit,
        "units": len(keys),
        "read_seconds": read_s,
        "sketch_seconds": sketch,
        "units_in_duplicate_clusters": dup_units,
        "settings": settings,
    }
    (args.out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")


# --------------------------------------------------------------------------- table


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def cmd_table(args) -> None:
    """Render rows.jsonl (one JSON object per run, written by compare-peers) as markdown,
    taking medians over repeated runs of the same row."""
    groups: dict[str, list[dict]] = {}
    for line in args.rows.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            groups.setdefault(r["row"], []).append(r)

    def med(rs, key):
        vals = [r[key] for r in rs if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    # Ratios against the reference row (neardedup at the peers' settings), from the
    # medians of this same invocation: how many times faster neardedup's sketch stage
    # and whole run are than each row's.
    ref = [r for r in groups.get(args.reference, []) if r.get("status") == "ok"]
    ref_sketch, ref_wall = med(ref, "sketch_mbps"), med(ref, "wall_seconds")

    def ratio(num, den):
        return f"{num / den:.1f}x" if num and den else "—"

    out = [
        "| tool | algorithm | shingles | sketch MB/s | wall s | peak RSS MiB | precision | recall | F1 "
        f"| sketch: {args.reference} ÷ this | wall: this ÷ {args.reference} | notes |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row, rs in groups.items():
        last = rs[-1]
        ok = [r for r in rs if r.get("status") == "ok"]
        if ok:
            last = ok[-1]
            sketch, wall = med(ok, "sketch_mbps"), med(ok, "wall_seconds")
            out.append(
                f"| {last['tool']} | {last['algo']} | {last['shingles']} "
                f"| {fmt(sketch, '.1f')} | {fmt(wall, '.2f')} "
                f"| {fmt(med(ok, 'rss_mib'), '.0f')} | {fmt(last.get('precision'), '.4f')} "
                f"| {fmt(last.get('recall'), '.4f')} | {fmt(last.get('f1'), '.4f')} "
                f"| {ratio(ref_sketch, sketch)} | {ratio(wall, ref_wall)} | {last.get('notes', '')} |"
            )
        else:
            out.append(
                f"| {last['tool']} | {last['algo']} | {last['shingles']} | — | "
                f"{fmt(last.get('wall_seconds'), '.1f')} | {fmt(last.get('rss_mib'), '.0f')} "
                f"| — | — | — | — | — | **failed**: {last.get('status')} |"
            )
    print("\n".join(out))


def settings_text(st: dict) -> str:
    """A short label for one grid setting, e.g. `t=0.7 n=5 star/exact`."""
    parts = []
    if "threshold" in st:
        parts.append(f"t={st['threshold']}")
    if "ngram" in st:
        parts.append(f"n={st['ngram']}")
    extra = "/".join(str(st[k]) for k in ("cluster", "verify") if k in st)
    if extra:
        parts.append(extra)
    return " ".join(parts) or "defaults"


def cmd_grid(args) -> None:
    """Render grid rows (one per tool and setting) as markdown: per tool its best F1 over
    all its settings, and its best F1 among settings with precision >= --min-precision;
    then the runs that failed."""
    groups: dict[str, list[dict]] = {}
    for line in args.rows.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            groups.setdefault(r["group"], []).append(r)

    def best(rs):
        rs = [r for r in rs if r.get("f1") is not None]
        return max(rs, key=lambda r: (r["f1"], r["precision"])) if rs else None

    def cells(r):
        if r is None:
            return "— | — | — | — | —"
        return (f"{r['f1']:.4f} | {r['precision']:.4f} | {r['recall']:.4f} "
                f"| {settings_text(r['settings'])} | {fmt(r.get('wall_seconds'), '.1f')}")

    p = args.min_precision
    out = [
        f"| tool | algorithm | tokens | runs ok | best F1 | precision | recall | at setting | wall s "
        f"| best F1 at P ≥ {p} | precision | recall | at setting | wall s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    failures = []
    for group, rs in groups.items():
        ok = [r for r in rs if r.get("status") == "ok"]
        first = rs[0]
        strict = best([r for r in ok if (r.get("precision") or 0) >= p])
        out.append(
            f"| {first['tool']} | {first['algo']} | {first['shingles']} | {len(ok)}/{len(rs)} "
            f"| {cells(best(ok))} | {cells(strict)} |"
        )
        for r in rs:
            if r.get("status") != "ok":
                failures.append(f"- {first['tool']} ({first['algo']}), {settings_text(r['settings'])}: {r.get('status')}")
    print("\n".join(out))
    if failures:
        print("\nFailed runs:\n")
        print("\n".join(failures))


def cmd_layout(args) -> None:
    """Print the LSH bands and rows datasketch (and neardedup) choose for a threshold."""
    from datasketch.lsh import _optimal_param

    b, r = _optimal_param(args.threshold, args.num_perm, 0.5, 0.5)
    print(b, r)


def parse_time_v(path: Path) -> tuple[float | None, float | None, str]:
    """Wall seconds, peak RSS (MiB) and signal note from a `/usr/bin/time -v` file."""
    wall = rss = None
    note = ""
    if not path.exists():
        return wall, rss, note
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            parts = [float(x) for x in line.rsplit(" ", 1)[1].split(":")]
            wall = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1]) / 1024
        elif line.startswith("Command terminated by signal"):
            note = line
    return wall, rss, note


def cmd_row(args) -> None:
    """Print one result row (JSON) from a run's time file, stats/report and eval output."""
    wall, rss, signal_note = parse_time_v(args.time_file)
    row = {
        "row": args.row, "tool": args.tool, "algo": args.algo, "shingles": args.shingles,
        "wall_seconds": wall, "rss_mib": rss, "notes": args.notes,
        "group": args.group or args.tool, "settings": json.loads(args.settings or "{}"),
    }
    if args.rc == 0:
        row["status"] = "ok"
    elif args.rc == 124:
        row["status"] = f"timed out after {args.timeout} s"
    else:
        detail = signal_note or (args.error or "").strip()
        if "signal 9" in detail:
            detail += " (killed: out of memory?)"
        row["status"] = f"exit code {args.rc}" + (f": {detail[-300:]}" if detail else "")
    if args.rc == 0:
        if args.report and args.report.exists():  # neardedup's report.json
            rep = json.loads(args.report.read_text())
            sk = next((t["seconds"] for t in rep.get("timings", []) if t["stage"] == "read+sketch"), None)
            if sk:
                row["sketch_mbps"] = rep["input_bytes"] / 1e6 / sk
        elif args.stats and args.stats.exists():
            st = json.loads(args.stats.read_text())
            row["sketch_mbps"] = st["input_bytes"] / 1e6 / st["sketch_seconds"]
        if args.eval and args.eval.exists():
            ev = json.loads(args.eval.read_text())
            row.update(precision=ev["precision"], recall=ev["recall"], f1=ev["f1"])
    print(json.dumps(row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run one peer")
    r.add_argument("peer", choices=sorted(PEERS))
    r.add_argument("--corpus", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--shingles", choices=["own", "pre"], default="own")
    r.add_argument("--unit", choices=["article", "paragraph"], default="article")
    r.add_argument("--id-field", default="id")
    r.add_argument("--text-field", default="text")
    r.add_argument("--threshold", type=float, default=0.8)
    r.add_argument("--num-perm", type=int, default=128)
    r.add_argument("--ngram", type=int, default=5)
    r.add_argument("--bands", type=int, default=9)
    r.add_argument("--rows", type=int, default=13)
    r.add_argument("--hamming", type=int, default=3)
    r.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("table", help="render collected rows as markdown")
    t.add_argument("rows", type=Path)
    t.add_argument("--reference", default="neardedup-minhash",
                   help="the row the ratio columns compare every row with")
    w = sub.add_parser("row", help="one result row from a run's files")
    w.add_argument("--row", required=True)
    w.add_argument("--tool", required=True)
    w.add_argument("--algo", required=True)
    w.add_argument("--shingles", required=True)
    w.add_argument("--notes", default="")
    w.add_argument("--rc", type=int, required=True)
    w.add_argument("--timeout", default="?")
    w.add_argument("--error", default="")
    w.add_argument("--time-file", type=Path, required=True)
    w.add_argument("--report", type=Path)
    w.add_argument("--stats", type=Path)
    w.add_argument("--eval", type=Path)
    w.add_argument("--group", default="", help="grid: rows of one group are ranked together (default: the tool)")
    w.add_argument("--settings", default="", help="grid: this run's settings as a JSON object")
    g = sub.add_parser("grid", help="render grid rows as markdown: each tool's best settings")
    g.add_argument("rows", type=Path)
    g.add_argument("--min-precision", type=float, default=0.99)
    lay = sub.add_parser("layout", help="print datasketch's LSH bands and rows for a threshold")
    lay.add_argument("--threshold", type=float, required=True)
    lay.add_argument("--num-perm", type=int, default=128)
    args = ap.parse_args()
    {"run": cmd_run, "table": cmd_table, "row": cmd_row, "grid": cmd_grid, "layout": cmd_layout}[args.cmd](args)


if __name__ == "__main__":
    main()
