"""The exceptions neardedup raises.

Every one derives from `NeardedupError`; those about bad input or settings are also
`ValueError`s, and those about files `OSError`s, so that code catching the built-in
classes still catches them. Messages are the command line's: the file and line at
fault, and what is wrong.
"""


class NeardedupError(Exception):
    """Something neardedup could not do."""


class InputError(NeardedupError, ValueError):
    """An input is not what its format requires (a bad record, a missing field,
    a damaged file), or holds nothing to deduplicate. The message names the file
    and the line or row."""


class SettingError(NeardedupError, ValueError):
    """An option has a value it cannot take, or options cannot work together."""


class FileError(NeardedupError, OSError):
    """A file could not be read, mapped or written."""


class InUseError(NeardedupError):
    """An output or scratch folder is in use by another neardedup run."""
