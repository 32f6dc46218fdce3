"""Sweep analysis on a frame: what varied, what never ran, seeds averaged, the best run.

The functions here answer a sweep's first questions on any DataFrame of runs
(from a store, from Parquet or from CSV); ``df.naklar`` and :class:`naklar.Store`
expose them under the same names.

Settings and metrics
    A column is a *metric* (a result, such as ``f1``) or a *setting* (a
    hyper-parameter, such as ``C``); naklar's own columns (``naklar_id``,
    ``naklar_dir``) are neither. Which columns are metrics comes from the
    ``metrics=`` argument, else from ``frame.attrs['naklar_metrics']``, which a
    store's frames carry; names or patterns, see :mod:`naklar._query.metrics`.
Missing values
    A run that lacks a key has a missing value there. In :func:`varying` missing
    counts as a value of its own (a key present in only some runs varies); a
    constant has one value in every run; :func:`aggregate` groups the runs that
    lack a grouping key together instead of dropping them; :func:`missing` builds
    its grid from the values that are present.

>>> import pandas as pd
>>> frame = pd.DataFrame({'C': [1, 1, 2, 2], 'seed': [0, 1, 0, 1],
...                       'data': 'iris', 'f1': [0.5, 0.7, 0.8, 0.9]})
>>> varying(frame, metrics=['f1'])
['C', 'seed']
>>> constants(frame)
{'data': 'iris'}
>>> aggregate(frame, 'f1', stats=('mean', 'count'))
   C  f1_mean  f1_count  n_runs  incomplete
0  1     0.60         2       2       False
1  2     0.85         2       2       False
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._read.decorators import RESERVED_COLUMNS
from ..errors import NaklarError, UnknownColumnError
from .metrics import METRICS_ATTR, Metrics, as_names, metric_columns, role_of, setting_columns

__all__ = [
    "mark_metrics",
    "summary_frame",
    "varying",
    "constants",
    "summary",
    "missing",
    "grid_settings",
    "duplicates",
    "aggregate",
    "pooled_columns",
    "best",
    "diff",
    "MAX_GRID_CELLS",
]

#: :func:`missing` refuses grids larger than this: a continuous setting
#: (a random learning rate) makes a grid nobody meant.
MAX_GRID_CELLS = 10_000_000
#: How many distinct values :func:`summary` shows per column.
EXAMPLES = 3


def mark_metrics(frame: pd.DataFrame, metrics: Collection[str]) -> pd.DataFrame:
    """Record on ``frame`` (in place, and return it) which of its columns are metrics."""
    frame.attrs[METRICS_ATTR] = sorted(set(metrics) & set(map(str, frame.columns)))
    return frame


def _frame_metrics(frame: pd.DataFrame, metrics: Metrics) -> list[str]:
    return metric_columns(frame.columns, metrics, frame.attrs.get(METRICS_ATTR))


def _check_columns(frame: pd.DataFrame, names: Iterable[str]) -> list[str]:
    names = list(names)
    for name in names:
        if name not in frame.columns:
            from .._table.model import unknown_column_message

            raise UnknownColumnError(unknown_column_message(name, list(map(str, frame.columns))))
    return names


def varying(frame: pd.DataFrame, metrics: Metrics = None) -> list[str]:
    """The settings whose values differ across the rows, in column order.

    A setting that some runs lack and others have varies; metrics and naklar's
    own columns are left out.
    """
    settings = setting_columns(frame.columns, _frame_metrics(frame, metrics))
    if len(frame) < 2:
        return []
    counts = frame[settings].nunique(dropna=False)
    return [name for name in settings if counts[name] > 1]


def constants(frame: pd.DataFrame) -> dict[str, Any]:
    """The columns with one and the same value in every row: ``{key: value}``.

    naklar's own columns are left out; a key that some runs lack is no constant.
    """
    columns = [column for column in map(str, frame.columns) if column not in RESERVED_COLUMNS]
    if frame.empty:
        return {}
    present = frame[columns].notna().all()
    candidates = [name for name in columns if present[name]]
    counts = frame[candidates].nunique(dropna=False)
    return {name: _python(frame[name].iloc[0]) for name in candidates if counts[name] == 1}


def _python(value: Any) -> Any:
    """A numpy scalar as the Python value it holds."""
    return value.item() if isinstance(value, np.generic) else value


def summary(frame: pd.DataFrame, metrics: Metrics = None) -> pd.DataFrame:
    """One row per column: what it holds, in how many runs, and whether it is a metric.

    Columns of the result: ``role`` (``'setting'``, ``'metric'`` or ``'naklar'``),
    ``dtype``, ``runs`` (rows with a value), ``share`` (of all rows), ``distinct``
    (values, missing not counted), ``examples`` (up to three distinct values, in
    order of appearance), ``min`` and ``max`` (numbers, booleans and datetimes).
    """
    metric_names = set(_frame_metrics(frame, metrics))
    rows = []
    total = len(frame)
    for column in frame.columns:
        series = frame[column]
        runs = total - int(series.isna().sum())
        values = series.dropna().unique()
        numeric = _has_order(series)
        rows.append(
            {
                "column": str(column),
                "role": role_of(str(column), metric_names),
                "dtype": str(series.dtype),
                "runs": runs,
                "share": runs / total if total else 0.0,
                "distinct": len(values),
                "examples": [_python(value) for value in values[:EXAMPLES]],
                "min": _python(values.min()) if numeric and len(values) else None,
                "max": _python(values.max()) if numeric and len(values) else None,
            }
        )
    return summary_frame(rows)


#: The columns of :func:`summary`'s result (``column`` is its index).
SUMMARY_COLUMNS = ["column", "role", "dtype", "runs", "share", "distinct", "examples", "min", "max"]


def summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """:func:`summary`'s result from one dict per column; min and max stay Python values."""
    columns = {
        name: pd.Series(
            [row[name] for row in rows], dtype=object if name in ("min", "max") else None
        )
        for name in SUMMARY_COLUMNS
    }
    return pd.DataFrame(columns).set_index("column")


def _has_order(series: pd.Series) -> bool:
    return bool(
        pd.api.types.is_numeric_dtype(series.dtype)
        or pd.api.types.is_bool_dtype(series.dtype)
        or pd.api.types.is_datetime64_any_dtype(series.dtype)
    )


def _parameters(frame: pd.DataFrame, params: Sequence[str], metrics: Metrics) -> list[str]:
    if params:
        return _check_columns(frame, params)
    return varying(frame, metrics)


def grid_settings(frame: pd.DataFrame, metrics: Metrics = None) -> list[str]:
    """The varying settings every run has: the axes of the grid a sweep implies.

    A setting that only some runs have (``momentum`` for SGD only) is
    conditional on others and is no axis of its own.
    """
    names = varying(frame, metrics)
    present = frame[names].notna().all()
    return [name for name in names if present[name]]


def missing(frame: pd.DataFrame, *params: str, metrics: Metrics = None) -> pd.DataFrame:
    """The combinations of ``params`` the sweep implies but no run has.

    The grid is the product of each parameter's observed values (missing values
    are no level), by default over the varying settings that every run has
    (:func:`grid_settings`). Rows come in the grid's sorted order, with the
    parameters' dtypes.

    >>> frame = pd.DataFrame({'C': [1, 1, 2], 'kernel': ['rbf', 'linear', 'rbf']})
    >>> missing(frame)
       C  kernel
    0  2  linear
    """
    names = _check_columns(frame, params) if params else grid_settings(frame, metrics)
    if not names:
        return pd.DataFrame(index=pd.RangeIndex(0))
    codes, levels = [], []
    for name in names:
        code, level = pd.factorize(frame[name], sort=True, use_na_sentinel=True)
        codes.append(code)
        levels.append(level)
    sizes = tuple(len(level) for level in levels)
    cells = math.prod(sizes)
    if cells > MAX_GRID_CELLS:
        shape = ", ".join(f"{name}: {size}" for name, size in zip(names, sizes, strict=True))
        raise NaklarError(
            f"missing() over {names} means a grid of {cells:,} combinations ({shape}); "
            f"pass the parameters that form the grid, e.g. missing({names[0]!r}, ...)"
        )
    complete = np.logical_and.reduce([code >= 0 for code in codes])
    seen = np.zeros(cells, dtype=bool)
    if cells:
        seen[np.ravel_multi_index([code[complete] for code in codes], sizes)] = True
    absent = np.flatnonzero(~seen)
    positions = np.unravel_index(absent, sizes)
    return pd.DataFrame(
        {
            name: pd.Series(level.take(position), dtype=frame[name].dtype)
            for name, level, position in zip(names, levels, positions, strict=True)
        }
    )


def duplicates(frame: pd.DataFrame, *params: str, metrics: Metrics = None) -> pd.DataFrame:
    """The rows whose combination of ``params`` (default: every varying setting) repeats.

    Each such group's rows are together, in their first row's order; index
    labels are kept.
    """
    # the settings that do not vary split no group: all of them give the same rows
    names = (
        _check_columns(frame, params)
        if params
        else setting_columns(frame.columns, _frame_metrics(frame, metrics))
    )
    if not names:
        return frame.iloc[:0] if len(frame) < 2 else frame
    repeated = frame[frame.duplicated(subset=names, keep=False)]
    if repeated.empty:
        return repeated
    group = repeated.groupby(names, dropna=False, sort=False).ngroup()
    return repeated.iloc[np.argsort(group.to_numpy(), kind="stable")]


def aggregate(
    frame: pd.DataFrame,
    metrics: Metrics = None,
    over: str | Sequence[str] = "seed",
    stats: Sequence[str] = ("mean", "std", "sem", "count"),
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each metric's statistics per combination of the settings, replicates pooled.

    Parameters
    ----------
    metrics:
        The metrics to summarise; by default every metric the frame knows.
    over:
        The setting(s) whose runs are replicates (pooled); ignored when ``by`` is given.
    stats:
        pandas aggregations: ``'mean'``, ``'std'``, ``'sem'``, ``'count'``,
        ``'min'``, ``'max'``, ``'median'``...
    by:
        The settings to group by; by default every varying setting but ``over``.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by the grouping settings (runs that lack a
        grouping key form a group of their own, last): the settings, then
        ``<metric>_<stat>`` columns, ``n_runs`` (runs in the group) and
        ``incomplete`` (fewer runs than most groups have: the most common
        ``n_runs``, the larger one on a tie, so that a duplicated run does not
        make every other group look incomplete).
    """
    metric_names = _check_columns(frame, _aggregated_metrics(frame, metrics))
    keys = _grouping_keys(frame, metric_names, over, by)
    if keys:
        grouped = frame.groupby(keys, dropna=False, sort=True)
        table = grouped[metric_names].agg(list(stats))
        sizes = grouped.size().to_numpy()
    else:
        table = frame[metric_names].agg(list(stats)).unstack().to_frame().T
        sizes = np.array([len(frame)])
    table.columns = [f"{metric}_{stat}" for metric, stat in table.columns]
    table["n_runs"] = sizes
    table["incomplete"] = sizes < _usual_size(sizes)
    return table.reset_index() if keys else table.reset_index(drop=True)


def _usual_size(sizes: np.ndarray) -> int:
    """The most common group size, the larger on a tie."""
    if not len(sizes):
        return 0
    values, counts = np.unique(sizes, return_counts=True)
    return int(values[counts == counts.max()].max())


def _aggregated_metrics(frame: pd.DataFrame, metrics: Metrics) -> list[str]:
    if metrics is None:
        names = _frame_metrics(frame, None)
        if not names:
            raise NaklarError(
                "aggregate() does not know which columns are metrics: pass them, "
                "aggregate(['f1']), or load with metrics=[...]"
            )
        return names
    names = metric_columns(frame.columns, metrics)
    return names or as_names(metrics)  # unknown names are reported by _check_columns


def _grouping_keys(
    frame: pd.DataFrame,
    metric_names: list[str],
    over: str | Sequence[str],
    by: str | Sequence[str] | None,
) -> list[str]:
    if by is not None:
        return _check_columns(frame, as_names(by))
    pooled = pooled_columns(frame.columns, over)
    known = set(_frame_metrics(frame, None)) | set(metric_names)
    return [name for name in varying(frame, sorted(known)) if name not in pooled]


def pooled_columns(columns: Iterable[Any], over: str | Sequence[str]) -> list[str]:
    """``over`` as a list of columns; one that is none is refused, saying what to pass."""
    pooled, known = as_names(over), set(map(str, columns))
    absent = [name for name in pooled if name not in known]
    if absent:
        raise UnknownColumnError(
            f"aggregate() pools the runs that differ only in over={over!r}, but "
            f"{absent[0]!r} is not a column; name the replicate key (over='run') "
            f"or the groups (by=['kernel'])"
        )
    return pooled


def best(
    frame: pd.DataFrame,
    metric: str,
    by: str | Sequence[str] | None = None,
    mode: Literal["max", "min"] = "max",
) -> pd.DataFrame:
    """The run with the highest (``mode='min'``: lowest) ``metric``, or one per group of ``by``.

    Runs without the metric are ignored; ties go to the first run. Rows keep
    their index labels; per group they are sorted by ``by`` (runs that lack a
    key of ``by`` form a group of their own).
    """
    if mode not in ("max", "min"):
        raise NaklarError(f"best() takes mode='max' or mode='min', not {mode!r}")
    _check_columns(frame, [metric])
    valid = frame[frame[metric].notna()]
    if valid.empty:
        return frame.iloc[:0]
    if by is None:
        values = valid[metric]
        return valid.loc[[values.idxmax() if mode == "max" else values.idxmin()]]
    grouped = valid.groupby(_check_columns(frame, as_names(by)), dropna=False, sort=True)[metric]
    return valid.loc[grouped.idxmax() if mode == "max" else grouped.idxmin()]


def diff(frame: pd.DataFrame, a: Any, b: Any) -> pd.DataFrame:
    """The columns whose values differ between two runs, one row per column.

    ``a`` and ``b`` are index labels, or dicts of keyword filters (as for
    ``select``) that each match exactly one run. The result's columns are the
    two runs' index labels (``'a'`` and ``'b'`` when they are the same label);
    naklar's own columns are left out; missing equals missing.
    """
    first, second = _one_run(frame, a, "a"), _one_run(frame, b, "b")
    columns = list(frame.columns)
    left = frame.loc[first].to_numpy(dtype=object)
    right = frame.loc[second].to_numpy(dtype=object)
    differs = [
        position
        for position, (x, y) in enumerate(zip(left, right, strict=True))
        if str(columns[position]) not in RESERVED_COLUMNS and not _same(x, y)
    ]
    names = [first, second] if first != second else ["a", "b"]
    return pd.DataFrame(
        {names[0]: left[differs], names[1]: right[differs]},
        index=pd.Index([columns[position] for position in differs], dtype=object),
    )


def _same(x: Any, y: Any) -> bool:
    """Equal values, or both missing; a missing value differs from any value."""
    x_missing, y_missing = bool(pd.isna(x)), bool(pd.isna(y))
    if x_missing or y_missing:
        return x_missing and y_missing
    return bool(x == y)


def _matching(frame: pd.DataFrame, filters: Mapping[str, Any]) -> np.ndarray:
    """Where every filter holds: plain scalars compared directly, the rest as ``select`` does."""
    plain = all(
        key in frame.columns
        and "__" not in key
        and isinstance(value, (str, int, float, bool))
        and not (isinstance(value, float) and math.isnan(value))
        for key, value in filters.items()
    )
    if not plain:
        return frame.naklar.mask(**filters).to_numpy()
    found = np.ones(len(frame), dtype=bool)
    for key, value in filters.items():
        column = frame[key]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iuf":
            found &= column.to_numpy() == value  # NaN equals nothing, as NULL in SQL
        else:
            found &= (column == value).to_numpy(dtype=bool, na_value=False)
    return found


def _one_run(frame: pd.DataFrame, run: Any, name: str) -> Any:
    if not isinstance(run, Mapping):
        if run not in frame.index:
            raise NaklarError(f"diff(): {name}={run!r} is no index label of the frame")
        return run
    labels = frame.index[_matching(frame, run)]
    if len(labels) != 1:
        raise NaklarError(
            f"diff(): {name}={dict(run)!r} matches {len(labels)} runs, not one; "
            "add filters until one run is left"
        )
    return labels[0]
