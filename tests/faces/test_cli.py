"""The ``naklar`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from naklar._cli import main


def test_demo_writes_the_sweep_and_prints_selections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], iris_tree: Path
) -> None:
    target = tmp_path / "demo"

    assert main(["demo", str(target)]) == 0

    out = capsys.readouterr().out
    assert sorted(int(p.name) for p in target.iterdir()) == list(range(12))
    assert "12 conf.json files under" in out and "12 loaded, 0 skipped" in out
    assert f"('{target}/2',)" in out
    assert "linear" in out.split("pivot_table")[-1]


def test_show_prints_report_and_runs(make_tree: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_tree({"0": {"lr": 0.1}, "1": {"lr": 0.2}}, fmt="json")

    assert main(["show", str(root), "--dict-file", "conf.json", "--columns", "lr"]) == 0

    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"2 conf.json files under {root}: 2 loaded, 0 skipped"
    assert "0.2" in out


def test_unknown_command_exits_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])

    assert exited.value.code == 2
    assert "usage: naklar" in capsys.readouterr().err
