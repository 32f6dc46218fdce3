"""Loads that load nothing, errors naming the file they are about, and misspelt options."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar import experiment
from naklar.errors import NaklarWarning, NothingLoadedError

CORRUPT = {str(i): b"{not json" for i in range(5)}


def _corrupt_tree(root: Path, count: int = 5, good: int = 0) -> Path:
    for i in range(count):
        (root / str(i)).mkdir(parents=True)
        text = json.dumps({"i": i}) if i < good else "{not json"
        (root / str(i) / "conf.json").write_text(text)
    return root


LOADERS = {
    "initialise": lambda root, **kw: experiment.initialise(root, dict_file="conf.json", **kw),
    "naklar.load": lambda root, **kw: naklar.load(root, dict_file="conf.json", **kw),
    "Store.load": lambda root, **kw: naklar.Store().load(root, dict_file="conf.json", **kw),
}


@pytest.mark.parametrize("load", LOADERS.values(), ids=LOADERS)
def test_load_of_only_unreadable_files_raises_with_report(load: Any, tmp_path: Path) -> None:
    root = _corrupt_tree(tmp_path / "results")
    with pytest.raises(NothingLoadedError) as raised:
        load(root)
    message = str(raised.value)
    assert "5 'conf.json' files found" in message
    assert "none could be loaded" in message
    assert "invalid JSON" in message and "and 2 more" in message
    assert "load_func=" in message and "on_error='ignore'" in message
    report = raised.value.report
    assert report.files_found == 5 and report.loaded == 0 and len(report.skipped) == 5
    assert isinstance(raised.value, naklar.NaklarError)


def test_load_of_only_unreadable_files_raises_under_warn_without_warning(
    tmp_path: Path,
) -> None:
    root = _corrupt_tree(tmp_path / "results")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NothingLoadedError):
            naklar.load(root, dict_file="conf.json", on_error="warn")


def test_load_of_only_unreadable_files_is_silent_under_ignore(tmp_path: Path) -> None:
    root = _corrupt_tree(tmp_path / "results")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = naklar.load(root, dict_file="conf.json", on_error="ignore")
    assert store.report is not None and store.report.loaded == 0


def test_load_with_some_readable_files_keeps_the_warning(tmp_path: Path) -> None:
    root = _corrupt_tree(tmp_path / "results", count=3, good=1)
    with pytest.warns(NaklarWarning, match="2 of 3 settings files skipped"):
        store = naklar.load(root, dict_file="conf.json")
    assert [row.i for row in store.select("i")] == [0]


def test_load_of_nothing_raises_on_every_backend(
    any_engine: sa.Engine, table_name: str, tmp_path: Path
) -> None:
    root = _corrupt_tree(tmp_path / "results", count=2)
    store = naklar.Store(any_engine, table_name=table_name)
    with pytest.raises(NothingLoadedError, match="2 'conf.json' files found"):
        store.load(root, dict_file="conf.json")
    with any_engine.connect() as connection:
        assert not sa.inspect(connection).has_table(table_name)


def test_failing_load_func_on_sibling_file_names_that_file(tmp_path: Path) -> None:
    root = _corrupt_tree(tmp_path / "results", count=2, good=2)
    (root / "0" / "metrics.json").write_text(json.dumps({"f1": 0.9}))

    def with_metrics(path: str) -> dict[str, Any]:
        settings: dict[str, Any] = json.loads(Path(path).read_text())
        settings.update(json.loads((Path(path).parent / "metrics.json").read_text()))
        return settings

    with pytest.warns(NaklarWarning) as record:
        store = naklar.load(root, dict_file="conf.json", load_func=with_metrics)
    assert store.report is not None
    (skipped,) = store.report.skipped
    assert skipped.path.endswith("1/conf.json")
    assert "metrics.json" in skipped.reason and "FileNotFoundError" in skipped.reason
    assert "vanished" not in skipped.reason
    assert "metrics.json" in str(record[0].message)


def test_vanished_settings_file_is_still_called_vanished() -> None:
    from naklar._read.loaders import describe_error

    error = FileNotFoundError(2, "No such file or directory", "run/conf.json")
    assert describe_error(error, "run/conf.json") == "file vanished before it could be read"


# -- misspelt options ------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "meant"),
    [("dict_fil", "dict_file"), ("restrict_key", "restrict_keys"), ("on_eror", "on_error")],
)
def test_initialise_misspelt_option_suggests_the_option(
    keyword: str, meant: str, tmp_path: Path
) -> None:
    with pytest.raises(TypeError, match=rf"{keyword!r}.*did you mean {meant!r}"):
        experiment.initialise(tmp_path, **{keyword: "conf.json"})


def test_initialise_option_create_engine_refuses_names_it(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"'bogus'.*create_engine.*initialise\(\) takes"):
        experiment.initialise(tmp_path, url="sqlite://", bogus=1)


def test_initialise_real_engine_keywords_still_work(tmp_path: Path) -> None:
    root = _corrupt_tree(tmp_path / "results", count=1, good=1)
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    experiment.initialise(root, dict_file="conf.json", url=url, echo=False)
    assert str(experiment._engine.url) == url
    assert [row.i for row in experiment.select("i")] == [0]


def test_restrict_keys_no_file_has_are_warned_about_by_name(tmp_path: Path) -> None:
    root = tmp_path / "results"
    (root / "0").mkdir(parents=True)
    (root / "0" / "conf.json").write_text(json.dumps({"kernel": "rbf", "C": 1.0}))
    with pytest.warns(
        NaklarWarning, match=r"no settings file has: 'kernal'\. Check their spelling"
    ) as record:
        store = naklar.load(root, dict_file="conf.json", restrict_keys=["kernal", "C"])
    assert "'C'" not in str(record[0].message)
    assert store.columns == ["naklar_dir", "C"]


def test_restrict_keys_all_present_warn_nothing(tmp_path: Path) -> None:
    root = tmp_path / "results"
    (root / "0").mkdir(parents=True)
    (root / "0" / "conf.json").write_text(json.dumps({"kernel": "rbf", "C": 1.0}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store = naklar.load(root, dict_file="conf.json", restrict_keys=["kernel"])
    assert store.select("kernel") == [("rbf",)]
