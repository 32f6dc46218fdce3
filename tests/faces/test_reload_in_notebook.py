"""The notebook loop: ``E`` taken once, the load cell run again, the old ``E`` still selects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar import experiment
from naklar.errors import UnknownColumnError

RUNS = {"0": {"i": 0, "f1": 0.7, "C": 1}, "1": {"i": 1, "f1": 0.9, "C": 2}}


def test_old_e_selects_after_the_load_cell_runs_again(make_tree: Any) -> None:
    root = make_tree(RUNS, fmt="json")
    experiment.initialise(root, dict_file="conf.json")
    E = experiment.E
    condition = E.f1 > 0.8
    experiment.initialise(root, dict_file="conf.json")  # the load cell, run again
    assert [row.i for row in experiment.select("i", E.f1 > 0.8)] == [1]
    assert [row.i for row in experiment.select("i", condition)] == [1]
    assert experiment.frame(E.C == 1).i.tolist() == [0]
    assert experiment.frame().naklar.select(condition).i.tolist() == [1]


def test_expression_built_before_reload_selects_from_new_table(make_tree: Any) -> None:
    root = make_tree(RUNS, fmt="json")
    store = naklar.load(root, dict_file="conf.json")
    old_e = store.E
    condition = (old_e.f1 > 0.8) | (old_e.C == 1)
    store.load(root, dict_file="conf.json")
    assert old_e is not store.E
    assert [row.i for row in store.select("i", old_e.C, condition)] == [0, 1]
    assert store.frame(old_e.i).i.tolist() == [0, 1]


def test_expression_on_key_the_reload_lost_names_the_change(make_tree: Any, tmp_path: Path) -> None:
    root = make_tree(RUNS, fmt="json")
    store = naklar.load(root, dict_file="conf.json")
    old_e = store.E
    for run in ("0", "1"):
        (root / run / "conf.json").write_text(json.dumps({"i": int(run), "f2": 1.0}))
    store.load(root, dict_file="conf.json")
    with pytest.raises(UnknownColumnError, match=r"'f1'.*loaded again.*current E"):
        store.select("i", old_e.f1 > 0.8)
    with pytest.raises(UnknownColumnError, match=r"'f1'.*loaded again.*current E"):
        store.select(old_e.f1)


def test_old_e_selects_on_every_backend(
    any_engine: sa.Engine, table_name: str, make_tree: Any
) -> None:
    store = naklar.Store(any_engine, table_name=table_name)
    root = make_tree(RUNS, fmt="json")
    store.load(root, dict_file="conf.json")
    old_e = store.E
    store.load(root, dict_file="conf.json")
    try:
        assert [row.i for row in store.select("i", old_e.f1 > 0.8, C=2)] == [1]
    finally:
        store.drop()


def test_experiment_e_follows_the_current_table(make_tree: Any) -> None:
    root = make_tree(RUNS, fmt="json")
    experiment.initialise(root, dict_file="conf.json")
    E = experiment.E
    experiment.initialise(root, dict_file="conf.json")
    runs = experiment.select()
    assert all(isinstance(run, E) for run in runs)
    assert [type(run) for run in runs] == [E, E]
    assert E["f1"] is not None and E.f1.key == "f1"
    assert [run.i for run in experiment.store().session().scalars(sa.select(E))] == [0, 1]


def test_misspelt_e_attribute_names_close_columns(make_tree: Any) -> None:
    experiment.initialise(make_tree(RUNS, fmt="json"), dict_file="conf.json")
    with pytest.raises(UnknownColumnError, match=r"'f11'.*closest: 'f1'") as raised:
        experiment.E.f11  # noqa: B018
    assert isinstance(raised.value, AttributeError)
    assert not hasattr(experiment.E, "f11")
