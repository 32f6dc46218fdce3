"""The ``naklar`` command on trees on disk.

``run`` starts the installed console script (the one beside this environment's
Python) in a subprocess; ``call`` runs the same ``main`` in this process, for the
long tables of cases, where a new interpreter per case would only add time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import naklar
from naklar._cli import SETTINGS_NAMES, main

#: A small sweep with what --where must handle: numbers, text, a dotted key,
#: a key some runs lack, booleans.
RUNS: dict[str, dict[str, Any]] = {
    str(i): {
        "kernel": kernel,
        "C": c,
        "f1": round(0.7 + 0.02 * i, 2),
        "i": i,
        "model.kernel": kernel,
        "flag": i % 2 == 0,
        **({"gamma": 0.5 if i < 2 else 1.0} if i < 4 else {}),
    }
    for i, (kernel, c) in enumerate(
        (kernel, c) for kernel in ("linear", "rbf", "poly") for c in (0.1, 1, 2)
    )
}


def naklar_script() -> str:
    """The installed ``naklar`` script of the environment running the tests."""
    beside_python = os.path.dirname(sys.executable)
    found = shutil.which("naklar", path=beside_python + os.pathsep + os.environ.get("PATH", ""))
    if found is None:
        pytest.fail("no naklar script installed: pip install -e '.[test]' in this environment")
    return found


def run(*arguments: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [naklar_script(), *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def call(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """``main(arguments)`` in this process, its output captured as ``run`` captures it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(argument) for argument in arguments])
    return subprocess.CompletedProcess(list(arguments), code, out.getvalue(), err.getvalue())


@pytest.fixture
def sweep(make_tree: Any) -> Path:
    return make_tree(RUNS, fmt="json")


def shown(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


# -- show ---------------------------------------------------------------------------------


def test_show_prints_the_runs_and_the_report_on_stderr(sweep: Path) -> None:
    result = run("show", sweep, "i", "kernel", "f1")

    assert result.returncode == 0
    assert result.stderr.splitlines()[0] == f"9 conf.json files under {sweep}: 9 loaded, 0 skipped"
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["i", "kernel", "f1"]
    assert [line.split() for line in lines[1:3]] == [
        ["0", "linear", "0.70"],
        ["1", "linear", "0.72"],
    ]
    assert len(lines) == 10


def test_show_prints_every_column_of_a_wide_tree_without_ellipsis(make_tree: Any) -> None:
    keys = [f"a_rather_long_hyper_parameter_name_{n}" for n in range(30)]
    root = make_tree({str(i): {key: i * 1000.5 for key in keys} for i in range(80)}, fmt="json")

    result = run("show", root)

    assert result.returncode == 0
    assert "..." not in result.stdout
    header = result.stdout.splitlines()[0].split()
    assert header == ["naklar_dir", *keys]
    assert len(result.stdout.splitlines()) == 81


def test_show_formats_csv_json_and_markdown(sweep: Path) -> None:
    arguments = ("show", sweep, "i", "kernel", "--where", "i<2")

    records = shown(run(*arguments, "--format", "json"))
    csv = call(*arguments, "--format", "csv").stdout
    markdown = call(*arguments, "--format", "markdown").stdout

    assert csv.splitlines() == ["i,kernel", "0,linear", "1,linear"]
    assert records == [{"i": 0, "kernel": "linear"}, {"i": 1, "kernel": "linear"}]
    assert markdown.splitlines() == [
        "| i | kernel |",
        "|---|---|",
        "| 0 | linear |",
        "| 1 | linear |",
    ]


def test_show_json_keeps_missing_values_as_null_and_every_digit(make_tree: Any) -> None:
    root = make_tree({"0": {"x": 0.1 + 0.2}, "1": {"y": 1}}, fmt="json")

    records = shown(call("show", root, "x", "y", "--format", "json"))

    assert records == [{"x": 0.1 + 0.2, "y": None}, {"x": None, "y": 1}]


def test_show_sorts_and_limits(sweep: Path) -> None:
    records = shown(
        call("show", sweep, "i", "--sort", "f1", "--descending", "--limit", "3", "--format", "json")
    )

    assert records == [{"i": 8}, {"i": 7}, {"i": 6}]  # f1 grows with i; sorted by, not shown


# -- --where is select's filter -------------------------------------------------------------

WHERE_CASES = [
    (["C=1,2"], {"C": [1, 2]}),
    (["f1>0.8"], {"f1__gt": 0.8}),
    (["f1>=0.8"], {"f1__ge": 0.8}),
    (["C<1"], {"C__lt": 1}),
    (["f1<=0.74"], {"f1__le": 0.74}),
    (["kernel!=linear"], {"kernel__ne": "linear"}),
    (["kernel=rbf,poly", "C>=1"], {"kernel": ["rbf", "poly"], "C__ge": 1}),
    (["model.kernel=rbf"], {"model.kernel": "rbf"}),
    (["gamma=None"], {"gamma": None}),
    (["gamma!=0.5"], {"gamma__ne": 0.5}),  # missing values match neither way, as in SQL
    (["flag=true"], {"flag": True}),
    (["i==3"], {"i": 3}),
    (["kernel = 'linear'"], {"kernel": "linear"}),
]


@pytest.mark.parametrize(("where", "filters"), WHERE_CASES, ids=lambda case: str(case))
def test_where_selects_what_select_does(
    sweep: Path, where: list[str], filters: dict[str, Any]
) -> None:
    arguments = [argument for text in where for argument in ("--where", text)]
    expected = naklar.load(sweep, dict_file="conf.json").select("naklar_dir", **filters)

    records = shown(call("show", sweep, "naklar_dir", *arguments, "--format", "json"))

    assert [record["naklar_dir"] for record in records] == [row.naklar_dir for row in expected]
    assert expected  # every case selects something


@pytest.mark.parametrize(("where", "filters"), [WHERE_CASES[0], WHERE_CASES[7], WHERE_CASES[8]])
def test_where_of_the_installed_script_selects_what_select_does(
    sweep: Path, where: list[str], filters: dict[str, Any]
) -> None:
    expected = naklar.load(sweep, dict_file="conf.json").select("naklar_dir", **filters)

    records = shown(run("show", sweep, "naklar_dir", "--where", *where, "--format", "json"))

    assert [record["naklar_dir"] for record in records] == [row.naklar_dir for row in expected]


def test_where_compares_numbers_typed_for_a_text_column_as_text(make_tree: Any) -> None:
    root = make_tree({"a": {"name": "007"}, "b": {"name": "7"}}, fmt="json")

    records = shown(call("show", root, "name", "--where", "name=007", "--format", "json"))

    assert records == [{"name": "007"}]


@pytest.mark.parametrize(
    ("where", "named"),
    [
        ("kernel", "is not a filter"),
        ("=rbf", "is not a filter"),
        ("f1>0.1,0.2", "compares with one value"),
        ("kernal=rbf", "closest: 'kernel'"),
    ],
)
def test_where_that_cannot_be_read_is_one_line_and_status_2(
    sweep: Path, where: str, named: str
) -> None:
    result = call("show", sweep, "--where", where)

    assert result.returncode == 2
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("naklar: error:")]
    assert named in error
    assert "Traceback" not in result.stderr


def test_where_of_the_installed_script_that_cannot_be_read_is_status_2(sweep: Path) -> None:
    result = run("show", sweep, "--where", "kernal=rbf")

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("naklar: error: 'kernal' is not a column")


# -- user errors ----------------------------------------------------------------------------


def test_typo_in_a_column_names_the_closest_in_one_line(sweep: Path) -> None:
    result = run("show", sweep, "f11")

    assert result.returncode == 2
    assert result.stdout == ""
    last = result.stderr.splitlines()[-1]
    assert last.startswith("naklar: error: 'f11' is not a column; closest: 'f1'")
    assert "Traceback" not in result.stderr


def test_missing_root_is_one_line_and_status_2(tmp_path: Path) -> None:
    result = run("show", tmp_path / "nowhere")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "does not exist" in result.stderr and "nowhere" in result.stderr


def test_tree_of_pickles_is_not_read_unless_named(make_tree: Any) -> None:
    root = make_tree({"0": {"lr": 0.1}}, fmt="pkl")

    refused = run("show", root)
    named = run("show", root, "--dict-file", "conf.pkl")

    assert refused.returncode == 2
    assert "--dict-file" in refused.stderr and "conf.json" in refused.stderr
    assert named.returncode == 0 and "0.1" in named.stdout


def test_hidden_runs_are_entered_with_include_hidden(make_tree: Any) -> None:
    root = make_tree({".cache/0": {"lr": 0.1}}, fmt="json")

    refused = call("show", root, "--dict-file", "conf.json")
    entered = call("show", root, "--include-hidden")

    assert refused.returncode == 2
    assert "--include-hidden" in refused.stderr and "include_hidden=True" not in refused.stderr
    assert entered.returncode == 0 and "0.1" in entered.stdout


def test_unreadable_file_with_on_error_raise_is_status_2_naming_it(make_tree: Any) -> None:
    root = make_tree({"0": {"lr": 0.1}}, fmt="json")
    (root / "1").mkdir()
    (root / "1" / "conf.json").write_text("{not json")

    warned = call("show", root)
    raised = call("show", root, "--on-error", "raise")

    assert (
        warned.returncode == 0 and "naklar: warning: 1 of 2 settings files skipped" in warned.stderr
    )
    assert raised.returncode == 2
    assert str(root / "1" / "conf.json") in raised.stderr
    assert "--on-error warn" in raised.stderr  # the library's on_error='warn', as this option


@pytest.mark.parametrize(
    "arguments",
    [
        ["frobnicate"],
        ["show", "ROOT", "--format", "xml"],
        ["show", "ROOT", "--limit", "some"],
        ["show", "ROOT", "--workers", "0"],
        ["keys", "ROOT", "--on-error", "loudly"],
    ],
)
def test_bad_arguments_print_usage_and_status_2(sweep: Path, arguments: list[str]) -> None:
    result = run(*[str(sweep) if argument == "ROOT" else argument for argument in arguments])

    assert result.returncode == 2
    assert result.stderr.startswith("usage: naklar")
    assert "error:" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("command", ["keys", "show", "export", "sync", "demo"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")

    assert result.returncode == 0
    assert result.stdout.startswith("usage: naklar")
    if command != "demo":
        assert "--dict-file" in result.stdout and "--db" in result.stdout


def test_help_names_the_settings_files_looked_for() -> None:
    text = " ".join(run("show", "--help").stdout.split())

    assert ", ".join(SETTINGS_NAMES) in text
    assert "conf.pkl" in text and SETTINGS_NAMES[0] == "conf.json"


def test_unexpected_failure_is_status_1_with_traceback_only_under_debug(
    sweep: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(arguments: Any) -> None:
        raise RuntimeError("something naklar did not expect")

    monkeypatch.setattr("naklar._cli.run_keys", broken)

    assert main(["keys", str(sweep)]) == 1
    quiet = capsys.readouterr().err
    assert main(["keys", str(sweep), "--debug"]) == 1
    loud = capsys.readouterr().err

    assert quiet.splitlines() == [
        "naklar: unexpected error: RuntimeError: something naklar did not expect "
        "(run again with --debug for the traceback)"
    ]
    assert "Traceback" in loud and "something naklar did not expect" in loud


# -- keys, export, sync, demo ---------------------------------------------------------------


def test_keys_lists_each_column_role_type_count_and_values(sweep: Path) -> None:
    result = run("keys", sweep, "--metrics", "f1")

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "column", "role", "dtype", "runs", "distinct", "examples", "min", "max"
    ]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert list(rows) == ["naklar_dir", "kernel", "C", "f1", "i", "model.kernel", "flag", "gamma"]
    assert rows["f1"][1] == "metric" and rows["C"][1] == "setting"
    assert rows["gamma"][1:] == ["setting", "float64", "4", "2", "0.5,", "1.0", "0.5", "1.0"]
    assert rows["kernel"][1:] == ["setting", "string", "9", "3", "linear,", "rbf,", "poly"]


def test_metrics_named_at_sync_are_kept_by_the_store(make_tree: Any, tmp_path: Path) -> None:
    root = make_tree({"0": {"lr": 0.1, "val_f1": 0.5, "val_acc": 0.6}}, fmt="json")
    url = f"sqlite:///{tmp_path / 'sweep.db'}"

    assert call("sync", root, "--db", url, "--metrics", "val_*").returncode == 0
    keys = call("keys", "--db", url)

    roles = {line.split()[0]: line.split()[1] for line in keys.stdout.splitlines()[1:]}
    assert roles == {
        "naklar_dir": "naklar",
        "lr": "setting",
        "val_f1": "metric",
        "val_acc": "metric",
    }


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_round_trips_the_table(sweep: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"sweep{suffix}"

    result = run("export", sweep, out)

    assert result.returncode == 0, result.stderr
    expected = naklar.load(sweep, dict_file="conf.json").frame()
    if suffix == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    else:
        read = pd.read_csv(out, dtype={"naklar_dir": str})
        pd.testing.assert_frame_equal(read, expected, check_dtype=False)
    assert "wrote 9 runs" in result.stderr


def test_export_of_a_selection_reads_back_with_the_same_filters(
    sweep: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rbf.parquet"

    assert (
        run("export", sweep, out, "--where", "kernel=rbf", "--columns", "i", "f1").returncode == 0
    )

    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["i", "f1"]
    assert frame["i"].tolist() == [3, 4, 5]


def test_export_to_another_format_is_refused(sweep: Path, tmp_path: Path) -> None:
    result = run("export", sweep, tmp_path / "sweep.xlsx")

    assert result.returncode == 2
    assert ".parquet or .csv" in result.stderr


def test_sync_loads_then_refreshes_and_show_reads_the_store(make_tree: Any, tmp_path: Path) -> None:
    root = make_tree({"0": {"lr": 0.1}, "1": {"lr": 0.2}}, fmt="json")
    url = f"sqlite:///{tmp_path / 'sweep.db'}"

    first = run("sync", root, "--db", url)
    (root / "2").mkdir()
    (root / "2" / "conf.json").write_text('{"lr": 0.3}')
    second = run("sync", root, "--db", url)
    without_root = run("sync", "--db", url)
    stored = shown(run("show", "--db", url, "lr", "--where", "lr>0.15", "--format", "json"))

    assert first.returncode == 0 and "2 loaded" in first.stdout
    assert second.returncode == 0
    assert "refreshed: 1 added, 0 updated, 0 removed, 2 unchanged" in second.stdout
    assert "refreshed: 0 added, 0 updated, 0 removed, 3 unchanged" in without_root.stdout
    assert stored == [{"lr": 0.2}, {"lr": 0.3}]


def test_db_that_holds_no_store_says_how_to_make_one(tmp_path: Path) -> None:
    result = call("show", "--db", f"sqlite:///{tmp_path / 'empty.db'}")

    assert result.returncode == 2
    assert "naklar sync ROOT --db URL" in result.stderr


def test_db_url_that_is_not_one_is_status_2(tmp_path: Path) -> None:
    result = call("keys", "--db", "nosuchdialect://x")

    assert result.returncode == 2
    assert "not a database URL" in result.stderr


def test_demo_writes_the_sweep_and_prints_selections(tmp_path: Path, iris_tree: Path) -> None:
    target = tmp_path / "demo"

    result = run("demo", target)

    assert result.returncode == 0, result.stderr
    assert sorted(int(p.name) for p in target.iterdir()) == list(range(12))
    assert "12 conf.json files under" in result.stdout and "12 loaded, 0 skipped" in result.stdout
    assert f"('{target}/2',)" in result.stdout
    assert "linear" in result.stdout.split("pivot_table")[-1]


def test_source_is_refused_in_one_line_where_naklar_reads_no_tools_runs(sweep: Path) -> None:
    from naklar._read.tree import LoadOptions

    if "source" in LoadOptions.__dataclass_fields__:
        pytest.skip("this naklar reads tools' runs: --source goes to naklar.load")

    result = call("show", sweep, "--source", "hydra")

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("naklar: error: --source needs")
