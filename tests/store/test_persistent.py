"""A loaded store reopens in a later session without its tree being scanned."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar import experiment


@pytest.fixture
def engine_and_table(any_engine: sa.Engine, table_name: str) -> Iterator[tuple[sa.Engine, str]]:
    yield any_engine, table_name
    naklar.Store(any_engine, table_name=table_name).drop()


@pytest.fixture
def tree(make_tree: Any) -> Path:
    runs = {
        f"C{c}/seed{seed}": {
            "C": c,
            "seed": seed,
            "f1": 0.5 + c / 10 + seed / 100,
            "kernel": "rbf" if seed else "linear",
            "learning rate": 0.1 * (seed + 1),
            "shuffle": bool(seed % 2),
            "note": None,
        }
        for c in (1, 2, 10)
        for seed in range(3)
    }
    return make_tree(runs, fmt="pkl")


def test_reopened_store_answers_the_same_selections(
    engine_and_table: tuple[sa.Engine, str], tree: Path
) -> None:
    engine, table_name = engine_and_table
    loaded = naklar.Store(engine, table_name=table_name)
    loaded.load(tree)
    shutil.rmtree(tree)  # reopening must not need the tree

    reopened = naklar.Store.open(engine, table_name=table_name)

    assert reopened.columns == loaded.columns
    for store in (loaded, reopened):
        assert store.E["learning rate"] is not None
    assert reopened.frame().equals(loaded.frame())
    assert reopened.frame(C=[1, 10], kernel="rbf").equals(loaded.frame(C=[1, 10], kernel="rbf"))
    assert reopened.select("C", "seed", reopened.E.f1 > 1.5) == loaded.select(
        "C", "seed", loaded.E.f1 > 1.5
    )
    assert [repr(run) for run in reopened.select(shuffle=True)] == [
        repr(run) for run in loaded.select(shuffle=True)
    ]
    assert reopened.report is not None and reopened.report.loaded == 9


def test_open_without_a_store_says_so(any_engine: sa.Engine, table_name: str) -> None:
    with pytest.raises(naklar.NotInitialisedError, match=f"no naklar store named '{table_name}'"):
        naklar.Store.open(any_engine, table_name=table_name)


def test_initialise_without_autoload_opens_a_stored_tree_without_reading(
    tree: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    experiment.connect(url)
    experiment.initialise(tree)
    (tree / "C1" / "seed0" / "conf.pkl").write_bytes(b"would fail to load")
    experiment.reset()

    experiment.connect(url)
    report = experiment.initialise(tree, autoload=False)

    assert report.loaded == 9 and report.skipped == []
    assert len(experiment.select(C=1)) == 3


def test_open_keeps_decorator_getters_passed_again(tree: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    naklar.load(tree, url=url)
    decorators = {"kernel": (lambda self, value: value.upper(),)}

    store = experiment.open(url, decorators=decorators)

    assert experiment.select("kernel", C=1, seed=0)[0].kernel == "LINEAR"
    assert store.frame("kernel", seed=1)["kernel"].tolist() == ["RBF"] * 3


def test_a_new_python_process_reopens_the_store(tree: Path, tmp_path: Path) -> None:
    database = tmp_path / "sweep.db"
    naklar.load(tree, url=f"sqlite:///{database}")
    shutil.rmtree(tree)
    script = (
        "import json, naklar; "
        f"store = naklar.open('sqlite:///{database}'); "
        "print(json.dumps(store.frame('C', 'seed', store.E.f1 > 1.4).values.tolist()))"
    )

    output = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(naklar.__file__).parent.parent,
    ).stdout

    assert json.loads(output) == [[10, 0], [10, 1], [10, 2]]
