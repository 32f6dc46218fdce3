"""Reading one settings file: reasons for failures, and keys as strings."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from naklar._read.loaders import (
    describe_error,
    load_json,
    load_pickle,
    loader_for,
    parser_for,
    read_and_stat_settings,
    read_settings,
)
from naklar.errors import SettingsFileError


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            EOFError("Ran out of input"),
            "file ends early (EOFError: Ran out of input): the run was probably killed while "
            "writing it",
        ),
        (
            pickle.UnpicklingError("pickle data was truncated"),
            "file ends early (UnpicklingError: pickle data was truncated): the run was "
            "probably killed while writing it",
        ),
        (PermissionError(13, "Permission denied"), "permission denied"),
        (IsADirectoryError(21, "Is a directory"), "is a directory, not a file"),
        (FileNotFoundError(2, "No such file"), "file vanished before it could be read"),
        (
            json.JSONDecodeError("Expecting value", "", 0),
            "invalid JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        (
            UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
            "not valid text (invalid start byte at byte 0)",
        ),
        (
            pickle.UnpicklingError("invalid load key, 'x'."),
            "UnpicklingError: invalid load key, 'x'.",
        ),
    ],
    ids=["eof", "truncated", "permission", "directory", "vanished", "json", "unicode", "garbage"],
)
def test_describe_error_reason(error: BaseException, reason: str) -> None:
    assert describe_error(error) == reason


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({1: "a", 2.5: "b", None: "c", "d": 4}, {"1": "a", "2.5": "b", "None": "c", "d": 4}),
        ({("a", 1): 0}, {"('a', 1)": 0}),
    ],
    ids=["scalars", "tuple"],
)
def test_read_settings_keys_become_strings(
    tmp_path: Path, settings: dict[Any, Any], expected: dict[str, Any]
) -> None:
    path = tmp_path / "conf.pkl"
    path.write_bytes(pickle.dumps(settings))

    assert read_settings(str(path), load_pickle) == expected


def test_read_settings_not_a_mapping_raises(tmp_path: Path) -> None:
    path = tmp_path / "conf.pkl"
    path.write_bytes(pickle.dumps("a string"))

    with pytest.raises(SettingsFileError) as raised:
        read_settings(str(path), load_pickle)

    assert raised.value.reason == "expected a dict of settings, the file holds a str"


def _write(path: Path, settings: Any, fmt: str) -> Path:
    if fmt == "json":
        path.write_text(json.dumps(settings))
    else:
        path.write_bytes(pickle.dumps(settings))
    return path


@pytest.mark.parametrize("fmt", ["json", "pkl"])
def test_a_built_in_loader_reads_as_its_parser_with_the_files_status(
    tmp_path: Path, fmt: str
) -> None:
    path = _write(tmp_path / f"conf.{fmt}", {"C": 1, 2: "b"}, fmt)
    parse = parser_for(loader_for(path.name))
    assert parse is not None

    settings, status = read_and_stat_settings(str(path), parse)

    assert settings == read_settings(str(path), loader_for(path.name)) == {"C": 1, "2": "b"}
    on_disk = os.stat(path)
    assert (status.st_size, status.st_mtime_ns) == (on_disk.st_size, on_disk.st_mtime_ns)


def test_other_loaders_have_no_parser() -> None:
    assert parser_for(lambda path: {}) is None
    assert parser_for(loader_for("conf.joblib")) is None  # joblib memory-maps by path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "file vanished before it could be read"),
        (b"[1, 2]", "expected a dict of settings, the file holds a list"),
        (b"{", "invalid JSON: Expecting property name enclosed in double quotes"),
    ],
)
def test_reading_with_a_parser_fails_as_reading_by_path(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "conf.json"
    if content is not None:
        path.write_bytes(content)
    parse = parser_for(load_json)
    assert parse is not None

    with pytest.raises(SettingsFileError) as by_parser:
        read_and_stat_settings(str(path), parse)
    with pytest.raises(SettingsFileError) as by_path:
        read_settings(str(path), load_json)

    assert by_parser.value.reason == by_path.value.reason
    assert by_parser.value.reason.startswith(reason)
