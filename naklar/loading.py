"""From settings files on disk to typed rows and a report of what happened.

This is the pure part of a load: no database. It reads every file, runs the
decorators' setters, normalises the values, infers one kind per key and drops
what cannot be stored, accounting for every file found: each one is either a
row or an entry in :attr:`LoadReport.skipped` with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .discover import Discovery, find_settings_files, natural_key
from .errors import NoSettingsFilesError, SettingsFileError, UnsupportedValueError, warn
from .loaders import Loader, read_settings
from .model import RESERVED_COLUMNS, Decorator
from .schema import NON_FINITE_LOST_BY, Kind, KindTally, Unsupported

__all__ = ["Skipped", "LoadReport", "LoadedTree", "load_tree", "RowView", "warn_about_lost_floats"]

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
class LoadReport:
    """What one load did: ``loaded + len(skipped) == files_found`` always."""

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

    def __str__(self) -> str:
        lines = [
            f"{self.files_found} {self.dict_file} files under {self.root_dir}: "
            f"{self.loaded} loaded, {len(self.skipped)} skipped"
        ]
        lines += [f"  skipped {entry}" for entry in self.skipped]
        lines += [f"  not walked {entry}" for entry in self.walk_problems]
        lines += [f"  key {key!r} left out: {why}" for key, why in self.dropped_keys.items()]
        lines += [f"  key {key!r} stored as {name!r}" for key, name in self.renamed_keys.items()]
        return "\n".join(lines)


class RowView(dict):
    """A settings dict whose keys also read as attributes: ``self.output``.

    Setters run before any object exists, so they get one of these as ``self``.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class LoadedTree:
    """Typed rows ready to insert: ``(directory relative to root, values by key)``."""

    rows: list[tuple[str, dict[str, Any]]]
    kinds: dict[str, Kind]
    report: LoadReport


def load_tree(
    root_dir: str,
    dict_file: str,
    load: Loader,
    *,
    decorators: Mapping[str, Decorator],
    restrict_keys: Collection[str] | None = None,
    on_error: OnError = "warn",
    on_unsupported: OnError = "warn",
    follow_symlinks: bool = False,
    include_hidden: bool = False,
) -> LoadedTree:
    """Read every ``dict_file`` under ``root_dir`` into typed rows."""
    _check_mode("on_error", on_error)
    _check_mode("on_unsupported", on_unsupported)
    _check_root(root_dir, dict_file)
    found = find_settings_files(
        root_dir, dict_file, follow_symlinks=follow_symlinks, include_hidden=include_hidden
    )
    report = LoadReport(root_dir, dict_file, files_found=found.files_found)
    report.walk_problems = [Skipped(path, reason) for path, reason in found.problems]
    report.skipped = [Skipped(path, reason) for path, reason in found.unreadable]
    if not found.files_found:
        raise NoSettingsFilesError(_nothing_found_message(root_dir, dict_file, found))
    if on_error == "raise" and (report.skipped or report.walk_problems):
        first = (report.skipped or report.walk_problems)[0]
        raise SettingsFileError(first.path, first.reason)

    keep = set(restrict_keys) if restrict_keys is not None else None
    tally = KindTally()
    first_unsupported: dict[str, str] = {}
    rows: list[tuple[str, dict[str, Any]]] = []
    prefix = len(os.path.join(root_dir, ""))
    for path in found.paths:
        try:
            settings = read_settings(path, load)
        except SettingsFileError as error:
            if on_error == "raise":
                raise
            report.skipped.append(Skipped(path, error.reason))
            continue
        if keep is not None:
            settings = {key: value for key, value in settings.items() if key in keep}
        settings = _run_setters(settings, decorators)
        values = {}
        for key, value in settings.items():
            key = str(key)
            normalised = tally.add(key, value)
            if isinstance(normalised, Unsupported):
                first_unsupported.setdefault(key, path)
            else:
                values[key] = normalised[1]
        directory = os.path.dirname(path)[prefix:].replace(os.sep, "/") or "."
        rows.append((directory, values))
    report.loaded = len(rows)
    # unreadable entries were found during the walk, the rest while reading
    report.skipped.sort(key=lambda entry: natural_key(entry.path))

    _drop_unsupported(tally, rows, report, on_unsupported, first_unsupported)
    _rename_reserved_keys(tally, rows, report)
    kinds = tally.column_kinds(_keys_in_order(rows, tally))
    _record_value_changes(tally, kinds, report)
    if on_error == "warn":
        _warn_about_skipped(report)
    _warn_about_string_fallbacks(report)
    _warn_about_changed_forms(report)
    return LoadedTree(rows, kinds, report)


def _check_root(root_dir: str, dict_file: str) -> None:
    if os.path.isdir(root_dir):
        return
    what = "is a file, not a directory" if os.path.exists(root_dir) else "does not exist"
    raise NoSettingsFilesError(
        f"root_dir {root_dir!r} {what}, so no {dict_file!r} files can be found there; "
        "pass the folder that holds one sub-directory per run"
    )


def _nothing_found_message(root_dir: str, dict_file: str, found: Discovery) -> str:
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
    both, so naklar stores NULL there (see :data:`naklar.schema.NON_FINITE_LOST_BY`).
    """
    lost_names = NON_FINITE_LOST_BY.get(dialect_name, frozenset())
    lost = {
        key: {name: count for name, count in counts.items() if name in lost_names}
        for key, counts in report.non_finite.items()
    }
    lost = {key: counts for key, counts in lost.items() if counts}
    if not lost:
        return
    described = "; ".join(
        f"{key!r} ({', '.join(f'{name} in {count} file(s)' for name, count in counts.items())})"
        for key, counts in lost.items()
    )
    warn(
        f"{dialect_name} cannot store these float values, they are stored as NULL: "
        f"{described}. Use PostgreSQL to keep NaN and inf, or replace them in load_func=."
    )


def _check_mode(name: str, mode: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")


def _run_setters(settings: dict[str, Any], decorators: Mapping[str, Decorator]) -> dict[str, Any]:
    setters = [(key, deco.setter) for key, deco in decorators.items() if deco.setter]
    if not setters:
        return settings
    view = RowView(settings)
    for key, setter in setters:
        view[key] = setter(view, view.get(key))
    return dict(view)


def _keys_in_order(rows: list[tuple[str, dict[str, Any]]], tally: KindTally) -> list[str]:
    """Every key, in the order it first appears in the (naturally sorted) files."""
    seen: dict[str, None] = {}
    for _, values in rows:
        for key in values:
            seen.setdefault(key, None)
    # keys seen only with None values still become (all-NULL) columns
    for key in tally.kinds:
        seen.setdefault(key, None)
    return [key for key in seen if key not in tally.unsupported]


def _drop_unsupported(
    tally: KindTally,
    rows: list[tuple[str, dict[str, Any]]],
    report: LoadReport,
    on_unsupported: OnError,
    first_unsupported: Mapping[str, str],
) -> None:
    if not tally.unsupported:
        return
    for key, counts in tally.unsupported.items():
        types = ", ".join(f"{name} in {count} file(s)" for name, count in counts.items())
        report.dropped_keys[key] = f"values of type {types} map onto no column type"
    if on_unsupported == "raise":
        key, reason = next(iter(report.dropped_keys.items()))
        raise UnsupportedValueError(
            f"key {key!r} in {first_unsupported[key]}: {reason}. Leave it out with "
            "restrict_keys=, turn it into a path or scalar with load_func=, or use "
            "on_unsupported='warn' to drop it"
        )
    for _, values in rows:
        for key in tally.unsupported:
            values.pop(key, None)
    if on_unsupported == "warn":
        warn(
            "left out of the table, as their values map onto no column type: "
            + "; ".join(f"{key!r} ({why})" for key, why in report.dropped_keys.items())
            + ". Pass on_unsupported='raise' to stop instead, or restrict_keys= to choose "
            "the keys."
        )


def _rename_reserved_keys(
    tally: KindTally, rows: list[tuple[str, dict[str, Any]]], report: LoadReport
) -> None:
    """A key named like one of naklar's own columns is stored as ``<key>_1`` (or ``_2``...)."""
    clashing = [key for key in tally.kinds if key in RESERVED_COLUMNS]
    for key in clashing:
        new_key = _unused_key(key, tally)
        tally.rename(key, new_key)
        report.renamed_keys[key] = new_key
        for _, values in rows:
            if key in values:
                _rename_in_place(values, key, new_key)
    if clashing:
        warn(
            "keys named like naklar's own columns are stored under new names: "
            + ", ".join(f"{key!r} as {new!r}" for key, new in report.renamed_keys.items())
        )


def _rename_in_place(values: dict[str, Any], key: str, new_key: str) -> None:
    """Rename a key keeping its position, so the column keeps its place in the table."""
    renamed = {new_key if name == key else name: value for name, value in values.items()}
    values.clear()
    values.update(renamed)


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
    if report.string_fallbacks:
        described = "; ".join(
            f"{key!r} ({', '.join(kinds)})" for key, kinds in report.string_fallbacks.items()
        )
        warn(
            f"keys with values of incompatible types are stored as text: {described}. "
            "Make the values one type in load_func= to get a typed column."
        )


def _warn_about_changed_forms(report: LoadReport) -> None:
    if report.changed_forms:
        described = "; ".join(
            f"{key!r} ({', '.join(notes)})" for key, notes in report.changed_forms.items()
        )
        warn(
            f"values stored in another form than their type: {described}. "
            "Convert them in load_func= to choose the form."
        )
