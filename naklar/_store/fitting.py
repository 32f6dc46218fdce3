"""A load's or a refresh's runs checked against what the backend can store, before writing.

A run holding text the backend refuses (:mod:`naklar._read.storable`) is
skipped with its reason. A load wider than the backend's limits
(:mod:`naklar._table.limits`) stops with a :class:`~naklar.errors.NaklarError`
naming the limit, the count and the fix, before anything is written. A refresh
skips the runs that would cross a limit instead, reports them and leaves the
store as it was, so that the next refresh works.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .._read.decorators import RESERVED_COLUMNS
from .._read.storable import skip_runs, skip_unstorable_runs
from .._read.tree import LoadedTree, OnError, Skipped
from .._read.values import Kind, infer_column_kind
from .._table.limits import (
    BackendLimits,
    limits_for,
    mariadb_row_bytes,
    postgres_row_bytes,
    postgres_widest_row_bytes,
)
from ..errors import NaklarError

__all__ = ["fit_load", "check_load_fits", "fit_refresh"]

_FIX = (
    "choose the keys to keep with restrict_keys=[...], or keep wide data (a vector, "
    "a per-step history) out of the settings: save it beside them and store its path"
)


def fit_load(tree: LoadedTree, dialect_name: str, on_error: OnError) -> None:
    """Skip the runs of a load whose text the backend cannot store."""
    limits = limits_for(dialect_name)
    skipped = skip_unstorable_runs(
        tree, refuses_nul=limits.refuses_nul, backend=limits.backend, on_error=on_error
    )
    if skipped:
        _forget_keys_of_skipped_runs(tree)


def check_load_fits(
    tree: LoadedTree, columns: Sequence[tuple[str, Kind | None]], dialect_name: str
) -> None:
    """Raise :class:`NaklarError` when a table of ``columns`` (key, kind) would not fit.

    ``None`` is the kind of a decorator's own column (counted as text).
    """
    limits = limits_for(dialect_name)
    problem = _table_problem([kind for _, kind in columns], limits)
    if problem:
        raise NaklarError(f"cannot load {tree.report.root_dir!r} into {limits.backend}: {problem}")
    too_big = _rows_over_limit(tree, columns, limits)
    if too_big:
        position, size = next(iter(too_big.items()))
        path = tree.stamps[position].path if position < len(tree.stamps) else "?"
        raise NaklarError(
            f"cannot load {tree.report.root_dir!r} into {limits.backend}: {len(too_big)} runs "
            f"(the first {path!r}) need rows of about {size:,} bytes over {len(columns):,} "
            f"columns, more than {limits.backend}'s limit of {limits.max_row_bytes:,} bytes "
            f"per row; {_FIX}"
        )


def fit_refresh(
    tree: LoadedTree,
    stored: Sequence[tuple[str, Kind]],
    dialect_name: str,
    on_error: OnError,
) -> list[Skipped]:
    """Skip the runs of a refresh that the backend cannot store; return them.

    Runs holding refused text are skipped. Runs are taken in tree order; one
    whose keys seen for the first time would take the table over a limit is
    skipped, and keys only skipped runs hold are forgotten. On PostgreSQL, runs
    whose own row is too big are skipped too. The store never crosses a limit,
    so later refreshes work.
    """
    limits = limits_for(dialect_name)
    skipped = skip_unstorable_runs(
        tree, refuses_nul=limits.refuses_nul, backend=limits.backend, on_error=on_error
    )
    new, too_wide = _new_columns_that_fit(tree, stored, limits, on_error)
    skipped += too_wide
    too_big = _rows_over_limit(tree, [*stored, *new], limits)
    reasons = {
        position: f"its row would take about {size:,} bytes, more than {limits.backend}'s "
        f"limit of {limits.max_row_bytes:,}; {_FIX}"
        for position, size in too_big.items()
    }
    skipped += skip_runs(tree, reasons, on_error, "their rows are too big")
    _forget_keys_of_skipped_runs(tree, keep={key for key, _ in stored})
    return skipped


def _forget_keys_of_skipped_runs(tree: LoadedTree, keep: Collection[str] = ()) -> list[str]:
    """Keys that only skipped runs held get no column: take them out of the tree's kinds."""
    present = set(tree.rows.keys())
    forgotten = [key for key in tree.tally.kinds if key not in present and key not in keep]
    for key in forgotten:
        tree.tally.kinds.pop(key, None)
        tree.kinds.pop(key, None)
    return forgotten


def _new_columns_that_fit(
    tree: LoadedTree,
    stored: Sequence[tuple[str, Kind]],
    limits: BackendLimits,
    on_error: OnError,
) -> tuple[list[tuple[str, Kind]], list[Skipped]]:
    """The new keys' columns, run by run while they fit, and the runs skipped as theirs do not."""
    known = {key for key, _ in stored}
    kinds: list[Kind | None] = [kind for _, kind in stored]
    kept: dict[str, Kind] = {}
    refused: dict[int, str] = {}  # key set number -> why its runs are skipped
    # key sets are numbered in the order their first run appears, and runs sharing
    # one bring the same keys: deciding per key set is deciding run by run
    for number, key_set in enumerate(tree.rows.key_sets):
        brings = [key for key in key_set if key not in known and key not in kept]
        if not brings:
            continue
        brought = {key: infer_column_kind(tree.tally.kinds[key]) for key in brings}
        problem = _table_problem([*kinds, *kept.values(), *brought.values()], limits)
        if problem:
            refused[number] = (
                f"its {len(brings):,} new keys would widen the table too far: {problem}"
            )
        else:
            kept.update(brought)
    reasons = {
        position: refused[number]
        for position, number in enumerate(tree.rows.key_set_of)
        if number in refused
    }
    skipped = skip_runs(tree, reasons, on_error, "they would widen the table too far")
    return list(kept.items()), skipped


def _table_problem(kinds: Sequence[Kind | None], limits: BackendLimits) -> str | None:
    """What makes a table of columns of these kinds impossible on the backend, if anything."""
    count = len(kinds) + len(RESERVED_COLUMNS)  # naklar_id and naklar_dir
    if limits.max_columns is not None and count > limits.max_columns:
        return (
            f"it would have {count:,} columns (naklar_id and naklar_dir included), more than "
            f"{limits.backend}'s limit of {limits.max_columns:,}; {_FIX}"
        )
    if limits.backend in ("MariaDB", "MySQL") and limits.max_row_bytes is not None:
        size = mariadb_row_bytes(kinds)
        if size > limits.max_row_bytes:
            return (
                f"its {count:,} columns add up to rows of {size:,} bytes, more than "
                f"{limits.backend}'s limit of {limits.max_row_bytes:,} bytes per row; {_FIX}"
            )
    return None


def _rows_over_limit(
    tree: LoadedTree, columns: Sequence[tuple[str, Kind | None]], limits: BackendLimits
) -> dict[int, int]:
    """Position -> estimated size of each PostgreSQL row over the limit (only wide tables pay)."""
    if limits.backend != "PostgreSQL" or limits.max_row_bytes is None:
        return {}
    kinds = [kind for _, kind in columns]
    if postgres_widest_row_bytes(kinds) <= limits.max_row_bytes:
        return {}
    keys = [key for key, _ in columns]
    over = {}
    for position, (directory, settings) in enumerate(tree.rows):
        size = postgres_row_bytes(kinds, [settings.get(key) for key in keys], directory)
        if size > limits.max_row_bytes:
            over[position] = size
    return over
