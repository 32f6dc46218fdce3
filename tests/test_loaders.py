"""Reading one settings file: reasons for failures, and keys as strings."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from naklar.errors import SettingsFileError
from naklar.loaders import describe_error, load_pickle, read_settings


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
