"""Sweep analysis on a store: the answers of ``df.naklar``'s, from the database.

:func:`varying`, :func:`constants` and :func:`summary` need per column only how
many runs have it, its minimum and maximum and (for the summary) how many
distinct values it has: one aggregate query answers them all without fetching
the table. A column varies when its minimum and maximum differ, or when some
runs lack it; that spares :func:`varying` the ``COUNT(DISTINCT)``, which costs a
sort per column. The others
fetch only the columns they need and hand the narrow frame to
:mod:`naklar._query.analysis`; :func:`duplicates` and :func:`best` then fetch just
the runs they return.

Getters change what a column shows, which the database cannot see: a store
with getters answers every question from its frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from .._query.metrics import Metrics, as_names, metric_columns, role_of, setting_columns
from .._table.model import DIR_COLUMN, ID_COLUMN, ColumnSpec
from ..errors import NaklarError

if TYPE_CHECKING:
    import pandas as pd

    from .store import Store

__all__ = [
    "varying",
    "constants",
    "summary",
    "missing",
    "duplicates",
    "aggregate",
    "best",
    "diff",
]

#: How many distinct values :func:`summary` shows per column, as the frame side does.
EXAMPLES = 3
#: The first runs :func:`summary` takes its examples from.
_FIRST_RUNS = 1000
#: Runs per ``naklar_dir IN (...)`` when fetching chosen runs.
_IN_BATCH = 500


@dataclass
class ColumnProfile:
    """What one aggregate query tells about a column."""

    spec: ColumnSpec
    runs: int
    minimum: Any
    maximum: Any
    distinct: int | None  # counted only when asked for

    def varies(self, total: int) -> bool:
        """Two values, or a value and a run without one (missing counts as a value)."""
        return self.runs > 0 and (self.minimum != self.maximum or self.runs < total)

    def constant(self, total: int) -> bool:
        return self.runs == total > 0 and self.minimum == self.maximum


def _ordered(sql_type: sa.types.TypeEngine[Any]) -> bool:
    """Columns whose minimum and maximum the summary shows (numbers, booleans, times)."""
    return isinstance(sql_type, (sa.Integer, sa.Float, sa.Boolean, sa.DateTime))


def profiles(store: Store, *, distinct: bool = False) -> tuple[int, list[ColumnProfile]]:
    """The number of runs and every column's profile, in one query."""
    assert store.table is not None
    specs = list(store._column_specs().values())
    selected: list[sa.ColumnElement[Any]] = [sa.func.count()]
    for spec in specs:
        column = store.table.c[spec.name]
        # no MIN(boolean) in PostgreSQL
        value = sa.cast(column, sa.Integer) if isinstance(spec.type, sa.Boolean) else column
        selected += [sa.func.count(column), sa.func.min(value), sa.func.max(value)]
        if distinct:
            selected.append(sa.func.count(sa.distinct(column)))
    with store.engine.connect() as connection:
        row = list(connection.execute(sa.select(*selected).select_from(store.table)).one())
    total, position, result = int(row[0]), 1, []
    for spec in specs:
        runs, low, high = int(row[position]), row[position + 1], row[position + 2]
        position += 3
        if isinstance(spec.type, sa.Boolean) and low is not None:
            low, high = bool(low), bool(high)
        count = None
        if distinct:
            count = int(row[position])
            position += 1
        result.append(ColumnProfile(spec, runs, low, high, count))
    return total, result


def _has_getters(store: Store) -> bool:
    return any(
        spec.decorator is not None and spec.decorator.getter is not None
        for spec in store._column_specs().values()
    )


def _metric_names(store: Store, metrics: Metrics) -> list[str]:
    return metric_columns(store.columns, metrics, store._record.metrics if store._record else None)


def varying(store: Store, metrics: Metrics = None, *, in_every_run: bool = False) -> list[str]:
    """The settings whose values differ across the runs (missing is a value).

    ``in_every_run`` keeps only those every run has (the grid's axes, as
    :func:`naklar._query.analysis.grid_settings`).
    """
    from .._query import analysis

    if _has_getters(store):
        frame, metric_names = store.frame(), _metric_names(store, metrics)
        if in_every_run:
            return analysis.grid_settings(frame, metric_names)
        return analysis.varying(frame, metric_names)
    total, columns = profiles(store)
    settings = set(setting_columns(store.columns, _metric_names(store, metrics)))
    return [
        profile.spec.key
        for profile in columns
        if profile.spec.key in settings
        and profile.varies(total)
        and (profile.runs == total or not in_every_run)
    ]


def constants(store: Store) -> dict[str, Any]:
    """The columns with one and the same value in every run."""
    from .._query import analysis

    if _has_getters(store):
        return analysis.constants(store.frame())
    total, columns = profiles(store)
    held = [
        profile for profile in columns if profile.spec.key != DIR_COLUMN and profile.constant(total)
    ]
    if not held:
        return {}
    assert store.table is not None
    # one row holds every constant's value, as the column's type reads it
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(*(store.table.c[profile.spec.name] for profile in held)).limit(1)
        ).one()
    return {profile.spec.key: value for profile, value in zip(held, row, strict=True)}


def summary(store: Store, metrics: Metrics = None) -> pd.DataFrame:
    """One row per column, as ``df.naklar.summary()`` gives for the store's frame."""
    from .._query import analysis
    from .._query.frames import dtype_for

    metric_names = _metric_names(store, metrics)
    if _has_getters(store):
        return analysis.summary(store.frame(), metric_names)
    total, columns = profiles(store, distinct=True)
    examples = _examples(store, columns)
    rows = [
        {
            "column": profile.spec.key,
            "role": role_of(profile.spec.key, metric_names),
            "dtype": str(dtype_for(profile.spec.type, has_missing=profile.runs < total)),
            "runs": profile.runs,
            "share": profile.runs / total if total else 0.0,
            "distinct": profile.distinct,
            "examples": examples[profile.spec.key],
            "min": profile.minimum if _ordered(profile.spec.type) else None,
            "max": profile.maximum if _ordered(profile.spec.type) else None,
        }
        for profile in columns
    ]
    return analysis.summary_frame(rows)


def _examples(store: Store, columns: list[ColumnProfile]) -> dict[str, list[Any]]:
    """Each column's first distinct values, in the order of the runs that hold them.

    The first runs give most columns theirs; a column with fewer examples
    there than it has distinct values asks the database for its own.
    """
    assert store.table is not None
    identifier = store.table.c[ID_COLUMN]
    specs = [profile.spec for profile in columns]
    statement = (
        sa.select(*(store.table.c[spec.name] for spec in specs))
        .order_by(identifier)
        .limit(_FIRST_RUNS)
    )
    found: dict[str, list[Any]] = {spec.key: [] for spec in specs}
    with store.engine.connect() as connection:
        for row in connection.execute(statement):
            for spec, value in zip(specs, row, strict=True):
                seen = found[spec.key]
                if value is not None and len(seen) < EXAMPLES and value not in seen:
                    seen.append(value)
        for profile in columns:
            spec = profile.spec
            if len(found[spec.key]) == min(EXAMPLES, profile.distinct or 0):
                continue
            column = store.table.c[spec.name]
            statement = (
                sa.select(column)
                .where(column.is_not(None))
                .group_by(column)
                .order_by(sa.func.min(identifier))
                .limit(EXAMPLES)
            )
            found[spec.key] = list(connection.execute(statement).scalars())
    return found


def _parameters(store: Store, params: Sequence[str], metrics: Metrics) -> list[str]:
    if params:
        for param in params:
            store._column_spec(param)  # an unknown name raises, naming the closest columns
        return list(params)
    return varying(store, metrics)


def missing(store: Store, params: Sequence[str], metrics: Metrics) -> pd.DataFrame:
    """The combinations of ``params`` the sweep implies but no run has."""
    from .._query import analysis

    names = (
        _parameters(store, params, metrics)
        if params
        else varying(store, metrics, in_every_run=True)
    )
    if not names:
        return analysis.missing(store.frame(DIR_COLUMN).iloc[:, :0])
    return analysis.missing(store.frame(*names), *names)


def duplicates(store: Store, params: Sequence[str], metrics: Metrics) -> pd.DataFrame:
    """The runs whose combination of ``params`` repeats, each group together."""
    from .._query import analysis

    names = _parameters(store, params, metrics)
    # with no setting varying, every run repeats every other, as on the frame side
    narrow = store.frame(DIR_COLUMN, *names)
    repeated = analysis.duplicates(narrow, *names)
    return _runs_in_order(store, list(repeated[DIR_COLUMN]))


def _runs_in_order(store: Store, directories: list[str]) -> pd.DataFrame:
    """The full rows of these runs, in this order, indexed from 0."""
    import pandas as pd

    assert store.table is not None
    directory = store.table.c[DIR_COLUMN]
    if not directories:
        return store.frame(directory.is_(None))
    parts = [
        store.frame(directory.in_(directories[start : start + _IN_BATCH]))
        for start in range(0, len(directories), _IN_BATCH)
    ]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    order = {directory: position for position, directory in enumerate(directories)}
    positions = frame[DIR_COLUMN].map(order).to_numpy().argsort(kind="stable")
    result = frame.iloc[positions].reset_index(drop=True)
    result.attrs = dict(parts[0].attrs)
    return result


def aggregate(
    store: Store,
    metrics: Metrics,
    over: str | Sequence[str],
    stats: Sequence[str],
    by: str | Sequence[str] | None,
) -> pd.DataFrame:
    """Each metric's statistics per group; reads only the grouping and metric columns."""
    from .._query import analysis

    known = _metric_names(store, None)
    chosen = metric_columns(store.columns, metrics) if metrics is not None else known
    if metrics is not None and not chosen:
        chosen = as_names(metrics)  # unknown names: the frame side words the error
    if not chosen:
        raise NaklarError(
            "aggregate() does not know which columns are metrics: pass them, "
            "aggregate(['f1']), or load with metrics=[...]"
        )
    if by is None:
        pooled = analysis.pooled_columns(store.columns, over)
        keys = [name for name in varying(store, sorted({*known, *chosen})) if name not in pooled]
    else:
        keys = as_names(by)
    frame = store.frame(*keys, *chosen)
    return analysis.aggregate(frame, chosen, stats=stats, by=keys)


def best(
    store: Store,
    metric: str,
    by: str | Sequence[str] | None,
    mode: Literal["max", "min"],
) -> pd.DataFrame:
    """The best run, or one per group of ``by``, read as whole rows."""
    from .._query import analysis

    keys = as_names(by)
    narrow = store.frame(DIR_COLUMN, metric, *keys)
    chosen = analysis.best(narrow, metric, by=keys or None, mode=mode)
    return _runs_in_order(store, list(chosen[DIR_COLUMN]))


def diff(store: Store, a: Any, b: Any) -> pd.DataFrame:
    """The columns that differ between two runs, each named by filters or its ``naklar_dir``."""
    import pandas as pd

    from .._query import analysis

    first, second = _one_run(store, a, "a"), _one_run(store, b, "b")
    both = pd.concat([first, second], ignore_index=True)
    return analysis.diff(both, 0, 1).rename(columns={0: "a", 1: "b"})


def _one_run(store: Store, run: Any, name: str) -> pd.DataFrame:
    filters = dict(run) if isinstance(run, dict) else {DIR_COLUMN: run}
    found = store.frame(**filters)
    if len(found) != 1:
        raise NaklarError(
            f"diff(): {name}={run!r} matches {len(found)} runs, not one; "
            "name a run by its filters (a dict) or its naklar_dir"
        )
    return found
