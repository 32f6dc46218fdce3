"""From settings files on disk to typed rows and a report of what happened.

This is the pure part of a load: no database. It reads every file, runs the
decorators' setters, normalises the values, infers one kind per key and drops
what cannot be stored, accounting for every file found: each one is either a
row or an entry in :attr:`LoadReport.skipped` with its reason.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import (
    NaklarError,
    NoSettingsFilesError,
    NothingLoadedError,
    SettingsFileError,
    UnsupportedValueError,
    warn,
)
from .chunks import (
    FileStamp,
    ReadOptions,
    RowView,
    TreeRead,
    keep_only,
)
from .decorators import RESERVED_COLUMNS, parse_decorators
from .layouts import RunLayout, files_layout
from .loaders import Loader, loader_for
from .rows import SettingsRows
from .sources import layout_for_source, recognise
from .values import NON_FINITE_LOST_BY, Kind, KindTally
from .walk import natural_key
from .workers import StartedRead, start_read

__all__ = [
    "RefreshCounts",
    "Skipped",
    "LoadReport",
    "LoadedTree",
    "LoadOptions",
    "LOAD_OPTIONS",
    "start_loading",
    "read_options_for",
    "raise_first_problem",
    "PendingLoad",
    "RowView",
    "warn_about_lost_floats",
    "describe_target",
    "resolved_source",
]

OnError = Literal["warn", "raise", "ignore"]
_MODES = ("warn", "raise", "ignore")
#: How many skipped files a warning names before it says "and N more".
_WARN_EXAMPLES = 3


@dataclass(frozen=True)
class Skipped:
    """A settings file (or directory) that did not become a row, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


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
        if self.reloaded:
            return text + " (column types widened: reloaded everything)"
        return text + (" (already up to date)" if self.up_to_date else "")

    @property
    def up_to_date(self) -> bool:
        """Nothing was added, updated, removed or skipped: the store held the tree already."""
        return not (self.added or self.updated or self.removed or self.skipped or self.reloaded)


@dataclass
class LoadReport:
    """What one load did: ``loaded + len(skipped) == files_found`` always.

    ``loaded`` counts the files read into rows; with ``autoload=False`` they
    were read to define the table and ``inserted`` is False. Runs in
    ``left_out`` are not counted in ``files_found``: their tool no longer
    counts them as runs (MLflow's deleted runs), so they are neither rows nor skips.
    """

    root_dir: str
    dict_file: str
    files_found: int = 0
    loaded: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    walk_problems: list[Skipped] = field(default_factory=list)
    dropped_keys: dict[str, str] = field(default_factory=dict)
    renamed_keys: dict[str, str] = field(default_factory=dict)
    string_fallbacks: dict[str, list[str]] = field(default_factory=dict)
    changed_forms: dict[str, list[str]] = field(default_factory=dict)
    non_finite: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Rows whose run lacked some of its files (metrics of a crashed or running
    #: run): their columns from those files are NULL.
    incomplete: list[Skipped] = field(default_factory=list)
    #: Runs found that their tool leaves out of its own views (a run deleted in
    #: MLflow): not rows, not skips, not errors.
    left_out: list[Skipped] = field(default_factory=list)
    #: False when ``autoload=False`` defined the table without inserting rows.
    inserted: bool = True
    #: Set by a refresh: what it added, updated, removed and skipped.
    changes: RefreshCounts | None = None
    #: Metric columns the reading found (a tool's metrics files); the store
    #: records them with the ``metrics`` load option.
    metrics: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        lines = [
            f"{self.files_found} {_found_what(self.dict_file)} under {self.root_dir}: "
            f"{self.loaded} loaded, {len(self.skipped)} skipped"
            + ("" if self.inserted else " (autoload=False: table defined, no rows inserted)")
        ]
        if self.changes is not None:
            lines.append(f"  refreshed: {self.changes}")
        if self.incomplete:
            lines.append(f"  {len(self.incomplete)} rows lack some of their run's files")
        lines += [f"  skipped {entry}" for entry in self.skipped]
        lines += [f"  row without {entry.reason}: {entry.path}" for entry in self.incomplete]
        lines += [f"  not walked {entry}" for entry in self.walk_problems]
        lines += [f"  left out {entry}" for entry in self.left_out]
        lines += [f"  key {key!r} left out: {why}" for key, why in self.dropped_keys.items()]
        lines += [f"  key {key!r} stored as {name!r}" for key, name in self.renamed_keys.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        # the summary people read, in a terminal and as a notebook cell's result
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _found_what(dict_file: str) -> str:
    """``conf.json files`` or ``source='hydra' runs``."""
    return f"{dict_file} runs" if dict_file.startswith("source=") else f"{dict_file} files"


@dataclass
class LoadedTree:
    """Typed rows ready to insert, each from a directory relative to the root."""

    rows: SettingsRows
    kinds: dict[str, Kind]
    report: LoadReport
    #: The settings file of each row, for the run index.
    stamps: list[FileStamp] = field(default_factory=list)
    #: Every kind seen per key, so a refresh can widen a column as a full load would.
    tally: KindTally = field(default_factory=KindTally)


@dataclass(frozen=True)
class LoadOptions:
    """How a tree is read: the keyword arguments of every load, defined once.

    :func:`naklar.experiment.initialise`, :meth:`naklar.Store.load`,
    :func:`naklar.load` and the ``naklar`` command take them by name and build
    this object with :meth:`from_keywords`; ``initialise`` documents each one.
    """

    dict_file: str | Sequence[str] = "conf.pkl"
    load_func: Loader | None = None
    decorators: Mapping[str, Any] | None = None
    restrict_keys: Collection[str] | None = None
    on_error: OnError = "warn"
    on_unsupported: OnError = "warn"
    follow_symlinks: bool = False
    include_hidden: bool = False
    workers: int | None = None
    progress: bool | None = None
    #: Metric columns (results, not settings): names or shell-style patterns.
    metrics: Collection[str] | None = None
    source: str | None = None
    flatten: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.dict_file, str):  # a list: frozen, comparable, storable
            object.__setattr__(self, "dict_file", list(self.dict_file))

    @classmethod
    def from_keywords(cls, keywords: Mapping[str, Any], caller: str) -> LoadOptions:
        """The options ``caller`` was given as ``**keywords``; a name that is none is refused.

        >>> LoadOptions.from_keywords({"dict_fil": "conf.json"}, "load")
        Traceback (most recent call last):
        ...
        TypeError: load() got an unexpected keyword argument 'dict_fil'; did you mean 'dict_file'?
        """
        names = list(LOAD_OPTIONS)
        for keyword in keywords:
            if keyword not in names:
                close = difflib.get_close_matches(keyword, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; it takes {names}"
                raise TypeError(f"{caller}() got an unexpected keyword argument {keyword!r}{hint}")
        return cls(**keywords)


#: The names of the load options, as keyword arguments, in their order.
LOAD_OPTIONS = tuple(option.name for option in dataclasses.fields(LoadOptions))


def start_loading(
    root_dir: str,
    options: LoadOptions,
    *,
    start_workers_now: bool = False,
    record_dir_ctimes: bool = False,
) -> PendingLoad:
    """Check the options and begin reading every settings file under ``root_dir``.

    :meth:`PendingLoad.finish` returns the typed rows. ``start_workers_now``
    lets workers read while this process does something else first (see
    :func:`naklar._read.workers.start_read`); ``options.workers`` and ``options.progress``
    are described in :func:`naklar._read.workers.read_tree`. ``record_dir_ctimes`` stats
    each run directory for the run index, so that the first refresh of a store
    that outlives this process lists only what changed.
    """
    check_mode("on_error", options.on_error)
    check_mode("on_unsupported", options.on_unsupported)
    _check_root(root_dir, described(options))
    if options.source == "auto":  # the tool, for the report and the store's refresh
        options = dataclasses.replace(options, source=resolved_source("auto", root_dir))
    read_options = read_options_for(root_dir, options, record_dir_ctimes=record_dir_ctimes)
    started = start_read(
        read_options,
        workers=options.workers,
        progress=options.progress,
        start_workers_now=start_workers_now,
    )
    return PendingLoad(read_options, options, started)


def read_options_for(root_dir: str, options: LoadOptions, **walk: Any) -> ReadOptions:
    """What a reading process needs of ``options``; ``walk`` sets ReadOptions' other fields."""
    layout = layout_for(root_dir, options)
    load: Loader
    if layout is not None:
        dict_file, load = layout.name, _unused_loader
    else:
        dict_file = str(options.dict_file)
        load = options.load_func or loader_for(dict_file)
    return ReadOptions(
        root_dir,
        dict_file,
        load,
        parse_decorators(options.decorators),
        restrict_keys=keep_only(options.restrict_keys),
        follow_symlinks=options.follow_symlinks,
        include_hidden=options.include_hidden,
        layout=layout,
        flatten=options.flatten,
        **walk,
    )


def layout_for(root_dir: str, options: LoadOptions) -> RunLayout | None:
    """The layout of runs of several files that ``options`` ask for, or ``None`` for one file.

    ``source=`` names a sweep tool's layout; a list ``dict_file``, a path with
    a folder (``'.hydra/config.yaml'``), or a ``load_func`` with ``extra_files``
    make a layout of those files.
    """
    if options.source is not None:
        if options.load_func is not None:
            raise NaklarError(
                f"source={options.source!r} reads the tool's files itself; leave out "
                "load_func=, or read the runs with dict_file= and load_func= instead"
            )
        return layout_for_source(options.source, root_dir)
    dict_file = options.dict_file
    if (
        not isinstance(dict_file, str)
        or "/" in dict_file
        or getattr(options.load_func, "extra_files", None)
    ):
        return files_layout(dict_file, options.load_func)
    return None


def resolved_source(source: str | None, root_dir: str) -> str | None:
    """``source``, with ``'auto'`` replaced by the tool recognised under ``root_dir``."""
    if source != "auto":
        return source
    try:
        return recognise(root_dir)
    except NaklarError:
        return source  # the load says what it looked for


def described(options: LoadOptions) -> str:
    """What a load looks for, as messages and the report name it."""
    return describe_target(options.dict_file, options.source)


def describe_target(dict_file: str | Sequence[str], source: str | None) -> str:
    """``'conf.json'``, ``'.hydra/config.yaml + metrics.json'`` or ``"source='hydra'"``."""
    if source is not None:
        return f"source={source!r}"
    if isinstance(dict_file, str):
        return dict_file
    return " + ".join(dict_file)


def _unused_loader(path: str) -> Mapping[str, Any]:  # pragma: no cover - a layout reads its runs
    raise AssertionError(f"{path}: a layout's runs are read by the layout")


@dataclass
class PendingLoad:
    """A load whose reading has begun."""

    read_options: ReadOptions
    options: LoadOptions
    started: StartedRead

    def finish(self) -> LoadedTree:
        """Every file read, accounted for and typed."""
        options = self.options
        read = self.started.finish()
        if options.on_error == "raise":
            raise_first_problem(read)
        root_dir, dict_file = self.read_options.root_dir, described(options)
        if read.files_found == len(read.left_out):
            raise NoSettingsFilesError(_nothing_found_message(root_dir, dict_file, read))
        report = LoadReport(root_dir, dict_file)
        if not read.rows and options.on_error != "ignore":
            finish_load(read, report, "ignore", "ignore")
            raise NothingLoadedError(_nothing_loaded_message(report), report)
        tree = finish_load(read, report, options.on_error, options.on_unsupported)
        _warn_about_unknown_restrict_keys(options.restrict_keys, tree)
        return tree

    def cancel(self) -> None:
        """Stop reading: the load will not be finished."""
        self.started.cancel()


def raise_first_problem(read: TreeRead) -> None:
    """``on_error='raise'``: refuse a read that skipped anything.

    The error names the first file that could not be read, in the report's
    order, or else the first directory that could not be listed. Every file is
    read first, so which one that is does not depend on how the reading was
    shared out among processes.
    """
    if read.skipped:
        path, reason = min(read.skipped, key=lambda entry: natural_key(entry[0]))
        raise SettingsFileError(path, reason)
    if read.walk_problems:
        raise SettingsFileError(*read.walk_problems[0])


def finish_load(
    read: TreeRead, report: LoadReport, on_error: OnError, on_unsupported: OnError
) -> LoadedTree:
    """Account for every file, drop unsupported keys, rename reserved ones, resolve kinds."""
    # a run its tool leaves out is not one found: the report lists it apart
    report.files_found = read.files_found - len(read.left_out)
    # unreadable entries were found during the walk, the rest while reading
    skipped = sorted(read.skipped, key=lambda entry: natural_key(entry[0]))
    report.skipped = [Skipped(path, reason) for path, reason in skipped]
    report.walk_problems = [Skipped(path, reason) for path, reason in read.walk_problems]
    incomplete = sorted(read.incomplete, key=lambda entry: natural_key(entry[0]))
    report.incomplete = [Skipped(path, files) for path, files in incomplete]
    left_out = sorted(read.left_out, key=lambda entry: natural_key(entry[0]))
    report.left_out = [Skipped(path, reason) for path, reason in left_out]
    report.metrics = set(read.metrics)
    report.loaded = len(read.rows)
    tally, rows = read.tally, read.rows
    _drop_unsupported(tally, rows, report, on_unsupported, read.first_unsupported)
    _rename_reserved_keys(tally, rows, report)
    _rename_keys_that_are_not_text(tally, rows, report)
    kinds = tally.column_kinds(_keys_in_order(rows, tally))
    _record_value_changes(tally, kinds, report)
    if on_error == "warn":
        _warn_about_skipped(report)
    _warn_about_string_fallbacks(report)
    _warn_about_changed_forms(report)
    return LoadedTree(rows, kinds, report, read.stamps, tally)


def _check_root(root_dir: str, dict_file: str) -> None:
    if os.path.isdir(root_dir):
        return
    what = "is a file, not a directory" if os.path.exists(root_dir) else "does not exist"
    raise NoSettingsFilesError(
        f"root_dir {root_dir!r} {what}, so no {dict_file!r} files can be found there; "
        "pass the folder that holds one sub-directory per run"
    )


def _nothing_loaded_message(report: LoadReport) -> str:
    problems = report.skipped + report.walk_problems
    shown = "; ".join(str(entry) for entry in problems[:_WARN_EXAMPLES])
    more = len(problems) - _WARN_EXAMPLES
    return (
        f"{report.files_found} {report.dict_file!r} files found under {report.root_dir!r}, "
        f"and none could be loaded: {shown}" + (f"; and {more} more" if more > 0 else "") + ". "
        "Fix the files (or load_func=) so they read as dicts; every file and its reason "
        "is in this error's report (error.report.skipped). Pass on_error='ignore' to "
        "accept an empty table"
    )


def _warn_about_unknown_restrict_keys(
    restrict_keys: Collection[str] | None, tree: LoadedTree
) -> None:
    """Name the ``restrict_keys`` that no file has: most likely misspelt."""
    if restrict_keys is None or not tree.rows:
        return
    known = [*tree.kinds, *tree.report.dropped_keys, *tree.report.renamed_keys]
    unknown = [key for key in restrict_keys if key not in known]
    if unknown:
        warn(
            f"restrict_keys names keys that no settings file has: "
            f"{', '.join(map(repr, unknown))}. Check their spelling; the table has no "
            "column for them"
        )


def _nothing_found_message(root_dir: str, dict_file: str, found: TreeRead) -> str:
    if found.left_out:
        path, reason = min(found.left_out, key=lambda entry: natural_key(entry[0]))
        return (
            f"every {dict_file} run under {root_dir!r} is left out ({len(found.left_out)} "
            f"found), as {path}: {reason}; there is nothing to load"
        )
    message = (
        f"no file named {dict_file!r} under {root_dir!r}; pass dict_file= with the name "
        "of the settings file each run directory holds"
    )
    if found.hidden:
        message += f"; {len(found.hidden)} hidden directories were not entered: include_hidden=True"
    if found.symlinked:
        message += (
            f"; {len(found.symlinked)} symlinked directories were not entered: follow_symlinks=True"
        )
    return message


def _record_value_changes(tally: KindTally, kinds: Mapping[str, Kind], report: LoadReport) -> None:
    report.string_fallbacks = {
        key: sorted(kind.value for kind in seen) for key, seen in tally.conflicts().items()
    }
    report.changed_forms = {key: sorted(notes) for key, notes in tally.notes.items()}
    # only Float columns hold NaN/inf as numbers; a text column keeps 'nan' as text
    report.non_finite = {
        key: counts for key, counts in tally.non_finite.items() if kinds.get(key) is Kind.FLOAT
    }


def warn_about_lost_floats(report: LoadReport, dialect_name: str) -> None:
    """Warn, naming the keys, where the backend stores NaN or ±inf as NULL.

    PostgreSQL keeps them; SQLite turns NaN into NULL; MySQL and MariaDB reject
    both, so naklar stores NULL there (see :data:`naklar._read.values.NON_FINITE_LOST_BY`).
    """
    lost_names = NON_FINITE_LOST_BY.get(dialect_name, frozenset())
    lost = {
        key: {name: count for name, count in counts.items() if name in lost_names}
        for key, counts in report.non_finite.items()
    }
    _warn_per_key(
        {key: _in_files(counts) for key, counts in lost.items() if counts},
        f"{dialect_name} cannot store these float values, they are stored as NULL",
        "Use PostgreSQL to keep NaN and inf, or replace them in load_func=.",
    )


def check_mode(name: str, mode: str) -> None:
    """Refuse an ``on_error``/``on_unsupported`` value that is not one of the modes."""
    if mode not in _MODES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")


def _keys_in_order(rows: SettingsRows, tally: KindTally) -> list[str]:
    """Every key, in the order it first appears in the (naturally sorted) files."""
    seen = dict.fromkeys(rows.keys())
    # keys seen only with None values still become (all-NULL) columns
    for key in tally.kinds:
        seen.setdefault(key, None)
    return [key for key in seen if key not in tally.unsupported]


def _drop_unsupported(
    tally: KindTally,
    rows: SettingsRows,
    report: LoadReport,
    on_unsupported: OnError,
    first_unsupported: Mapping[str, str],
) -> None:
    if not tally.unsupported:
        return
    for key, counts in tally.unsupported.items():
        types = ", ".join(_in_files(counts))
        report.dropped_keys[key] = f"values of type {types} map onto no column type"
    if on_unsupported == "raise":
        key, reason = next(iter(report.dropped_keys.items()))
        raise UnsupportedValueError(
            f"key {key!r} in {first_unsupported[key]}: {reason}. Leave it out with "
            "restrict_keys=, turn it into a path or scalar with load_func=, or use "
            "on_unsupported='warn' to drop it"
        )
    rows.drop_keys(tally.unsupported)
    if on_unsupported == "warn":
        _warn_per_key(
            {key: [why] for key, why in report.dropped_keys.items()},
            "left out of the table, as their values map onto no column type",
            "Pass on_unsupported='raise' to stop instead, or restrict_keys= to choose the keys.",
        )


def _rename_reserved_keys(tally: KindTally, rows: SettingsRows, report: LoadReport) -> None:
    """A key named like one of naklar's own columns is stored as ``<key>_1`` (or ``_2``...)."""
    clashing = [key for key in tally.kinds if key in RESERVED_COLUMNS]
    for key in clashing:
        new_key = _unused_key(key, tally)
        tally.rename(key, new_key)
        report.renamed_keys[key] = new_key
        rows.rename_key(key, new_key)
    if clashing:
        warn(
            "keys named like naklar's own columns are stored under new names: "
            + ", ".join(f"{key!r} as {new!r}" for key, new in report.renamed_keys.items())
        )


def _rename_keys_that_are_not_text(
    tally: KindTally, rows: SettingsRows, report: LoadReport
) -> None:
    """A key holding a lone surrogate is stored under its escaped spelling, ``'\\ud800'``.

    No database driver, pandas or Arrow takes such a string as a name (it is no
    valid Unicode text); the escaped spelling is what ``json.dumps`` writes.
    """
    renamed = {}
    for key in [key for key in tally.kinds if not _is_text(key)]:
        escaped = key.encode("utf-8", "backslashreplace").decode("utf-8")
        new_key = escaped if escaped not in tally.kinds else _unused_key(escaped, tally)
        tally.rename(key, new_key)
        rows.rename_key(key, new_key)
        renamed[key] = report.renamed_keys[key] = new_key
    if renamed:
        warn(
            "keys holding lone surrogates (not valid Unicode, so no database or pandas takes "
            "them as names) are stored under their escaped spelling: "
            + ", ".join(f"{key!r} as {new!r}" for key, new in renamed.items())
        )


def _is_text(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates), so that it encodes as UTF-8."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unused_key(key: str, tally: KindTally) -> str:
    suffix = 1
    while f"{key}_{suffix}" in tally.kinds or f"{key}_{suffix}" in tally.unsupported:
        suffix += 1
    return f"{key}_{suffix}"


def _warn_about_skipped(report: LoadReport) -> None:
    problems = report.skipped + report.walk_problems
    if problems:
        shown = "; ".join(str(entry) for entry in problems[:_WARN_EXAMPLES])
        more = len(problems) - _WARN_EXAMPLES
        warn(
            f"{len(report.skipped)} of {report.files_found} settings files skipped"
            + (
                f", {len(report.walk_problems)} directories not walked"
                if report.walk_problems
                else ""
            )
            + f": {shown}"
            + (f"; and {more} more" if more > 0 else "")
            + ". The full list is in the load report (experiment.report.skipped); pass "
            "on_error='raise' to stop at the first one."
        )


def _warn_about_string_fallbacks(report: LoadReport) -> None:
    _warn_per_key(
        report.string_fallbacks,
        "keys with values of incompatible types are stored as text",
        "Make the values one type in load_func= to get a typed column.",
    )


def _warn_about_changed_forms(report: LoadReport) -> None:
    _warn_per_key(
        report.changed_forms,
        "values stored in another form than their type",
        "Convert them in load_func= to choose the form.",
    )


def _warn_per_key(found: Mapping[str, list[str]], what: str, fix: str) -> None:
    """One warning: ``what: 'key' (detail, detail); ... fix``."""
    if found:
        described = "; ".join(f"{key!r} ({', '.join(items)})" for key, items in found.items())
        warn(f"{what}: {described}. {fix}")


def _in_files(counts: Mapping[str, int]) -> list[str]:
    """``{'NaN': 2}`` -> ``['NaN in 2 file(s)']``."""
    return [f"{name} in {count} file(s)" for name, count in counts.items()]
