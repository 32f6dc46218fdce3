"""Nested settings as dotted columns, ``__`` keywords for the dot, and runs of several files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import naklar
from naklar.errors import UnknownColumnError


def write_runs(root: Path, runs: dict[str, dict[str, Any]]) -> Path:
    """``{'run/metrics.json': {...}}``: each file written as JSON (YAML for .yaml)."""
    for relative, content in runs.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".yaml":
            import yaml

            path.write_text(yaml.safe_dump(content))
        else:
            path.write_text(json.dumps(content))
    return root


@pytest.fixture
def nested_tree(tmp_path: Path) -> Path:
    return write_runs(
        tmp_path / "results",
        {
            "r0/conf.json": {"model": {"kernel": "rbf", "C": 1.0}, "seed": 0},
            "r1/conf.json": {"model": {"kernel": "linear", "C": 10.0}, "seed": 1},
            "r2/conf.json": {"model": {"kernel": "rbf", "C": 100.0}, "seed": 2},
        },
    )


def test_nested_dicts_become_dotted_columns(nested_tree: Path) -> None:
    store = naklar.load(nested_tree, dict_file="conf.json")

    assert {"model.kernel", "model.C", "seed"} <= set(store.columns)
    assert sorted(store.frame()["model.C"]) == [1.0, 10.0, 100.0]


def test_flatten_false_keeps_nested_dicts_as_json_text(nested_tree: Path) -> None:
    store = naklar.load(nested_tree, dict_file="conf.json", flatten=False)

    assert "model.kernel" not in store.columns
    assert json.loads(store.frame()["model"][0]) == {"kernel": "rbf", "C": 1.0}


@pytest.mark.parametrize(
    ("filters", "seeds"),
    [
        ({"model__kernel": "rbf"}, [0, 2]),
        ({"model__C__gt": 5}, [1, 2]),
        ({"model__kernel__in": ["linear"]}, [1]),
        ({"model__C__between": (5, 50)}, [1]),
        ({"model__kernel": "rbf", "model__C__lt": 50}, [0]),
        ({"model__C__isnull": True}, []),
    ],
)
def test_double_underscore_keywords_reach_dotted_columns_in_store_and_frame(
    nested_tree: Path, filters: dict[str, Any], seeds: list[int]
) -> None:
    store = naklar.load(nested_tree, dict_file="conf.json")

    assert sorted(seed for (seed,) in store.select("seed", **filters)) == seeds
    assert sorted(store.frame().naklar.select("seed", **filters)["seed"]) == seeds


def test_bracket_access_names_a_dotted_column(nested_tree: Path) -> None:
    store = naklar.load(nested_tree, dict_file="conf.json")

    assert len(store.select("seed", store.E["model.C"] > 5)) == 2


def test_a_column_spelled_with_double_underscores_wins_over_the_dotted_one(tmp_path: Path) -> None:
    root = write_runs(
        tmp_path / "results",
        {"r0/conf.json": {"a__b": 1, "a": {"b": 2}}, "r1/conf.json": {"a__b": 3, "a": {"b": 4}}},
    )
    store = naklar.load(root, dict_file="conf.json")

    assert [row[0] for row in store.select("a.b", a__b=3)] == [4]


def test_double_underscore_keyword_that_names_nothing_says_so(nested_tree: Path) -> None:
    store = naklar.load(nested_tree, dict_file="conf.json")

    with pytest.raises(UnknownColumnError, match="model__depth"):
        store.select(model__depth=2)


def test_flattening_collision_is_a_reported_skip_naming_the_column(tmp_path: Path) -> None:
    root = write_runs(
        tmp_path / "results",
        {"r0/conf.json": {"a.b": 1, "a": {"b": 2}}, "r1/conf.json": {"a": {"b": 3}}},
    )
    with pytest.warns(naklar.NaklarWarning, match="1 of 2"):
        store = naklar.load(root, dict_file="conf.json")

    [skipped] = store.report.skipped
    assert "r0" in skipped.path
    assert "'a.b'" in skipped.reason and "flatten=False" in skipped.reason


# -- several files per run ----------------------------------------------------


@pytest.fixture
def hydra_like(tmp_path: Path) -> Path:
    return write_runs(
        tmp_path / "multirun",
        {
            "0/.hydra/config.yaml": {"model": {"name": "mlp"}, "lr": 0.1},
            "0/metrics.json": {"loss": 0.5},
            "1/.hydra/config.yaml": {"model": {"name": "cnn"}, "lr": 0.01},
            "1/metrics.json": {"loss": 0.25},
            "2/.hydra/config.yaml": {"model": {"name": "cnn"}, "lr": 0.1},  # crashed
            "3/metrics.json": {"loss": 0.75},  # no config
        },
    )


def test_dict_file_as_a_path_inside_the_run_names_the_run_directory(hydra_like: Path) -> None:
    store = naklar.load(hydra_like, dict_file=".hydra/config.yaml", on_error="ignore")

    assert sorted(store.frame()["naklar_dir"]) == ["0", "1", "2"]


def test_several_files_merge_into_one_row(hydra_like: Path) -> None:
    store = naklar.load(
        hydra_like, dict_file=[".hydra/config.yaml", "metrics.json"], on_error="ignore"
    )

    rows = {row.naklar_dir: row for row in store.select()}
    assert (rows["0"].lr, rows["0"]["model.name"], rows["0"].loss) == (0.1, "mlp", 0.5)
    assert (rows["1"]["model.name"], rows["1"].loss) == ("cnn", 0.25)


def test_a_run_missing_its_metrics_is_a_row_with_nulls_counted_in_the_report(
    hydra_like: Path,
) -> None:
    store = naklar.load(
        hydra_like, dict_file=[".hydra/config.yaml", "metrics.json"], on_error="ignore"
    )

    row = next(row for row in store.select() if row.naklar_dir == "2")
    assert row.loss is None
    assert [(os.path.basename(e.path), e.reason) for e in store.report.incomplete] == [
        ("2", "metrics.json")
    ]


def test_a_run_missing_its_config_is_a_skip_saying_so(hydra_like: Path) -> None:
    with pytest.warns(naklar.NaklarWarning, match="1 of 4"):
        store = naklar.load(hydra_like, dict_file=[".hydra/config.yaml", "metrics.json"])

    [skipped] = store.report.skipped
    assert os.path.join("3", ".hydra", "config.yaml") in skipped.path
    assert "config file is missing" in skipped.reason and "metrics.json" in skipped.reason


def test_a_key_in_two_files_of_a_run_is_a_skip_naming_both(tmp_path: Path) -> None:
    root = write_runs(
        tmp_path / "results",
        {"r0/conf.json": {"loss": 1, "seed": 0}, "r0/metrics.json": {"loss": 0.5}},
    )
    store = naklar.load(root, dict_file=["conf.json", "metrics.json"], on_error="ignore")

    [skipped] = store.report.skipped
    assert "'loss'" in skipped.reason
    assert "conf.json" in skipped.reason and "metrics.json" in skipped.reason


def test_refresh_sees_a_changed_metrics_file_of_a_multi_file_run(hydra_like: Path) -> None:
    store = naklar.load(
        hydra_like, dict_file=[".hydra/config.yaml", "metrics.json"], on_error="ignore"
    )
    (hydra_like / "2" / "metrics.json").write_text(json.dumps({"loss": 0.125}))
    (hydra_like / "0" / "metrics.json").write_text(json.dumps({"loss": 0.0625, "acc": 1.0}))

    report = store.refresh()

    assert report.changes is not None and report.changes.updated == 2
    losses = dict(store.frame()[["naklar_dir", "loss"]].itertuples(index=False))
    assert losses["2"] == 0.125 and losses["0"] == 0.0625


def test_load_func_declares_the_extra_files_it_reads(tmp_path: Path) -> None:
    root = write_runs(
        tmp_path / "results",
        {"r0/conf.json": {"seed": 0}, "r0/score.json": {"f1": 0.5}},
    )

    def load_with_score(path: str) -> dict[str, Any]:
        with open(path) as handle:
            settings = json.load(handle)
        with open(os.path.join(os.path.dirname(path), "score.json")) as handle:
            return {**settings, **json.load(handle)}

    load_with_score.extra_files = ["score.json"]  # type: ignore[attr-defined]
    store = naklar.load(root, dict_file="conf.json", load_func=load_with_score)
    (root / "r0" / "score.json").write_text(json.dumps({"f1": 0.75}))
    store.refresh(load_func=load_with_score)

    assert list(store.frame()["f1"]) == [0.75]


def test_dict_file_entry_outside_the_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "r0").mkdir()
    with pytest.raises(naklar.NaklarError, match="leaves the run directory"):
        naklar.load(tmp_path, dict_file=["conf.json", "../metrics.json"])


def test_frame_column_names_keep_their_dots(hydra_like: Path) -> None:
    store = naklar.load(
        hydra_like, dict_file=[".hydra/config.yaml", "metrics.json"], on_error="ignore"
    )

    frame = store.frame()
    assert isinstance(frame, pd.DataFrame)
    assert "model.name" in frame.columns


def test_the_keys_of_a_runs_other_files_are_its_metrics(hydra_like: Path) -> None:
    store = naklar.load(
        hydra_like, dict_file=[".hydra/config.yaml", "metrics.json"], on_error="ignore"
    )

    assert store.metrics == ["loss"]
