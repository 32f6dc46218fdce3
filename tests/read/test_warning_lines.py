"""naklar's warnings point at the line of the caller's code that led to them."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import naklar
from naklar import experiment
from naklar.errors import NaklarWarning


@pytest.fixture
def tree_with_a_broken_file(make_tree: Any) -> Path:
    root: Path = make_tree({"a": {"C": 1}, "b": {"C": 2}}, fmt="json")
    (root / "b" / "conf.json").write_text("{not json")
    return root


def _next_line() -> int:
    """The number of the caller's next line."""
    return sys._getframe(1).f_lineno + 1


def _naklar_warnings(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [record for record in caught if record.category is NaklarWarning]


@pytest.mark.parametrize(
    "load", [naklar.load, experiment.initialise], ids=["naklar.load", "initialise"]
)
def test_a_load_warns_at_the_callers_line(load: Any, tree_with_a_broken_file: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _next_line()
        load(tree_with_a_broken_file, dict_file="conf.json", workers=1)

    [record] = _naklar_warnings(caught)
    assert "b/conf.json" in str(record.message)
    assert (record.filename, record.lineno) == (__file__, line)


def test_a_refresh_warns_at_the_callers_line(make_tree: Any) -> None:
    root: Path = make_tree({"a": {"C": 1}}, fmt="json")
    store = naklar.load(root, dict_file="conf.json", workers=1)
    (root / "b").mkdir()
    (root / "b" / "conf.json").write_text("{not json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _next_line()
        store.refresh(workers=1)

    [record] = _naklar_warnings(caught)
    assert (record.filename, record.lineno) == (__file__, line)
