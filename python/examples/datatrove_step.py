"""A datatrove-style pipeline step that drops near-duplicate documents as they
stream past, against everything seen before (and against a saved index, so that
a later run skips what an earlier one kept).

    python datatrove_step.py CORPUS.jsonl [INDEX]

A datatrove step is a callable over an iterable of `Document`s; this one sketches
each batch of documents on all cores (`MinHash.bulk`) and asks an `Index` for each
whether it repeats an earlier one (`insert_if_new`). With datatrove installed, its
own `Document` and `PipelineStep` are used; without it, a stand-in of the same shape.
"""

import json
import sys
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import neardedup

try:
    from datatrove.data import Document
    from datatrove.pipeline.base import PipelineStep
except ImportError:

    @dataclass
    class Document:
        text: str
        id: str
        metadata: dict = field(default_factory=dict)

    class PipelineStep:
        def __call__(self, data, rank=0, world_size=1):
            return self.run(data, rank, world_size)


class NearDedupFilter(PipelineStep):
    """Passes on documents that repeat none before them (estimated Jaccard of word
    5-grams below `threshold`); counts the rest."""

    name = "neardedup filter"

    def __init__(self, threshold=0.8, index_path=None, batch_size=10_000):
        super().__init__()
        self.options = dict(num_perm=128, ngram=5)
        self.index_path = Path(index_path) if index_path else None
        if self.index_path and self.index_path.exists():
            self.index = neardedup.Index.load(self.index_path, threshold=threshold)
        else:
            self.index = neardedup.Index(threshold=threshold, **self.options)
        self.batch_size = batch_size
        self.removed = 0

    def run(self, data, rank=0, world_size=1):
        documents = iter(data)
        while batch := list(islice(documents, self.batch_size)):
            sketches = neardedup.MinHash.bulk([d.text for d in batch], **self.options)
            for document, sketch in zip(batch, sketches):
                if self.index.insert_if_new(document.id, sketch):
                    self.removed += 1
                else:
                    yield document
        if self.index_path:
            self.index.save(self.index_path)


def read(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            yield Document(text=record["text"], id=record["id"])


def main(path, index_path=None):
    step = NearDedupFilter(index_path=index_path, batch_size=1000)
    kept = list(step(read(path)))
    print(f"documents kept: {len(kept)}, removed: {step.removed}")
    return kept


if __name__ == "__main__":
    main(*sys.argv[1:])
