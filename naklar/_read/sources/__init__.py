"""The sweep tools naklar reads without a ``load_func``: ``load(root, source=NAME)``.

Each tool's module knows its run folders (:class:`naklar._read.layouts.RunLayout`)
and how to recognise its trees for ``source='auto'``. All name their columns
alike (:mod:`naklar._read.sources.common`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from ...errors import NaklarError
from ..layouts import RunLayout
from . import hydra, lightning, mlflow, raytune, sacred

__all__ = ["SOURCES", "layout_for_source", "recognise"]

#: Source name -> its module (``layout(root)``, ``recognises(root)``), in the
#: order ``'auto'`` tries them.
SOURCES: dict[str, ModuleType] = {
    "hydra": hydra,
    "sacred": sacred,
    "mlflow": mlflow,
    "raytune": raytune,
    "lightning": lightning,
}


def layout_for_source(name: str, root: str) -> RunLayout:
    """The layout of ``source=name`` runs under ``root``; ``'auto'`` recognises the tool."""
    if name == "auto":
        name = recognise(root)
    module = SOURCES.get(name)
    if module is None:
        raise NaklarError(
            f"source={name!r} is not a source naklar knows: use one of "
            f"{', '.join(map(repr, [*SOURCES, 'auto']))}, or dict_file= and load_func= "
            "for other layouts"
        )
    layout: Callable[[str], RunLayout] = module.layout
    return layout(root)


def recognise(root: str) -> str:
    """The one source whose marker files are under ``root``; an error if none or several."""
    found = [name for name, module in SOURCES.items() if module.recognises(root)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NaklarError(
            f"source='auto' recognises no sweep tool under {root!r} (looked for Hydra's "
            "multirun.yaml or .hydra/, Sacred's _sources/ or run.json, MLflow's meta.yaml, "
            "Ray Tune's experiment_state-*.json, Lightning's version_<n>/); pass source= "
            "or dict_file="
        )
    raise NaklarError(
        f"source='auto' finds the marker files of {' and '.join(found)} under {root!r}; "
        "pass source= with the one you mean"
    )
