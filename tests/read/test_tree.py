"""LoadOptions: the load's keyword arguments as one object, and how a store records them."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import naklar
from naklar import experiment
from naklar._read.tree import LoadOptions, LoadReport
from naklar._store.catalog import StoreRecord
from naklar._store.store import Store
from naklar._table.model import parse_decorators

DEFAULTS = {field.name: field.default for field in dataclasses.fields(LoadOptions)}


def test_initialise_spells_the_seeds_options_with_the_load_options_defaults() -> None:
    parameters = inspect.signature(experiment.initialise).parameters
    spelled_out = {name: parameters[name].default for name in parameters if name in DEFAULTS}
    assert spelled_out == {name: DEFAULTS[name] for name in spelled_out}
    assert list(spelled_out) == ["dict_file", "load_func", "decorators", "restrict_keys"]


def test_initialise_documents_every_load_option() -> None:
    documented = experiment.initialise.__doc__ or ""
    assert [name for name in DEFAULTS if name not in documented] == []


@pytest.mark.parametrize(
    "load",
    [
        lambda root, **options: experiment.initialise(root, **options),
        lambda root, **options: Store().load(root, **options),
        lambda root, **options: naklar.load(root, **options).report,
    ],
    ids=["initialise", "Store.load", "naklar.load"],
)
def test_every_load_takes_each_option_by_name(
    load: Callable[..., Any], make_tree: Callable[..., Path]
) -> None:
    root = make_tree({str(run): {"C": run, "gamma": 0.1} for run in range(3)}, fmt="json")
    options = {**DEFAULTS, "dict_file": "conf.json", "restrict_keys": ["C"], "workers": 1}

    report = load(root, **options)

    assert report.loaded == 3 and "gamma" not in report.dropped_keys


@pytest.mark.parametrize(
    "load",
    [
        lambda root: Store().load(root, dict_fil="conf.json"),
        lambda root: naklar.load(root, dict_fil="conf.json"),
    ],
    ids=["Store.load", "naklar.load"],
)
def test_a_misspelt_load_option_is_refused_with_the_closest_name(
    load: Callable[..., Any], make_tree: Callable[..., Path]
) -> None:
    root = make_tree({"0": {"C": 1}}, fmt="json")
    with pytest.raises(TypeError, match="dict_fil.*dict_file"):
        load(root)


def test_store_load_passes_every_option_on(make_tree: Callable[..., Path]) -> None:
    root = make_tree({str(run): {"C": run, "gamma": 0.1} for run in range(3)}, fmt="json")
    store = Store()
    store.load(root, dict_file="conf.json", restrict_keys=["C"], on_unsupported="ignore")
    assert store._record is not None
    assert (store._record.dict_file, store._record.restrict_keys) == ("conf.json", ["C"])
    assert store._record.on_unsupported == "ignore"
    assert [column.key for column in store._record.columns] == ["C"]


stored_options = st.builds(
    LoadOptions,
    dict_file=st.sampled_from(["conf.pkl", "conf.json", "settings.yaml"]),
    restrict_keys=st.none() | st.sets(st.text(min_size=1, max_size=5), max_size=4),
    on_error=st.sampled_from(["warn", "raise", "ignore"]),
    on_unsupported=st.sampled_from(["warn", "raise", "ignore"]),
    follow_symlinks=st.booleans(),
    include_hidden=st.booleans(),
    workers=st.none() | st.integers(1, 4),
    progress=st.none() | st.booleans(),
)


@given(options=stored_options)
def test_a_stored_record_gives_back_the_options_it_was_loaded_with(options: LoadOptions) -> None:
    report = LoadReport("results", options.dict_file)
    record = StoreRecord.for_load("results", options, {}, [], report)
    reread = StoreRecord.from_json(record.to_json())
    assert reread is not None
    restored = reread.load_options(None, None, options.workers, options.progress)
    keys = None if options.restrict_keys is None else sorted(options.restrict_keys)
    assert restored == dataclasses.replace(options, restrict_keys=keys)
    assert reread.describes_load("results", options, {})
    assert reread.root_dir == os.path.abspath("results")


@given(options=stored_options, other_file=st.sampled_from(["conf.pkl", "other.json"]))
def test_a_record_describes_no_load_of_another_settings_file(
    options: LoadOptions, other_file: str
) -> None:
    record = StoreRecord.for_load("results", options, {}, [], LoadReport("results", "x"))
    other = dataclasses.replace(options, dict_file=other_file)
    assert record.describes_load("results", other, {}) == (other_file == options.dict_file)


def test_a_record_describes_no_load_with_code_that_could_change_values() -> None:
    options = LoadOptions(dict_file="conf.json")
    record = StoreRecord.for_load("results", options, {}, [], LoadReport("results", "x"))
    with_load_func = dataclasses.replace(options, load_func=lambda path: {})
    setter = parse_decorators({"C": (lambda self, value: value, lambda self, value: value)})
    assert not record.describes_load("results", with_load_func, {})
    assert not record.describes_load("results", options, setter)
    assert record.describes_load("results", options, parse_decorators({"C": (str,)}))


@pytest.mark.parametrize("url", [None, "sqlite://"], ids=["in memory", "with a url"])
def test_load_names_the_option_a_misspelt_keyword_meant(
    make_tree: Callable[..., Path], url: str | None
) -> None:
    root = make_tree({"0": {"C": 1}}, fmt="json")
    with pytest.raises(TypeError, match=r"naklar\.load\(\).*'dict_fil'; did you mean 'dict_file'"):
        naklar.load(root, url=url, dict_fil="conf.json")


def test_load_lists_the_options_when_a_keyword_resembles_none() -> None:
    with pytest.raises(TypeError, match=r"'colour'; it takes \['dict_file', 'load_func'"):
        LoadOptions.from_keywords({"colour": "red"}, "naklar.load")


def test_load_with_a_url_takes_autoload(make_tree: Callable[..., Path]) -> None:
    root = make_tree({"0": {"C": 1}}, fmt="json")
    store = naklar.load(root, url="sqlite://", dict_file="conf.json", autoload=False)
    assert store.report is not None and not store.report.inserted
    assert store.select(as_frame=True).empty


def test_a_record_written_before_revisions_is_read_with_their_defaults() -> None:
    record = StoreRecord("/results", "conf.json", [], next_id=3)
    document = json.loads(record.to_json())
    for name in ("revision", "runs_indexed"):
        del document[name]
    document["format"] = 2

    reread = StoreRecord.from_json(json.dumps(document))

    assert reread == record
    assert (reread.revision, reread.runs_indexed) == ("", True)


def test_a_record_keeps_fields_it_does_not_know() -> None:
    document = json.loads(StoreRecord("/results", "conf.json", [], next_id=3).to_json())
    document["notes"] = ["from a newer naklar"]

    reread = StoreRecord.from_json(json.dumps(document))

    assert reread is not None and reread.extra == {"notes": ["from a newer naklar"]}
    assert json.loads(reread.revised().to_json())["notes"] == ["from a newer naklar"]


def test_a_record_of_an_unknown_format_is_not_read() -> None:
    document = json.loads(StoreRecord("/results", "conf.json", [], next_id=3).to_json())
    document["format"] = 99

    assert StoreRecord.from_json(json.dumps(document)) is None
