"""The table and the mapped class ``E`` built from the inferred columns.

Each settings key becomes one column and one attribute of the mapped class.
The key stays the public name everywhere (``select('learning rate')``,
``E['learning rate']``, ``run['learning rate']``, frame columns); only the SQL
column name and the Python attribute may differ from it.

Column names (always quoted by SQLAlchemy, so ``select``, ``order``,
``learning rate`` and ``a.b`` are fine) follow one rule on every backend:

* a key is its own column name when it is portable: not empty, at most 63
  UTF-8 bytes (PostgreSQL cuts longer names, which would merge two keys sharing
  a prefix; MySQL allows 64 characters), no control characters (NUL breaks
  every backend), no characters beyond the Basic Multilingual Plane (MySQL
  rejects emoji in names), no trailing whitespace (MySQL rejects it), no
  ``%(`` or ``__[`` (SQLAlchemy reads them as bind parameters);
* otherwise the name is the key with those characters replaced by ``_``, cut
  to fit, plus ``_`` and 8 hex digits of the key's SHA-1: ``'' -> key_da39a3ee``;
* names that SQLite or MySQL would take for the same column (they ignore case;
  MySQL also folds ``İ`` to ``i`` and weighs ``ß`` and ``ſ`` as ``s``) get a
  numbered suffix, ``LR -> LR_1``, and the load warns naming them.

Attributes: a key that is a plain identifier (not a Python keyword, not
starting with ``_``, not an attribute of the mapped class such as
``metadata``, ``registry`` or ``query``) is also an attribute, ``E.lr``; any
other key is reachable by item access only.

Decorators become hybrid properties: the Python side runs the user's getter and
setter, the SQL side is the stored column, so ``E.output == '/x'`` still compiles.
"""

from __future__ import annotations

import hashlib
import keyword
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from .._read.decorators import DIR_COLUMN, ID_COLUMN, RESERVED_COLUMNS, Decorator, parse_decorators
from .._read.values import Kind
from ..errors import UnknownColumnError, warn
from .display import html_table
from .sqltypes import MYSQL_DIALECTS, sql_type

__all__ = [
    "RESERVED_COLUMNS",
    "ID_COLUMN",
    "DIR_COLUMN",
    "Decorator",
    "ColumnSpec",
    "Experiment",
    "build_table",
    "map_class",
    "is_mapped_attribute",
    "spec_for_key",
    "column_spec",
    "parse_decorators",
    "closest_names",
    "column_key",
]

#: ``Column.info`` entry naming the settings key a column stores (its name may differ).
KEY_INFO = "naklar_key"


@dataclass(frozen=True)
class ColumnSpec:
    """One user column: its settings key, SQL name, Python attribute and type."""

    key: str
    name: str
    attribute: str
    type: sa.types.TypeEngine[Any]
    decorator: Decorator | None = None

    @property
    def stored_attribute(self) -> str:
        """The mapped attribute holding the stored value (a decorator's hybrid wraps it)."""
        return f"_naklar_stored_{self.attribute}" if self.decorator else self.attribute

    @property
    def has_own_column(self) -> bool:
        """A decorator gave its own Column: it sets the type, and its values are stored as set."""
        return self.decorator is not None and self.decorator.column is not None


def column_spec(
    key: str, name: str, attribute: str, kind: Kind, decorator: Decorator | None = None
) -> ColumnSpec:
    """The spec of a user column: a decorator's Column decides its type where given."""
    if decorator is not None and decorator.column is not None:
        return ColumnSpec(key, name, attribute, decorator.column.type, decorator)
    return ColumnSpec(key, name, attribute, sql_type(kind), decorator)


class _ExperimentType(type):
    """``E.f11`` names the close columns instead of a bare ``AttributeError``."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):  # Python's and SQLAlchemy's own probes: answered quickly
            raise AttributeError(name)
        columns: Mapping[str, ColumnSpec] = cls._naklar_columns
        if name in columns:  # a key whose attribute has another name
            return getattr(cls, columns[name].attribute)
        raise UnknownColumnError(f"E.{name}: {unknown_column_message(name, columns)}")


class Experiment(metaclass=_ExperimentType):
    """Base of the mapped class ``E``: one object per run.

    Objects read like the settings dicts they came from: ``repr`` shows the
    values, ``run['key']`` reads a key, ``dict(run)`` iterates ``(key, value)``.
    """

    _naklar_columns: ClassVar[dict[str, ColumnSpec]] = {}

    def __class_getitem__(cls, key: str) -> Any:
        """``E['learning rate']``: the SQL expression for any key."""
        return getattr(cls, cls._naklar_spec(key).attribute)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, type(self)._naklar_spec(key).attribute)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for key in type(self)._naklar_columns:
            yield key, self[key]

    def __repr__(self) -> str:
        values = ", ".join(f"{key}={value!r}" for key, value in self)
        return f"{type(self).__name__}({values})"

    def _repr_html_(self) -> str:
        """One run as a one-row table, for Jupyter."""
        keys, values = zip(*self, strict=True) if type(self)._naklar_columns else ((), ())
        return html_table(keys, [values])

    @classmethod
    def _naklar_spec(cls, key: str) -> ColumnSpec:
        return spec_for_key(cls._naklar_columns, key)


def spec_for_key(specs: Mapping[str, ColumnSpec], key: str) -> ColumnSpec:
    """The spec of ``key``'s column; an unknown key names the closest columns."""
    try:
        return specs[key]
    except KeyError:
        raise UnknownColumnError(unknown_column_message(key, specs)) from None


def is_mapped_attribute(value: Any) -> bool:
    """Whether ``value`` is an attribute of a mapped class, such as ``E.f1``.

    SQLAlchemy's ORM is imported only once some ``E`` is mapped (:func:`map_class`):
    until then nothing can be one, and asking does not import it.
    """
    orm = sys.modules.get("sqlalchemy.orm")
    return orm is not None and isinstance(value, orm.QueryableAttribute)


def column_key(column: Any) -> str:
    """The settings key a column stands for: ``E.f1`` -> ``'f1'``.

    Columns of a store's table record their key in ``Column.info`` (a key may
    be stored under a suffixed column name); other columns are their name.
    """
    info = getattr(column, "info", None) or {}
    return str(info.get(KEY_INFO, getattr(column, "name", column)))


def unknown_column_message(key: Any, known: Mapping[str, Any] | list[str]) -> str:
    names = list(known)
    close = closest_names(str(key), names)
    hint = f"; closest: {', '.join(map(repr, close))}" if close else ""
    return f"{key!r} is not a column{hint}. Columns are: {', '.join(map(repr, names))}"


def closest_names(name: str, names: list[str], limit: int = 3) -> list[str]:
    """Column names that look like ``name`` (case-insensitive), best first."""
    import difflib

    folded = {candidate.casefold(): candidate for candidate in names}
    matches = difflib.get_close_matches(name.casefold(), list(folded), n=limit, cutoff=0.6)
    return [folded[match] for match in matches]


_CLASS_ATTRIBUTES = (
    frozenset(dir(Experiment)) | {"registry", "metadata", "query"} | set(RESERVED_COLUMNS)
)


def _is_plain_attribute(key: str) -> bool:
    return (
        key.isidentifier()
        and not keyword.iskeyword(key)
        and not key.startswith("_")
        and key not in _CLASS_ATTRIBUTES
    )


#: PostgreSQL cuts identifiers at 63 bytes, MySQL at 64 characters: 63 bytes fit both.
MAX_NAME_BYTES = 63
_HASH_DIGITS = 8


def assign_names(keys: list[str]) -> dict[str, tuple[str, str]]:
    """``key -> (column name, attribute name)``, unique and safe for any key.

    >>> assign_names(['learning rate', ''])
    {'learning rate': ('learning rate', '_naklar_c0'), '': ('key_da39a3ee', '_naklar_c1')}

    Keys that differ only in case get a numbered suffix (``'lr'``, ``'LR'`` become
    the columns ``lr`` and ``LR_1``), with a warning naming them.
    """
    taken = {_name_fold(name) for name in RESERVED_COLUMNS}
    names: dict[str, tuple[str, str]] = {}
    suffixed: dict[str, str] = {}
    reserved: dict[str, str] = {}  # named exactly like naklar's own (loading renames those first)
    for position, key in enumerate(keys):
        base = portable_column_name(key)
        name, suffix = base, 1
        while _name_fold(name) in taken:
            name = _fit(base, f"_{suffix}")
            suffix += 1
        if name != base:
            (reserved if base in RESERVED_COLUMNS else suffixed)[key] = name
        taken.add(_name_fold(name))
        attribute = key if _is_plain_attribute(key) else f"_naklar_c{position}"
        names[key] = (name, attribute)
    if reserved:
        warn(
            "keys named like naklar's own columns get numbered column names: "
            + _renames(reserved)
            + ". Select them by their keys as usual."
        )
    if suffixed:
        warn(
            "keys that differ only in case (SQLite and MySQL compare column names ignoring "
            "case; MySQL also takes ß and ſ for s) get numbered column names: "
            + _renames(suffixed)
            + ". Select them by their keys as usual."
        )
    return names


def _renames(columns: dict[str, str]) -> str:
    return ", ".join(f"{key!r} as column {name!r}" for key, name in columns.items())


def portable_column_name(key: str) -> str:
    """The key itself if every backend accepts it as a column name, else a safe stand-in.

    >>> portable_column_name('learning rate')
    'learning rate'
    >>> portable_column_name('x' * 70)[-13:]
    'xxxx_bbaad84b'
    """
    if _is_portable(key):
        return key
    cleaned = "".join(char if _is_portable_char(char) else "_" for char in key).rstrip()
    cleaned = _without_bind_markers(cleaned)
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_DIGITS]
    return _fit(cleaned or "key", f"_{digest}")


#: Text SQLAlchemy reads as a bind parameter in any statement (``%(p0)s``, its
#: positional rewriting) or a post-compile marker: a column name holding it
#: would turn into a ``?`` on SQLite.
_BIND_MARKERS = ("%(", "__[")


def _is_portable(name: str) -> bool:
    return (
        bool(name)
        and name == name.rstrip()
        and all(_is_portable_char(char) for char in name)
        and not any(marker in name for marker in _BIND_MARKERS)
        and len(name.encode("utf-8")) <= MAX_NAME_BYTES
    )


def _without_bind_markers(name: str) -> str:
    for marker in _BIND_MARKERS:
        name = name.replace(marker, "_" * len(marker))
    return name


def _is_portable_char(char: str) -> bool:
    return char <= "\uffff" and unicodedata.category(char) not in ("Cc", "Cs")


def _fit(base: str, tail: str) -> str:
    """``base + tail`` cut at a character boundary to at most :data:`MAX_NAME_BYTES`."""
    budget = MAX_NAME_BYTES - len(tail.encode("utf-8"))
    head = base.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip()
    return head + tail


def _name_fold(name: str) -> str:
    """What SQLite and MySQL compare column names by: case folded.

    ``casefold`` turns ``İ`` into ``i`` plus a combining dot, which MySQL does
    not keep, so that dot is dropped. MySQL's general collation weighs ``ß``
    (and ``ſ``, which ``casefold`` turns into ``s``) as ``s``, where ``casefold``
    writes ``ss``: ``ß`` is folded to ``s`` first, so that the two never share
    a name there.
    """
    return name.replace("ß", "s").replace("ẞ", "s").casefold().replace("\u0307", "")


def build_table(
    table_name: str, columns: list[ColumnSpec], metadata: sa.MetaData, *, dialect: str
) -> tuple[sa.Table, dict[str, ColumnSpec]]:
    """The table for the ``dialect`` (its name), and every column's spec by key.

    The specs start with ``naklar_dir``'s; they are what selecting needs. The
    mapped class ``E`` is made from both by :func:`map_class`, when it is used.
    """
    table = sa.Table(
        table_name,
        metadata,
        sa.Column(ID_COLUMN, sa.Integer, primary_key=True, autoincrement=False),
        sa.Column(DIR_COLUMN, sa.Text().with_variant(sa.String(1024), *MYSQL_DIALECTS)),
        *(sa.Column(spec.name, spec.type, info={KEY_INFO: spec.key}) for spec in columns),
        **_table_options(dialect),
    )
    dir_spec = ColumnSpec(DIR_COLUMN, DIR_COLUMN, DIR_COLUMN, table.c[DIR_COLUMN].type)
    return table, {DIR_COLUMN: dir_spec, **{spec.key: spec for spec in columns}}


def map_class(table: sa.Table, specs: dict[str, ColumnSpec]) -> type[Experiment]:
    """A fresh ``Exp`` class mapped onto ``table`` (as :func:`build_table` made it).

    This imports SQLAlchemy's ORM (7 MiB and 35 ms), which loading a tree and
    selecting values and frames from it do without.
    """
    from sqlalchemy.orm import registry

    attributes: dict[str, Any] = {"_naklar_columns": specs, "__module__": "naklar.experiment"}
    properties: dict[str, Any] = {ID_COLUMN: table.c[ID_COLUMN]}
    for spec in specs.values():
        if spec.decorator is not None:
            attributes[spec.attribute] = _hybrid(spec.stored_attribute, spec.decorator)
        properties[spec.stored_attribute] = table.c[spec.name]

    cls = type("Exp", (Experiment,), attributes)
    registry(metadata=table.metadata).map_imperatively(cls, table, properties=properties)
    return cls


def _table_options(dialect: str) -> dict[str, Any]:
    # Only for MySQL: naming an option imports that SQLAlchemy dialect, to check it.
    if dialect not in MYSQL_DIALECTS:
        return {}
    # utf8mb4 stores any text; the binary collation keeps '=' exact ('A' != 'a').
    return {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _hybrid(stored: str, decorator: Decorator) -> Any:
    from sqlalchemy.ext.hybrid import hybrid_property

    getter, setter = decorator.getter, decorator.setter

    def get(self: Any) -> Any:
        value = getattr(self, stored)
        return getter(self, value) if getter else value

    def set_(self: Any, value: Any) -> None:
        setattr(self, stored, setter(self, value) if setter else value)

    def expression(cls: Any) -> Any:
        # SQL sees the stored value: E.output == '/x' compares what is on disk.
        return getattr(cls, stored)

    return hybrid_property(get, set_, expr=expression)
