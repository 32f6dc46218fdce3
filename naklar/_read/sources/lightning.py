"""PyTorch Lightning's CSV logger: ``lightning_logs/version_<n>/{hparams.yaml, metrics.csv}``.

``hparams.yaml`` holds the saved hyper-parameters (nested YAML); ``metrics.csv``
one row per logging step with empty cells where a step logged nothing: the
final value of a metric is the last non-empty cell of its column. Lightning
records no status or times; ``run.id`` is the version number.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..layouts import RunLayout, RunParts
from ..loaders import load_csv_last, read_settings
from .common import facts_part, found_near, metrics_part, read_optional, read_yaml, require_config

__all__ = ["layout", "recognises"]

HPARAMS, METRICS = "hparams.yaml", "metrics.csv"
_VERSION = re.compile(r"version_(\d+)")


def read_run(run_dir: str) -> RunParts:
    missing: list[str] = []
    parts: list[tuple[str, dict[str, Any]]] = [
        (HPARAMS, read_yaml(require_config(run_dir, HPARAMS)))
    ]
    path = os.path.join(run_dir, METRICS)
    metrics = read_optional(path, lambda path: read_settings(path, load_csv_last), missing, METRICS)
    if metrics is not None:
        parts.append(metrics_part(METRICS, metrics))
    version = _VERSION.fullmatch(os.path.basename(run_dir))
    parts.append(facts_part("version", {"id": int(version[1]) if version else None}))
    return parts, missing


def run_files(run_dir: str) -> list[str]:
    return [os.path.join(run_dir, HPARAMS), os.path.join(run_dir, METRICS)]


def layout(root: str) -> RunLayout:
    return RunLayout(
        anchor=HPARAMS,
        markers=frozenset({HPARAMS, METRICS}),
        read=read_run,
        files=run_files,
        name="lightning versions (hparams.yaml + metrics.csv)",
        enter_runs=False,
    )


def recognises(root: str) -> bool:
    """A ``version_<n>`` folder with ``hparams.yaml`` or ``metrics.csv`` at or below ``root``."""
    return found_near(
        root,
        lambda directory, names: (
            bool(_VERSION.fullmatch(os.path.basename(directory)))
            and bool({HPARAMS, METRICS} & set(names))
        ),
        2,
    )
