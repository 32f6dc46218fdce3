"""Runs whose text no database can store, or the chosen one cannot, become skips.

Strings holding a lone surrogate (JSON's ``"\\ud83d"``, a directory name that is
not UTF-8 read with ``surrogateescape``) are no valid Unicode: no driver can
send them. PostgreSQL also refuses NUL in text. A run holding such a value, in
any key or in its directory name, is skipped with the reason, like a file that
cannot be read, so that one value never sinks a load.

The check runs column by column on the joined text of each column that holds
strings, at C speed; only a column with a problem is looked at value by value.
"""

from __future__ import annotations

import functools
import operator
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..errors import SettingsFileError, warn
from .rows import SettingsRows
from .tree import LoadedTree, OnError, Skipped
from .values import Kind
from .walk import natural_key

__all__ = ["skip_unstorable_runs", "skip_runs", "text_problem"]


def skip_unstorable_runs(
    tree: LoadedTree, *, refuses_nul: bool, backend: str, on_error: OnError
) -> list[Skipped]:
    """Take the runs holding text the ``backend`` cannot store out of ``tree``; return them.

    See :func:`skip_runs` for what becomes of them.
    """
    problems = _unstorable_rows(tree, backend if refuses_nul else None)
    return skip_runs(tree, problems, on_error, f"{backend} cannot store their text")


def skip_runs(
    tree: LoadedTree, problems: Mapping[int, str], on_error: OnError, why: str
) -> list[Skipped]:
    """Take the runs at ``problems``' positions out of ``tree``, each with its reason.

    They join ``tree.report.skipped`` (``loaded`` goes down by as many);
    ``on_error`` says whether that warns (saying ``why``), raises
    :class:`SettingsFileError` for the first or stays silent, as for files
    that cannot be read.
    """
    if not problems:
        return []
    report = tree.report
    skipped = [
        Skipped(os.path.join(report.root_dir, tree.stamps[position].path), reason)
        for position, reason in sorted(problems.items())
    ]
    if on_error == "raise":
        first = min(skipped, key=lambda entry: natural_key(entry.path))
        raise SettingsFileError(first.path, first.reason)
    tree.rows.drop_rows(problems)
    tree.stamps[:] = [stamp for index, stamp in enumerate(tree.stamps) if index not in problems]
    report.loaded -= len(skipped)
    report.skipped = sorted(report.skipped + skipped, key=lambda entry: natural_key(entry.path))
    if on_error == "warn":
        shown = "; ".join(map(str, skipped[:3]))
        more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        warn(
            f"{len(skipped)} runs skipped, as {why}: {shown}{more}. "
            "They are in the load report (report.skipped)."
        )
    return skipped


def _unstorable_rows(tree: LoadedTree, refuses_nul: str | None) -> dict[int, str]:
    """Row position -> why it cannot be stored (the first problem found)."""
    problems: dict[int, str] = {}
    directories = tree.rows.directories
    for position, problem in _bad_texts(lambda: directories, refuses_nul):
        problems[position] = f"its directory name {problem}: rename the directory"
    text_keys = [key for key, seen in tree.tally.kinds.items() if Kind.STRING in seen]
    for key, values in _text_columns(tree.rows, text_keys):
        for position, problem in _bad_texts(values, refuses_nul):
            problems.setdefault(
                position, f"the value of key {key!r} {problem}: fix it in the file or load_func="
            )
    return problems


Column = Callable[[], Iterable[Any]]


def _text_columns(rows: SettingsRows, keys: list[str]) -> Iterator[tuple[str, Column]]:
    """Each key with a function giving its values in row order.

    A sweep's rows usually share one key set; then each column is read
    straight from the value tuples, without transposing every column first.
    """
    if len(rows.key_sets) != 1:
        for key, column in zip(keys, rows.columns(keys), strict=True):
            yield key, functools.partial(iter, column)
        return
    positions = {key: index for index, key in enumerate(rows.key_sets[0])}
    for key in keys:
        if key in positions:
            getter = operator.itemgetter(positions[key])
            yield key, functools.partial(map, getter, rows.values)


def _bad_texts(values: Column, refuses_nul: str | None) -> list[tuple[int, str]]:
    """``(position, problem)`` for each string among ``values()`` that cannot be stored."""
    try:
        joined = "".join(values())  # one C-speed check while the column is all text
    except TypeError:  # not only strings
        joined = "".join(value for value in values() if isinstance(value, str))
    if text_problem(joined, refuses_nul) is None:
        return []
    return [
        (position, problem)
        for position, value in enumerate(values())
        if isinstance(value, str) and (problem := text_problem(value, refuses_nul)) is not None
    ]


def text_problem(text: str, refuses_nul: str | None) -> str | None:
    """Why ``text`` cannot be stored, or ``None``; ``refuses_nul`` names a backend refusing NUL.

    >>> text_problem('\\ud83d', refuses_nul=None)
    "holds a lone surrogate ('\\\\ud83d' at 0), which is no valid Unicode"
    >>> text_problem('a\\x00b', refuses_nul='PostgreSQL')
    'holds a NUL character at 1, which PostgreSQL refuses in text'
    """
    if refuses_nul and "\x00" in text:
        return f"holds a NUL character at {text.index(chr(0))}, which {refuses_nul} refuses in text"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        surrogate = text[error.start]
        return f"holds a lone surrogate ({surrogate!r} at {error.start}), which is no valid Unicode"
    return None
