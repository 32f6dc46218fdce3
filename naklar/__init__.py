"""naklar: load a hyper-parameter sweep's result directories into one table and select from it.

::

    import naklar
    store = naklar.load('results', dict_file='conf.json')
    store.select('path', C=[1, 2])

The module API of the documentation lives in :mod:`naklar.experiment`.

``import naklar`` is quick: what needs pandas or SQLAlchemy is imported on first
use, so that loading a tree can start reading files while they import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._query.registration import register_accessor_with_pandas
from .errors import (
    FilterError,
    NaklarError,
    NaklarWarning,
    NoSettingsFilesError,
    NothingLoadedError,
    NotInitialisedError,
    SettingsFileError,
    UnknownColumnError,
    UnsupportedValueError,
)

if TYPE_CHECKING:
    from ._query.accessor import NaklarAccessor
    from ._read.tree import LoadReport, Skipped
    from ._store.starting import load
    from ._store.store import Store
    from ._store.store import open_store as open  # noqa: A004, F401

__version__ = "0.2.0"

# open() is public but left out of __all__: a star import must not shadow the builtin.
__all__ = [
    "Store",
    "load",
    "LoadReport",
    "Skipped",
    "NaklarError",
    "NaklarWarning",
    "NotInitialisedError",
    "SettingsFileError",
    "NoSettingsFilesError",
    "NothingLoadedError",
    "UnsupportedValueError",
    "UnknownColumnError",
    "FilterError",
    "NaklarAccessor",
    "__version__",
]

#: Public name -> (submodule, attribute), imported on first access.
_LAZY = {
    "Store": ("_store.store", "Store"),
    "load": ("_store.starting", "load"),
    "open": ("_store.store", "open_store"),
    "LoadReport": ("_read.tree", "LoadReport"),
    "Skipped": ("_read.tree", "Skipped"),
    "NaklarAccessor": ("_query.accessor", "NaklarAccessor"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'naklar' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


register_accessor_with_pandas()
