"""The store: one database engine, one experiment table, and selections from it.

Several stores can live side by side (one per results tree); the module-level
API in :mod:`naklar.experiment` is a thin facade over one default store.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import NotInitialisedError
from .filters import parse_selection
from .frames import DtypeBackend, frame_from_rows
from .loaders import Loader, loader_for
from .loading import LoadedTree, LoadReport, OnError, load_tree, warn_about_lost_floats
from .model import (
    DIR_COLUMN,
    ID_COLUMN,
    ColumnSpec,
    Decorator,
    Experiment,
    assign_names,
    build_model,
    parse_decorators,
)
from .schema import coerce_to_kind, sql_type

__all__ = ["Store", "load", "DEFAULT_URL", "TABLE_NAME"]

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
        self.engine = engine if engine is not None else sa.create_engine(DEFAULT_URL)
        self.table_name = table_name
        self.table: sa.Table | None = None
        self._model: type[Experiment] | None = None
        self.report: LoadReport | None = None
        self.root_dir: str | None = None

    def __repr__(self) -> str:
        rows = self.report.loaded if self.report else 0
        return f"<naklar.Store {self.root_dir!r}: {rows} runs in {self.engine.url!r}>"

    # -- loading ------------------------------------------------------------

    def load(
        self,
        root_dir: str | os.PathLike[str],
        *,
        autoload: bool = True,
        dict_file: str = "conf.pkl",
        load_func: Loader | None = None,
        decorators: Mapping[str, Any] | None = None,
        restrict_keys: Collection[str] | None = None,
        on_error: OnError = "warn",
        on_unsupported: OnError = "warn",
        follow_symlinks: bool = False,
        include_hidden: bool = False,
    ) -> LoadReport:
        """Build the table from every ``dict_file`` under ``root_dir`` and load the rows.

        Loading again replaces the table: re-running a notebook cell just works.
        See :func:`naklar.experiment.initialise` for the parameters.
        """
        root = os.fspath(root_dir)
        parsed_decorators = parse_decorators(decorators)
        tree = load_tree(
            root,
            dict_file,
            load_func or loader_for(dict_file),
            decorators=parsed_decorators,
            restrict_keys=restrict_keys,
            on_error=on_error,
            on_unsupported=on_unsupported,
            follow_symlinks=follow_symlinks,
            include_hidden=include_hidden,
        )
        specs = _column_specs(tree, parsed_decorators)
        table, model = build_model(self.table_name, specs, sa.MetaData())
        with self.engine.begin() as connection:
            table.drop(connection, checkfirst=True)
            table.create(connection)
            if autoload:
                _insert_rows(connection, table, specs, tree)
        if not autoload:
            tree.report.loaded = 0
        warn_about_lost_floats(tree.report, self.engine.dialect.name)
        self.table, self._model, self.report, self.root_dir = table, model, tree.report, root
        return tree.report

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
        lookups such as ``f1__gt=0.82``, narrow the rows (see :mod:`naklar.filters`).
        A key named ``as_frame`` or ``dtype_backend`` is filtered with
        :meth:`frame` or an expression (``E['as_frame'] == 1``).
        """
        model = self.E
        assert self.table is not None
        selection = parse_selection(model, self.table, arguments, filters)
        specs = selection.columns
        if as_frame or dtype_backend is not None:
            all_specs = list(model._naklar_columns.values())
            return self._frame(specs or all_specs, selection.conditions, dtype_backend)
        if not specs:
            return self._objects(selection.conditions)
        if any(_has_getter(spec) for spec in specs):
            return _tuples(specs, self._decorated_values(specs, selection.conditions))
        return _tuples(specs, self._stored_values(specs, selection.conditions))

    def frame(
        self, *arguments: Any, dtype_backend: DtypeBackend = None, **filters: Any
    ) -> pd.DataFrame:
        """Shorthand for ``select(..., as_frame=True)`` that no key can shadow.

        Columns come in the order asked for (all columns, ``naklar_dir`` first, when
        none are), rows in the database's order; dtypes follow the column types
        (see :mod:`naklar.frames`) and getters are applied.
        """
        return self.select(*arguments, as_frame=True, dtype_backend=dtype_backend, **filters)

    def session(self) -> Session:
        """A SQLAlchemy session on this store's database, for raw queries."""
        return Session(bind=self.engine, expire_on_commit=False)

    def _objects(self, conditions: list[sa.ColumnElement[bool]]) -> list[Experiment]:
        model = self.E
        statement = sa.select(model).where(*conditions).order_by(model.naklar_id)  # type: ignore[attr-defined]
        with self.session() as session:
            return list(session.scalars(statement))

    def _stored_values(
        self, specs: list[ColumnSpec], conditions: list[sa.ColumnElement[bool]]
    ) -> list[tuple[Any, ...]]:
        assert self.table is not None
        columns = [self.table.c[spec.name] for spec in specs]
        statement = sa.select(*columns).where(*conditions).order_by(self.table.c[ID_COLUMN])
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]

    def _decorated_values(
        self, specs: list[ColumnSpec], conditions: list[sa.ColumnElement[bool]]
    ) -> list[tuple[Any, ...]]:
        # getters take the object as ``self``, so decorated values come from objects
        return [
            tuple(getattr(run, spec.attribute) for spec in specs)
            for run in self._objects(conditions)
        ]

    def _frame(
        self,
        specs: list[ColumnSpec],
        conditions: list[sa.ColumnElement[bool]],
        dtype_backend: DtypeBackend = None,
    ) -> pd.DataFrame:
        computed = [_has_getter(spec) for spec in specs]
        values = (
            self._decorated_values(specs, conditions)
            if any(computed)
            else self._stored_values(specs, conditions)
        )
        return frame_from_rows(
            values,
            [spec.key for spec in specs],
            [spec.type for spec in specs],
            computed=computed,
            dtype_backend=dtype_backend,
        )


def _has_getter(spec: ColumnSpec) -> bool:
    return spec.decorator is not None and spec.decorator.getter is not None


def _column_specs(tree: LoadedTree, decorators: Mapping[str, Decorator]) -> list[ColumnSpec]:
    """One spec per key; a decorator's Column decides its type where given."""
    keys = list(tree.kinds)
    keys += [
        key for key, deco in decorators.items() if deco.column is not None and key not in tree.kinds
    ]
    names = assign_names(keys)
    specs = []
    for key in keys:
        decorator = decorators.get(key)
        if decorator is not None and decorator.column is not None:
            column_type = decorator.column.type
        else:
            column_type = sql_type(tree.kinds[key])
        name, attribute = names[key]
        specs.append(ColumnSpec(key, name, attribute, column_type, decorator))
    return specs


def _insert_rows(
    connection: sa.Connection, table: sa.Table, specs: list[ColumnSpec], tree: LoadedTree
) -> None:
    """Bulk insert (Core executemany): no ORM object per row on the load path."""
    converters = [(spec.key, spec.name, tree.kinds.get(spec.key)) for spec in specs]
    rows = []
    for row_id, (directory, values) in enumerate(tree.rows):
        row = {ID_COLUMN: row_id, DIR_COLUMN: directory}
        for key, name, kind in converters:
            value = values.get(key)
            row[name] = coerce_to_kind(value, kind) if kind is not None else value
        rows.append(row)
    if rows:
        connection.execute(table.insert(), rows)


def _tuples(specs: list[ColumnSpec], values: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows as named tuples; keys that are not identifiers get positional names."""
    row_type = _row_type(tuple(spec.key for spec in specs))
    return [row_type._make(row) for row in values]


_ROW_TYPES: dict[tuple[str, ...], Callable[..., Any]] = {}


def _row_type(fields: tuple[str, ...]) -> Any:
    if fields not in _ROW_TYPES:
        _ROW_TYPES[fields] = namedtuple("Row", fields, rename=True)
    return _ROW_TYPES[fields]


def load(root_dir: str | os.PathLike[str], *, url: str | None = None, **options: Any) -> Store:
    """Load a results tree into a new store and return it.

    >>> store = naklar.load('results', dict_file='conf.json')   # doctest: +SKIP
    >>> store.select('path', C=[1, 2])                           # doctest: +SKIP
    """
    store = Store(sa.create_engine(url) if url else None)
    store.load(root_dir, **options)
    return store
