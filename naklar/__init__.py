"""naklar: load a hyper-parameter sweep's result directories into one table and select from it.

::

    import naklar
    store = naklar.load('results', dict_file='conf.json')
    store.select('path', C=[1, 2])

The module API of the documentation lives in :mod:`naklar.experiment`.
"""

from __future__ import annotations

from .accessor import NaklarAccessor  # registers df.naklar
from .errors import (
    FilterError,
    NaklarError,
    NaklarWarning,
    NoSettingsFilesError,
    NotInitialisedError,
    SettingsFileError,
    UnknownColumnError,
    UnsupportedValueError,
)
from .loading import LoadReport, Skipped
from .store import Store, load
from .store import open_store as open  # noqa: A004, F401 (naklar.open)

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
    "UnsupportedValueError",
    "UnknownColumnError",
    "FilterError",
    "NaklarAccessor",
    "__version__",
]
