"""Decorators: the ``{key: (getter, setter, Column)}`` form, and ready-made getters.

:func:`translate_path` is a getter for ``initialise(decorators=...)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .columns import RESERVED_COLUMNS
from .errors import NaklarError, warn

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["translate_path", "Decorator", "parse_decorators"]

Getter = Callable[[Any, Any], Any]
Setter = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Decorator:
    """A user's getter/setter pair for a key, and a column for computed keys."""

    getter: Getter | None = None
    setter: Setter | None = None
    column: sa.Column[Any] | None = None


def parse_decorators(decorators: Mapping[str, Any] | None) -> dict[str, Decorator]:
    """Check the seed's ``{'key': (getter, setter, Column)}`` form.

    A slot that is not callable means "the default" (return the stored value).
    """
    parsed: dict[str, Decorator] = {}
    for key, spec in (decorators or {}).items():
        if key in RESERVED_COLUMNS:
            # naklar fills these columns itself: a getter or setter would never run
            raise NaklarError(
                f"a decorator cannot be named {key!r}: naklar fills that column itself "
                f"(a settings key of that name is stored as {key + '_1'!r}); name the "
                f"decorator after a settings key or a new column"
            )
        if callable(spec):
            spec = (spec,)
        if not isinstance(spec, (tuple, list)) or not 1 <= len(spec) <= 3:
            raise NaklarError(
                f"decorator for {key!r} must be a tuple (getter,), (getter, setter) or "
                f"(getter, setter, sqlalchemy.Column), got {spec!r}"
            )
        getter, setter, column = (*spec, None, None)[:3]
        if column is not None and not _is_column(column):
            raise NaklarError(
                f"the third item of the decorator for {key!r} must be a sqlalchemy.Column "
                f"giving the computed column's type, got {type(column).__name__}"
            )
        parsed[key] = Decorator(
            getter if callable(getter) else None,
            setter if callable(setter) else None,
            column,
        )
    return parsed


def _is_column(value: Any) -> bool:
    # Only a computed column needs SQLAlchemy; reading files can start without it.
    import sqlalchemy as sa

    return isinstance(value, sa.Column)


def translate_path(self: Any, path: str | None, ptrn: str, replace: str) -> str | None:
    """Map a path recorded on one machine to where it lives on this one.

    Replaces the regular expression ``ptrn`` by ``replace``, then expands ``~``
    and environment variables and normalises the result. Warns when the
    translated path does not exist. Use it with :func:`functools.partial`::

        home_path = partial(translate_path, ptrn='/mnt/scratch/', replace='~/scratch/')
        experiment.initialise(root, decorators={'output': (home_path,)})

    >>> translate_path(None, '/mnt/scratch/results/../', '^/mnt/scratch/', '/tmp/')
    '/tmp'
    """
    if path is None:
        return None
    translated = os.path.normpath(
        os.path.expandvars(os.path.expanduser(re.sub(ptrn, replace, path)))
    )
    if not os.path.exists(translated):
        warn(
            f"translated path {translated!r} (from {path!r}) does not exist; check "
            f"ptrn={ptrn!r} and replace={replace!r}"
        )
    return translated
