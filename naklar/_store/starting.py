"""Loading a tree into a new store, reading its files while SQLAlchemy and pandas import.

The plain order is: make the store, then load the tree into it
(:meth:`naklar.Store.load_with`), as a store given a database URL does.
``import naklar`` imports neither SQLAlchemy nor pandas, though, and a new
in-memory store cannot already hold the tree, so its files can be read before
the store exists: the walk is planned, a forked worker starts reading, and
only then are the store (SQLAlchemy) and the frame machinery (pandas)
imported. :func:`naklar.experiment.initialise` and :func:`naklar.load` both
start this way; what it buys is measured in ``benchmarks/README.md``.

SQLAlchemy's ORM, which only the mapped class ``E`` needs (7 MiB, 35 ms), is
imported then too for :func:`~naklar.experiment.initialise`, whose documented
filters are ``experiment.E`` expressions: there it costs no time. A store from
:func:`naklar.load` imports it when ``store.E`` is first used, so a load that
filters by keyword never holds it.
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
    import_orm: bool = False,
) -> tuple[Store, LoadReport]:
    """Start reading, then ``make_store()`` (an in-memory one), then load into it.

    ``import_orm`` imports SQLAlchemy's ORM while the files are read, for ``E``.
    """
    started = start_loading(os.fspath(root_dir), options, start_workers_now=True)
    try:
        store = make_store()
        importlib.import_module("naklar._query.frames")  # frames need pandas: import it now
        if import_orm:
            importlib.import_module("sqlalchemy.orm")
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
