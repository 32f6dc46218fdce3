"""``load(root, source=NAME)`` on the trees the real tools wrote (tests/fixtures/<tool>/).

Each tree is a 2 x 2 sweep plus one crashed run; ``<tool>.expected.json`` beside
it lists every run's config, final metrics and facts as the tool stored them
(see tests/fixtures/README.md).
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import naklar
from naklar.errors import NaklarError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCES = ["hydra", "sacred", "mlflow", "raytune", "lightning"]
#: The fact each tool records as the run's status, in its expected.json.
STATUS_FACT = {"sacred": "status", "mlflow": "status_name", "raytune": "status"}


def expected_runs(tool: str) -> list[dict[str, Any]]:
    runs = json.loads((FIXTURES / f"{tool}.expected.json").read_text())["runs"]
    return [run for run in runs if run.get("store", "mlruns") == "mlruns"]  # MLflow's files


def plain(value: Any) -> Any:
    """A frame cell as the expected JSON writes it: NaN and NaT are null."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return value.item() if hasattr(value, "item") else value


def rows_by_directory(store: naklar.Store) -> dict[str, dict[str, Any]]:
    frame = store.frame()
    return {
        row["naklar_dir"]: {key: plain(value) for key, value in row.items()}
        for row in frame.to_dict("records")
    }


@pytest.fixture(params=SOURCES)
def tool(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_source_reads_every_run_with_its_config_and_final_metrics(tool: str) -> None:
    store = naklar.load(FIXTURES / tool, source=tool)
    rows = rows_by_directory(store)
    expected = expected_runs(tool)

    assert sorted(rows) == sorted(run["id"] for run in expected)
    for run in expected:
        row = rows[run["id"]]
        config = run.get("config_typed", run["config"])
        assert {key: row[key] for key in config} == config, run["id"]
        metrics = {f"metrics.{name}": value for name, value in run["metrics"].items()}
        assert {key: row.get(key) for key in metrics} == metrics, run["id"]


def test_source_leaves_the_files_that_are_not_runs_out_of_rows_and_skips(tool: str) -> None:
    store = naklar.load(FIXTURES / tool, source=tool)

    assert store.report.skipped == []
    assert store.report.files_found == len(expected_runs(tool)) == store.report.loaded


def test_source_status_is_the_tools_word_where_it_records_one(tool: str) -> None:
    store = naklar.load(FIXTURES / tool, source=tool)
    rows = rows_by_directory(store)

    for run in expected_runs(tool):
        status = run["facts"].get(STATUS_FACT.get(tool, "none"))
        assert rows[run["id"]].get("run.status") == status, run["id"]


@pytest.mark.parametrize(
    ("tool", "run", "facts"),
    [
        ("sacred", "5", {"run.id": 5, "run.name": "naklar_sweep"}),
        (
            "mlflow",
            "mlruns/712348364342058372/e70084d601d24f43b5bc7af3790e7ca8",
            {"run.id": "e70084d601d24f43b5bc7af3790e7ca8", "run.name": "run4-cnn-lr0.1-crash"},
        ),
        (
            "raytune",
            "naklar_sweep_crash/trainable_d587e_00000_0_2026-12-07_04-29-47",
            {"run.id": "d587e_00000"},
        ),
        ("lightning", "lightning_logs/version_4", {"run.id": 4}),
        ("hydra", "multirun/2026-12-07/04-29-22/1", {"run.name": "model=mlp,optim.lr=0.1"}),
    ],
)
def test_source_run_facts_name_the_run(tool: str, run: str, facts: dict[str, Any]) -> None:
    rows = rows_by_directory(naklar.load(FIXTURES / tool, source=tool))

    assert {key: rows[run][key] for key in facts} == facts


@pytest.mark.parametrize("tool", ["sacred", "mlflow", "raytune"])
def test_source_start_times_are_utc_datetimes(tool: str) -> None:
    frame = naklar.load(FIXTURES / tool, source=tool).frame()

    starts = frame["run.start"]
    assert starts.notna().all()
    assert (starts.dt.year == 2026).all()


def test_hydra_crashed_run_is_a_row_with_null_metrics_counted_in_the_report() -> None:
    store = naklar.load(FIXTURES / "hydra", source="hydra")
    crashed = "multirun/2026-12-07/04-29-24/0"

    row = rows_by_directory(store)[crashed]
    assert (row["crash"], row["metrics.loss"], row["metrics.acc"]) == (True, None, None)
    assert [(Path(entry.path), entry.reason) for entry in store.report.incomplete] == [
        (FIXTURES / "hydra" / crashed, "metrics.json")
    ]
    assert "1 rows lack some of their run's files" in str(store.report)


@pytest.mark.parametrize(
    ("tool", "root", "runs"),
    [
        ("hydra", "multirun", 5),
        ("hydra", "multirun/2026-12-07/04-29-22", 4),
        ("mlflow", "mlruns", 5),
        ("raytune", "naklar_sweep", 4),
        ("lightning", "lightning_logs", 5),
    ],
)
def test_source_reads_from_the_folder_the_tools_user_knows(tool: str, root: str, runs: int) -> None:
    store = naklar.load(FIXTURES / tool / root, source=tool)

    assert store.report.loaded == runs


def test_source_auto_recognises_each_tool(tool: str) -> None:
    store = naklar.load(FIXTURES / tool, source="auto")

    assert store.report.loaded == len(expected_runs(tool))
    assert store.report.dict_file == f"source={tool!r}"


def test_source_auto_names_what_it_looked_for_when_nothing_matches(tmp_path: Path) -> None:
    (tmp_path / "run1").mkdir()

    with pytest.raises(NaklarError, match=r"(?s)recognises no sweep tool.*pass source="):
        naklar.load(tmp_path, source="auto")


def test_unknown_source_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(NaklarError, match=r"'wandb' is not a source.*'hydra'.*'auto'"):
        naklar.load(tmp_path, source="wandb")


def test_mlflow_params_that_hold_numbers_compare_as_numbers() -> None:
    store = naklar.load(FIXTURES / "mlflow" / "mlruns", source="mlflow")

    assert len(store.select("run.name", model__depth__gt=2)) == 3
    assert store.frame()["optim.lr"].dtype.kind == "f"


def test_source_columns_filter_with_double_underscores_in_store_and_frame() -> None:
    store = naklar.load(FIXTURES / "sacred", source="sacred")
    frame = store.frame()

    from_store = sorted(store.select("run.id", model__name="cnn", metrics__loss__lt=0.3))
    from_frame = frame.naklar.select("run.id", model__name="cnn", metrics__loss__lt=0.3)
    assert [row[0] for row in from_store] == [4, 5]
    assert sorted(from_frame["run.id"]) == [4, 5]


# -- refresh: every file a row came from -----------------------------------------


def _crash_run_completes(tool: str, root: Path) -> None:
    """Write the crashed run's missing final metric as the tool would."""
    if tool == "hydra":
        path = root / "multirun/2026-12-07/04-29-24/0/metrics.json"
        path.write_text(json.dumps({"loss": 0.076923, "acc": 0.5}))
    elif tool == "sacred":
        path = root / "5" / "metrics.json"
        logged = json.loads(path.read_text())
        logged["acc"] = {"steps": [3], "timestamps": ["2026-12-07T04:29:26"], "values": [0.5]}
        path.write_text(json.dumps(logged))
    elif tool == "mlflow":
        run = root / "mlruns/712348364342058372/e70084d601d24f43b5bc7af3790e7ca8"
        (run / "metrics" / "acc").write_text("1796617767200 0.5 3\n")
    elif tool == "raytune":
        trial = next((root / "naklar_sweep_crash").glob("trainable_*"))
        with open(trial / "result.json", "a") as handle:
            handle.write(json.dumps({"loss": 0.076923, "acc": 0.5, "step": 3}) + "\n")
    else:
        path = root / "lightning_logs/version_4/metrics.csv"
        path.write_text("epoch,step,train_loss,val_acc\n0,0,0.5,\n0,1,0.4,\n0,2,,0.5\n")


def test_refresh_sees_a_changed_metrics_file(tool: str, tmp_path: Path) -> None:
    root = tmp_path / tool
    shutil.copytree(FIXTURES / tool, root)
    store = naklar.load(root, source=tool)
    assert store.frame()["metrics.acc" if tool != "lightning" else "metrics.val_acc"].isna().sum()

    _crash_run_completes(tool, root)
    report = store.refresh()

    column = "metrics.val_acc" if tool == "lightning" else "metrics.acc"
    assert report.changes is not None
    assert (report.changes.updated, report.changes.added, report.changes.removed) == (1, 0, 0)
    assert 0.5 in list(store.frame()[column])


def test_refresh_of_a_persistent_store_shows_a_new_status(tmp_path: Path) -> None:
    root = tmp_path / "sacred"
    shutil.copytree(FIXTURES / "sacred", root)
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    naklar.load(root, source="sacred", url=url).engine.dispose()
    record = json.loads((root / "5" / "run.json").read_text())
    record["status"] = "INTERRUPTED"
    (root / "5" / "run.json").write_text(json.dumps(record))

    store = naklar.open(url)
    store.refresh()

    assert store.select("run.status", run__id=5)[0][0] == "INTERRUPTED"


def test_refresh_sees_a_new_ray_trial_status_in_the_experiment_state(tmp_path: Path) -> None:
    root = tmp_path / "raytune"
    shutil.copytree(FIXTURES / "raytune", root)
    store = naklar.load(root, source="raytune")
    state_path = next((root / "naklar_sweep_crash").glob("experiment_state-*.json"))
    state = json.loads(state_path.read_text())
    trial = json.loads(state["trial_data"][0][0])
    trial["status"] = "RUNNING"
    state["trial_data"][0][0] = json.dumps(trial)
    state_path.write_text(json.dumps(state))

    store.refresh()

    assert sorted(store.frame()["run.status"]) == ["RUNNING"] + ["TERMINATED"] * 4


def ray_tree_without_json_logs(tmp_path: Path) -> Path:
    """The Ray Tune tree as a run with the JSON logger off writes it: no result.json."""
    root = tmp_path / "raytune"
    shutil.copytree(FIXTURES / "raytune", root)
    for result in root.glob("*/*/result.json"):
        result.unlink()
    return root


def test_ray_trials_without_result_json_take_their_final_metrics_from_progress_csv(
    tmp_path: Path,
) -> None:
    store = naklar.load(ray_tree_without_json_logs(tmp_path), source="raytune")
    rows = rows_by_directory(store)

    assert store.report.incomplete == []
    for run in expected_runs("raytune"):
        metrics = {f"metrics.{name}": value for name, value in run["metrics"].items()}
        assert {key: rows[run["id"]].get(key) for key in metrics} == metrics, run["id"]
    assert {rows[run["id"]]["metrics.done"] for run in expected_runs("raytune")} == {False}


def test_ray_progress_csv_leaves_older_rays_config_columns_out(tmp_path: Path) -> None:
    root = ray_tree_without_json_logs(tmp_path)
    progress = next((root / "naklar_sweep_crash").glob("*/progress.csv"))
    header, row = progress.read_text().splitlines()
    progress.write_text(f"{header},config/seed\n{row},7\n")

    store = naklar.load(root, source="raytune")

    assert not [column for column in store.columns if "config/" in column]
    assert set(store.frame()["seed"]) == {0}  # params.json's, not the CSV's 7


def test_refresh_sees_a_new_row_of_progress_csv(tmp_path: Path) -> None:
    root = ray_tree_without_json_logs(tmp_path)
    store = naklar.load(root, source="raytune")
    progress = next((root / "naklar_sweep_crash").glob("*/progress.csv"))
    header, row = progress.read_text().splitlines()
    fields = row.split(",")
    fields[header.split(",").index("loss")] = "0.05"
    progress.write_text(f"{header}\n{row}\n{','.join(fields)}\n")

    report = store.refresh()

    assert report.changes is not None and report.changes.updated == 1
    assert sorted(store.frame()["metrics.loss"])[0] == 0.05


# -- MLflow's SQLite backend -------------------------------------------------------


def sqlite_runs() -> list[dict[str, Any]]:
    runs = json.loads((FIXTURES / "mlflow.expected.json").read_text())["runs"]
    return [run for run in runs if run.get("store") == "sqlite"]


def test_mlflow_database_gives_every_run_with_its_params_and_final_metrics() -> None:
    store = naklar.load(FIXTURES / "mlflow" / "sqlite", source="mlflow")
    rows = {row["run.id"]: row for row in rows_by_directory(store).values()}

    assert len(rows) == len(sqlite_runs()) == 5
    for run in sqlite_runs():
        row = rows[run["id"].split("#")[1]]
        assert {key: row[key] for key in run["config_typed"]} == run["config_typed"]
        metrics = {f"metrics.{name}": value for name, value in run["metrics"].items()}
        assert {key: row.get(key) for key in metrics} == metrics
        assert row["run.status"] == run["facts"]["status"]
        assert row["naklar_dir"] == f"mlruns/1/{row['run.id']}"


def test_mlflow_database_is_recognised_by_auto() -> None:
    store = naklar.load(FIXTURES / "mlflow" / "sqlite", source="auto")

    assert (store.report.dict_file, store.report.loaded) == ("source='mlflow'", 5)


def test_refresh_sees_a_new_final_metric_in_the_mlflow_database(tmp_path: Path) -> None:
    root = tmp_path / "sqlite"
    shutil.copytree(FIXTURES / "mlflow" / "sqlite", root)
    store = naklar.load(root, source="mlflow")
    crashed = "edc4efb9cc89491fade5ecc5af7e31f8"
    with sqlite3.connect(root / "mlflow.db") as connection:
        connection.execute(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES ('acc', 0.5, 1796617770999, 3, 0, ?)",
            (crashed,),
        )
        connection.execute("UPDATE runs SET status = 'FINISHED' WHERE run_uuid = ?", (crashed,))
    connection.close()

    report = store.refresh()

    assert report.changes is not None
    assert (report.changes.updated, report.changes.unchanged) == (1, 4)
    assert store.select("metrics.acc", "run.status", run__id=crashed)[0] == (0.5, "FINISHED")


def test_auto_source_on_a_stored_sweep_refreshes_it_instead_of_reloading(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    naklar.load(FIXTURES / "lightning", source="auto", url=url).engine.dispose()

    store = naklar.load(FIXTURES / "lightning", source="auto", url=url)

    assert store.report.changes is not None
    assert store.report.changes.unchanged == 5


def test_source_metric_columns_are_the_stores_metrics(tool: str) -> None:
    store = naklar.load(FIXTURES / tool, source=tool)

    expected = {f"metrics.{name}" for run in expected_runs(tool) for name in run["metrics"]}
    assert expected <= set(store.metrics)
    assert not {column for column in store.metrics if not column.startswith("metrics.")}
