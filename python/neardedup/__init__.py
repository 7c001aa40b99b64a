"""neardedup: near-duplicate articles and paragraphs, found fast.

- `dedup(source, **options)`: a whole run over files, a list of texts or an Arrow
  array, on all cores; returns a `Result` (kept mask, clusters, pairs, report).
- `MinHash`, `SimHash`: one text's sketch, as a run makes it.
- `Index`: MinHash LSH in memory, saved and loaded in `neardedup index`'s format.

Options are the `neardedup dedup` command line's, with `_` for `-`; `OPTIONS`
lists them.
"""

from ._neardedup import OPTIONS, Index, MinHash, Result, SimHash, __version__, dedup
from .errors import FileError, InputError, InUseError, NeardedupError, SettingError

__all__ = [
    "OPTIONS",
    "FileError",
    "Index",
    "InputError",
    "InUseError",
    "MinHash",
    "NeardedupError",
    "Result",
    "SettingError",
    "SimHash",
    "__version__",
    "dedup",
]
