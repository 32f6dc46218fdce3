"""The store: one database engine, one experiment table, and selections from it.

Several stores can live side by side (one per results tree); the module-level
API in :mod:`naklar.experiment` is a thin facade over one default store.
"""

from __future__ import annotations

import html
import os
from collections import namedtuple
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .._query.filters import parse_selection
from .._query.metrics import Metrics, as_names, metric_columns
from .._read.gc_pause import gc_paused
from .._read.loaders import Loader
from .._read.tree import (
    LoadedTree,
    LoadOptions,
    LoadReport,
    OnError,
    PendingLoad,
    describe_target,
    start_loading,
    warn_about_lost_floats,
)
from .._read.values import Kind
from .._table.display import SelectedRuns, html_table, text_table
from .._table.model import (
    ID_COLUMN,
    ColumnSpec,
    Decorator,
    Experiment,
    assign_names,
    build_model,
    column_spec,
    parse_decorators,
)
from ..errors import FilterError, NaklarError, NotInitialisedError, UnknownColumnError
from . import analysis as store_analysis
from .bulk import fetch_columns, insert_settings_rows
from .catalog import (
    Catalog,
    ColumnRecord,
    StoreRecord,
    kind_of_type,
    merged_metrics,
    ordered_kinds,
    specs_from_record,
)
from .engines import create_owned_engine, opening
from .fitting import check_load_fits, fit_load
from .portable import move_store, prefix_moves
from .refreshing import refresh_store
from .snapshot import outlives_process, snapshot_for
from .transactions import write_transaction

if TYPE_CHECKING:
    import pandas as pd

    from .._query.frames import DtypeBackend

# pandas is imported by the methods that make frames (through frames.py and
# masks.py): opening and refreshing a store need only SQLAlchemy, and a refresh
# imports pandas while its workers walk the tree.

__all__ = ["Store", "open_store", "DEFAULT_URL", "TABLE_NAME"]

DEFAULT_URL = "sqlite://"
TABLE_NAME = "experiment"


class Store:
    """A results tree loaded into one table of a database.

    Parameters
    ----------
    engine:
        A SQLAlchemy engine; by default a new in-memory SQLite database.
    table_name:
        Name of the experiment table.
    """

    def __init__(self, engine: sa.Engine | None = None, *, table_name: str = TABLE_NAME) -> None:
        self.engine = engine if engine is not None else create_owned_engine(DEFAULT_URL)
        self.table_name = table_name
        self.table: sa.Table | None = None
        self._model: type[Experiment] | None = None
        self.report: LoadReport | None = None
        self.root_dir: str | None = None
        self._catalog = Catalog(table_name)
        self._snapshot = snapshot_for(self.engine, table_name, self._catalog.meta.name)
        self._record: StoreRecord | None = None
        # The functions of the last load, reused by refresh() in this process.
        self._load_func: Loader | None = None
        self._decorators: Mapping[str, Any] | None = None

    def __repr__(self) -> str:
        """Root, database (password hidden), runs, and each column's type; metrics marked."""
        described = self._columns_described()
        if not described:
            return f"<{self._headline()}>"
        table = text_table(["column", "type", "metric"], described, indent="  ")
        return f"<{self._headline()}\n{table}>"

    def _repr_html_(self) -> str:
        described = self._columns_described()
        table = html_table(["column", "type", "metric"], described) if described else ""
        return f"<p>{html.escape(self._headline())}</p>{table}"

    def _headline(self) -> str:
        # the URL's repr hides its password
        where = f"in {self.engine.url!r}"
        if self._model is None:
            return f"naklar.Store {where}: nothing loaded"
        runs = self.report.loaded if self.report and self.report.inserted else 0
        return f"naklar.Store of {self.root_dir!r} {where}: {runs} runs"

    def _columns_described(self) -> list[tuple[str, str, str]]:
        """``(key, type, 'yes' or '')`` for each column, or nothing before a load."""
        if self._model is None:
            return []
        kinds = {column.key: column.kind for column in self._record.columns} if self._record else {}
        metrics = set(self.metrics)
        return [
            (
                key,
                (kinds.get(key) or kind_of_type(spec.type)).value,
                "yes" if key in metrics else "",
            )
            for key, spec in self.E._naklar_columns.items()
        ]

    # -- loading ------------------------------------------------------------

    def load(
        self,
        root_dir: str | os.PathLike[str],
        *,
        autoload: bool = True,
        dict_file: str | Sequence[str] = "conf.pkl",
        load_func: Loader | None = None,
        decorators: Mapping[str, Any] | None = None,
        restrict_keys: Collection[str] | None = None,
        on_error: OnError = "warn",
        on_unsupported: OnError = "warn",
        follow_symlinks: bool = False,
        include_hidden: bool = False,
        workers: int | None = None,
        progress: bool | None = None,
        metrics: Collection[str] | None = None,
        source: str | None = None,
        flatten: bool = True,
    ) -> LoadReport:
        """Build the table from every ``dict_file`` under ``root_dir`` and load the rows.

        Loading again in the same store replaces the table: re-running a notebook
        cell just works. A *new* store on a database that already holds this tree
        (same root, ``dict_file``, ``restrict_keys`` and walk options, and neither
        ``load_func`` nor decorator setters, which could change values without any
        file changing) is refreshed instead (``autoload=True``), or opened as it
        is without scanning (``autoload=False``); the stored ``on_error`` and
        ``on_unsupported`` then apply. Any other difference reloads everything.
        See :func:`naklar.experiment.initialise` for the parameters.
        """
        options = LoadOptions(
            dict_file,
            load_func,
            decorators,
            restrict_keys,
            on_error,
            on_unsupported,
            follow_symlinks,
            include_hidden,
            workers,
            progress,
            metrics=metrics,
            source=source,
            flatten=flatten,
        )
        return self.load_with(root_dir, options, autoload=autoload)

    @gc_paused()
    def load_with(
        self,
        root_dir: str | os.PathLike[str],
        options: LoadOptions,
        *,
        autoload: bool = True,
        started: PendingLoad | None = None,
    ) -> LoadReport:
        """:meth:`load`, its options given as one object.

        ``started`` is a read that :func:`naklar._read.tree.start_loading` began with
        the same options (the module API starts reading before SQLAlchemy is imported).
        """
        root = os.fspath(root_dir)
        parsed_decorators = parse_decorators(options.decorators)
        if self.table is None:
            with opening(self.engine), self.engine.connect() as connection:
                record = self._catalog.read_record(connection)
            if record is not None and record.describes_load(root, options, parsed_decorators):
                if started is not None:
                    started.cancel()
                self._adopt(record, parsed_decorators, root)
                self._decorators = options.decorators
                if options.metrics is not None:
                    self.add_metrics(options.metrics)
                if not autoload:
                    return self.report  # type: ignore[return-value]
                return self.refresh(
                    load_func=options.load_func,
                    decorators=options.decorators,
                    workers=options.workers,
                    progress=options.progress,
                )
        kept = outlives_process(self.engine)
        if started is None:
            started = start_loading(root, options, record_dir_ctimes=kept)
        tree = started.finish()
        fit_load(tree, self.engine.dialect.name, options.on_error)
        specs = _column_specs(tree, parsed_decorators)
        check_load_fits(tree, _column_kinds(specs, tree), self.engine.dialect.name)
        table, model = build_model(
            self.table_name, specs, sa.MetaData(), dialect=self.engine.dialect.name
        )
        columns = [_column_record(spec, tree) for spec in specs]
        # started.options: with source='auto' resolved to the tool it recognised
        record = StoreRecord.for_load(
            root, started.options, parsed_decorators, columns, tree.report
        )
        ids = range(len(tree.rows))
        with write_transaction(self.engine, "load the tree") as connection:
            table.drop(connection, checkfirst=True)
            table.create(connection)
            self._catalog.recreate(connection)
            if self._snapshot is not None:
                self._snapshot.drop(connection)
            if autoload:
                insert_settings_rows(
                    connection, table, specs, tree.rows, ids, tree.kinds, tree.tally
                )
                if kept:
                    self._catalog.add_runs(connection, ids, tree.stamps)
                record.next_id = len(tree.rows)
            self._catalog.write_record(connection, record)
        if autoload and not kept:  # indexed when a refresh needs them (see naklar._store.catalog)
            self._catalog.defer_runs(self.engine, ids, tree.stamps)
        else:
            self._catalog.forget_deferred_runs(self.engine)
        tree.report.inserted = autoload
        warn_about_lost_floats(tree.report, self.engine.dialect.name)
        self.table, self._model, self.report, self.root_dir = table, model, tree.report, root
        self._record, self._load_func, self._decorators = (
            record,
            options.load_func,
            options.decorators,
        )
        if autoload and self._snapshot is not None:
            # a store in a file is loaded to be reopened: its first frame there comes
            # from the copy (at 100,000 runs the copy costs the load 0.6 s, and
            # saves each later session's first frame as much)
            stored = self._stored_specs()
            if self._snapshot.may_fit(len(tree.rows), len(stored)):
                self._take_snapshot(stored)
        return tree.report

    @classmethod
    @gc_paused()
    def open(
        cls,
        engine: sa.Engine | str,
        *,
        table_name: str = TABLE_NAME,
        decorators: Mapping[str, Any] | None = None,
        root: str | os.PathLike[str] | None = None,
        path_map: Mapping[str, str] | None = None,
    ) -> Store:
        """Reopen a store that :meth:`load` filled, without scanning the tree.

        Parameters
        ----------
        engine:
            The database (an engine or a URL) the store was loaded into.
        table_name:
            The experiment table's name.
        decorators:
            The decorators the store was loaded with: functions are not stored
            in the database, so getters apply only when passed again.
        root:
            Where the tree is now, when it moved since the load (a store built
            on a cluster, opened on a laptop): refresh walks it, and text values
            under the old root move with it (:mod:`naklar._store.portable`).
        path_map:
            ``{'/old/prefix': '/new/prefix'}``: moves the root and text values
            under each old prefix.

        Raises
        ------
        NotInitialisedError
            The database holds no naklar store under ``table_name``.
        """
        store = cls(
            create_owned_engine(engine) if isinstance(engine, str) else engine,
            table_name=table_name,
        )
        with opening(store.engine), store.engine.connect() as connection:
            record = store._catalog.read_record(connection)
            older = record is None and store._catalog.holds_older_record(connection)
        if older:
            raise NotInitialisedError(
                f"the naklar store named {table_name!r} in {store.engine.url!r} was written "
                f"by another version of naklar: load the tree again with initialise(root_dir) "
                f"after connect(url)"
            )
        if record is None:
            raise NotInitialisedError(
                f"no naklar store named {table_name!r} in {store.engine.url!r}: load one "
                f"with initialise(root_dir) after connect(url), or pass table_name="
            )
        moves = prefix_moves(record.root_dir, root, path_map)
        if moves:
            record = move_store(store.engine, table_name, store._catalog, record, moves)
        store._adopt(record, parse_decorators(decorators), record.root_dir)
        store._decorators = decorators
        return store

    @gc_paused()
    def refresh(
        self,
        *,
        load_func: Loader | None = None,
        decorators: Mapping[str, Any] | None = None,
        workers: int | None = None,
        progress: bool | None = None,
        source: str | None = None,
        flatten: bool = True,
    ) -> LoadReport:
        """Bring the table up to date with the tree: read only new and changed files.

        Rows whose settings file disappeared are removed; keys seen for the first
        time become new columns. When a stored column's kind must widen (an
        Integer key now holds floats), every file is read again and the table
        rebuilt, exactly as a fresh load would. The returned report's
        ``changes`` counts what was added, updated, removed and skipped.

        ``load_func`` and ``decorators`` default to the ones of the last load in
        this process; they are not stored in the database, so after reopening a
        store pass them again.
        """
        record = self._record
        if record is None:
            raise NotInitialisedError(
                "nothing to refresh: load a tree with initialise(root_dir) first"
            )
        load_func = load_func if load_func is not None else self._load_func
        decorators = decorators if decorators is not None else self._decorators
        if record.custom_load_func and load_func is None:
            raise NaklarError(
                f"the store was loaded with a load_func, which is not stored; pass "
                f"refresh(load_func=...) to read {record.dict_file!r} files the same way"
            )
        if record.setter_keys and not decorators:
            raise NaklarError(
                f"the store was loaded with setters for {', '.join(map(repr, record.setter_keys))}"
                ", which are not stored; pass refresh(decorators=...) to run them on new files"
            )
        self._load_func, self._decorators = load_func, decorators
        return refresh_store(self, record, load_func, decorators, workers, progress)

    def drop(self) -> None:
        """Delete the experiment table and naklar's run index and record from the database."""
        with write_transaction(self.engine, "drop the store") as connection:
            self._catalog.drop(connection)
            if self._snapshot is not None:
                self._snapshot.drop(connection)
            sa.Table(self.table_name, sa.MetaData()).drop(connection, checkfirst=True)
        self._catalog.forget_deferred_runs(self.engine)
        self.table, self._model, self.report, self._record = None, None, None, None

    def _adopt(self, record: StoreRecord, decorators: Mapping[str, Decorator], root: str) -> None:
        """Take over a stored table: rebuild the table object and ``E`` from the record."""
        specs = specs_from_record(record, decorators)
        self.table, self._model = build_model(
            self.table_name, specs, sa.MetaData(), dialect=self.engine.dialect.name
        )
        self._record, self.root_dir = record, root
        self._catalog.index_deferred_runs(self.engine)
        with self.engine.connect() as connection:
            count = self._catalog.count_runs(connection)
        self.report = LoadReport(
            root, describe_target(record.dict_file, record.source), files_found=count, loaded=count
        )

    # -- settings and metrics -----------------------------------------------

    @property
    def metrics(self) -> list[str]:
        """The columns that are metrics (results), not settings, in column order.

        From the ``metrics`` load option (names or patterns, see
        :mod:`naklar._query.metrics`) and the metrics a tool's files name; kept in
        the store's record, so they survive reopening and refreshing.
        """
        if self._record is None:
            return []
        return metric_columns(self.columns, self._record.metrics)

    def add_metrics(self, metrics: Collection[str]) -> None:
        """Mark more columns (names or patterns) as metrics, in the store's record."""
        record = self._record
        if record is None:
            raise NotInitialisedError("nothing is loaded yet: load a tree before naming metrics")
        names = merged_metrics(record.metrics, as_names(metrics))
        if names == record.metrics:
            return
        record.metrics = names
        with write_transaction(self.engine, "record the metrics") as connection:
            self._catalog.write_record(connection, record)

    # -- sweep analysis (computed in the database where a frame would be large) --

    def varying(self, metrics: Metrics = None) -> list[str]:
        """The settings whose values differ across the runs; see ``df.naklar.varying``."""
        return store_analysis.varying(self, metrics)

    def constants(self) -> dict[str, Any]:
        """The columns with one value in every run; see ``df.naklar.constants``."""
        return store_analysis.constants(self)

    def summary(self, metrics: Metrics = None) -> pd.DataFrame:
        """One row per column (role, dtype, runs, share, distinct, examples, min, max)."""
        return store_analysis.summary(self, metrics)

    def missing(self, *params: str, metrics: Metrics = None) -> pd.DataFrame:
        """The combinations of ``params`` (default: the varying settings) no run has."""
        return store_analysis.missing(self, params, metrics)

    def duplicates(self, *params: str, metrics: Metrics = None) -> pd.DataFrame:
        """The runs whose combination of ``params`` (default: the varying settings) repeats."""
        return store_analysis.duplicates(self, params, metrics)

    def aggregate(
        self,
        metrics: Metrics = None,
        over: str | Sequence[str] = "seed",
        stats: Sequence[str] = ("mean", "std", "sem", "count"),
        by: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Each metric's ``stats`` per group of settings; see ``df.naklar.aggregate``."""
        return store_analysis.aggregate(self, metrics, over, stats, by)

    def best(
        self,
        metric: str,
        by: str | Sequence[str] | None = None,
        mode: Literal["max", "min"] = "max",
    ) -> pd.DataFrame:
        """The run with the best ``metric``, or one per group of ``by``; see ``df.naklar.best``."""
        return store_analysis.best(self, metric, by, mode)

    def diff(self, a: Any, b: Any) -> pd.DataFrame:
        """The columns that differ between two runs, each a dict of filters or a ``naklar_dir``."""
        return store_analysis.diff(self, a, b)

    # -- selecting ----------------------------------------------------------

    @property
    def E(self) -> type[Experiment]:
        """The mapped class: one attribute per key, usable in expressions."""
        if self._model is None:
            raise NotInitialisedError(
                "nothing is loaded yet: call initialise(root_dir) or naklar.load(root_dir) first"
            )
        return self._model

    @property
    def columns(self) -> list[str]:
        """Every key that is a column, ``naklar_dir`` first."""
        return list(self.E._naklar_columns)

    @gc_paused()
    def select(
        self,
        *arguments: Any,
        as_frame: bool = False,
        dtype_backend: DtypeBackend = None,
        **filters: Any,
    ) -> Any:
        """Select runs.

        ``select()`` returns ``E`` objects; ``select('i', 'f1')`` named tuples;
        ``as_frame=True`` a DataFrame (``dtype_backend='pyarrow'`` for Arrow
        dtypes). Positional SQLAlchemy expressions and keyword filters, including
        lookups such as ``f1__gt=0.82``, narrow the rows (see :mod:`naklar._query.filters`).
        A key named ``as_frame`` or ``dtype_backend`` is filtered with
        :meth:`frame` or an expression (``E['as_frame'] == 1``).
        """
        model = self.E
        assert self.table is not None
        selection = parse_selection(model, self.table, arguments, filters, self.engine.dialect.name)
        specs = selection.columns
        if as_frame or dtype_backend is not None:
            all_specs = list(model._naklar_columns.values())
            return self._frame(specs or all_specs, selection.conditions, dtype_backend)
        if not specs:
            return SelectedRuns(self._objects(selection.conditions))
        return SelectedRuns(_tuples(specs, self._values(specs, selection.conditions)))

    def frame(
        self, *arguments: Any, dtype_backend: DtypeBackend = None, **filters: Any
    ) -> pd.DataFrame:
        """Shorthand for ``select(..., as_frame=True)`` that no key can shadow.

        Columns come in the order asked for (all columns, ``naklar_dir`` first, when
        none are), rows in the database's order; dtypes follow the column types
        (see :mod:`naklar._query.frames`) and getters are applied. In a SQLite file the
        load (or, after a change, the first full frame) keeps an Arrow copy that
        frames, filtered ones included, are read from while the table is
        unchanged (:mod:`naklar._store.snapshot`).
        """
        return self.select(*arguments, as_frame=True, dtype_backend=dtype_backend, **filters)

    def session(self) -> Session:
        """A SQLAlchemy session on this store's database, for raw queries."""
        return Session(bind=self.engine, expire_on_commit=False)

    def _objects(self, conditions: list[sa.ColumnElement[bool]]) -> list[Experiment]:
        model = self.E
        statement = sa.select(model).where(*conditions).order_by(model.naklar_id)
        with self.session() as session:
            return list(session.scalars(statement))

    def _values(
        self, specs: list[ColumnSpec], conditions: list[sa.ColumnElement[bool]]
    ) -> list[Sequence[Any]]:
        """The selected values column by column, as getters show them where there are any."""
        if any(_has_getter(spec) for spec in specs):
            return self._decorated_values(specs, conditions)
        return self._stored_values(specs, conditions)

    def _stored_values(
        self, specs: list[ColumnSpec], conditions: list[sa.ColumnElement[bool]]
    ) -> list[Sequence[Any]]:
        assert self.table is not None
        columns = [self.table.c[spec.name] for spec in specs]
        statement = sa.select(*columns).where(*conditions).order_by(self.table.c[ID_COLUMN])
        with self.engine.connect() as connection:
            return fetch_columns(connection, statement, [column.type for column in columns])

    def _decorated_values(
        self, specs: list[ColumnSpec], conditions: list[sa.ColumnElement[bool]]
    ) -> list[Sequence[Any]]:
        # getters take the object as ``self``, so decorated values come from objects
        runs = self._objects(conditions)
        return [[getattr(run, spec.attribute) for run in runs] for spec in specs]

    def _frame(
        self,
        specs: list[ColumnSpec],
        conditions: list[sa.ColumnElement[bool]],
        dtype_backend: DtypeBackend = None,
    ) -> pd.DataFrame:
        from .._query.analysis import mark_metrics

        frame = None
        if (
            self._snapshot is not None
            and dtype_backend is None
            and not any(map(_has_getter, specs))
        ):
            frame = self._frame_through_snapshot(specs, conditions)
        if frame is None:
            frame = self._frame_from_table(specs, conditions, dtype_backend)
        return mark_metrics(frame, self.metrics)

    def _frame_from_table(
        self,
        specs: list[ColumnSpec],
        conditions: list[sa.ColumnElement[bool]],
        dtype_backend: DtypeBackend = None,
        by_name: bool = False,
    ) -> pd.DataFrame:
        """The frame read from the table, columns named by key (or by SQL name)."""
        from .._query.frames import frame_from_columns

        return frame_from_columns(
            self._values(specs, conditions),
            [spec.name if by_name else spec.key for spec in specs],
            [spec.type for spec in specs],
            computed=[_has_getter(spec) for spec in specs],
            dtype_backend=dtype_backend,
        )

    def _frame_through_snapshot(
        self, specs: list[ColumnSpec], conditions: list[sa.ColumnElement[bool]]
    ) -> pd.DataFrame | None:
        """Stored columns from the store's Arrow copy (:mod:`.snapshot`), or ``None``.

        Without filters, asking for every stored column reads the table and
        keeps the copy. Filters are evaluated on a current copy when the frame
        side answers them as SQLite does (no LIKE: SQLite's ignores ASCII case;
        nothing :func:`~naklar._query.masks.frame_mask` cannot evaluate); otherwise,
        and without a current copy, ``None`` sends the caller to the table.
        """
        assert self._snapshot is not None
        stored = self._stored_specs()
        if conditions:
            return self._filtered_from_snapshot(specs, conditions, stored)
        names = [spec.name for spec in specs]
        frame = self._snapshot.read(self.engine, names)
        if frame is None:
            if {spec.name for spec in stored} != set(names):
                return None
            frame = self._take_snapshot(stored)[names]
        frame.columns = [spec.key for spec in specs]
        return frame

    def _stored_specs(self) -> list[ColumnSpec]:
        """The columns the table holds (and its Arrow copy): all but getters' computed ones."""
        return [spec for spec in self.E._naklar_columns.values() if not _has_getter(spec)]

    def _take_snapshot(self, stored: list[ColumnSpec]) -> pd.DataFrame:
        """``stored`` (:meth:`_stored_specs`) read from the table, by SQL name, kept as the copy."""
        assert self._snapshot is not None
        return self._snapshot.take(
            self.engine, lambda: self._frame_from_table(stored, [], by_name=True)
        )

    def _filtered_from_snapshot(
        self,
        specs: list[ColumnSpec],
        conditions: list[sa.ColumnElement[bool]],
        stored: list[ColumnSpec],
    ) -> pd.DataFrame | None:
        from .._query.frames import narrow_nullable
        from .._query.masks import frame_mask

        assert self._snapshot is not None
        whole = self._snapshot.read(self.engine, [spec.name for spec in stored])
        if whole is None:
            return None
        whole.columns = [spec.key for spec in stored]
        try:
            mask = frame_mask(whole, conditions, like=False)
        except (FilterError, UnknownColumnError):
            return None  # the database answers, or words the error
        selected = whole.loc[mask, [spec.key for spec in specs]].reset_index(drop=True)
        return narrow_nullable(selected)


def _has_getter(spec: ColumnSpec) -> bool:
    return spec.decorator is not None and spec.decorator.getter is not None


def _column_specs(tree: LoadedTree, decorators: Mapping[str, Decorator]) -> list[ColumnSpec]:
    """One spec per key, plus the computed columns decorators define."""
    keys = list(tree.kinds)
    keys += [
        key for key, deco in decorators.items() if deco.column is not None and key not in tree.kinds
    ]
    names = assign_names(keys)
    return [
        column_spec(key, *names[key], tree.kinds.get(key, Kind.STRING), decorators.get(key))
        for key in keys
    ]


def _column_kinds(specs: list[ColumnSpec], tree: LoadedTree) -> list[tuple[str, Kind | None]]:
    """Each column's key and kind; ``None`` for a decorator's own column."""
    return [(spec.key, None if spec.has_own_column else tree.kinds.get(spec.key)) for spec in specs]


def _column_record(spec: ColumnSpec, tree: LoadedTree) -> ColumnRecord:
    kind = tree.kinds.get(spec.key)
    seen = ordered_kinds(tree.tally.kinds.get(spec.key, ()))
    if spec.has_own_column:
        kind = kind_of_type(spec.type)
    return ColumnRecord(spec.key, spec.name, spec.attribute, kind or Kind.STRING, seen)


def _tuples(specs: list[ColumnSpec], columns: list[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows as named tuples; keys that are not identifiers get positional names."""
    row_type = _row_type(tuple(spec.key for spec in specs))
    return [row_type._make(row) for row in zip(*columns, strict=True)]


_ROW_TYPES: dict[tuple[str, ...], Callable[..., Any]] = {}


def _row_type(fields: tuple[str, ...]) -> Any:
    if fields not in _ROW_TYPES:
        row_type = namedtuple("Row", fields, rename=True)  # type: ignore[misc]
        # made at run time, the class cannot be found by name: a row pickles as its
        # fields and values, and is made again by _unpickle_row
        row_type.__reduce__ = lambda row: (_unpickle_row, (fields, tuple(row)))  # type: ignore[assignment, arg-type]
        _ROW_TYPES[fields] = row_type
    return _ROW_TYPES[fields]


def _unpickle_row(fields: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    return _row_type(fields)._make(values)


def open_store(
    url: str | sa.Engine,
    *,
    table_name: str = TABLE_NAME,
    decorators: Mapping[str, Any] | None = None,
    root: str | os.PathLike[str] | None = None,
    path_map: Mapping[str, str] | None = None,
) -> Store:
    """Reopen a persistent store without scanning its tree; see :meth:`Store.open`.

    ::

        store = naklar.open('sqlite:///sweep.db')
        store.frame(C=[1, 2])
        store = naklar.open('sqlite:///sweep.db', path_map={'/cluster': '~/mnt'})
    """
    return Store.open(
        url, table_name=table_name, decorators=decorators, root=root, path_map=path_map
    )
