"""The walk ends on any tree, follows a documented rule for hidden and linked directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from naklar import experiment
from naklar._read.walk import find_settings_files
from naklar.errors import NoSettingsFilesError

from messages import assert_mentions
from trees import write_settings


def relative(paths: list[str], root: Path) -> list[str]:
    return [os.path.relpath(path, root) for path in paths]


@pytest.fixture
def looped_tree(tmp_path: Path) -> Path:
    """``a/loop -> ..`` (a loop back to the root) and ``link_b -> b``."""
    root = tmp_path / "results"
    write_settings(root / "a" / "conf.pkl", {"i": 0}, "pkl")
    write_settings(root / "b" / "conf.pkl", {"i": 1}, "pkl")
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    (root / "link_b").symlink_to(root / "b", target_is_directory=True)
    return root


def test_find_settings_files_symlinks_not_followed_by_default(looped_tree: Path) -> None:
    found = find_settings_files(str(looped_tree), "conf.pkl")

    assert relative(found.paths, looped_tree) == ["a/conf.pkl", "b/conf.pkl"]
    assert relative(found.symlinked, looped_tree) == ["link_b", "a/loop"]  # walk order


def test_find_settings_files_follow_symlinks_visits_each_directory_once(
    looped_tree: Path,
) -> None:
    found = find_settings_files(str(looped_tree), "conf.pkl", follow_symlinks=True)

    assert relative(found.paths, looped_tree) == ["a/conf.pkl", "b/conf.pkl"]
    assert found.problems == []


@pytest.mark.parametrize(
    ("include_hidden", "expected"),
    [
        (False, ["conf.pkl", "run/conf.pkl"]),
        (True, ["conf.pkl", ".cache/conf.pkl", "run/conf.pkl"]),
    ],
    ids=["default", "include_hidden"],
)
def test_find_settings_files_hidden_directories(
    tmp_path: Path, include_hidden: bool, expected: list[str]
) -> None:
    root = tmp_path / ".results"  # the root itself is walked even when hidden
    for directory in (root, root / "run", root / ".cache"):
        write_settings(directory / "conf.pkl", {"i": 0}, "pkl")

    found = find_settings_files(str(root), "conf.pkl", include_hidden=include_hidden)

    assert relative(found.paths, root) == expected


def test_find_settings_files_natural_order(tmp_path: Path) -> None:
    for name in ("10", "2", "run1", "Run0"):
        write_settings(tmp_path / name / "conf.json", {}, "json")

    found = find_settings_files(str(tmp_path), "conf.json")

    assert relative(found.paths, tmp_path) == [
        "2/conf.json",
        "10/conf.json",
        "Run0/conf.json",
        "run1/conf.json",
    ]


def test_initialise_missing_root_names_directory_and_dict_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")

    with pytest.raises(NoSettingsFilesError) as raised:
        experiment.initialise(missing, dict_file="conf.json")

    assert_mentions(str(raised.value), repr(missing), "does not exist", "'conf.json'")


def test_initialise_root_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "conf.pkl"
    file.write_bytes(b"")

    with pytest.raises(NoSettingsFilesError) as raised:
        experiment.initialise(str(file))

    assert_mentions(str(raised.value), repr(str(file)), "is a file", "'conf.pkl'")


def test_initialise_no_settings_file_hints_at_hidden_and_linked(looped_tree: Path) -> None:
    (looped_tree / "a" / "conf.pkl").rename(looped_tree / "a" / "other.pkl")
    (looped_tree / "b" / "conf.pkl").rename(looped_tree / ".b")

    with pytest.raises(NoSettingsFilesError) as raised:
        experiment.initialise(str(looped_tree))

    assert_mentions(
        str(raised.value),
        "no file named 'conf.pkl'",
        repr(str(looped_tree)),
        "dict_file=",
        "2 symlinked directories",
        "follow_symlinks=True",
    )


def test_initialise_no_settings_file_is_a_naklar_and_file_not_found_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError):
        experiment.initialise(str(tmp_path))
