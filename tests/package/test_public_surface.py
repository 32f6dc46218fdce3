"""The public surface is exactly what the README documents; everything else is private."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import naklar

#: The exception tree (``naklar.errors``), re-exported by ``naklar``.
ERRORS = {
    "NaklarError",
    "NaklarWarning",
    "NotInitialisedError",
    "SettingsFileError",
    "NoSettingsFilesError",
    "NothingLoadedError",
    "UnsupportedValueError",
    "UnknownColumnError",
    "FilterError",
}
#: Public module -> its ``__all__``, as the README documents them.
PUBLIC = {
    "naklar": ERRORS | {"Store", "load", "LoadReport", "Skipped", "NaklarAccessor", "__version__"},
    "naklar.experiment": {
        "initialise",
        "connect",
        "refresh",
        "reset",
        "select",
        "frame",
        "store",
        "varying",
        "constants",
        "summary",
        "missing",
        "duplicates",
        "aggregate",
        "best",
        "diff",
    },
    "naklar.decorator": {"translate_path"},
    "naklar.util": {"load_joblib", "load_json", "write_iris_sweep"},
    "naklar.errors": ERRORS,
}


def _all_modules() -> list[str]:
    found = ["naklar"]
    for info in pkgutil.walk_packages(naklar.__path__, "naklar."):
        found.append(info.name)
    return found


def test_every_module_but_the_public_ones_is_private() -> None:
    public = [
        name
        for name in _all_modules()
        if not any(part.startswith("_") for part in name.split(".")[1:])
    ]

    assert sorted(public) == sorted(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_public_module_exports_exactly_the_documented_names(name: str) -> None:
    module = importlib.import_module(name)

    assert set(module.__all__) == PUBLIC[name]
    assert [symbol for symbol in module.__all__ if not hasattr(module, symbol)] == []


def test_open_is_public_but_not_star_imported() -> None:
    from naklar import experiment

    assert callable(naklar.open) and callable(experiment.open)
    assert "open" not in naklar.__all__ and "open" not in experiment.__all__


def test_experiment_serves_the_documented_module_api() -> None:
    from naklar import experiment

    for name in ["initialise", "connect", "reset", "select", "frame", "open", "refresh"]:
        assert callable(getattr(experiment, name))
    assert experiment._engine is not None


@pytest.mark.parametrize("name", ["naklar", "naklar.experiment"])
def test_star_import_works_before_initialise_and_keeps_builtin_open(name: str) -> None:
    namespace: dict[str, object] = {}

    exec(f"from {name} import *", namespace)

    assert "open" not in namespace
    assert "initialise" in namespace or "load" in namespace
