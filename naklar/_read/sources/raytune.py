"""Ray Tune: ``<storage>/<experiment>/<trial>/{params.json, result.json}`` and the experiment state.

``params.json`` is the trial's nested config; ``result.json`` is JSON lines, one
report per line: its last complete line, read from the end of the file, gives
the final metrics (all its keys but the repeated ``config``). A trial whose
JSON logger is off has only ``progress.csv``, one row per report: its last row
gives them then (``True``/``False`` as booleans, as in ``result.json``; older
Ray's ``config/...`` columns left out, as ``config`` is). The trial's
status and start time exist only in the experiment's
``experiment_state-<date>.json`` (JSON strings inside JSON), read once per
experiment and process while it is unchanged. ``experiment_state-*.json``,
``basic-variant-state-*.json`` (a pickle: never unpickled) and ``tuner.pkl``
are not runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..layouts import RunLayout, RunParts
from ..loaders import last_json_line, load_csv_last
from .common import (
    facts_part,
    found_near,
    metrics_part,
    read_json,
    require_config,
    utc_from_seconds,
)

__all__ = ["layout", "recognises"]

PARAMS, RESULT, PROGRESS = "params.json", "result.json", "progress.csv"
_STATE_PREFIX = "experiment_state-"

#: experiment folder -> (its mtime, its newest state file, that file's mtime, trial facts)
_STATES: dict[str, tuple[int, str | None, int, dict[str, dict[str, Any]]]] = {}


def read_run(run_dir: str) -> RunParts:
    missing: list[str] = []
    parts: list[tuple[str, dict[str, Any]]] = [(PARAMS, read_json(require_config(run_dir, PARAMS)))]
    last = _last_report(run_dir)
    if last is None:
        missing.append(RESULT)
    else:
        parts.append(metrics_part(*last))
    experiment, trial = os.path.split(run_dir)
    facts = dict(_experiment_state(experiment)[1].get(trial, {}))
    facts.setdefault("id", last[1].get("trial_id") if last else None)
    parts.append(facts_part("experiment_state", facts))
    return parts, missing


def _last_report(run_dir: str) -> tuple[str, dict[str, Any]] | None:
    """``(file, report)``: the trial's last report, from result.json or else progress.csv."""
    result_path = os.path.join(run_dir, RESULT)
    last = last_json_line(result_path) if os.path.exists(result_path) else None
    if isinstance(last, dict):
        last.pop("config", None)
        return RESULT, last
    progress_path = os.path.join(run_dir, PROGRESS)
    if not os.path.exists(progress_path):
        return None
    row = {
        key: _BOOLEANS.get(value, value)
        for key, value in load_csv_last(progress_path).items()
        if not key.startswith("config/")
    }
    return (PROGRESS, row) if row else None


#: How Ray's CSV logger writes a report's booleans (``done``).
_BOOLEANS = {"True": True, "False": False}


def _experiment_state(experiment: str) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The experiment's newest state file and each trial folder's facts from it.

    Kept per process while the folder and the file keep their mtimes: a trial
    costs two stats, not a listing of the experiment and a parse of its state.
    """
    try:
        folder_mtime = os.stat(experiment).st_mtime_ns
    except OSError:
        return None, {}
    cached = _STATES.get(experiment)
    if cached is not None and cached[0] == folder_mtime:
        state = cached[1]
    else:
        names = [name for name in os.listdir(experiment) if name.startswith(_STATE_PREFIX)]
        state = os.path.join(experiment, max(names)) if names else None
    state_mtime = _mtime(state)
    if cached is not None and cached[1] == state and cached[2] == state_mtime:
        return state, cached[3]
    facts = _read_state(state) if state is not None else {}
    _STATES[experiment] = (folder_mtime, state, state_mtime, facts)
    return state, facts


def _mtime(path: str | None) -> int:
    if path is None:
        return -1
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _read_state(path: str) -> dict[str, dict[str, Any]]:
    try:
        state = read_json(path)
        facts = {}
        for trial_text, runtime_text in state.get("trial_data", []):
            trial = json.loads(trial_text)  # JSON text inside the JSON file
            runtime = json.loads(runtime_text)
            folder = trial.get("relative_logdir")
            if not isinstance(folder, str):
                continue
            facts[folder] = {
                "id": trial.get("trial_id"),
                "name": trial.get("experiment_tag"),
                "status": trial.get("status"),
                "start": utc_from_seconds(runtime.get("start_time")),
            }
        return facts
    except Exception:
        return {}  # a state file being rewritten: the facts come with the next refresh


def run_files(run_dir: str) -> list[str]:
    """params.json, result.json, progress.csv and the experiment's newest state file."""
    files = [os.path.join(run_dir, name) for name in (PARAMS, RESULT, PROGRESS)]
    state = _experiment_state(os.path.dirname(run_dir))[0]
    return files + ([state] if state else [])


def layout(root: str) -> RunLayout:
    return RunLayout(
        anchor=PARAMS,
        markers=frozenset({PARAMS, RESULT}),
        read=read_run,
        files=run_files,
        name="ray tune trials (params.json + result.json + experiment_state-*.json)",
        enter_runs=False,
    )


def recognises(root: str) -> bool:
    """An experiment folder (``experiment_state-*.json``) at or below ``root``."""
    return found_near(
        root, lambda directory, names: any(n.startswith(_STATE_PREFIX) for n in names), 1
    )
