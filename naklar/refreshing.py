"""Deciding what a refresh does: which files to read, which rows go, which columns change.

Pure functions over the run index and the stored record; :meth:`naklar.Store.refresh`
applies the result to the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from .catalog import ColumnRecord
from .reading import FileStamp
from .schema import Kind, KindTally, infer_column_kind

__all__ = ["FileChanges", "compare_files", "ColumnChanges", "merge_columns", "RefreshCounts"]


@dataclass
class RefreshCounts:
    """What a refresh changed. ``skipped`` counts new or changed files that could not be read."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    #: A column's kind had to widen (or a stored key became unsupported): every
    #: file was read again and the table rebuilt.
    reloaded: bool = False

    def __str__(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )
        return text + (" (column types widened: reloaded everything)" if self.reloaded else "")


@dataclass
class FileChanges:
    """The run index compared with the files on disk now."""

    to_read: list[FileStamp] = field(default_factory=list)  # new and changed, in tree order
    changed_ids: dict[str, int] = field(default_factory=dict)  # settings path -> its old row
    removed_ids: list[int] = field(default_factory=list)  # rows whose file disappeared
    unchanged: int = 0


def compare_files(
    indexed: Mapping[str, tuple[int, int, int]], on_disk: Sequence[FileStamp]
) -> FileChanges:
    """Files are the same when path, size and ``mtime_ns`` are.

    >>> changes = compare_files({'a/conf.json': (0, 10, 5)}, [FileStamp('b/conf.json', 3, 1)])
    >>> [stamp.path for stamp in changes.to_read], changes.removed_ids
    (['b/conf.json'], [0])
    """
    changes = FileChanges()
    present = set()
    for stamp in on_disk:
        present.add(stamp.path)
        known = indexed.get(stamp.path)
        if known is None:
            changes.to_read.append(stamp)
        elif (known[1], known[2]) != (stamp.size, stamp.mtime_ns) or stamp.size < 0:
            changes.to_read.append(stamp)
            changes.changed_ids[stamp.path] = known[0]
        else:
            changes.unchanged += 1
    changes.removed_ids = [known[0] for path, known in indexed.items() if path not in present]
    return changes


@dataclass
class ColumnChanges:
    """Stored columns with the new files' kinds merged in."""

    columns: list[ColumnRecord]
    new_keys: list[str]
    #: Stored keys whose kind changed: their column's SQL type no longer fits.
    widened: list[str]


def merge_columns(
    columns: Sequence[ColumnRecord], tally: KindTally, fixed: Collection[str] = ()
) -> ColumnChanges:
    """Widen each stored column by the kinds seen now, exactly as one full load would.

    Keys seen for the first time become new columns (at the end, in the order
    the tally saw them); their names are assigned by the caller. ``fixed`` keys
    have a type a decorator's Column sets, so they never widen.
    """
    merged = []
    widened = []
    known = {column.key for column in columns}
    for column in columns:
        seen = set(column.seen) | tally.kinds.get(column.key, set())
        kind = column.kind if column.key in fixed else infer_column_kind(seen)
        if kind is not column.kind:
            widened.append(column.key)
        merged.append(ColumnRecord(column.key, column.name, column.attribute, kind, _ordered(seen)))
    new_keys = [key for key in tally.kinds if key not in known]
    return ColumnChanges(merged, new_keys, widened)


def _ordered(kinds: set[Kind]) -> list[Kind]:
    return sorted(kinds, key=lambda kind: kind.value)
