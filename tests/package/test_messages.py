"""One exact-text test per error class: how naklar words what went wrong, where, and the fix.

Every other test checks messages by their key parts (``tests/messages.py``), so
rewording a message changes this file alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import naklar
from naklar import experiment


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run 0 reads; run 1 holds broken JSON. Paths in messages are relative to the tmp dir."""
    monkeypatch.chdir(tmp_path)
    for run, text in [("0", json.dumps({"i": 0, "C": 1.0})), ("1", "{broken")]:
        (tmp_path / "results" / run).mkdir(parents=True)
        (tmp_path / "results" / run / "conf.json").write_text(text)
    return Path("results")


def _message(error: pytest.ExceptionInfo[BaseException]) -> str:
    return str(error.value)


def test_no_settings_files_error_text(root: Path) -> None:
    with pytest.raises(naklar.NoSettingsFilesError) as error:
        experiment.initialise("nope", dict_file="conf.json")

    assert _message(error) == (
        "root_dir 'nope' does not exist, so no 'conf.json' files can be found there; "
        "pass the folder that holds one sub-directory per run"
    )


def test_settings_file_error_text(root: Path) -> None:
    with pytest.raises(naklar.SettingsFileError) as error:
        experiment.initialise(root, dict_file="conf.json", on_error="raise")

    assert _message(error) == (
        "cannot load settings from results/1/conf.json: invalid JSON: Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1). Fix or remove it, or pass "
        "on_error='warn' to skip unreadable files and load the rest"
    )


def test_not_initialised_error_text() -> None:
    with pytest.raises(naklar.NotInitialisedError) as error:
        experiment.select("i")

    assert _message(error) == (
        "nothing is loaded yet: call initialise(root_dir) or naklar.load(root_dir) first"
    )


def test_unknown_column_error_text(root: Path) -> None:
    store = naklar.load(root, dict_file="conf.json", on_error="ignore")

    with pytest.raises(naklar.UnknownColumnError) as error:
        store.select("kernal")

    assert _message(error) == "'kernal' is not a column. Columns are: 'naklar_dir', 'i', 'C'"


def test_filter_error_text(root: Path) -> None:
    store = naklar.load(root, dict_file="conf.json", on_error="ignore")

    with pytest.raises(naklar.FilterError) as error:
        store.select(C__between=(1,))

    assert _message(error) == "C__between= takes a pair (low, high), got (1,)"


def test_unsupported_value_error_text(root: Path) -> None:
    with pytest.raises(naklar.UnsupportedValueError) as error:
        naklar.load(
            root,
            dict_file="conf.json",
            load_func=lambda path: {"x": np.arange(2)},
            on_unsupported="raise",
        )

    assert _message(error) == (
        "key 'x' in results/0/conf.json: values of type ndarray in 2 file(s) map onto no "
        "column type. Leave it out with restrict_keys=, turn it into a path or scalar with "
        "load_func=, or use on_unsupported='warn' to drop it"
    )


def test_nothing_loaded_error_text(root: Path) -> None:
    def broken(path: str) -> dict[str, int]:
        raise ZeroDivisionError("division by zero")

    with pytest.raises(naklar.NothingLoadedError) as error:
        naklar.load(root, dict_file="conf.json", load_func=broken, workers=1)

    assert _message(error) == (
        "2 'conf.json' files found under 'results', and none could be loaded: "
        "results/0/conf.json: ZeroDivisionError: division by zero; "
        "results/1/conf.json: ZeroDivisionError: division by zero. Fix the files (or "
        "load_func=) so they read as dicts; every file and its reason is in this error's "
        "report (error.report.skipped). Pass on_error='ignore' to accept an empty table"
    )


def test_naklar_error_text_for_a_decorator_on_a_reserved_column(root: Path) -> None:
    with pytest.raises(naklar.NaklarError) as error:
        naklar.load(root, dict_file="conf.json", decorators={"naklar_id": (lambda s, v: v,)})

    assert _message(error) == (
        "a decorator cannot be named 'naklar_id': naklar fills that column itself (a settings "
        "key of that name is stored as 'naklar_id_1'); name the decorator after a settings key "
        "or a new column"
    )


def test_naklar_warning_text_for_a_skipped_file(root: Path) -> None:
    with pytest.warns(naklar.NaklarWarning) as caught:
        naklar.load(root, dict_file="conf.json")

    assert [str(warning.message) for warning in caught] == [
        "1 of 2 settings files skipped: results/1/conf.json: invalid JSON: Expecting property "
        "name enclosed in double quotes: line 1 column 2 (char 1). The full list is in the load "
        "report (experiment.report.skipped); pass on_error='raise' to stop at the first one."
    ]
