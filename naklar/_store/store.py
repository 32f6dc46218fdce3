"""The store: one database engine, one experiment table, and selections from it.

Several stores can live side by side (one per results tree); the module-level
API in :mod:`naklar.experiment` is a thin facade over one default store.
"""

from __future__ import annotations

import contextlib
import html
import os
import warnings
from collections import namedtuple
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from .._query.filters import parse_selection
from .._query.metrics import Metrics, as_names, metric_columns
from .._read.gc_pause import gc_paused
from .._read.loaders import Loader
from .._read.tree import (
    LoadedTree,
    LoadOptions,
    LoadReport,
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
    build_table,
    column_spec,
    map_class,
    parse_decorators,
    spec_for_key,
)
from ..errors import FilterError, NaklarError, NotInitialisedError, UnknownColumnError
from . import analysis as store_analysis
from .applying import write_load, write_refresh
from .bulk import fetch_columns
from .catalog import (
    Catalog,
    ColumnRecord,
    HeldRuns,
    IndexedRun,
    StoreRecord,
    kind_of_type,
    merged_metrics,
    ordered_kinds,
    specs_from_record,
)
from .engines import create_owned_engine, opening
from .fitting import check_load_fits, fit_load
from .portable import move_store, prefix_moves
from .refreshing import RefreshPlan, plan_refresh
from .snapshot import outlives_process, snapshot_for
from .transactions import write_transaction

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

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
        # Every column's spec by key: what selecting needs. E, the class mapped
        # onto the table, is made from them when first used (it imports the ORM).
        self._specs: dict[str, ColumnSpec] | None = None
        self._model: type[Experiment] | None = None
        self.report: LoadReport | None = None
        self.root_dir: str | None = None
        self._catalog = Catalog(table_name)
        self._snapshot = snapshot_for(self.engine, table_name, self._catalog.meta.name)
        self._record: StoreRecord | None = None
        # An in-memory load's runs, until a refresh indexes them (see naklar._store.catalog).
        self._held_runs: HeldRuns | None = None
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
        if self._specs is None:
            return f"naklar.Store {where}: nothing loaded"
        runs = self.report.loaded if self.report and self.report.inserted else 0
        return f"naklar.Store of {self.root_dir!r} {where}: {runs} runs"

    def _columns_described(self) -> list[tuple[str, str, str]]:
        """``(key, type, 'yes' or '')`` for each column, or nothing before a load."""
        if self._specs is None:
            return []
        kinds = {column.key: column.kind for column in self._record.columns} if self._record else {}
        metrics = set(self.metrics)
        return [
            (
                key,
                (kinds.get(key) or kind_of_type(spec.type)).value,
                "yes" if key in metrics else "",
            )
            for key, spec in self._specs.items()
        ]

    # -- loading ------------------------------------------------------------

    def load(
        self,
        root_dir: str | os.PathLike[str],
        *,
        autoload: bool = True,
        **options: Any,
    ) -> LoadReport:
        """Build the table from every ``dict_file`` under ``root_dir`` and load the rows.

        ``options`` are :class:`~naklar._read.tree.LoadOptions`' fields, the
        keyword arguments of :func:`naklar.experiment.initialise`, which
        describes them: ``dict_file``, ``load_func``, ``decorators``,
        ``restrict_keys``, ``on_error``, ``on_unsupported``, ``follow_symlinks``,
        ``include_hidden``, ``workers``, ``progress``, ``metrics``.

        Loading again in the same store replaces the table: re-running a notebook
        cell just works. A *new* store on a database that already holds this tree
        (same root, ``dict_file``, ``restrict_keys`` and walk options, and neither
        ``load_func`` nor decorator setters, which could change values without any
        file changing) is refreshed instead (``autoload=True``), or opened as it
        is without scanning (``autoload=False``); the stored ``on_error`` and
        ``on_unsupported`` then apply. Any other difference reloads everything.
        """
        load_options = LoadOptions.from_keywords(options, "Store.load")
        return self.load_with(root_dir, load_options, autoload=autoload)

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
        decorators = parse_decorators(options.decorators)
        new_store = self.table is None
        if new_store:
            with opening(self.engine), self.engine.connect() as connection:
                record = self._catalog.read_record(connection)
            if record is not None and record.describes_load(root, options, decorators):
                if started is not None:
                    started.cancel()
                return self._take_over(record, options, autoload)
        kept = outlives_process(self.engine)
        if started is None:
            started = start_loading(root, options, record_dir_ctimes=kept)
        tree = started.finish()
        with self._writing("load the tree") as connection:
            found = self._catalog.read_record(connection) if new_store else None
            if found is not None and found.describes_load(root, options, decorators):
                loaded = None  # another process loaded this tree while it was read
            else:
                # started.options: with source='auto' resolved to the tool it recognised
                loaded = self._write_load(connection, root, started.options, tree, autoload)
        if loaded is None:
            assert found is not None
            return self._take_over(found, options, autoload)
        return self._loaded(loaded, options, autoload)

    def _write_load(
        self,
        connection: sa.Connection,
        root: str,
        options: LoadOptions,
        tree: LoadedTree,
        autoload: bool,
    ) -> _Loaded:
        """Replace the store's tables with ``tree``, in the caller's write transaction."""
        decorators = parse_decorators(options.decorators)
        dialect = self.engine.dialect.name
        fit_load(tree, dialect, options.on_error)
        specs = _column_specs(tree, decorators)
        check_load_fits(tree, _column_kinds(specs, tree), dialect)
        table, specs_by_key = self._build_table(specs)
        columns = [_column_record(spec, tree) for spec in specs]
        record = StoreRecord.for_load(root, options, decorators, columns, tree.report)
        kept = outlives_process(self.engine)
        if autoload:
            record.next_id = len(tree.rows)
            record.runs_indexed = kept
        write_load(
            connection,
            self._catalog,
            self._snapshot,
            table,
            specs,
            tree,
            record,
            insert=autoload,
            index_runs=kept,
        )
        return _Loaded(root, tree, table, specs_by_key, record)

    def _loaded(self, loaded: _Loaded, options: LoadOptions, autoload: bool) -> LoadReport:
        """Take the committed load as this store's table, and give its warnings."""
        tree, record = loaded.tree, loaded.record
        self._held_runs = None
        if not record.runs_indexed:  # indexed when a refresh needs them (see naklar._store.catalog)
            self._held_runs = HeldRuns(record.revision, range(len(tree.rows)), tree.stamps)
        tree.report.inserted = autoload
        warn_about_lost_floats(tree.report, self.engine.dialect.name)
        self._use_table(loaded.table, loaded.specs)
        self.report = tree.report
        self.root_dir, self._record = loaded.root, loaded.record
        self._load_func, self._decorators = options.load_func, options.decorators
        if autoload and self._snapshot is not None:
            # a store in a file is loaded to be reopened: its first frame there comes
            # from the copy, taken now rather than in each later session
            stored = self._stored_specs()
            if self._snapshot.may_fit(len(tree.rows), len(stored)):
                self._take_snapshot(stored)
        return tree.report

    def _take_over(self, record: StoreRecord, options: LoadOptions, autoload: bool) -> LoadReport:
        """The database holds this tree already: adopt it and, with ``autoload``, refresh it."""
        self._adopt(record, parse_decorators(options.decorators), record.root_dir)
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
            raise NotInitialisedError(_no_store_message(table_name, store.engine))
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
    ) -> LoadReport:
        """Bring the table up to date with the tree: read only new and changed files.

        Rows whose settings file disappeared are removed; keys seen for the first
        time become new columns. When a stored column's kind must widen (an
        Integer key now holds floats), every file is read again and the table
        rebuilt, exactly as a fresh load would. The returned report's
        ``changes`` counts what was added, updated, removed and skipped: a
        refresh that finds another process did the work counts nothing added.

        The refresh starts from the store as the database holds it now, not as
        this object saw it when it was opened: any number of processes may
        refresh one store at once (see the README's "A shared store").

        ``load_func`` and ``decorators`` default to the ones of the last load in
        this process; they are not stored in the database, so after reopening a
        store pass them again.
        """
        if self._record is None:
            raise NotInitialisedError(
                "nothing to refresh: load a tree with initialise(root_dir) first"
            )
        code = _Code(
            load_func if load_func is not None else self._load_func,
            decorators if decorators is not None else self._decorators,
            workers,
            progress,
        )
        self._index_held_runs()
        with self.engine.connect() as connection:
            record, indexed = self._stored_state(connection)
        dialect = self.engine.dialect.name
        plan = plan_refresh(record, indexed, code.options_for(record), dialect)
        self._load_func, self._decorators = code.load_func, code.decorators
        decorators = parse_decorators(code.decorators)
        if plan.writes_nothing:
            self._use_record(record, decorators)
            return self._refreshed(plan, len(indexed))
        written: tuple[sa.Table, dict[str, ColumnSpec]] | None = None
        with self._writing("refresh the store") as connection:
            record = self._stored_state(connection, runs=False)[0]
            if record.revision != plan.revision:
                # another process wrote since the plan was made: plan from what it left
                indexed = self._catalog.read_runs(connection)
                plan = plan_refresh(record, indexed, code.options_for(record), dialect)
            if plan.reload:
                tree = start_loading(
                    record.root_dir,
                    code.options_for(record),
                    record_dir_ctimes=outlives_process(self.engine),
                ).finish()
                loaded = self._write_load(
                    connection, record.root_dir, code.options_for(record), tree, autoload=True
                )
            elif not plan.writes_nothing:
                plan.record = plan.record.revised()
                specs = specs_from_record(plan.record, decorators)
                written = self._build_table(specs)
                write_refresh(connection, self._catalog, written[0], specs, plan)
            count = self._catalog.count_runs(connection)
        if plan.reload:
            report = self._loaded(loaded, code.options_for(record), autoload=True)
            report.changes = plan.counts
            return report
        if written is None:  # another process did the work meanwhile
            self._use_record(plan.record, decorators)
        else:  # the table just written, now that it is committed
            self._use_table(*written)
            self._record = plan.record
        return self._refreshed(plan, count)

    def _stored_state(
        self, connection: sa.Connection, runs: bool = True
    ) -> tuple[StoreRecord, dict[str, IndexedRun]]:
        """The record and (with ``runs``) the run index as the database holds them now."""
        record = self._catalog.read_record(connection)
        if record is None:
            raise NotInitialisedError(_no_store_message(self.table_name, self.engine))
        return record, self._catalog.read_runs(connection) if runs else {}

    def _refreshed(self, plan: RefreshPlan, count: int) -> LoadReport:
        """The plan's report, once it is applied, and the warnings of reading its files."""
        for message in plan.warnings:
            warnings.warn_explicit(
                message.message, message.category, message.filename, message.lineno
            )
        warn_about_lost_floats(plan.report, self.engine.dialect.name)
        report = plan.report
        report.loaded = count
        report.changes = plan.counts
        self.report = report
        return report

    def drop(self) -> None:
        """Delete the experiment table and naklar's run index and record from the database."""
        with self._writing("drop the store") as connection:
            self._catalog.drop(connection)
            if self._snapshot is not None:
                self._snapshot.drop(connection)
            sa.Table(self.table_name, sa.MetaData()).drop(connection, checkfirst=True)
        self._held_runs = None
        self.table, self._specs, self._model = None, None, None
        self.report, self._record = None, None

    def _index_held_runs(self) -> None:
        """Write the runs an in-memory load held back, if the store is still that load's."""
        held, self._held_runs = self._held_runs, None
        if held is None:
            return
        with self._writing("index the runs") as connection:
            record = self._catalog.read_record(connection)
            if record is None or record.revision != held.revision:
                return  # replaced since: those runs are not the store's any more
            self._catalog.add_runs(connection, held.ids, held.stamps)
            self._catalog.write_record(connection, record.revised(runs_indexed=True))

    def _writing(self, doing: str) -> contextlib.AbstractContextManager[sa.Connection]:
        """A write transaction holding this store's lock: writers to one store take turns."""
        return write_transaction(self.engine, doing, lock=self.table_name)

    def _adopt(self, record: StoreRecord, decorators: Mapping[str, Decorator], root: str) -> None:
        """Take over a stored table: rebuild the table object and ``E`` from the record."""
        self._use_record(record, decorators)
        self.root_dir = root
        # the run index is the smaller table, unless an in-memory load holds its runs back
        counted = self._catalog.runs if record.runs_indexed else self.table
        assert counted is not None
        with self.engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(counted)).scalar()
        count = int(count or 0)
        self.report = LoadReport(
            root, describe_target(record.dict_file, record.source), files_found=count, loaded=count
        )

    def _build_table(self, specs: list[ColumnSpec]) -> tuple[sa.Table, dict[str, ColumnSpec]]:
        """This store's table object for the columns ``specs``, and the specs by key."""
        return build_table(self.table_name, specs, sa.MetaData(), dialect=self.engine.dialect.name)

    def _use_table(self, table: sa.Table, specs: dict[str, ColumnSpec]) -> None:
        """Select from ``table`` from now on; ``E`` is mapped onto it when next used."""
        self.table, self._specs, self._model = table, specs, None

    def _use_record(self, record: StoreRecord, decorators: Mapping[str, Decorator]) -> None:
        """The table object and its columns as ``record`` describes them."""
        self._use_table(*self._build_table(specs_from_record(record, decorators)))
        self._record = record

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
        if merged_metrics(record.metrics, as_names(metrics)) == record.metrics:
            return
        with self._writing("record the metrics") as connection:
            # to the record as it is now: another process may have written since
            current = self._stored_state(connection, runs=False)[0]
            names = merged_metrics(current.metrics, as_names(metrics))
            if names != current.metrics:
                current = current.revised(metrics=names)
                self._catalog.write_record(connection, current)
        self._use_record(current, parse_decorators(self._decorators))

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
            specs = self._column_specs()  # before a load, raises NotInitialisedError
            assert self.table is not None
            self._model = map_class(self.table, specs)
        return self._model

    @property
    def columns(self) -> list[str]:
        """Every key that is a column, ``naklar_dir`` first."""
        return list(self._column_specs())

    def _column_specs(self) -> dict[str, ColumnSpec]:
        """Every column's spec by key, ``naklar_dir`` first."""
        if self._specs is None:
            raise NotInitialisedError(
                "nothing is loaded yet: call initialise(root_dir) or naklar.load(root_dir) first"
            )
        return self._specs

    def _column_spec(self, key: str) -> ColumnSpec:
        """The spec of ``key``'s column; an unknown key names the closest columns."""
        return spec_for_key(self._column_specs(), key)

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
        specs_by_key = self._column_specs()
        assert self.table is not None
        selection = parse_selection(
            specs_by_key, self.table, arguments, filters, self.engine.dialect.name
        )
        specs = selection.columns
        if as_frame or dtype_backend is not None:
            all_specs = list(specs_by_key.values())
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
        from sqlalchemy.orm import Session

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
        return [spec for spec in self._column_specs().values() if not _has_getter(spec)]

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


@dataclass(frozen=True)
class _Code:
    """What a refresh reads files with that no record holds: code, and this call's choices."""

    load_func: Loader | None
    decorators: Mapping[str, Any] | None
    workers: int | None
    progress: bool | None

    def options_for(self, record: StoreRecord) -> LoadOptions:
        """The record's load options with this code; refused if the record needs code not given."""
        if record.custom_load_func and self.load_func is None:
            raise NaklarError(
                f"the store was loaded with a load_func, which is not stored; pass "
                f"refresh(load_func=...) to read {record.dict_file!r} files the same way"
            )
        if record.setter_keys and not self.decorators:
            setters = ", ".join(map(repr, record.setter_keys))
            raise NaklarError(
                f"the store was loaded with setters for {setters}, which are not stored; "
                "pass refresh(decorators=...) to run them on new files"
            )
        return record.load_options(self.load_func, self.decorators, self.workers, self.progress)


@dataclass
class _Loaded:
    """A full load written in a transaction, for the store to take once it commits."""

    root: str
    tree: LoadedTree
    table: sa.Table
    specs: dict[str, ColumnSpec]
    record: StoreRecord


def _no_store_message(table_name: str, engine: sa.Engine) -> str:
    return (
        f"no naklar store named {table_name!r} in {engine.url!r}: load one "
        f"with initialise(root_dir) after connect(url), or pass table_name="
    )


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
