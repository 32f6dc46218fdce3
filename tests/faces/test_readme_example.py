"""The README's first example answers something on the iris sweep it describes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from naklar import experiment

README = Path(__file__).parents[2] / "README.md"


def first_example() -> list[str]:
    match = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert match is not None
    return [line.split("#")[0].strip() for line in match.group(1).splitlines() if line.strip()]


def test_readme_first_example_selects_runs_from_the_iris_sweep(
    iris_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(iris_tree.parent)
    lines = first_example()
    assert lines[0] == "from naklar import experiment"
    exec(lines[1], {"experiment": experiment})  # initialise('./results/', ...)
    for line in lines[2:]:
        answer = eval(line, {"experiment": experiment})
        assert len(answer) > 0, f"{line} selects nothing"
