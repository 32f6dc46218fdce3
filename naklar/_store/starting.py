"""Loading a tree into a new store, reading its files while SQLAlchemy and pandas import.

``import naklar`` imports neither. A new in-memory store cannot already hold
the tree, so its files can be read before the store exists: numpy is
imported, the walk is planned, a forked worker starts reading, and only then
are the store (SQLAlchemy) and the frame machinery (pandas) imported. At 10,000
runs every file has been read by the time they are. :func:`naklar.experiment.initialise`
and :func:`naklar.load` both start this way.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._read.gc_pause import gc_paused
from .._read.tree import LoadOptions, LoadReport, start_loading

if TYPE_CHECKING:
    from .store import Store

__all__ = ["load", "load_into_new_store"]


def load_into_new_store(
    make_store: Callable[[], Store],
    root_dir: str | os.PathLike[str],
    options: LoadOptions,
    *,
    autoload: bool = True,
) -> tuple[Store, LoadReport]:
    """Start reading, then ``make_store()`` (an in-memory one), then load into it."""
    # The frame needs numpy anyway; imported before the worker forks, it spares the
    # worker its import (unpickling numpy values needs it). And OpenBLAS's thread,
    # which spins for about 0.1 s after numpy's import, ends at the fork (OpenBLAS
    # starts it again for the next matrix product) instead of taking a core from
    # the worker and the imports. 10,000 runs: 0.07 s less (pickle), 0.03 s (JSON).
    importlib.import_module("numpy")
    started = start_loading(os.fspath(root_dir), options, start_workers_now=True)
    try:
        store = make_store()
        importlib.import_module("naklar._query.frames")  # frames need pandas: import it now
        return store, store.load_with(root_dir, options, autoload=autoload, started=started)
    except BaseException:
        started.cancel()  # no worker may outlive a load that failed
        raise


@gc_paused()
def load(root_dir: str | os.PathLike[str], *, url: str | None = None, **options: Any) -> Store:
    """Load a results tree into a new store and return it.

    ``url`` is a database URL (a new in-memory SQLite database by default); the
    other arguments are :meth:`naklar.Store.load`'s::

        store = naklar.load('results', dict_file='conf.json')
        store.select('path', C=[1, 2])
    """
    autoload = options.pop("autoload", True)
    load_options = LoadOptions.from_keywords(options, "naklar.load")
    if url is not None:  # the database may hold this tree already: Store.load decides
        from .engines import create_owned_engine
        from .store import Store

        store = Store(create_owned_engine(url))
        store.load_with(root_dir, load_options, autoload=autoload)
        return store
    store, _ = load_into_new_store(_new_store, root_dir, load_options, autoload=autoload)
    return store


def _new_store() -> Store:
    from .store import Store  # imports SQLAlchemy

    return Store()
