"""How a load report, runs, selections and stores show in a terminal and in Jupyter."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar._table.display import MAX_HTML_ROWS


@pytest.fixture
def store(make_tree: Any) -> naklar.Store:
    root = make_tree(
        {"0": {"lr": 0.1, "opt": "<sgd>"}, "1": {"lr": 0.2, "opt": "adam"}}, fmt="json"
    )
    return naklar.load(root, dict_file="conf.json")


def test_load_report_repr_is_its_summary(store: naklar.Store) -> None:
    from IPython.lib.pretty import pretty

    report = store.report

    assert (
        repr(report)
        == str(report)
        == f"2 conf.json files under {store.root_dir}: 2 loaded, 0 skipped"
    )
    assert pretty(report) == str(report)


def test_selected_named_tuples_stay_a_list(store: naklar.Store) -> None:
    rows = store.select("lr", "opt")

    assert isinstance(rows, list)
    assert rows == [(0.1, "<sgd>"), (0.2, "adam")]
    assert repr(rows) == "[Row(lr=0.1, opt='<sgd>'), Row(lr=0.2, opt='adam')]"
    assert rows[:1] == [(0.1, "<sgd>")]


def test_selected_rows_pickle_as_a_list_of_named_tuples(store: naklar.Store) -> None:
    rows = store.select("lr", "opt")

    back = pickle.loads(pickle.dumps(rows))

    assert type(back) is list
    assert back == rows
    assert [row.opt for row in back] == ["<sgd>", "adam"]


def test_selected_rows_show_as_an_html_table(store: naklar.Store) -> None:
    page = store.select("lr", "opt")._repr_html_()

    assert "<thead><tr><th>lr</th><th>opt</th></tr></thead>" in page
    assert "<tr><td>0.1</td><td>&lt;sgd&gt;</td></tr>" in page  # escaped


def test_selected_runs_show_every_column(store: naklar.Store) -> None:
    page = store.select(opt="adam")._repr_html_()

    assert "<th>naklar_dir</th><th>lr</th><th>opt</th>" in page
    assert "<td>1</td><td>0.2</td><td>adam</td>" in page


def test_one_run_shows_as_a_one_row_table(store: naklar.Store) -> None:
    (run,) = store.select(opt="adam")

    page = run._repr_html_()

    assert page.count("<tr>") == 2 and "<td>adam</td>" in page


def test_empty_selection_says_so(store: naklar.Store) -> None:
    assert store.select("lr", lr=5)._repr_html_() == "<p>no runs selected</p>"


def test_long_selection_shows_its_ends_and_its_length(make_tree: Any) -> None:
    root = make_tree({str(i): {"i": i} for i in range(MAX_HTML_ROWS + 1)}, fmt="json")

    page = naklar.load(root, dict_file="conf.json").select("i")._repr_html_()

    assert page.count("<tr>") == 1 + 10 + 1 + 10
    assert "<td>...</td>" in page and "<td>0</td>" in page and f"<td>{MAX_HTML_ROWS}</td>" in page
    assert f"<p>{MAX_HTML_ROWS + 1} rows</p>" in page


def test_store_repr_shows_root_database_runs_and_column_types(store: naklar.Store) -> None:
    text = repr(store)

    assert text.splitlines()[0] == f"<naklar.Store of {store.root_dir!r} in sqlite://: 2 runs"
    assert [line.split() for line in text.splitlines()[1:]] == [
        ["column", "type", "metric"],
        ["naklar_dir", "String"],
        ["lr", "Float"],
        ["opt", "String>"],
    ]


def test_store_marks_the_metric_columns_it_records(store: naklar.Store) -> None:
    store.add_metrics(["lr"])

    assert ["lr", "Float", "yes"] in [line.split() for line in repr(store).splitlines()]
    assert "<td>lr</td><td>Float</td><td>yes</td>" in store._repr_html_()


def test_store_html_names_root_and_database(store: naklar.Store) -> None:
    page = store._repr_html_()

    assert page.startswith("<p>naklar.Store of ") and "2 runs</p>" in page
    assert "<td>opt</td><td>String</td>" in page


def test_store_hides_the_password_of_its_database() -> None:
    engine = sa.create_engine("postgresql+psycopg://user:secret@127.0.0.1:1/test")

    shown = repr(naklar.Store(engine)) + naklar.Store(engine)._repr_html_()

    assert "secret" not in shown and "***" in shown
    assert "nothing loaded" in shown


def test_reopened_store_shows_its_runs(store: naklar.Store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    naklar.load(store.root_dir, dict_file="conf.json", url=url)  # type: ignore[arg-type]

    assert ": 2 runs" in repr(naklar.open(url)).splitlines()[0]
