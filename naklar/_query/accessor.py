"""``df.naklar``: the filters of ``select`` on any DataFrame.

Importing :mod:`naklar` registers the accessor; nothing else changes. It works on
a frame from ``store.frame()``, or one read back from Parquet or CSV::

    frame = store.frame()
    frame.naklar.select('i', 'f1', store.E.f1 > 0.82, kernel__ne='linear')
    frame.naklar.translate_path('path', ptrn='^results/', replace='/data/results/')

``df.naklar.select(...)`` selects the same rows and columns as ``store.select(...)``
with the same arguments (see :mod:`naklar._query.filters`). Expressions built from a
store's ``E`` find their columns by key (``E['learning rate']`` finds the column
``'learning rate'``). Rows keep their index labels, as pandas filtering does.

>>> import naklar, pandas as pd
>>> frame = pd.DataFrame({'kernel': ['rbf', 'linear', None], 'C': [1.0, 2.0, 1.0]})
>>> frame.naklar.select('kernel', C=1)
  kernel
0    rbf
2    NaN
>>> frame.naklar.select(kernel__ne='rbf')
   kernel    C
1  linear  2.0
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ..decorator import translate_path as translate_one_path
from ..errors import NaklarWarning, UnknownColumnError, warn

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .analysis import Metrics

# The filter machinery (SQLAlchemy) is imported by the methods that use it:
# registering the accessor must not slow down ``import pandas``.

__all__ = ["NaklarAccessor"]


@pd.api.extensions.register_dataframe_accessor("naklar")
class NaklarAccessor:
    """The ``df.naklar`` namespace; holds the frame only and returns new frames."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def select(self, *arguments: Any, **filters: Any) -> pd.DataFrame:
        """Rows where every filter holds, and the columns asked for (all when none are).

        Parameters
        ----------
        *arguments:
            Column names, ``E`` attributes, and SQLAlchemy expressions built from a
            store's ``E`` (or ``sqlalchemy.column('key')``), ANDed.
        **filters:
            Keyword filters and lookups, as for ``store.select``: ``C=[1, 2]``,
            ``f1__gt=0.82``, ``gamma__isnull=True``.

        Returns
        -------
        pandas.DataFrame
            A new frame; the index labels of the selected rows are kept.

        >>> frame = pd.DataFrame({'i': [0, 1, 2], 'f1': [0.7, 0.9, 0.85]})
        >>> frame.naklar.select('i', f1__gt=0.8)
           i
        1  1
        2  2
        """
        columns = self._columns(arguments)
        return self._frame.loc[self.mask(*arguments, **filters), columns]

    def mask(self, *arguments: Any, **filters: Any) -> pd.Series:
        """A boolean Series: where every filter of :meth:`select` holds.

        Column arguments are ignored, so ``df[df.naklar.mask(...)]`` and
        ``df.loc[mask, 'f1'] = ...`` work as in plain pandas.
        """
        from .filters import keyword_conditions, split_arguments
        from .masks import frame_mask
        from .resolving import resolve_condition

        _, conditions = split_arguments(arguments)
        conditions += keyword_conditions(filters, self._keys(), self._column_for)
        conditions = [resolve_condition(condition) for condition in conditions]
        return pd.Series(frame_mask(self._frame, conditions), index=self._frame.index)

    def translate_path(self, column: str, ptrn: str, replace: str) -> pd.DataFrame:
        """A new frame with the paths in ``column`` translated, as a getter would.

        One warning lists the translated paths that do not exist.

        >>> frame = pd.DataFrame({'path': ['/mnt/tmp/', None]}, dtype='string')
        >>> frame.naklar.translate_path('path', '^/mnt/', '/').path.tolist()
        ['/tmp', <NA>]
        """
        series = self._frame[self._key(column)]
        originals = series.dropna().unique()
        with warnings.catch_warnings():  # one warning for the column, below
            warnings.simplefilter("ignore", NaklarWarning)
            translated = {path: translate_one_path(None, path, ptrn, replace) for path in originals}
        missing = [path for path in translated.values() if path and not os.path.exists(path)]
        if missing:
            shown = ", ".join(map(repr, missing[:3])) + (", ..." if len(missing) > 3 else "")
            warn(
                f"{len(missing)} of {len(translated)} translated paths in {column!r} do not "
                f"exist: {shown}; check ptrn={ptrn!r} and replace={replace!r}"
            )
        result = self._frame.copy()
        result[column] = series.map(translated).astype(series.dtype)
        return result

    # sweep analysis (see naklar._query.analysis)

    def varying(self, metrics: Metrics = None) -> list[str]:
        """The settings whose values differ across the rows (metrics and naklar's columns left out).

        >>> frame = pd.DataFrame({'C': [1, 2], 'kernel': 'rbf', 'f1': [0.7, 0.9]})
        >>> frame.naklar.varying(metrics=['f1'])
        ['C']
        """
        from . import analysis

        return analysis.varying(self._frame, metrics)

    def constants(self) -> dict[str, Any]:
        """The columns with one and the same value in every row, as ``{key: value}``.

        >>> pd.DataFrame({'C': [1, 2], 'kernel': 'rbf'}).naklar.constants()
        {'kernel': 'rbf'}
        """
        from . import analysis

        return analysis.constants(self._frame)

    def summary(self, metrics: Metrics = None) -> pd.DataFrame:
        """One row per column: role, dtype, runs with a value and their share, distinct
        values, examples, min and max (see :func:`naklar._query.analysis.summary`)."""
        from . import analysis

        return analysis.summary(self._frame, metrics)

    def missing(self, *params: str, metrics: Metrics = None) -> pd.DataFrame:
        """The combinations of ``params`` (default: every varying setting) that no run has.

        >>> frame = pd.DataFrame({'C': [1, 1, 2], 'kernel': ['rbf', 'linear', 'rbf']})
        >>> frame.naklar.missing('C', 'kernel')
           C  kernel
        0  2  linear
        """
        from . import analysis

        return analysis.missing(self._frame, *params, metrics=metrics)

    def duplicates(self, *params: str, metrics: Metrics = None) -> pd.DataFrame:
        """The rows whose combination of ``params`` (default: every varying setting) repeats."""
        from . import analysis

        return analysis.duplicates(self._frame, *params, metrics=metrics)

    def aggregate(
        self,
        metrics: Metrics = None,
        over: str | Sequence[str] = "seed",
        stats: Sequence[str] = ("mean", "std", "sem", "count"),
        by: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Each metric's ``stats`` per combination of the varying settings but ``over``
        (or of ``by``), with ``n_runs`` and ``incomplete`` per group
        (see :func:`naklar._query.analysis.aggregate`)."""
        from . import analysis

        return analysis.aggregate(self._frame, metrics, over=over, stats=stats, by=by)

    def best(
        self,
        metric: str,
        by: str | Sequence[str] | None = None,
        mode: Literal["max", "min"] = "max",
    ) -> pd.DataFrame:
        """The best run by ``metric`` (``mode='max'`` or ``'min'``), or one per group of ``by``.

        >>> frame = pd.DataFrame({'C': [1, 2, 3], 'f1': [0.7, 0.9, 0.8]})
        >>> frame.naklar.best('f1')
           C   f1
        1  2  0.9
        """
        from . import analysis

        return analysis.best(self._frame, metric, by=by, mode=mode)

    def diff(self, a: Any, b: Any) -> pd.DataFrame:
        """The columns whose values differ between two runs: index labels or dicts of filters.

        >>> frame = pd.DataFrame({'C': [1, 2], 'kernel': 'rbf', 'f1': [0.7, 0.9]})
        >>> frame.naklar.diff(0, {'C': 2})
              0    1
        C     1    2
        f1  0.7  0.9
        """
        from . import analysis

        return analysis.diff(self._frame, a, b)

    # helpers

    def _keys(self) -> list[str]:
        return [str(column) for column in self._frame.columns]

    def _key(self, key: str) -> str:
        if key not in self._frame.columns:
            from .._table.model import unknown_column_message

            raise UnknownColumnError(unknown_column_message(key, self._keys()))
        return key

    def _column_for(self, key: str) -> sa.ColumnElement[Any]:
        import sqlalchemy as sa

        from .frames import sql_type_for

        return sa.column(self._key(key), sql_type_for(self._frame[key]))

    def _columns(self, arguments: tuple[Any, ...]) -> list[Any]:
        from .filters import spec_of_attribute, split_arguments

        columns, _ = split_arguments(arguments)
        if not columns:
            return list(self._frame.columns)
        return [
            self._key(column if isinstance(column, str) else spec_of_attribute(column).key)
            for column in columns
        ]
