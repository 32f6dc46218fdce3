"""What every source shares: the column names of metrics and run facts, and small readers.

One naming convention for every tool (the README's table):

* config keys as the tool stores them, nested ones dotted: ``model.depth``;
* the final value of each metric as ``metrics.<name>``: ``metrics.loss``;
* what the tool records about the run as ``run.<fact>``: ``run.id``,
  ``run.name``, ``run.status`` (the tool's own word), ``run.start`` and
  ``run.end`` (datetimes in UTC).

The prefixes keep metrics and facts apart from config keys of the same name;
a config key that still collides (a config group called ``metrics``) makes the
run a reported skip, as any collision does.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from ...errors import SettingsFileError
from ..layouts import missing_anchor
from ..loaders import load_config_yaml, load_json, parse_number, read_settings

__all__ = [
    "METRICS",
    "RUN",
    "metrics_part",
    "facts_part",
    "found_near",
    "param_value",
    "require_config",
    "utc_from_seconds",
    "read_optional",
    "read_json",
    "read_yaml",
]

METRICS = "metrics."
RUN = "run."


def metrics_part(label: str, metrics: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(label, {'metrics.loss': ..})``: final metric values under their column names."""
    return label, {METRICS + str(name): value for name, value in metrics.items()}


def facts_part(label: str, facts: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(label, {'run.status': ..})``: the facts the tool recorded, those it has."""
    return label, {RUN + name: value for name, value in facts.items() if value is not None}


def utc_from_seconds(seconds: float | None) -> dt.datetime | None:
    """An epoch time in seconds as an aware UTC datetime (``None`` stays ``None``)."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def read_json(path: str) -> dict[str, Any]:
    """A JSON file that must hold a dict (else a :class:`SettingsFileError`)."""
    return read_settings(path, load_json)


def read_yaml(path: str) -> dict[str, Any]:
    """A YAML file that must hold a dict; an empty file is an empty dict."""
    return read_settings(path, _load_yaml_or_empty)


def _load_yaml_or_empty(path: str) -> Any:
    loaded = load_config_yaml(path)
    return {} if loaded is None else loaded


def read_optional(path: str, read: Any, missing: list[str], label: str) -> Any:
    """``read(path)``, or ``None`` with ``label`` added to ``missing`` when the file is absent.

    A crashed or running run lacks its metrics: a row with NULL there, counted
    in the report. A file that exists but cannot be read is a skip.
    """
    try:
        return read(path)
    except SettingsFileError:
        if os.path.exists(path):
            raise
        missing.append(label)
        return None


def require_config(run_dir: str, name: str) -> str:
    """The path of the run's config file ``name``; a run without it is a skip saying so."""
    path = os.path.join(run_dir, name)
    if not os.path.exists(path):
        present = sorted(entry for entry in os.listdir(run_dir) if not entry.startswith("."))
        raise missing_anchor(run_dir, name, present or ["nothing else"])
    return path


def found_near(root: str, test: Callable[[str, list[str]], bool], depth: int = 3) -> bool:
    """Whether ``test(directory, names)`` holds for ``root`` or a folder a few levels below.

    For ``source='auto'``: only the first few folders of each level are looked
    at, so recognising a tree never walks all of it.
    """
    try:
        names = os.listdir(root)
    except OSError:
        return False
    if test(root, names):
        return True
    if depth == 0:
        return False
    return any(
        found_near(os.path.join(root, name), test, depth - 1)
        for name in sorted(names)[:20]
        if not name.startswith(".") and os.path.isdir(os.path.join(root, name))
    )


_BOOLEANS = {"True": True, "False": False, "true": True, "false": False}


def param_value(text: str) -> Any:
    """A param's text as the value it was logged as, where that is a number or a bool.

    >>> param_value('2'), param_value('0.01'), param_value('True'), param_value('sgd')
    (2, 0.01, True, 'sgd')
    """
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    return parse_number(text)
