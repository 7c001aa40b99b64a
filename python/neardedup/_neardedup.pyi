"""Type stubs of the native module `neardedup._neardedup`."""

import os
from typing import Any, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
OPTIONS: list[str]

Key = Union[int, str]
Found = Union[Key, Tuple[Key, int]]
OptionValue = Union[str, int, float, bool, os.PathLike, None]
Source = Union[str, os.PathLike, Sequence[os.PathLike], Sequence[str], Any]

def dedup(
    source: Source,
    *,
    out: Optional[Union[str, os.PathLike]] = None,
    threads: int = 0,
    progress: bool = True,
    **options: OptionValue,
) -> Result:
    """Finds near-duplicate articles or paragraphs in `source`: a path, a list of
    pathlib.Path, a list of str, or a pyarrow array, chunked array or table. Options
    are the command line's with `_` for `-` (`OPTIONS`); with `out`, the output
    folder is written as the command line writes it. Releases the GIL; Ctrl-C stops
    the run with KeyboardInterrupt."""

class Result:
    """The results of `dedup`: per-record and per-unit numpy arrays, pairs, report."""

    def __len__(self) -> int: ...
    @property
    def kept(self) -> npt.NDArray[np.bool_]:
        """Per record: whether the deduplicated corpus keeps it."""
    @property
    def duplicate(self) -> npt.NDArray[np.bool_]:
        """Per record: `~kept`."""
    @property
    def ids(self) -> list[Any]:
        """Per record: its id (positions 0..n-1 for texts given in memory)."""
    @property
    def unit_record(self) -> npt.NDArray[np.uint32]:
        """Per unit: the record it belongs to."""
    @property
    def unit_para(self) -> npt.NDArray[np.int64]:
        """Per unit: its paragraph number, -1 for article units."""
    @property
    def unit_kept(self) -> npt.NDArray[np.bool_]:
        """Per unit: whether it is kept."""
    @property
    def cluster(self) -> npt.NDArray[np.uint32]:
        """Per unit: its cluster, named by the number of a unit in it."""
    @property
    def cluster_size(self) -> npt.NDArray[np.uint32]:
        """Per unit: the size of its cluster."""
    @property
    def pairs(self) -> dict[str, npt.NDArray[Any]]:
        """Verified pairs: `a`, `b` (unit numbers, uint32) and `similarity` (float32)."""
    def clusters(self) -> list[list[int]]:
        """Clusters of two or more units, the kept unit first."""
    def texts(self) -> list[Optional[str]]:
        """Per record: its text without removed paragraphs, or None when removed."""
    @property
    def report(self) -> dict[str, Any]:
        """The run's report, as report.json holds it."""
    @property
    def out(self) -> Optional[os.PathLike]:
        """The output folder written, or None."""

class MinHash:
    """A MinHash sketch of a set of shingles (datasketch's method names)."""

    def __init__(self, text: Optional[str] = None, **options: OptionValue) -> None:
        """A sketch of `text`'s shingles (or an empty one); options `num_perm`,
        `seed`, `ngram`, `tokenizer`, `minhash_variant`, `no_nfkc`, `keep_case`,
        `keep_punctuation`."""
    @staticmethod
    def bulk(texts: Sequence[str], **options: OptionValue) -> list[MinHash]:
        """Sketches every text on all cores."""
    def update(self, token: Union[bytes, str]) -> None:
        """Adds one token, hashed as given."""
    def update_batch(self, tokens: Iterable[Union[bytes, str]]) -> None:
        """Adds every token."""
    def update_text(self, text: str) -> None:
        """Adds the shingles of `text`, cut as a run cuts them."""
    def merge(self, other: MinHash) -> None:
        """Adds the shingles of `other`."""
    def jaccard(self, other: MinHash) -> float:
        """Estimated Jaccard similarity."""
    def digest(self) -> npt.NDArray[np.uint16]:
        """The `num_perm` 16-bit values runs and index files store."""
    def is_empty(self) -> bool: ...
    @property
    def num_perm(self) -> int: ...
    @property
    def seed(self) -> int: ...
    def copy(self) -> MinHash: ...
    def __eq__(self, other: object) -> bool: ...

class SimHash:
    """A 64-bit SimHash fingerprint of a text."""

    def __init__(self, text: str, **options: OptionValue) -> None: ...
    @staticmethod
    def bulk(texts: Sequence[str], **options: OptionValue) -> npt.NDArray[np.uint64]:
        """Fingerprints of every text, on all cores."""
    @property
    def value(self) -> int: ...
    def distance(self, other: SimHash) -> int:
        """Bits in which the fingerprints differ."""
    def __int__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Index:
    """MinHash LSH in memory, saved and loaded in `neardedup index`'s format."""

    def __init__(
        self,
        threshold: Optional[float] = None,
        num_perm: Optional[int] = None,
        weights: Optional[Tuple[float, float]] = None,
        **options: OptionValue,
    ) -> None: ...
    @staticmethod
    def load(
        path: Union[str, os.PathLike],
        threshold: Optional[float] = None,
        weights: Optional[Tuple[float, float]] = None,
        **options: OptionValue,
    ) -> Index: ...
    def save(self, path: Union[str, os.PathLike]) -> None: ...
    def insert(self, key: Key, item: Union[str, MinHash]) -> None: ...
    def insert_if_new(self, key: Key, item: Union[str, MinHash]) -> list[Tuple[Found, float]]:
        """Adds `item` unless it repeats indexed items; returns those it repeats."""
    def query(self, item: Union[str, MinHash]) -> list[Found]:
        """Keys of the indexed items `item` repeats, most similar first."""
    def matches(self, item: Union[str, MinHash]) -> list[Tuple[Found, float]]:
        """(key, similarity) of the indexed items `item` repeats."""
    def minhash(self, text: str) -> MinHash:
        """A sketch of `text` made as this index makes them."""
    def __len__(self) -> int: ...
