"""Each public module says what it exports, and exports only what exists."""

from __future__ import annotations

import importlib

import pytest

PUBLIC_MODULES = [
    "naklar",
    "naklar.errors",
    "naklar.discover",
    "naklar.loaders",
    "naklar.schema",
    "naklar.model",
    "naklar.loading",
    "naklar.filters",
    "naklar.masks",
    "naklar.frames",
    "naklar.accessor",
    "naklar.reading",
    "naklar.parallel",
    "naklar.bulk",
    "naklar.catalog",
    "naklar.refreshing",
    "naklar.progress",
    "naklar.store",
    "naklar.decorator",
    "naklar.util",
    "naklar.demo",
    "naklar.cli",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_module_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)

    assert module.__all__, f"{name} has an empty __all__"
    assert [symbol for symbol in module.__all__ if not hasattr(module, symbol)] == []


def test_experiment_exports_the_documented_api() -> None:
    from naklar import experiment

    for name in ["initialise", "connect", "reset", "select", "frame", "open", "refresh"]:
        assert callable(getattr(experiment, name))
    assert experiment._engine is not None


def test_util_and_decorator_names_from_the_documentation() -> None:
    from naklar import decorator, util

    assert callable(util.load_joblib)
    assert callable(decorator.translate_path)


@pytest.mark.parametrize("name", ["naklar", "naklar.experiment"])
def test_star_import_works_before_initialise_and_keeps_builtin_open(name: str) -> None:
    namespace: dict[str, object] = {}

    exec(f"from {name} import *", namespace)

    assert "open" not in namespace
    assert "initialise" in namespace or "load" in namespace
