"""MLflow's file store: ``mlruns/<experiment id>/<run id>/{meta.yaml, params/, metrics/, tags/}``.

Each param is a file holding its value as text: text that reads as a number
becomes a number (``'2'`` -> 2), so ``max_depth__gt=5`` compares numbers. Each
metric is a file of ``<timestamp> <value> <step>`` lines; the final value is
that of the largest ``(step, timestamp)``, MLflow's own rule. Tags become
``tags.<key>``. An experiment's ``meta.yaml``, ``.trash/`` and the artifacts
are not runs. A run deleted in MLflow (``lifecycle_stage: deleted`` in its
``meta.yaml``; the folder stays until ``mlflow gc``) is left out, as MLflow's
own views leave it out, and listed in the load report. MLflow is not
imported: the files are read as they are.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ...errors import SettingsFileError
from ..layouts import NotARun, RunLayout, RunParts
from . import mlflow_db
from .common import (
    facts_part,
    found_near,
    metrics_part,
    param_value,
    read_yaml,
    require_config,
    utc_from_seconds,
)

__all__ = ["layout", "recognises", "STATUS_NAMES"]

META = "meta.yaml"
FOLDERS = ("params", "metrics", "tags")
#: MLflow's RunStatus enum, as meta.yaml stores it.
STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


def read_run(run_dir: str) -> RunParts:
    meta_path = require_config(run_dir, META)
    meta = read_yaml(meta_path)
    if meta.get("lifecycle_stage") == "deleted":
        raise NotARun(meta_path, mlflow_db.DELETED)
    params = {key: param_value(text) for key, text in _files_in(run_dir, "params").items()}
    metrics = {
        key: _final_metric(os.path.join(run_dir, "metrics", *key.split("/")), text)
        for key, text in _files_in(run_dir, "metrics").items()
    }
    tags = {"tags." + key: text for key, text in _files_in(run_dir, "tags").items()}
    status = meta.get("status")
    facts = {
        "id": meta.get("run_id") or os.path.basename(run_dir),
        "name": meta.get("run_name"),
        "status": STATUS_NAMES.get(status, status) if isinstance(status, int) else status,
        "start": _utc_ms(meta.get("start_time")),
        "end": _utc_ms(meta.get("end_time")),
        "experiment_id": meta.get("experiment_id"),
    }
    parts = [("params/", params), metrics_part("metrics/", metrics), ("tags/", tags)]
    return [*parts, facts_part(META, facts)], []


def _utc_ms(value: Any) -> Any:
    return utc_from_seconds(value / 1000) if isinstance(value, int) else None


def _files_in(run_dir: str, folder: str) -> dict[str, str]:
    """Every file under ``run_dir/folder``, by key (``a/b`` for a sub-folder), as text."""
    top = os.path.join(run_dir, folder)
    found: dict[str, str] = {}
    for directory, _, names in os.walk(top):
        for name in names:
            path = os.path.join(directory, name)
            key = os.path.relpath(path, top).replace(os.sep, "/")
            with open(path, encoding="utf-8") as handle:
                found[key] = handle.read()
    return found


def _final_metric(path: str, text: str) -> float | None:
    """The value of the line with the largest ``(step, timestamp)``."""
    best: tuple[int, int] | None = None
    value = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        try:
            timestamp, number = int(fields[0]), float(fields[1])
            step = int(fields[2]) if len(fields) > 2 else 0
        except ValueError as error:
            raise SettingsFileError(
                path, f"metric line {line!r} is not 'timestamp value step'"
            ) from error
        if best is None or (step, timestamp) >= best:
            best, value = (step, timestamp), number
    return value


def run_files(run_dir: str) -> list[str]:
    """meta.yaml, the folders (a new param, metric or tag changes them) and every file in them.

    MLflow rewrites a tag's file in place (``set_tag`` on an existing key), which
    leaves its folder's mtime as it was: only the file's own stamp shows it.
    """
    files = [os.path.join(run_dir, META)]
    files += [os.path.join(run_dir, folder) for folder in FOLDERS]
    for folder in FOLDERS:
        for directory, subdirectories, names in os.walk(os.path.join(run_dir, folder)):
            subdirectories.sort()  # the same order on every refresh: the stamp hashes it
            files += [os.path.join(directory, name) for name in sorted(names)]
    return files


def layout(root: str) -> RunLayout:
    """The file store's runs, or the runs in ``root/mlflow.db`` when there is one."""
    if mlflow_db.recognises(root):
        return mlflow_db.layout(root)
    return RunLayout(
        anchor=META,
        markers=frozenset({META}),
        read=read_run,
        files=run_files,
        name="mlflow runs (meta.yaml + params/ + metrics/ + tags/)",
        run_name=re.compile(r"[0-9a-f]{32}"),
        enter_runs=False,
    )


def recognises(root: str) -> bool:
    """``mlflow.db``, or an experiment folder (``meta.yaml`` and run folders) below ``root``."""
    return mlflow_db.recognises(root) or found_near(
        root,
        lambda directory, names: (
            META in names and any(re.fullmatch(r"[0-9a-f]{32}", name) for name in names)
        ),
        2,
    )
