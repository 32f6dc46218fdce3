"""Runs made of several files: which files, how a run is recognised, how it is read.

A plain ``dict_file`` is one file per run, named the same in every run
directory. A :class:`RunLayout` describes the rest: ``dict_file`` as a list
(``['.hydra/config.yaml', 'metrics.json']``: a config plus metrics files,
paths relative to the run directory), a ``load_func`` that declares the extra
files it reads, and the sweep tools' layouts (:mod:`naklar._read.sources`).

The walk treats a directory holding any of a layout's *markers* (the first
path component of each of its files) as a run, and records the path of its
*anchor*, the config file; a refresh's stamp of the run covers every file the
row came from (:func:`naklar._read.walk.stamp_run`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import NaklarError, SettingsFileError
from .loaders import Loader, loader_for, read_settings

__all__ = ["RunLayout", "RunParts", "NotARun", "files_layout", "run_directory", "missing_anchor"]

#: What reading a run gives: each file's settings, ``(label, settings)``, in
#: order (flattened and merged by the reader), and the files it lacked.
RunParts = tuple[list[tuple[str, dict[str, Any]]], list[str]]


class NotARun(Exception):
    """A run folder its own tool no longer counts as a run (MLflow's deleted runs).

    Not an error: the reader lists it in :attr:`naklar._read.tree.LoadReport.left_out`,
    neither a row nor a skip, with no warning and whatever ``on_error`` says.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class RunLayout:
    """How the runs of one kind are found, stamped and read.

    Attributes
    ----------
    anchor:
        The run's config file, relative to the run directory (``/`` separated):
        its path is the run's path in the run index.
    markers:
        Names (files or directories) whose presence makes a directory a run.
    read:
        ``read(run_dir)`` -> :data:`RunParts`; raises :class:`SettingsFileError`
        for a run that cannot be a row, :class:`NotARun` for one its tool
        leaves out of its own views.
    files:
        ``files(run_dir)`` -> every path the row is read from (files or
        directories whose listing it reads): a refresh stamps them all.
    name:
        How the report names what was looked for.
    run_name:
        If set, only directories whose name matches are runs.
    enter_runs:
        Whether the walk looks for more runs inside a run directory.
    list_runs:
        For runs that are rows of a database, not folders: ``list_runs(root)``
        gives their anchor paths instead of a walk.
    version:
        With ``list_runs``: ``version(run_dir)`` -> ``(size, mtime_ns)`` for the
        run's stamp, in place of its files'.
    """

    anchor: str
    markers: frozenset[str]
    read: Callable[[str], RunParts]
    files: Callable[[str], list[str]]
    name: str
    run_name: re.Pattern[str] | None = None
    enter_runs: bool = True
    list_runs: Callable[[str], list[str]] | None = None
    version: Callable[[str], tuple[int, int]] | None = None

    @functools.cached_property
    def anchor_os(self) -> str:
        """The anchor spelled with the system's separator."""
        return self.anchor.replace("/", os.sep)


def run_directory(anchor_path: str, layout: RunLayout) -> str:
    """The run directory of the anchor file at ``anchor_path``."""
    return anchor_path[: len(anchor_path) - len(layout.anchor_os) - 1] or os.curdir


def missing_anchor(run_dir: str, anchor: str, present: Sequence[str]) -> SettingsFileError:
    """A run that lacks its config file: a skip that says which files it has."""
    return SettingsFileError(
        os.path.join(run_dir, anchor),
        f"the run's config file is missing (the directory holds {', '.join(present)}); "
        "the run probably has not started writing it yet",
    )


def files_layout(dict_files: Sequence[str], load_func: Loader | None) -> RunLayout:
    """The layout of ``dict_file=[config, *others]``, or of a ``load_func`` with ``extra_files``.

    The first file is the config: a run without it is a skip. The others
    (metrics files) may be missing: the row then has NULL there and the report
    counts it. ``load_func`` reads the first file; the others are read by
    their extension.
    """
    names = _checked_names(dict_files)
    if not names:
        raise NaklarError("dict_file is an empty list; name at least the config file")
    extra = tuple(_checked_names(getattr(load_func, "extra_files", ())))
    loaders = [load_func or loader_for(names[0])] + [loader_for(name) for name in names[1:]]
    return RunLayout(
        anchor=names[0],
        markers=frozenset(name.split("/", 1)[0] for name in names),
        read=functools.partial(_read_files, tuple(names), tuple(loaders)),
        files=functools.partial(_run_files, (*names, *extra)),
        name=" + ".join(names),
    )


def _checked_names(dict_files: Sequence[str]) -> list[str]:
    if isinstance(dict_files, str):
        dict_files = [dict_files]
    names = []
    for name in dict_files:
        if not isinstance(name, str) or not name.strip("/") or name.startswith("/"):
            raise NaklarError(
                f"dict_file entry {name!r} is not a path relative to the run directory; "
                "pass names like 'conf.json' or '.hydra/config.yaml'"
            )
        parts = name.split("/")
        if ".." in parts or "." in parts:
            raise NaklarError(
                f"dict_file entry {name!r} leaves the run directory; name files inside it"
            )
        names.append(name)
    return names


def _read_files(names: tuple[str, ...], loaders: tuple[Loader, ...], run_dir: str) -> RunParts:
    parts: list[tuple[str, dict[str, Any]]] = []
    missing = []
    for index, (name, load) in enumerate(zip(names, loaders, strict=True)):
        path = os.path.join(run_dir, name)
        if index and not os.path.exists(path):
            missing.append(name)
            continue
        if not index and not os.path.exists(path):
            present = [other for other in names[1:] if os.path.exists(os.path.join(run_dir, other))]
            raise missing_anchor(run_dir, name, present)
        parts.append((name, read_settings(path, load)))
    return parts, missing


def _run_files(names: tuple[str, ...], run_dir: str) -> list[str]:
    return [os.path.join(run_dir, name) for name in names]
