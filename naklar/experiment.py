"""The module-level API: ``initialise`` a results tree once, then ``select``.

A thin facade over one default :class:`naklar._store.store.Store`, the way ``pyplot``
sits over figures::

    from naklar import experiment
    experiment.initialise('./results/', dict_file='conf.json')
    experiment.select('path', C=[1, 2])
    experiment.select('i', experiment.E.f1 > 0.81)

``experiment.E`` (the mapped class), ``experiment._engine`` (the SQLAlchemy
engine) and ``experiment.report`` (what the last load did) always refer to the
current default store; ``E = experiment.E`` taken once stands for the current
table after the load cell runs again.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._read.gc_pause import gc_paused
from ._read.loaders import Loader
from ._read.tree import LOAD_OPTIONS, LoadOptions, LoadReport
from ._store.starting import load_into_new_store

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

    from ._store.store import Store

# Public but not in __all__: open() (a star import must not shadow the builtin) and
# E, _engine, report and skipped, which __getattr__ serves from the current default
# store (a star import would copy them once, or fail before initialise()).
__all__ = [
    "initialise",
    "connect",
    "refresh",
    "reset",
    "select",
    "frame",
    "store",
    "varying",
    "constants",
    "summary",
    "missing",
    "duplicates",
    "aggregate",
    "best",
    "diff",
]

#: The default store; made on first use, as making it imports SQLAlchemy.
_store: Store | None = None


def store() -> Store:
    """The default store the module functions work on."""
    global _store
    if _store is None:
        from ._store.store import Store

        _store = Store()
    return _store


def connect(*args: Any, **kwargs: Any) -> sa.Engine:
    """Use another database: all arguments go to ``sqlalchemy.create_engine``.

    Call before :func:`initialise`, e.g. ``connect('sqlite:///sweep.db')`` or
    ``connect('postgresql+psycopg://user@host/db')``.
    """
    from ._store.engines import create_owned_engine
    from ._store.store import Store

    global _store
    _store = Store(create_owned_engine(*args, **kwargs))
    return _store.engine


def reset() -> None:
    """Forget the loaded table and go back to a new in-memory SQLite database.

    Nothing stored in a database is deleted. Calling :func:`initialise` again
    also works without ``reset()``: it replaces the table.
    """
    global _store
    _store = None


@gc_paused()
def initialise(
    root_dir: str | os.PathLike[str],
    autoload: bool = True,
    dict_file: str | Sequence[str] = "conf.pkl",
    load_func: Loader | None = None,
    decorators: Mapping[str, Any] | None = None,
    restrict_keys: Collection[str] | None = None,
    **keywords: Any,
) -> LoadReport:
    """Create the experiment table from every settings dict under ``root_dir``.

    Parameters
    ----------
    root_dir:
        The results tree: one directory per experimental condition.
    autoload:
        Also load every dict as a row (otherwise only the table is defined).
    dict_file:
        Name of the settings file in each run directory. The default,
        ``conf.pkl``, is a pickle: loading a pickle runs code from the file, so
        load only trees you trust that way; use json or yaml for others' trees.
        A path relative to the run directory (``'.hydra/config.yaml'``), or a
        list of them (``['.hydra/config.yaml', 'metrics.json']``): the files
        are merged into one row, the run directory being the one holding
        them. The first is the config (a run without it is skipped); a run
        missing another is a row with NULL there, counted in the report.
    load_func:
        ``load_func(path) -> dict``; by default chosen by the file extension
        (``.pkl``, ``.json``, ``.jbl``/``.joblib``, ``.yaml``, ``.toml``,
        ``.jsonl`` and ``.csv``: the last record). Give it an attribute
        ``extra_files = ['metrics.json']`` (paths relative to the run
        directory) when it reads more files than the one it is given, so that
        a refresh sees them change.
    decorators:
        ``{'key': (getter,)}``, ``(getter, setter)`` or ``(getter, setter, Column)``
        for a computed column. Getters and setters are called as ``f(self, value)``.
    restrict_keys:
        Only these keys become columns.
    on_error:
        A file that cannot be read: ``'warn'`` (skip it, one warning),
        ``'raise'`` (load nothing: :class:`naklar.SettingsFileError` names the
        first, in the report's order), or ``'ignore'``. Skipped files are listed
        in the report.
    on_unsupported:
        A key whose values map onto no column type (a numpy array):
        ``'warn'`` (leave the key out, one warning), ``'raise'``, or ``'ignore'``.
    follow_symlinks, include_hidden:
        Walk into symlinked directories / directories starting with ``.``.
    workers:
        Processes reading files: ``None`` (default) uses every core once the
        load has run long enough to pay for it, ``1`` reads serially.
    progress:
        ``False`` never shows a progress bar; by default one appears when
        reading takes more than a second and is not about to finish.
    metrics:
        The keys that are results (``['f1', 'accuracy']``), not settings: names
        or shell-style patterns (``'val_*'``). The store keeps them; frames carry
        them in ``frame.attrs['naklar_metrics']``; :func:`varying`,
        :func:`aggregate` and the other analyses use them.
    source:
        A sweep tool's results: ``'hydra'``, ``'sacred'``, ``'mlflow'``,
        ``'raytune'``, ``'lightning'``, or ``'auto'`` (recognised by its
        files). ``dict_file`` and ``load_func`` are then not used. Columns:
        config keys dotted, ``metrics.<name>`` (final values), ``run.<fact>``.
    flatten:
        Nested dicts become dotted columns (``model.kernel``), reached in
        keyword filters with ``__`` for the dot (``model__kernel='rbf'``).
        ``False`` keeps them as JSON text.
    **keywords:
        The options above from ``on_error`` on (:meth:`naklar.Store.load` takes
        the same ones); any other keywords, when given, are passed to
        ``sqlalchemy.create_engine`` as by :func:`connect` (e.g.
        ``url='sqlite:///sweep.db'``, ``echo=True``).

    Returns
    -------
    LoadReport
        Files found, loaded and skipped (with reasons), keys left out.
    """
    engine_kwargs = {name: value for name, value in keywords.items() if name not in LOAD_OPTIONS}
    if engine_kwargs:
        _connect_with_engine_keywords(engine_kwargs)
    options = LoadOptions.from_keywords(
        {
            "dict_file": dict_file,
            "load_func": load_func,
            "decorators": decorators,
            "restrict_keys": restrict_keys,
            **{name: value for name, value in keywords.items() if name in LOAD_OPTIONS},
        },
        "initialise",
    )
    if _store is None:  # a new in-memory store: read while SQLAlchemy and pandas import
        _, report = load_into_new_store(
            store, root_dir, options, autoload=autoload, import_orm=True
        )
        return report
    return _store.load_with(root_dir, options, autoload=autoload)


#: initialise's own parameters, which a misspelt keyword most likely meant.
_LOAD_PARAMETERS = ("autoload", *LOAD_OPTIONS)


def _connect_with_engine_keywords(engine_kwargs: Mapping[str, Any]) -> None:
    """:func:`connect` with initialise's other keywords, or a TypeError for a misspelt option.

    A keyword close to one of initialise's own parameters (``dict_fil``) is a
    typo, not an engine option; so is one ``create_engine`` rejects.
    """
    for keyword in engine_kwargs:
        close = difflib.get_close_matches(keyword, _LOAD_PARAMETERS, n=1, cutoff=0.75)
        if close:
            raise TypeError(
                f"initialise() got an unexpected keyword argument {keyword!r}; did you mean "
                f"{close[0]!r}?"
            )
    import sqlalchemy as sa

    try:
        connect(**engine_kwargs)
    except (TypeError, sa.exc.ArgumentError) as error:
        close = [
            match
            for keyword in engine_kwargs
            for match in difflib.get_close_matches(keyword, _LOAD_PARAMETERS, n=1)
        ]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        refused = str(error).rstrip(".")
        raise TypeError(
            f"initialise() passes the keywords it does not take itself "
            f"({', '.join(map(repr, engine_kwargs))}) to sqlalchemy.create_engine, which "
            f"refused them: {refused}.{hint} initialise() takes "
            f"{', '.join(_LOAD_PARAMETERS)} and create_engine's arguments (url=, echo=, ...)"
        ) from error


@gc_paused()  # the first store of a process imports SQLAlchemy
def open(  # noqa: A001 (the module API's counterpart of naklar.open)
    url: str | sa.Engine,
    *,
    table_name: str = "experiment",
    decorators: Any = None,
    root: str | os.PathLike[str] | None = None,
    path_map: Mapping[str, str] | None = None,
) -> Store:
    """Make a persistent store the default one, without scanning its tree.

    ``experiment.open('sqlite:///sweep.db')`` then ``select(...)`` works in a new
    Python session after ``connect('sqlite:///sweep.db')`` and ``initialise(...)``
    in an earlier one. Decorators are not stored: pass them again. ``root=`` or
    ``path_map=`` move a store whose tree lives elsewhere now (see
    :meth:`naklar.Store.open`).
    """
    from ._store.store import Store

    global _store
    _store = Store.open(
        url, table_name=table_name, decorators=decorators, root=root, path_map=path_map
    )
    return _store


def refresh(
    *,
    load_func: Loader | None = None,
    decorators: Mapping[str, Any] | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> LoadReport:
    """Load new and changed runs, drop vanished ones; see :meth:`naklar.Store.refresh`."""
    return store().refresh(
        load_func=load_func, decorators=decorators, workers=workers, progress=progress
    )


def select(*arguments: Any, as_frame: bool = False, **filters: Any) -> Any:
    """Select runs from the default store; see :meth:`naklar._store.store.Store.select`."""
    return store().select(*arguments, as_frame=as_frame, **filters)


def frame(*arguments: Any, **filters: Any) -> pd.DataFrame:
    """Select runs as a DataFrame; see :meth:`naklar._store.store.Store.frame`."""
    return store().frame(*arguments, **filters)


# The sweep analysis of the default store; see naklar._query.analysis.


def varying(metrics: Any = None) -> list[str]:
    """The settings whose values differ across the runs; see :meth:`naklar.Store.varying`."""
    return store().varying(metrics)


def constants() -> dict[str, Any]:
    """The columns with one value in every run; see :meth:`naklar.Store.constants`."""
    return store().constants()


def summary(metrics: Any = None) -> pd.DataFrame:
    """One row per column; see :meth:`naklar.Store.summary`."""
    return store().summary(metrics)


def missing(*params: str, metrics: Any = None) -> pd.DataFrame:
    """The combinations the sweep implies that no run has; see :meth:`naklar.Store.missing`."""
    return store().missing(*params, metrics=metrics)


def duplicates(*params: str, metrics: Any = None) -> pd.DataFrame:
    """The runs whose settings repeat; see :meth:`naklar.Store.duplicates`."""
    return store().duplicates(*params, metrics=metrics)


def aggregate(
    metrics: Any = None,
    over: str | Sequence[str] = "seed",
    stats: Sequence[str] = ("mean", "std", "sem", "count"),
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Metrics' statistics per group of settings; see :meth:`naklar.Store.aggregate`."""
    return store().aggregate(metrics, over=over, stats=stats, by=by)


def best(
    metric: str, by: str | Sequence[str] | None = None, mode: Literal["max", "min"] = "max"
) -> pd.DataFrame:
    """The best run (per group of ``by``); see :meth:`naklar.Store.best`."""
    return store().best(metric, by=by, mode=mode)


def diff(a: Any, b: Any) -> pd.DataFrame:
    """The columns that differ between two runs; see :meth:`naklar.Store.diff`."""
    return store().diff(a, b)


class _CurrentModelType(type):
    """``experiment.E``: stands for the current default store's ``E`` at each use.

    ``E = experiment.E`` taken before the load cell runs again keeps working:
    ``E.f1`` is the current table's column, ``isinstance(run, E)``, ``E == type(run)``
    and ``sqlalchemy.select(E)`` mean the current mapped class.
    """

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_") and (_store is None or _store.table is None):
            raise AttributeError(name)  # probes (doctest, inspect) before anything is loaded
        return getattr(store().E, name)

    def __getitem__(cls, key: str) -> Any:
        return store().E[key]  # type: ignore[index]

    def __call__(cls, *arguments: Any, **keywords: Any) -> Any:
        return store().E(*arguments, **keywords)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, store().E)

    def __eq__(cls, other: object) -> bool:
        return other is cls or (_store is not None and _store._model is other)

    def __hash__(cls) -> int:
        return id(cls)

    def __repr__(cls) -> str:
        return f"<naklar.experiment.E: the current table's {store().E!r}>"

    def __clause_element__(cls) -> Any:
        import sqlalchemy as sa

        return sa.inspect(store().E).__clause_element__()


#: Named as the mapped classes are: ``E.__name__`` is ``'Exp'`` either way.
_CurrentE = _CurrentModelType("Exp", (), {"__doc__": _CurrentModelType.__doc__})


_CURRENT = {
    "E": lambda: _current_e(),
    "_engine": lambda: store().engine,
    "report": lambda: store().report,
    "skipped": lambda: _skipped(),
    "table": lambda: store().table,
}


def _current_e() -> type:
    store().E  # noqa: B018 (before anything is loaded, E raises NotInitialisedError)
    return _CurrentE


def _skipped() -> list[Any]:
    report = store().report
    return report.skipped if report is not None else []


def __getattr__(name: str) -> Any:
    # E, _engine and report follow the default store, which connect() and
    # reset() replace, so they are looked up on each access.
    if name in _CURRENT:
        return _CURRENT[name]()
    raise AttributeError(f"module 'naklar.experiment' has no attribute {name!r}")
