"""Registering ``df.naklar`` as soon as pandas is imported, whenever that is.

If pandas is already imported, the accessor is registered at once: that is
the plain path. ``import naklar`` does not import pandas itself, though, so
that a load can start reading files while pandas and SQLAlchemy import (what
that buys is measured in ``benchmarks/README.md``). So when pandas is not yet
imported, a finder on ``sys.meta_path`` waits for the first ``import pandas``,
lets pandas' own loader run, then registers the accessor and removes itself.
Either way ``df.naklar`` works on any frame made after ``import naklar``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

__all__ = ["register_accessor_with_pandas"]


def register_accessor_with_pandas() -> None:
    """Register ``df.naklar`` now if pandas is imported, else right after it is."""
    if "pandas" in sys.modules:
        _register()
    elif not any(isinstance(finder, _AfterPandasImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterPandasImport())


def _register() -> None:
    from . import accessor  # noqa: F401 (registers on import)


class _AfterPandasImport:
    """Finds nothing itself: wraps pandas' own loader to register the accessor after it.

    A meta path finder needs only ``find_spec``; not deriving from
    ``importlib.abc.MetaPathFinder`` spares ``import naklar`` importing
    ``importlib.abc`` (and ``importlib.resources`` with it) before a load's
    reader can start.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "pandas":
            return None
        sys.meta_path.remove(self)
        spec = _find_spec(fullname, path, target)  # by the finders after this one
        if spec is None or spec.loader is None:
            return spec
        run_pandas = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run_pandas(module)
            _register()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _find_spec(
    fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> ModuleSpec | None:
    """The spec the finders on ``sys.meta_path`` give, as the import system asks them."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is not None and (spec := find_spec(fullname, path, target)) is not None:
            return spec
    return None
