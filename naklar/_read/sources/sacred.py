"""Sacred's ``FileStorageObserver``: ``<observer dir>/<id>/{config,run,metrics}.json``.

``config.json`` is the nested config; ``metrics.json`` holds every logged value
as ``{name: {steps, timestamps, values}}`` (the last value is the final one);
``run.json`` the status and times (UTC, written without a zone). ``_sources/``
and ``_resources/`` are not runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

from ..layouts import RunLayout, RunParts
from .common import facts_part, found_near, metrics_part, read_json, read_optional, require_config

__all__ = ["layout", "recognises"]

CONFIG, RUN, METRICS = "config.json", "run.json", "metrics.json"


def read_run(run_dir: str) -> RunParts:
    missing: list[str] = []
    parts: list[tuple[str, dict[str, Any]]] = [(CONFIG, read_json(require_config(run_dir, CONFIG)))]
    logged = read_optional(os.path.join(run_dir, METRICS), read_json, missing, METRICS)
    if logged is not None:
        parts.append(metrics_part(METRICS, _final_values(logged)))
    record = read_optional(os.path.join(run_dir, RUN), read_json, missing, RUN)
    facts: dict[str, Any] = {"id": _run_id(run_dir)}
    if record is not None:
        facts["name"] = (record.get("experiment") or {}).get("name")
        facts["status"] = record.get("status")
        facts["start"] = _utc(record.get("start_time"))
        facts["end"] = _utc(record.get("stop_time"))
    parts.append(facts_part(RUN, facts))
    return parts, missing


def _final_values(logged: dict[str, Any]) -> dict[str, Any]:
    final = {}
    for name, series in logged.items():
        values = series.get("values") if isinstance(series, dict) else None
        if values:
            final[name] = values[-1]
    return final


def _run_id(run_dir: str) -> int | str:
    name = os.path.basename(run_dir)
    return int(name) if name.isdigit() else name


def _utc(text: Any) -> dt.datetime | None:
    """Sacred writes UTC times without a zone."""
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def run_files(run_dir: str) -> list[str]:
    return [os.path.join(run_dir, name) for name in (CONFIG, METRICS, RUN)]


def layout(root: str) -> RunLayout:
    return RunLayout(
        anchor=CONFIG,
        markers=frozenset({CONFIG, RUN}),
        read=read_run,
        files=run_files,
        name="sacred runs (config.json + metrics.json + run.json)",
        run_name=re.compile(r"(?!_).*"),  # _sources, _resources
        enter_runs=False,
    )


def recognises(root: str) -> bool:
    """``_sources/`` beside run folders, or a run folder with ``run.json`` + ``config.json``."""
    return found_near(
        root, lambda directory, names: "_sources" in names or {RUN, CONFIG} <= set(names), 1
    )
