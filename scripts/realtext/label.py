"""Ground truth: natural groups, planted copies, paragraph clusters.

Article level (label_articles), over one collection's documents in a fixed order
(family, newest version first):
- a document whose folded text equals an earlier kept one joins its cluster;
- otherwise it joins the cluster of the earlier original with the highest
  word-5-gram Jaccard if that is >= NATURAL_NEAR (0.9), from any source;
- otherwise, if an original of its own family (same file, other version) has
  Jaccard >= NATURAL_VERSION (0.5), it joins the best such cluster;
- otherwise, if an original of its own family has Jaccard >= AMBIGUOUS (0.2), it is
  dropped (ambiguous: neither a version nor a different document);
- otherwise it is a new cluster's original.
Every natural member thus has Jaccard >= 0.5 with its cluster's original. Look-alikes
(Jaccard below 0.9 across families) stay as separate clusters: negatives.
Then PLANT_SHARE of the originals get 1-3 planted copies (edits.edit_article).

Paragraph level (label_paragraphs), over whole article clusters sampled up to a
paragraph budget: identical folded paragraphs form one cluster (first occurrence is
the original); a paragraph with Jaccard >= 0.9 to an earlier original joins it;
the rest are originals. Then PLANT_SHARE of paragraph originals get 1-3 edited
copies (edits.edit_paragraph) inserted into random records at random positions.
A planted copy whose folded text equals a paragraph of another cluster is
discarded, so identical paragraphs are always one cluster.
"""

import hashlib

from . import candidates, edits, textsim

NATURAL_NEAR = 0.9
NATURAL_VERSION = 0.5
AMBIGUOUS = 0.2
PLANT_SHARE = 0.2
COPY_WEIGHTS = ((1, 0.6), (2, 0.3), (3, 0.1))
LOOKALIKE_FLOORS = (0.3, 0.5)


def _key(text):
    return hashlib.blake2b(textsim.fold_key(text).encode("utf-8"), digest_size=16).digest()


def _n_copies(rng):
    r, acc = rng.random(), 0.0
    for n, w in COPY_WEIGHTS:
        acc += w
        if r < acc:
            return n
    return COPY_WEIGHTS[-1][0]


def _vocab(rng, texts, size=20000):
    """Words for substitutions and insertions, drawn from the collection itself."""
    words = []
    for t in texts:
        words.extend(w for w in t.split() if textsim.tokens(w))
    words.sort()
    return rng.sample(words, min(size, len(words))) if words else ["text"]


def _clean(paras):
    """Drops lines an edit left without any word."""
    return [p for p in paras if textsim.tokens(p)]


def label_articles(docs, rng):
    """Returns (units, stats). A unit is a dict with text, doc (provenance), origin
    (index of its cluster's original in units), jaccard, edit."""
    texts = ["\n".join(d["paras"]) for d in docs]
    sets = [textsim.shingles(t) for t in texts]
    keys = [_key(t) for t in texts]
    near = {}
    for i, j, jac in candidates.similar_pairs(sets, NATURAL_NEAR):
        near.setdefault(i, []).append((j, jac))
        near.setdefault(j, []).append((i, jac))

    units, unit_of_doc, first_of_key, family_originals = [], {}, {}, {}
    dropped = []
    for i, d in enumerate(docs):
        origin, jac, edit = None, 1.0, "original"
        if keys[i] in first_of_key:
            origin = units[first_of_key[keys[i]]]["origin"]
        else:
            best = max(((units[unit_of_doc[j]]["origin"], jac)
                        for j, jac in near.get(i, []) if j in unit_of_doc
                        and units[unit_of_doc[j]]["origin"] == unit_of_doc[j]),
                       key=lambda x: x[1], default=None)
            if best is not None:
                origin = best[0]
            else:
                fam = [(o, textsim.jaccard_sets(sets[i], units[o]["set"]))
                       for o in family_originals.get(d["family"], [])]
                fam_best = max(fam, key=lambda x: x[1], default=(None, 0.0))
                if fam_best[1] >= NATURAL_VERSION:
                    origin = fam_best[0]
                elif fam_best[1] >= AMBIGUOUS:
                    dropped.append((d, fam_best[1]))
                    continue
        unit = {"text": texts[i], "set": sets[i], "key": keys[i], "doc": d}
        idx = len(units)
        if origin is None:
            unit.update(origin=idx, jaccard=1.0, edit="original")
            family_originals.setdefault(d["family"], []).append(idx)
        else:
            o = units[origin]
            jac = textsim.jaccard_sets(sets[i], o["set"])
            if jac == 1.0:
                edit = "natural-exact"
            elif o["doc"]["family"] == d["family"]:
                edit = "natural-version"
            else:
                edit = "natural-near"
            unit.update(origin=origin, jaccard=jac, edit=edit)
        unit_of_doc[i] = idx
        first_of_key.setdefault(keys[i], idx)
        units.append(unit)

    natural = len(units)
    originals = [u for u in range(natural) if units[u]["origin"] == u]
    vocab = {}
    owner_of_key = {u["key"]: u["origin"] for u in units}
    planted = 0
    for o in sorted(rng.sample(originals, int(round(len(originals) * PLANT_SHARE)))):
        src = units[o]
        lang = src["doc"]["lang"]
        if lang not in vocab:
            vocab[lang] = _vocab(rng, [u["text"] for u in units[:natural]
                                       if u["doc"]["lang"] == lang])
        for _ in range(_n_copies(rng)):
            paras, label = edits.edit_article(rng, src["doc"]["paras"], vocab[lang])
            paras = _clean(paras)
            if not paras or not textsim.tokens("\n".join(paras)):
                continue
            text = "\n".join(paras)
            key = _key(text)
            if owner_of_key.get(key, o) != o:
                continue  # would be identical to another cluster's text
            owner_of_key[key] = o
            s = textsim.shingles(text)
            units.append({"text": text, "set": s, "key": key, "doc": src["doc"],
                          "origin": o, "jaccard": textsim.jaccard_sets(s, src["set"]),
                          "edit": label, "planted": True})
            planted += 1
    stats = {"documents": len(docs), "dropped_ambiguous": len(dropped),
             "dropped": [(d["family"], d["version"], round(j, 3)) for d, j in dropped],
             "natural_units": natural, "originals": len(originals),
             "planted_copies": planted}
    return units, stats


def choose_clusters(units, rng, budget_paras):
    """Natural article units of whole clusters, until `budget_paras` paragraphs
    are reached, taken round-robin from the source groups (extract.source_group of
    each cluster's original) in seeded random order, so that every kind of source
    is represented."""
    clusters = {}
    for u in units:
        if not u.get("planted"):
            clusters.setdefault(u["origin"], []).append(u)
    groups = {}
    for c in sorted(clusters):
        groups.setdefault(clusters[c][0]["doc"]["group"], []).append(c)
    names = sorted(groups)
    for g in names:
        rng.shuffle(groups[g])
    taken = {g: 0 for g in names}  # paragraphs taken per group
    chosen, count = [], 0
    while count < budget_paras:
        open_groups = [g for g in names if groups[g]]
        if not open_groups:
            break
        g = min(open_groups, key=lambda g: (taken[g], g))  # the least served group
        for u in clusters[groups[g].pop()]:
            chosen.append(u)
            taken[g] += len(u["doc"]["paras"])
            count += len(u["doc"]["paras"])
    return chosen


def label_paragraphs(chosen, rng):
    """Paragraph-level corpus from natural article units (see module doc).
    Returns (records, stats); a record is a dict with doc and paras, each para a
    dict with text, origin (the original's para dict), jaccard, edit."""
    chosen = list(chosen)
    rng.shuffle(chosen)
    records = []
    first_of_key, key_texts, key_sets = {}, [], []
    for u in chosen:
        paras = []
        for text in u["text"].split("\n"):
            p = {"text": text, "key": _key(text)}
            if p["key"] not in first_of_key:
                first_of_key[p["key"]] = p
                key_texts.append(p)
            paras.append(p)
        records.append({"doc": u["doc"], "paras": paras})
    # Natural near-duplicates among distinct paragraphs (first occurrences).
    sets = [textsim.shingles(p["text"]) for p in key_texts]
    for p, s in zip(key_texts, sets):
        p["set"] = s
    near = {}
    for i, j, jac in candidates.similar_pairs(sets, NATURAL_NEAR):
        near.setdefault(j, []).append((i, jac))  # i < j: i came first
    for idx, p in enumerate(key_texts):
        best = max(((key_texts[i], jac) for i, jac in near.get(idx, [])
                    if key_texts[i]["origin"] is key_texts[i]),
                   key=lambda x: x[1], default=None)
        if best is None:
            p.update(origin=p, jaccard=1.0, edit="original")
        else:
            p.update(origin=best[0], jaccard=best[1], edit="natural-near")
    for r in records:
        for k, p in enumerate(r["paras"]):
            first = first_of_key[p["key"]]
            if p is not first:
                o = first["origin"]
                jac = textsim.jaccard_sets(first["set"], o["set"])
                r["paras"][k] = {"text": p["text"], "key": p["key"], "origin": o,
                                 "jaccard": jac, "edit": "natural-exact" if jac == 1.0
                                 else "natural-near"}
    originals = [p for p in key_texts if p["origin"] is p]
    owner_of_key = {p["key"]: id(p["origin"]) for p in key_texts}
    vocab = _vocab(rng, [p["text"] for p in originals])
    planted = 0
    inserts = []
    for o in rng.sample(originals, int(round(len(originals) * PLANT_SHARE))):
        for _ in range(_n_copies(rng)):
            text, label = edits.edit_paragraph(rng, o["text"], vocab)
            text = text.replace("\n", " ")
            if not textsim.tokens(text):
                continue
            key = _key(text)
            if owner_of_key.get(key, id(o)) != id(o):
                continue
            owner_of_key[key] = id(o)
            jac = textsim.jaccard_sets(textsim.shingles(text), o["set"])
            inserts.append({"text": text, "key": key, "origin": o, "jaccard": jac,
                            "edit": label, "planted": True})
            planted += 1
    for p in inserts:
        r = records[rng.randrange(len(records))]
        r["paras"].insert(rng.randrange(len(r["paras"]) + 1), p)
    stats = {"articles": len(records), "paragraphs": sum(len(r["paras"]) for r in records),
             "distinct_paragraphs": len(key_texts), "paragraph_originals": len(originals),
             "planted_copies": planted}
    return records, stats
