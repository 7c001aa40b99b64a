"""Markdown tables of a built benchmark (stats.json) for datasets/README.md."""

import json
import sys

ROWS = [
    ("records", lambda a, p: (a["units"], p["articles"])),
    ("units (articles / paragraphs)", lambda a, p: (a["units"], p["units"])),
    ("corpus bytes", lambda a, p: (a["corpus_bytes"], p["corpus_bytes"])),
    ("clusters", lambda a, p: (a["clusters"], p["clusters"])),
    ("true pairs", lambda a, p: (a["true_pairs"], p["true_pairs"])),
    ("largest cluster", lambda a, p: (a["largest_cluster"], p["largest_cluster"])),
    ("planted copies", lambda a, p: (a["planted_derived"], p["planted_derived"])),
    ("natural positives (non-original members)", lambda a, p: (a["natural_derived"], p["natural_derived"])),
    ("look-alike negative pairs, J >= 0.3", lambda a, p: (a["lookalike_pairs_j03"], p["lookalike_pairs_j03"])),
    ("look-alike negative pairs, J >= 0.5", lambda a, p: (a["lookalike_pairs_j05"], p["lookalike_pairs_j05"])),
]


def table(stats, key=None):
    out = []
    names = list(stats)
    head = "| | " + " | ".join(f"{n} article | {n} paragraph" for n in names) + " |"
    out.append(head)
    out.append("| --- |" + " ---: | ---: |" * len(names))
    for label, get in ROWS:
        cells = []
        for n in names:
            s = stats[n][key] if key else stats[n]
            a, p = get(s["article"], s["paragraph"])
            cells += [f"{a:,}", f"{p:,}"]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    stats = json.load(open(sys.argv[1], encoding="utf-8"))
    print("Full benchmark:\n")
    print(table(stats))
    if all("slice" in s for s in stats.values()):
        print("\nShipped slice:\n")
        print(table(stats, "slice"))
    print()
    for n, s in stats.items():
        a = s["article"]
        print(f"- {n}: {a['documents']} documents extracted, {a['dropped_ambiguous']} "
              f"dropped as ambiguous versions; article edits {a['edits']}")


if __name__ == "__main__":
    main()
