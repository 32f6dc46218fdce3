"""Hydra multiruns: ``multirun/<date>/<time>/<job>/.hydra/config.yaml`` plus the task's metrics.

Hydra writes the composed config (nested YAML) and the job's overrides in the
hidden ``.hydra/`` folder; the metrics are whatever file the task writes beside
it, ``metrics.json`` by convention. Hydra records no status or times: a crashed
job shows as a row without metrics. ``multirun.yaml`` (the sweep's config) and
the date and time folders are not runs.
"""

from __future__ import annotations

import os
from typing import Any

from ..layouts import RunLayout, RunParts
from ..loaders import load_config_yaml
from .common import (
    facts_part,
    found_near,
    metrics_part,
    read_json,
    read_optional,
    read_yaml,
    require_config,
)

__all__ = ["layout", "recognises"]

CONFIG = ".hydra/config.yaml"
OVERRIDES = ".hydra/overrides.yaml"
METRICS_FILE = "metrics.json"


def read_run(run_dir: str) -> RunParts:
    missing: list[str] = []
    config = read_yaml(require_config(run_dir, CONFIG))
    parts: list[tuple[str, dict[str, Any]]] = [(CONFIG, config)]
    metrics = read_optional(os.path.join(run_dir, METRICS_FILE), read_json, missing, METRICS_FILE)
    if metrics is not None:
        parts.append(metrics_part(METRICS_FILE, metrics))
    overrides = _overrides(os.path.join(run_dir, OVERRIDES))
    if overrides is not None:
        parts.append(facts_part(OVERRIDES, {"name": ",".join(map(str, overrides))}))
    return parts, missing


def _overrides(path: str) -> list[Any] | None:
    """The job's overrides (``['model=mlp', 'optim.lr=0.1']``), if Hydra wrote them."""
    try:
        overrides = load_config_yaml(path)
    except OSError:
        return None
    return overrides if isinstance(overrides, list) else None


def run_files(run_dir: str) -> list[str]:
    return [os.path.join(run_dir, CONFIG), os.path.join(run_dir, METRICS_FILE)]


def layout(root: str) -> RunLayout:
    return RunLayout(
        anchor=CONFIG,
        markers=frozenset({".hydra"}),
        read=read_run,
        files=run_files,
        name="hydra runs (.hydra/config.yaml + metrics.json)",
        enter_runs=False,
    )


def recognises(root: str) -> bool:
    """A sweep folder (``multirun.yaml``) or a job (``.hydra/``) within two levels of ``root``."""
    return found_near(root, lambda directory, names: "multirun.yaml" in names or ".hydra" in names)
