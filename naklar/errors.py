"""The exceptions naklar raises, all derived from one base.

::

    NaklarError
    ├── NotInitialisedError      select() before initialise()/load()
    ├── SettingsFileError        a settings file could not be read or is not a dict
    ├── NoSettingsFilesError     the root holds no settings file (or does not exist)
    ├── NothingLoadedError       settings files were found, but none became a row
    ├── UnsupportedValueError    a value maps onto no column type (e.g. a numpy array)
    ├── UnknownColumnError       a filter or column name that is not a column
    └── FilterError              a filter naklar cannot evaluate where it was asked to

Every message says what was expected, what was given, where, and what fixes it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from typing import Any

__all__ = [
    "NaklarError",
    "NotInitialisedError",
    "SettingsFileError",
    "NoSettingsFilesError",
    "NothingLoadedError",
    "UnsupportedValueError",
    "UnknownColumnError",
    "FilterError",
]


class NaklarError(Exception):
    """Base class of every error naklar raises on purpose."""


class NotInitialisedError(NaklarError):
    """The store has no table yet: call ``initialise`` (or ``naklar.load``) first."""


class SettingsFileError(NaklarError):
    """A settings file could not be read, or did not hold a mapping."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"cannot load settings from {path}: {reason}. Fix or remove it, or pass "
            "on_error='warn' to skip unreadable files and load the rest"
        )


class NoSettingsFilesError(NaklarError, FileNotFoundError):
    """The root directory does not exist or holds no settings file."""


class NothingLoadedError(NaklarError):
    """Settings files were found but none could be read: the load would be an empty table.

    ``report`` is the load report (:class:`naklar.LoadReport`) listing every file
    with its reason.
    """

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report


class UnsupportedValueError(NaklarError, TypeError):
    """A settings value cannot be stored in a column (e.g. a numpy array)."""


class UnknownColumnError(NaklarError, KeyError, AttributeError):
    """A name used as a column or filter is not a column of the table.

    A ``KeyError`` for ``E['key']`` and ``select('key')``, an ``AttributeError``
    for ``E.key``, so ``getattr(E, name, default)`` and ``hasattr`` work.
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class FilterError(NaklarError, ValueError):
    """A filter that cannot be evaluated where it was asked to run."""


class NaklarWarning(UserWarning):
    """Something was skipped or changed while loading; the load report has details."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_CONTEXTLIB_FILE = os.path.abspath(contextlib.__file__)


def warn(message: str) -> None:
    """Issue a :class:`NaklarWarning` attributed to the user's line, not naklar's.

    Frames of naklar's modules are skipped, and so are those of ``contextlib``,
    whose wrapper runs the functions that ``gc_paused`` decorates.
    """
    level = 2  # 1 is this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and _inside_naklar(frame.f_code.co_filename):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, NaklarWarning, stacklevel=level)


def _inside_naklar(filename: str) -> bool:
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE_DIR + os.sep) or path == _CONTEXTLIB_FILE


__all__ += ["NaklarWarning"]
