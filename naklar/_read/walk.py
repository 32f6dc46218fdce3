"""Finding the settings files under a results root.

The walk is a hand-written ``os.scandir`` recursion (cheaper than ``os.walk``
because it never builds the per-directory file lists). It is deterministic:
entries are visited in natural order, so ``run2`` comes before ``run10``, and the
sort key is computed once per name rather than per path comparison.

Rules, so that every settings file is accounted for and the walk always ends:

* a directory whose name starts with ``.`` (``.git``, ``.ipynb_checkpoints``)
  is not entered unless ``include_hidden=True``; the root is always entered,
  and a settings file is matched by its name, hidden or not;
* a symlink to a directory is not entered unless ``follow_symlinks=True``;
  then a directory reached twice (a loop, or two links) is entered once;
  symlinks to settings files are always read;
* an entry named like the settings file that is not a regular file (a
  directory, a dangling symlink, a FIFO) is *found but unreadable*: it is
  reported with its reason instead of being read (reading a FIFO would block);
* a directory that vanishes or cannot be listed mid-walk is reported in
  :attr:`Discovery.problems` and the walk goes on.

A refresh walks with :class:`GuidedWalk`, which finds the same files but does
not list again the run directories the run index knows as *quiet leaves*.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from .layouts import RunLayout, run_directory

__all__ = [
    "FileStamp",
    "Target",
    "stamp_run",
    "Discovery",
    "find_settings_files",
    "GuidedWalk",
    "RACY_MARGIN_NS",
    "scan_directory",
    "natural_key",
    "natural_sorted",
    "unreadable_reason",
]

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


class FileStamp(NamedTuple):
    """A settings file as the run index remembers it: path relative to the root.

    ``dir_ctime_ns`` is its directory's ctime when a :class:`GuidedWalk` listed
    that directory as a quiet leaf, else ``None``.
    """

    path: str
    size: int
    mtime_ns: int
    dir_ctime_ns: int | None = None


#: What a walk looks for: a settings file's name, or the layout of runs of several files.
Target = str | RunLayout


def stamp_file(
    path: str, prefix: int, dir_ctime_ns: int | None = None, target: Target = ""
) -> FileStamp:
    """``path``'s stamp; ``prefix`` is the length of the root's path with its separator.

    For a run of several files (``target`` a layout), ``path`` is its anchor
    and the stamp covers all its files (:func:`stamp_run`).
    """
    if target.__class__ is RunLayout:
        return stamp_run(path, prefix, target, dir_ctime_ns)
    try:
        return stamp_of(path, prefix, os.stat(path), dir_ctime_ns)
    except OSError:  # vanished: reading it will say so
        return FileStamp(_relative(path, prefix), -1, -1, dir_ctime_ns)


def stamp_of(
    path: str, prefix: int, status: os.stat_result, dir_ctime_ns: int | None = None
) -> FileStamp:
    """The stamp of ``path`` whose status is ``status``."""
    return FileStamp(_relative(path, prefix), status.st_size, status.st_mtime_ns, dir_ctime_ns)


def stamp_run(
    anchor_path: str, prefix: int, layout: RunLayout, dir_ctime_ns: int | None = None
) -> FileStamp:
    """One stamp for every file a run's row comes from, comparable as a file's stamp is.

    The run index keeps one ``(size, mtime_ns)`` per run, so the files' sizes
    and mtimes are folded into it: ``mtime_ns`` is the newest mtime and
    ``size`` a hash of every file's size and mtime (a file appearing, growing
    or being rewritten changes it). A missing anchor gives size -1, which a
    refresh always reads again, as a vanished file.
    """
    if layout.version is not None:
        size, mtime_ns = layout.version(run_directory(anchor_path, layout))
        return FileStamp(_relative(anchor_path, prefix), size, mtime_ns, dir_ctime_ns)
    statuses = []
    for path in layout.files(run_directory(anchor_path, layout)):
        try:
            status = os.stat(path)
        except OSError:
            statuses.append((-1, -1))
        else:
            statuses.append((status.st_size, status.st_mtime_ns))
    anchor_missing = not statuses or statuses[0][0] < 0
    size = -1 if anchor_missing else hash(tuple(statuses)) & _FOLDED_SIZE_MASK
    mtime_ns = max(mtime for _, mtime in statuses) if statuses else -1
    return FileStamp(_relative(anchor_path, prefix), size, mtime_ns, dir_ctime_ns)


#: Folded sizes stay non-negative 62-bit integers, as a BigInteger column holds them.
_FOLDED_SIZE_MASK = (1 << 62) - 1


def _relative(path: str, prefix: int) -> str:
    """``path`` below the root, with ``/`` as the run index spells it on every system."""
    return path[prefix:].replace(os.sep, "/")


@dataclass
class Discovery:
    """What a walk found.

    Attributes
    ----------
    paths:
        Readable settings files, in natural order.
    unreadable:
        ``(path, reason)`` for entries named like the settings file that are
        not regular files; they count as found.
    problems:
        ``(directory, reason)`` for directories that could not be listed.
    hidden, symlinked:
        Directories not entered because of ``include_hidden`` / ``follow_symlinks``.
    stamps:
        A :class:`GuidedWalk`'s stamps of ``paths``, in the same order.
    """

    paths: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    symlinked: list[str] = field(default_factory=list)
    stamps: list[FileStamp] = field(default_factory=list)

    @property
    def files_found(self) -> int:
        """Entries named like the settings file, readable or not."""
        return len(self.paths) + len(self.unreadable)


def find_settings_files(
    root_dir: str,
    dict_file: Target,
    *,
    follow_symlinks: bool = False,
    include_hidden: bool = False,
    found: Discovery | None = None,
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
    found:
        Add to this discovery (and return it) instead of a new one.

    Directories that vanish or cannot be listed during the walk are reported in
    :attr:`Discovery.problems` instead of stopping it.
    """
    found = found if found is not None else Discovery()
    visited: set[tuple[int, int]] = set()
    _walk(root_dir, dict_file, follow_symlinks, include_hidden, visited, found)
    return found


def _walk(
    directory: str,
    dict_file: Target,
    follow_symlinks: bool,
    include_hidden: bool,
    visited: set[tuple[int, int]],
    found: Discovery,
) -> None:
    if follow_symlinks:
        try:
            status = os.stat(directory)
        except OSError as error:
            _not_listed(directory, error, found)
            return
        identity = (status.st_dev, status.st_ino)
        if identity in visited:
            return
        visited.add(identity)
    subdirectories = scan_directory(
        directory,
        dict_file,
        follow_symlinks=follow_symlinks,
        include_hidden=include_hidden,
        found=found,
    )
    for path in subdirectories or ():
        _walk(path, dict_file, follow_symlinks, include_hidden, visited, found)


def scan_directory(
    directory: str,
    dict_file: Target,
    *,
    follow_symlinks: bool,
    include_hidden: bool,
    found: Discovery,
) -> list[str] | None:
    """One step of the walk: list ``directory`` without descending.

    Its settings entry (and any problem) is recorded in ``found``; returned are
    the subdirectories to enter, in natural order, or ``None`` when the
    directory could not be listed. The parallel reader splits a tree with it.
    """
    try:
        with os.scandir(directory) as entries:
            listing = list(entries)
    except OSError as error:
        _not_listed(directory, error, found)
        return None
    if dict_file.__class__ is RunLayout:
        return _scan_for_run(directory, listing, dict_file, follow_symlinks, include_hidden, found)

    subdirectories: list[str] = []
    for entry in listing:  # a plain loop: run directories hold hundreds of thousands of entries
        try:
            if entry.name == dict_file:
                _record_settings_entry(entry, found)
            elif entry.is_dir():  # follows a symlink to a directory
                _add_directory(entry, follow_symlinks, include_hidden, found, subdirectories)
        except OSError as error:
            _not_inspected(entry, error, found)
    return _in_order(directory, subdirectories)


def _add_directory(
    entry: os.DirEntry[str],
    follow_symlinks: bool,
    include_hidden: bool,
    found: Discovery,
    subdirectories: list[str],
) -> None:
    """A subdirectory is entered, or recorded as symlinked or hidden."""
    if entry.is_symlink() and not follow_symlinks:
        found.symlinked.append(entry.path)
    elif entry.name.startswith(".") and not include_hidden:
        found.hidden.append(entry.path)
    else:
        subdirectories.append(entry.name)


def _not_inspected(entry: os.DirEntry[str], error: OSError, found: Discovery) -> None:
    found.problems.append((entry.path, f"could not be inspected: {error.strerror or error}"))


def _in_order(directory: str, subdirectories: list[str]) -> list[str]:
    """The paths of ``directory``'s subdirectories ``subdirectories``, in natural order."""
    if not subdirectories:  # most run directories are leaves
        return subdirectories
    prefix = os.path.join(directory, "")  # joined once: os.path.join per name costs more
    return [prefix + name for name in natural_sorted(subdirectories)]


def _scan_for_run(
    directory: str,
    listing: list[os.DirEntry[str]],
    layout: RunLayout,
    follow_symlinks: bool,
    include_hidden: bool,
    found: Discovery,
) -> list[str]:
    """:func:`scan_directory` for a layout: the directory is a run if it holds a marker.

    A marker that is a directory (``.hydra``) is part of the run, not a
    directory to walk or to report as hidden.
    """
    markers = layout.markers
    is_run = any(entry.name in markers for entry in listing) and (
        layout.run_name is None or layout.run_name.fullmatch(os.path.basename(directory))
    )
    if is_run:
        found.paths.append(directory + os.sep + layout.anchor_os)
        if not layout.enter_runs:
            return []
    subdirectories: list[str] = []
    for entry in listing:
        try:
            if entry.name not in markers and entry.is_dir():
                _add_directory(entry, follow_symlinks, include_hidden, found, subdirectories)
        except OSError as error:
            _not_inspected(entry, error, found)
    return _in_order(directory, subdirectories)


#: A directory's ctime is recorded only when it is this much older than the
#: listing: a change within the same timestamp tick would leave the ctime as it
#: was (git's index calls such entries "racy").
RACY_MARGIN_NS = 2_000_000_000


@dataclass(frozen=True)
class GuidedWalk:
    """A refresh's walk (``follow_symlinks=False``): the run index spares it listings.

    A *quiet leaf* is a directory whose listing had no subdirectory entries at all
    (entered, hidden or symlinked) and nothing unreadable or uninspectable. POSIX
    updates a directory's ctime (with its mtime) whenever an entry is created,
    removed or renamed in it, so while a quiet leaf keeps the ctime it had when
    it was listed, its entries are the same: only its settings file needs a
    stat. The ctime, not the mtime: it also moves when the directory's
    permissions change or its mtime is set back (``touch -d``, ``tar``,
    ``rsync -t``), and nothing can set it back.

    ``recorded`` maps each indexed run's directory (spelled as the walk spells
    it) to its recorded ``dir_ctime_ns``, or ``None``. Such a directory is
    stat'ed first: if its ctime is the recorded one it is not listed; otherwise
    it is listed, and its settings file's stamp carries the ctime if the listing
    shows a quiet leaf. Other directories (new runs, intermediate directories,
    the root) are listed as :func:`find_settings_files` lists them; with
    ``stat_new``, they are stat'ed first too, so that a quiet leaf among them
    gets its ctime recorded (a load into a store that outlives the process,
    whose first refresh then lists nothing it need not). The files found, their
    order and the problems reported are that function's.
    """

    dict_file: Target
    include_hidden: bool
    recorded: Mapping[str, int | None]
    prefix: int  # length of the root's path with its separator
    stat_new: bool = False

    def walk(self, directory: str, found: Discovery) -> None:
        """Add every settings file under ``directory``, with its stamp, to ``found``."""
        for path in self.visit(directory, found) or ():
            self.walk(path, found)

    def visit(self, directory: str, found: Discovery) -> list[str] | None:
        """One step of :meth:`walk`: the subdirectories to enter, as :func:`scan_directory`."""
        indexed = directory in self.recorded
        if not indexed and not self.stat_new:
            return self._list(directory, None, found)
        try:  # before listing: a change made while listing then shows next time
            ctime = os.stat(directory).st_ctime_ns
        except OSError:
            return self._list(directory, None, found)  # which reports the problem
        if (
            indexed
            and ctime == self.recorded[directory]
            and self._stat_settings_only(directory, ctime, found)
        ):
            return []
        return self._list(directory, ctime, found)

    def _stat_settings_only(self, directory: str, ctime: int, found: Discovery) -> bool:
        """Stamp the settings file of an unchanged quiet leaf; ``False`` if it must be listed."""
        target = self.dict_file
        name = target if isinstance(target, str) else target.anchor_os
        path = directory + os.sep + name
        try:
            status = os.stat(path)
        except OSError:
            return False  # the listing says what became of it
        if not stat.S_ISREG(status.st_mode):
            return False
        found.paths.append(path)
        if isinstance(target, str):
            found.stamps.append(stamp_of(path, self.prefix, status, ctime))
        else:
            found.stamps.append(stamp_run(path, self.prefix, target, ctime))
        return True

    def _list(self, directory: str, ctime: int | None, found: Discovery) -> list[str] | None:
        """List as the plain walk does; record ``ctime`` if ``directory`` is a quiet leaf."""
        listed_at = time.time_ns()
        before = _tally(found)
        subdirectories = scan_directory(
            directory,
            self.dict_file,
            follow_symlinks=False,
            include_hidden=self.include_hidden,
            found=found,
        )
        quiet = (
            ctime is not None
            and ctime <= listed_at - RACY_MARGIN_NS
            and subdirectories == []
            and _tally(found)[1:] == before[1:]  # nothing unreadable, hidden, symlinked, failing
        )
        for path in found.paths[before[0] :]:
            found.stamps.append(
                stamp_file(path, self.prefix, ctime if quiet else None, self.dict_file)
            )
        return subdirectories


def _tally(found: Discovery) -> tuple[int, int, int, int, int]:
    """How much ``found`` holds of each finding: paths first."""
    return (
        len(found.paths),
        len(found.unreadable),
        len(found.problems),
        len(found.hidden),
        len(found.symlinked),
    )


def _not_listed(directory: str, error: OSError, found: Discovery) -> None:
    found.problems.append((directory, f"directory could not be listed: {error.strerror or error}"))


def natural_sorted(names: list[str]) -> list[str]:
    """``sorted(names, key=natural_key)``, faster for names that are plain numbers.

    Run directories are often numbered; for those, ordering by name and then
    (stably) by value gives the same order without a regex split per name, which
    matters with 100,000.

    >>> natural_sorted(['10', '2', '01', '1'])
    ['01', '1', '2', '10']
    """
    if len(names) < 2:  # most run directories are leaves
        return list(names)
    if all(name.isascii() and name.isdigit() for name in names):
        return sorted(sorted(names), key=int)  # ties in value ('01', '1') stay by name
    return sorted(names, key=natural_key)


def _record_settings_entry(entry: os.DirEntry[str], found: Discovery) -> None:
    if entry.is_file():  # follows a symlink to a file
        found.paths.append(entry.path)
        return
    reason = unreadable_reason(entry.path)
    if reason is None:  # became a regular file since the listing
        found.paths.append(entry.path)
    else:
        found.unreadable.append((entry.path, reason))


def unreadable_reason(path: str) -> str | None:
    """Why a path named like a settings file cannot be read as one, without opening it.

    ``None`` means a regular file (or a symlink to one).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"dangling symlink to {os.readlink(path)!r}"
        return "vanished during the walk"
    except OSError as error:
        return f"could not be inspected: {error.strerror or error}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file"
    return "is not a regular file (a socket or a device)"
