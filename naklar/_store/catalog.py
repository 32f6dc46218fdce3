"""What a store keeps beside its experiment table, to reopen and refresh it later.

Two naklar-owned tables live next to the experiment table ``<t>``:

``<t>_naklar_runs``
    The run index: per row (``naklar_id``) the settings file it came from, as a
    path relative to the root, with its size and ``mtime_ns``. A refresh re-reads
    only files whose size or mtime changed. ``dir_ctime_ns`` is the ctime of the
    file's directory when a load (into a database that outlives the process) or
    a refresh last listed it as a quiet leaf (else NULL): while it stays the
    same, the next refresh need not list that directory (see
    :class:`naklar._read.walk.GuidedWalk`).
    Its ``settings_path`` is unique: the database itself refuses a second row
    for one run, whatever a writer's bookkeeping says.
``<t>_naklar_meta``
    One JSON record (:class:`StoreRecord`): root directory, settings file name,
    load options, and per column its key, SQL name, attribute, kind and every
    kind seen, so ``E`` can be rebuilt without scanning the tree or reflecting.
    Its ``revision`` changes with every write, so that a writer can tell whether
    the store is still in the state it planned its change from.

``load_func`` and ``decorators`` are code and are not stored: pass them again
to :meth:`naklar.Store.open` / :meth:`naklar.Store.refresh`.

A database that ends with this process (in-memory SQLite) gets its run index
only when a refresh needs it: most such stores are never refreshed, and
indexing every run would add to each load what the benchmarks measure (see
``benchmarks/README.md``, "store-side machinery"). The load's :class:`HeldRuns`
stay with the :class:`naklar.Store` that loaded, and the record says
``runs_indexed=False`` until that store writes them. Another store object on
the same in-memory database does not have them, and its first refresh reads
everything again (plain, and correct).
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import sqlalchemy as sa

from .._query.metrics import as_names
from .._read.loaders import Loader
from .._read.tree import LoadOptions, LoadReport, OnError, resolved_source
from .._read.values import Kind
from .._read.walk import FileStamp
from .._table.model import ID_COLUMN, ColumnSpec, Decorator, column_spec
from .._table.sqltypes import long_text, path_text
from .bulk import bulk_insert, fetch_rows

__all__ = [
    "ColumnRecord",
    "StoreRecord",
    "HeldRuns",
    "Catalog",
    "RECORD_FORMAT",
    "specs_from_record",
    "ordered_kinds",
    "merged_metrics",
]

#: Bumped when the record's (or the run index's) shape changes, so that a naklar
#: that cannot read it says so; a format not in READABLE_FORMATS means a full reload.
RECORD_FORMAT = 3
#: Format 2 lacks the revision and ``runs_indexed`` (their defaults fit it), and
#: its run index the unique key on ``settings_path`` (the store's lock still
#: keeps writers from adding a run twice).
READABLE_FORMATS = frozenset({2, 3})
_RECORD_NAME = "store"
#: Rows per DELETE ... WHERE id IN (...), below every backend's parameter limit.
_DELETE_BATCH = 500
#: A run as the index holds it: ``(naklar_id, size, mtime_ns, dir_ctime_ns)``.
IndexedRun = tuple[int, int, int, int | None]


@dataclass(frozen=True)
class HeldRuns:
    """A committed load's runs, not indexed yet: for the record with this revision."""

    revision: str
    ids: Sequence[int]
    stamps: Sequence[FileStamp]


@dataclass
class ColumnRecord:
    """One user column as persisted."""

    key: str
    name: str
    attribute: str
    kind: Kind
    seen: list[Kind] = field(default_factory=list)  # every kind seen, for widening


def ordered_kinds(kinds: Iterable[Kind]) -> list[Kind]:
    """Kinds in a fixed order, so a stored record does not depend on set order."""
    return sorted(kinds, key=lambda kind: kind.value)


@dataclass
class StoreRecord:
    """Everything needed to rebuild a store's table and mapped class, and to refresh it."""

    root_dir: str
    dict_file: str | list[str]
    columns: list[ColumnRecord]
    next_id: int
    restrict_keys: list[str] | None = None
    on_error: str = "warn"
    on_unsupported: str = "warn"
    follow_symlinks: bool = False
    include_hidden: bool = False
    custom_load_func: bool = False
    decorated_keys: list[str] = field(default_factory=list)
    setter_keys: list[str] = field(default_factory=list)  # refresh needs their setters
    dropped_keys: dict[str, str] = field(default_factory=dict)
    renamed_keys: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    flatten: bool = True
    #: Metric columns: names or patterns (see :mod:`naklar._query.analysis`).
    metrics: list[str] = field(default_factory=list)
    #: False while an in-memory load's runs are held by the store that loaded them.
    runs_indexed: bool = True
    #: A new value at each write (:meth:`revised`); empty in records written without one.
    revision: str = ""
    #: Fields this version of naklar does not know, kept and written back as they were.
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def revised(self, **changes: Any) -> StoreRecord:
        """A copy with ``changes`` and a new revision: what a write stores."""
        return dataclasses.replace(self, **changes, revision=uuid.uuid4().hex)

    def to_json(self) -> str:
        document = asdict(self)
        extra = document.pop("extra")
        document = {**extra, **document, "format": RECORD_FORMAT}
        for column in document["columns"]:
            column["kind"] = column["kind"].value
            column["seen"] = [kind.value for kind in column["seen"]]
        return json.dumps(document)

    @classmethod
    def from_json(cls, text: str) -> StoreRecord | None:
        """The record, or ``None`` when it was written by an incompatible version."""
        document = json.loads(text)
        if document.pop("format", None) not in READABLE_FORMATS:
            return None
        document["columns"] = [
            ColumnRecord(
                column["key"],
                column["name"],
                column["attribute"],
                Kind(column["kind"]),
                [Kind(kind) for kind in column["seen"]],
            )
            for column in document["columns"]
        ]
        known = {option.name for option in dataclasses.fields(cls)} - {"extra"}
        extra = {name: document.pop(name) for name in list(document) if name not in known}
        return cls(**document, extra=extra)

    @classmethod
    def for_load(
        cls,
        root: str,
        options: LoadOptions,
        decorators: Mapping[str, Decorator],
        columns: list[ColumnRecord],
        report: LoadReport,
    ) -> StoreRecord:
        """The record of a full load of ``root`` with ``options``, before any row has an id."""
        return cls(
            os.path.abspath(root),
            _stored_dict_file(options.dict_file),
            columns,
            next_id=0,
            restrict_keys=_stored_keys(options.restrict_keys),
            on_error=options.on_error,
            on_unsupported=options.on_unsupported,
            follow_symlinks=options.follow_symlinks,
            include_hidden=options.include_hidden,
            custom_load_func=options.load_func is not None,
            decorated_keys=list(decorators),
            setter_keys=[key for key, decorator in decorators.items() if decorator.setter],
            dropped_keys=dict(report.dropped_keys),
            renamed_keys=dict(report.renamed_keys),
            source=options.source,
            flatten=options.flatten,
            revision=uuid.uuid4().hex,
            metrics=merged_metrics(as_names(options.metrics), report.metrics),
        )

    def describes_load(
        self, root: str, options: LoadOptions, decorators: Mapping[str, Decorator]
    ) -> bool:
        """Would loading with these options give this stored table, file for unchanged file?

        Not with a ``load_func`` or setters: they are code, not stored, and could
        change values without any file changing.
        """
        return (
            self.root_dir == os.path.abspath(root)
            and self.dict_file == _stored_dict_file(options.dict_file)
            and self.source == resolved_source(options.source, root)
            and self.flatten == options.flatten
            and self.restrict_keys == _stored_keys(options.restrict_keys)
            and self.follow_symlinks == options.follow_symlinks
            and self.include_hidden == options.include_hidden
            and options.load_func is None
            and not self.custom_load_func
            and not any(decorator.setter for decorator in decorators.values())
        )

    def load_options(
        self,
        load_func: Loader | None,
        decorators: Mapping[str, Any] | None,
        workers: int | None,
        progress: bool | None,
    ) -> LoadOptions:
        """The stored options, completed with the code and choices that are not stored."""
        return LoadOptions(
            dict_file=self.dict_file,
            load_func=load_func,
            decorators=decorators,
            restrict_keys=self.restrict_keys,
            on_error=cast(OnError, self.on_error),
            on_unsupported=cast(OnError, self.on_unsupported),
            follow_symlinks=self.follow_symlinks,
            include_hidden=self.include_hidden,
            workers=workers,
            progress=progress,
            source=self.source,
            flatten=self.flatten,
            metrics=self.metrics or None,
        )


def _stored_dict_file(dict_file: str | Sequence[str]) -> str | list[str]:
    return dict_file if isinstance(dict_file, str) else list(dict_file)


def merged_metrics(*groups: Iterable[str]) -> list[str]:
    """Metric names (or patterns) from several sources, each once, sorted."""
    return sorted({str(name) for group in groups for name in group})


def _stored_keys(restrict_keys: Iterable[str] | None) -> list[str] | None:
    """``restrict_keys`` as the record keeps them: sorted, so that order does not matter."""
    return sorted(restrict_keys) if restrict_keys is not None else None


class Catalog:
    """The run index and the record of one experiment table."""

    def __init__(self, table_name: str) -> None:
        metadata = sa.MetaData()
        text = long_text()
        self.runs = sa.Table(
            f"{table_name}_naklar_runs",
            metadata,
            sa.Column(ID_COLUMN, sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("settings_path", path_text(), nullable=False, unique=True),
            sa.Column("size", sa.BigInteger, nullable=False),
            sa.Column("mtime_ns", sa.BigInteger, nullable=False),
            sa.Column("dir_ctime_ns", sa.BigInteger, nullable=True),
        )
        self.meta = sa.Table(
            f"{table_name}_naklar_meta",
            metadata,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("value", text, nullable=False),
        )

    def read_record(self, connection: sa.Connection) -> StoreRecord | None:
        """The stored record, or ``None`` when there is none (or an unreadable one)."""
        text = self._record_text(connection)
        return StoreRecord.from_json(text) if text is not None else None

    def holds_older_record(self, connection: sa.Connection) -> bool:
        """A record exists but was written in another format (by another naklar version)."""
        text = self._record_text(connection)
        return text is not None and StoreRecord.from_json(text) is None

    def _record_text(self, connection: sa.Connection) -> str | None:
        if not sa.inspect(connection).has_table(self.meta.name):
            return None
        return connection.execute(
            sa.select(self.meta.c.value).where(self.meta.c.name == _RECORD_NAME)
        ).scalar()

    def write_record(self, connection: sa.Connection, record: StoreRecord) -> None:
        connection.execute(self.meta.delete().where(self.meta.c.name == _RECORD_NAME))
        connection.execute(self.meta.insert(), {"name": _RECORD_NAME, "value": record.to_json()})

    def recreate(self, connection: sa.Connection) -> None:
        """Drop and create both tables, empty."""
        self.drop(connection)
        self.runs.create(connection)
        self.meta.create(connection)

    def drop(self, connection: sa.Connection) -> None:
        self.runs.drop(connection, checkfirst=True)
        self.meta.drop(connection, checkfirst=True)

    def add_runs(
        self, connection: sa.Connection, ids: Sequence[int], stamps: Sequence[FileStamp]
    ) -> None:
        names = [ID_COLUMN, "settings_path", "size", "mtime_ns", "dir_ctime_ns"]
        stamp_columns = list(zip(*stamps, strict=True)) or [()] * len(FileStamp._fields)
        bulk_insert(connection, self.runs, names, [ids, *stamp_columns])

    def restamp_runs(
        self, connection: sa.Connection, ids: Sequence[int], stamps: Sequence[FileStamp]
    ) -> None:
        """Replace these runs' index rows (one UPDATE per row would be slow on MariaDB)."""
        self.delete_runs(connection, ids)
        self.add_runs(connection, ids, stamps)

    def read_runs(self, connection: sa.Connection) -> dict[str, IndexedRun]:
        """``settings path -> (naklar_id, size, mtime_ns, dir_ctime_ns)`` for every indexed run."""
        columns = self.runs.c
        names = ("settings_path", ID_COLUMN, "size", "mtime_ns", "dir_ctime_ns")
        selected = [columns[name] for name in names]
        # the driver's rows: a SQLAlchemy Row per run costs more than the query itself
        rows = fetch_rows(connection, sa.select(*selected), [column.type for column in selected])
        return {row[0]: tuple(row[1:]) for row in rows}

    def count_runs(self, connection: sa.Connection) -> int:
        count = connection.execute(sa.select(sa.func.count()).select_from(self.runs)).scalar()
        return int(count or 0)

    def delete_runs(self, connection: sa.Connection, ids: Iterable[int]) -> None:
        delete_ids(connection, self.runs, ids)


def delete_ids(connection: sa.Connection, table: sa.Table, ids: Iterable[int]) -> None:
    """Delete the rows with these ``naklar_id`` values, in batches."""
    ordered = sorted(ids)
    id_column = table.c[ID_COLUMN]
    for start in range(0, len(ordered), _DELETE_BATCH):
        batch = ordered[start : start + _DELETE_BATCH]
        connection.execute(table.delete().where(id_column.in_(batch)))


def kind_of_type(column_type: sa.types.TypeEngine[Any]) -> Kind:
    """The kind a decorator's computed column type records as."""
    if isinstance(column_type, sa.Boolean):
        return Kind.BOOLEAN
    if isinstance(column_type, sa.Integer):
        return Kind.INTEGER
    if isinstance(column_type, sa.Float):
        return Kind.FLOAT
    if isinstance(column_type, sa.DateTime):
        return Kind.DATETIME
    return Kind.STRING


def specs_from_record(record: StoreRecord, decorators: Mapping[str, Decorator]) -> list[ColumnSpec]:
    """Column specs from the stored record; a decorator's Column, if passed, sets the type."""
    return [
        column_spec(
            column.key, column.name, column.attribute, column.kind, decorators.get(column.key)
        )
        for column in record.columns
    ]
