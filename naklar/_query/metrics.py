"""Which columns are metrics (results) and which are settings (hyper-parameters).

A store records its metric names in its record; a frame carries them in
``frame.attrs['naklar_metrics']``. An entry is a column name or a shell-style
pattern (``'val_*'``, ``'loss_[0-9]'``, see :mod:`fnmatch`) matched, case
sensitively, against the whole column name. naklar's own columns (``naklar_id``,
``naklar_dir``) are neither settings nor metrics.

No pandas here: the store decides what is a setting before any frame exists.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable
from typing import Any

from .._read.decorators import RESERVED_COLUMNS

__all__ = ["METRICS_ATTR", "Metrics", "as_names", "metric_columns", "setting_columns", "role_of"]

#: The ``DataFrame.attrs`` entry that names a frame's metric columns.
METRICS_ATTR = "naklar_metrics"
#: A ``metrics=`` argument: names or patterns, one of them, or ``None`` for the known ones.
Metrics = str | Iterable[str] | None


def as_names(names: Metrics) -> list[str]:
    """A ``metrics=``-like argument as a list (one string is one name)."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    return [str(name) for name in names]


def metric_columns(columns: Iterable[Any], metrics: Metrics, known: Metrics = None) -> list[str]:
    """The columns that ``metrics`` (when given, else ``known``) names, in column order.

    >>> metric_columns(['C', 'val_f1', 'val_acc', 'f1'], ['val_*'])
    ['val_f1', 'val_acc']
    >>> metric_columns(['C', 'f1'], None, known=['f1'])
    ['f1']
    """
    patterns = as_names(metrics) if metrics is not None else as_names(known)
    return [
        column
        for column in map(str, columns)
        if any(column == pattern or fnmatch.fnmatchcase(column, pattern) for pattern in patterns)
    ]


def setting_columns(columns: Iterable[Any], metric_names: Collection[str]) -> list[str]:
    """The columns that are neither naklar's own nor metrics, in column order."""
    excluded = set(metric_names) | set(RESERVED_COLUMNS)
    return [column for column in map(str, columns) if column not in excluded]


def role_of(column: str, metric_names: Collection[str]) -> str:
    """``'naklar'``, ``'metric'`` or ``'setting'``."""
    if column in RESERVED_COLUMNS:
        return "naklar"
    return "metric" if column in metric_names else "setting"
