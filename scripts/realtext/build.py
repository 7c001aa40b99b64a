"""fetch-real-corpus: fetch pinned archives, extract text, label, write.

Usage (from the repository root, through scripts/fetch-real-corpus):
  fetch-real-corpus [--cache DIR] [--out DIR] [--seed N] [--slice DIR] [--repin]
"""

import argparse
import hashlib
import json
import os
import random
import re
import sys

from . import extract, fetch, label, sources, textsim, write

COLLECTIONS = (("licences", "lic"), ("docs", "doc"), ("korean", "ko"))
PARA_BUDGET = 25000        # paragraphs of natural text per collection (full)
SLICE_BYTES = 250_000      # corpus bytes per collection and level (slice)
# Licences that clearly allow redistribution; slice records must match one.
SLICE_LICENCES = re.compile(
    r"GPL|MIT|BSD|Apache|MPL|ISC|Expat|CC0|CC-BY|public.domain|PSF|Python|Artistic|"
    r"Zlib|GFDL|verbatim licence|SPDX|statute|Unlicense|X11|OFL|Boost|BSL|WTFPL|Perl",
    re.I)


def _module_hash():
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for m in ("extract.py", "textsim.py"):
        with open(os.path.join(here, m), "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


def load_documents(manifest, cache):
    """Extracted documents of every archive, cached per archive and extractor
    version under CACHE/extracted/."""
    tag = _module_hash()
    docs = []
    for registry, name, version, role, path, size, sha in manifest:
        cached = os.path.join(cache, "extracted", tag, f"{registry}_{name}=={version}.json")
        if os.path.exists(cached):
            with open(cached, encoding="utf-8") as fh:
                docs.extend(json.load(fh))
            continue
        got = extract.extract(registry, name, version, os.path.join(cache, path))
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(got, fh, ensure_ascii=False)
        os.replace(cached + ".tmp", cached)
        docs.extend(got)
    return docs


def _version_rank():
    rank = {}
    for reg, table in (("pypi", sources.PYPI), ("npm", sources.NPM)):
        for name, versions in table.items():
            for k, v in enumerate(versions):
                rank[(reg, name, v)] = k
    return rank


def order_documents(docs):
    """Fixed processing order: by family, newest version first."""
    rank = _version_rank()
    return sorted(docs, key=lambda d: (d["family"], -rank.get((d["registry"], d["package"], d["version"]), 0),
                                       d["registry"], d["package"], d["path"]))


def write_manifest(rows, out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "MANIFEST.tsv"), "w", encoding="utf-8") as fh:
        fh.write("registry\tname\tversion\trole\tfile\tbytes\tsha256\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")


def write_sources(manifest, docs, path):
    """SOURCES.tsv: every archive with version, sha256, the licence its metadata
    names, and how many documents it gave each collection."""
    licence, counts = {}, {}
    for d in docs:
        k = (d["registry"], d["package"], d["version"])
        if d["licence"] not in ("unknown", "see copyright file"):
            licence.setdefault(k, d["licence"])
        c = counts.setdefault(k, {})
        c[d["collection"]] = c.get(d["collection"], 0) + 1
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("registry\tname\tversion\tsha256\tlicence\tdocuments\n")
        for registry, name, version, role, file, size, sha in manifest:
            k = (registry, name, version)
            docs_of = ",".join(f"{c}:{n}" for c, n in sorted(counts.get(k, {}).items()))
            fh.write("\t".join([registry, name, version, sha,
                                licence.get(k, "unknown").replace("\t", " "), docs_of]) + "\n")


def build_collection(name, prefix, docs, seed, out):
    """Full benchmark of one collection; returns (article units, stats)."""
    rng = random.Random(f"{seed}:{name}:article")
    units, astats = label.label_articles(order_documents(docs), rng)
    rows, truth = write.article_outputs(units, rng, prefix)
    write.write_level(os.path.join(out, name, "article"), rows, truth, write.article_text)
    astats.update(write.article_stats(rows, truth))
    astats["corpus_bytes"] = os.path.getsize(os.path.join(out, name, "article", "corpus.jsonl"))

    prng = random.Random(f"{seed}:{name}:paragraph")
    chosen = label.choose_clusters(units, prng, PARA_BUDGET)
    records, pstats = label.label_paragraphs(chosen, prng)
    prows, ptruth = write.paragraph_outputs(records, prefix)
    write.write_level(os.path.join(out, name, "paragraph"), prows, ptruth, write.paragraph_text)
    pstats.update(write.paragraph_stats(prows, ptruth))
    pstats["corpus_bytes"] = os.path.getsize(os.path.join(out, name, "paragraph", "corpus.jsonl"))
    toks = [t for u in units for t in textsim.tokens(u["text"])]
    hangul = sum(1 for t in toks if re.search("[\uac00-\ud7a3]", t)) / max(1, len(toks))
    return units, rows, {"article": astats, "paragraph": pstats,
                         "hangul_token_share": round(hangul, 3)}


def _licensed(unit):
    return bool(SLICE_LICENCES.search(unit["doc"]["licence"]))


def slice_units(units, rng):
    """Whole clusters of clearly licensed text, look-alike families first: the
    clusters whose originals have the most Jaccard >= 0.3 neighbours in other
    clusters, each with those neighbours' clusters, up to half the byte budget;
    then random clusters up to the budget."""
    members = {}
    for u in units:
        members.setdefault(u["origin"], []).append(u)
    ok = {c for c, us in members.items() if all(_licensed(u) for u in us)}
    origins = sorted(ok)
    sets = [units[c]["set"] for c in origins]
    neigh = {c: set() for c in origins}
    from . import candidates
    for i, j, jac in candidates.similar_pairs(sets, 0.3):
        neigh[origins[i]].add(origins[j])
        neigh[origins[j]].add(origins[i])
    size = {c: sum(len(u["text"].encode()) + 40 for u in members[c]) for c in origins}
    picked, total = [], 0

    def take(c):
        nonlocal total
        if c not in picked and total + size[c] <= SLICE_BYTES:
            picked.append(c)
            total += size[c]

    families = sorted(origins, key=lambda c: (-len(neigh[c]), c))
    for c in families:
        if total >= SLICE_BYTES / 2:
            break
        if not neigh[c] or size[c] > SLICE_BYTES / 20:
            continue
        take(c)
        for n in sorted(neigh[c], key=lambda n: size[n])[:8]:
            take(n)
    # The rest: random clusters, each next one from the source group with the
    # fewest bytes in the slice so far, so that no one source fills it.
    groups = {}
    for c in origins:
        if c not in picked:
            groups.setdefault(units[c]["doc"]["group"], []).append(c)
    for q in groups.values():
        rng.shuffle(q)
    taken = {}
    for c in picked:
        g = units[c]["doc"]["group"]
        taken[g] = taken.get(g, 0) + size[c]
    while total < SLICE_BYTES and any(groups.values()):
        g = min((g for g in sorted(groups) if groups[g]), key=lambda g: (taken.get(g, 0), g))
        c = groups[g].pop()
        before = total
        take(c)
        taken[g] = taken.get(g, 0) + (total - before)
    return [u for c in sorted(picked) for u in members[c]]


def build_slice(name, prefix, units, seed, slice_dir):
    rng = random.Random(f"{seed}:{name}:slice")
    chosen = slice_units(units, rng)
    # Article level: the chosen clusters, relabelled names in a new shuffle.
    remap = {id(u): k for k, u in enumerate(chosen)}
    sub = []
    for u in chosen:
        v = dict(u)
        v["origin"] = remap[id(units[u["origin"]])]
        sub.append(v)
    rows, truth = write.article_outputs(sub, rng, prefix)
    write.write_level(os.path.join(slice_dir, name, "article"), rows, truth, write.article_text)
    astats = write.article_stats(rows, truth)
    # Paragraph level: natural units of clusters chosen the same way, then labelled.
    prng = random.Random(f"{seed}:{name}:slice-paragraph")
    natural = [u for u in units if not u.get("planted")]
    pchosen = [u for u in slice_units(natural, prng)]
    records, plabel = label.label_paragraphs(pchosen, prng)
    prows, ptruth = write.paragraph_outputs(records, prefix)
    write.write_level(os.path.join(slice_dir, name, "paragraph"), prows, ptruth, write.paragraph_text)
    pstats = write.paragraph_stats(prows, ptruth)
    pstats["articles"] = plabel["articles"]
    for level, st in (("article", astats), ("paragraph", pstats)):
        st["corpus_bytes"] = os.path.getsize(os.path.join(slice_dir, name, level, "corpus.jsonl"))
    return {"article": astats, "paragraph": pstats}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cache", default="out/realtext-cache")
    ap.add_argument("--out", default="out/realtext")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--slice", metavar="DIR", help="also write the small slice here")
    ap.add_argument("--only", help="comma-separated collections")
    ap.add_argument("--repin", metavar="DUMPAVAIL",
                    help="redraw pins/debian.tsv from `apt-cache dumpavail` output")
    args = ap.parse_args(argv)
    if args.repin:
        with open(args.repin, encoding="utf-8") as fh:
            sources.write_debian_pins(sources.select_debian(fh.read(), args.seed))
    manifest = fetch.download(sources.all_pins(), args.cache)
    write_manifest(manifest, args.out)
    for r in manifest:
        print("\t".join((r[0], r[1], r[2], r[6])))
    docs = load_documents(manifest, args.cache)
    write_sources(manifest, docs, os.path.join(args.out, "SOURCES.tsv"))
    if args.slice:
        write_sources(manifest, docs, os.path.join(args.slice, "SOURCES.tsv"))
    only = set(args.only.split(",")) if args.only else None
    all_stats = {}
    for name, prefix in COLLECTIONS:
        if only and name not in only:
            continue
        cdocs = [d for d in docs if d["collection"] == name]
        print(f"[{name}] {len(cdocs)} documents", file=sys.stderr)
        units, rows, stats = build_collection(name, prefix, cdocs, args.seed, args.out)
        all_stats[name] = stats
        if args.slice:
            all_stats[name]["slice"] = build_slice(name, prefix, units, args.seed, args.slice)
        print(json.dumps({name: {k: v for k, v in stats.items()}}, default=str)[:3000], file=sys.stderr)
    with open(os.path.join(args.out, "stats.json"), "w", encoding="utf-8") as fh:
        json.dump(all_stats, fh, indent=1, ensure_ascii=False, default=str)


if __name__ == "__main__":
    main()
