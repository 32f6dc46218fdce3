"""Runs of several files: how the walk finds them and how one stamp covers all their files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from naklar._read.layouts import files_layout
from naklar._read.sources import SOURCES, layout_for_source
from naklar._read.walk import Discovery, find_settings_files, stamp_run
from naklar.errors import NaklarError


def touch(path: Path, text: str = "{}") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    touch(tmp_path / "a" / ".hydra" / "config.yaml", "x: 1\n")
    touch(tmp_path / "a" / "metrics.json")
    touch(tmp_path / "b" / "metrics.json")  # config missing: a run all the same
    touch(tmp_path / "c" / "notes.txt")  # not a run
    touch(tmp_path / "a" / "inner" / ".hydra" / "config.yaml", "x: 2\n")
    return tmp_path


def test_walk_finds_a_run_by_any_of_its_files_and_names_its_config(runs: Path) -> None:
    layout = files_layout([".hydra/config.yaml", "metrics.json"], None)
    found = find_settings_files(str(runs), layout)

    relative = sorted(os.path.relpath(path, runs) for path in found.paths)
    assert relative == [
        os.path.join("a", ".hydra", "config.yaml"),
        os.path.join("a", "inner", ".hydra", "config.yaml"),
        os.path.join("b", ".hydra", "config.yaml"),
    ]


def test_walk_does_not_report_a_marker_folder_as_hidden(runs: Path) -> None:
    layout = files_layout([".hydra/config.yaml", "metrics.json"], None)

    assert find_settings_files(str(runs), layout).hidden == []


def test_a_source_walk_does_not_look_for_runs_inside_a_run(runs: Path) -> None:
    found = find_settings_files(str(runs), layout_for_source("hydra", str(runs)), found=Discovery())

    assert [os.path.relpath(path, runs) for path in found.paths] == [
        os.path.join("a", ".hydra", "config.yaml")
    ]


@pytest.mark.parametrize("changed", ["config.yaml", "metrics.json", "appears"])
def test_stamp_run_changes_when_any_file_of_the_run_does(tmp_path: Path, changed: str) -> None:
    layout = files_layout([".hydra/config.yaml", "metrics.json"], None)
    anchor = tmp_path / "run" / ".hydra" / "config.yaml"
    touch(anchor, "x: 1\n")
    if changed != "appears":
        touch(tmp_path / "run" / "metrics.json", '{"loss": 1}')
    prefix = len(os.path.join(str(tmp_path), ""))
    before = stamp_run(str(anchor), prefix, layout)

    if changed == "config.yaml":
        anchor.write_text("x: 22\n")
    else:
        touch(tmp_path / "run" / "metrics.json", '{"loss": 0.5}')

    after = stamp_run(str(anchor), prefix, layout)
    assert after.path == before.path == "run/.hydra/config.yaml"
    assert (after.size, after.mtime_ns) != (before.size, before.mtime_ns)


def test_stamp_run_of_a_run_without_its_config_reads_as_vanished(tmp_path: Path) -> None:
    layout = files_layout(["conf.json", "metrics.json"], None)
    touch(tmp_path / "run" / "metrics.json")

    stamp = stamp_run(str(tmp_path / "run" / "conf.json"), len(str(tmp_path)) + 1, layout)
    assert stamp.size == -1


def test_every_source_has_a_layout_and_a_recogniser(tmp_path: Path) -> None:
    for name, module in SOURCES.items():
        assert module.layout(str(tmp_path)).anchor, name
        assert module.recognises(str(tmp_path)) is False, name


def test_load_func_with_a_source_is_refused(tmp_path: Path) -> None:
    import naklar

    with pytest.raises(NaklarError, match="leave out load_func"):
        naklar.load(tmp_path, source="hydra", load_func=lambda path: {})
