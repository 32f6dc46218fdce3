"""Finding the settings files under a results root.

The walk is a hand-written ``os.scandir`` recursion (cheaper than ``os.walk``
because it never builds the per-directory file lists). It is deterministic:
entries are visited in natural order, so ``run2`` comes before ``run10``, and the
sort key is computed once per name rather than per path comparison.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

__all__ = ["Discovery", "find_settings_files", "natural_key"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[list[str | int], str]:
    """Sort key that orders embedded numbers by value: ``'2' < '10'``.

    >>> sorted(['10', '2', 'b1', 'a'], key=natural_key)
    ['2', '10', 'a', 'b1']
    """
    # re.split with a capturing group alternates text and digits, starting with
    # text, so position i always holds the same kind and the lists compare safely.
    parts: list[str | int] = [
        int(part) if index % 2 else part.casefold()
        for index, part in enumerate(_DIGITS.split(name))
    ]
    return parts, name


@dataclass
class Discovery:
    """What a walk found: settings file paths in natural order, and problems."""

    paths: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def find_settings_files(
    root_dir: str,
    dict_file: str,
    *,
    follow_symlinks: bool = False,
    include_hidden: bool = False,
) -> Discovery:
    """Return every ``dict_file`` under ``root_dir`` (the root included).

    Parameters
    ----------
    root_dir:
        Directory to walk.
    dict_file:
        File name of the settings file looked for in every directory.
    follow_symlinks:
        Descend into symlinked directories. Off by default; when on, a directory
        reached twice (a symlink loop) is visited once.
    include_hidden:
        Descend into directories whose name starts with ``.`` (``.git``,
        ``.ipynb_checkpoints``). Off by default.

    Directories that vanish or cannot be listed during the walk are reported in
    :attr:`Discovery.problems` instead of stopping it.
    """
    found = Discovery()
    visited: set[tuple[int, int]] = set()
    _walk(root_dir, dict_file, follow_symlinks, include_hidden, visited, found)
    return found


def _walk(
    directory: str,
    dict_file: str,
    follow_symlinks: bool,
    include_hidden: bool,
    visited: set[tuple[int, int]],
    found: Discovery,
) -> None:
    try:
        if follow_symlinks:
            stat = os.stat(directory)
            identity = (stat.st_dev, stat.st_ino)
            if identity in visited:
                return
            visited.add(identity)
        with os.scandir(directory) as entries:
            listing = list(entries)
    except OSError as error:
        found.problems.append(
            (directory, f"directory could not be listed: {error.strerror or error}")
        )
        return

    subdirectories = []
    for entry in listing:
        name = entry.name
        try:
            if name == dict_file:
                if entry.is_file():
                    found.paths.append(entry.path)
            elif entry.is_dir(follow_symlinks=follow_symlinks) and (
                include_hidden or not name.startswith(".")
            ):
                subdirectories.append(entry)
        except OSError as error:
            found.problems.append(
                (entry.path, f"could not be inspected: {error.strerror or error}")
            )

    subdirectories.sort(key=lambda entry: natural_key(entry.name))
    for entry in subdirectories:
        _walk(entry.path, dict_file, follow_symlinks, include_hidden, visited, found)
