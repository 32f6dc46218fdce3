"""The documentation's walkthrough, replayed on the tree its own example script writes.

Expected values are read independently from the same files with plain
``json.load``: today's scikit-learn no longer reproduces the documentation's
printed f1 scores, so those printouts are not the oracle.
"""

from __future__ import annotations

import json
import pprint
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import naklar
import naklar.util
from naklar import decorator, experiment
from naklar._read.walk import natural_key
from naklar.errors import NaklarWarning, UnknownColumnError


def load_json(fpath: str) -> dict[str, Any]:
    """The documentation's own json loader, passed as load_func."""
    with open(fpath) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def runs(iris_tree: Path) -> list[dict[str, Any]]:
    """Every run's conf.json, read by hand, in natural directory order."""
    directories = sorted(
        (p for p in iris_tree.iterdir() if p.is_dir()), key=lambda p: natural_key(p.name)
    )
    return [json.loads((directory / "conf.json").read_text()) for directory in directories]


def expected(
    runs: list[dict[str, Any]], *keys: str, where: Any = lambda run: True
) -> list[tuple[Any, ...]]:
    return [tuple(run[key] for key in keys) for run in runs if where(run)]


@pytest.fixture
def json_loaded(iris_tree: Path) -> None:
    experiment.initialise(iris_tree, autoload=True, dict_file="conf.json", load_func=load_json)


@pytest.mark.parametrize(
    ("dict_file", "load_func"),
    [("conf.json", load_json), ("conf.pkl", None), ("conf.jbl", naklar.util.load_joblib)],
)
def test_select_i_path_f1_matches_files_for_each_format(
    iris_tree: Path, runs: list[dict[str, Any]], dict_file: str, load_func: Any
) -> None:
    with pytest.warns(NaklarWarning) if dict_file == "conf.pkl" else _no_warning():
        experiment.initialise(iris_tree, autoload=True, dict_file=dict_file, load_func=load_func)

    rows = experiment.select("i", "path", "f1")

    assert rows == expected(runs, "i", "path", "f1")
    assert all(type(row.f1) is float for row in rows)


def test_rows_come_in_natural_directory_order(json_loaded: None) -> None:
    assert [row.i for row in experiment.select("i")] == list(range(12))


def test_select_with_scalar_kwarg_is_equality(
    json_loaded: None, runs: list[dict[str, Any]]
) -> None:
    assert experiment.select("kernel", kernel="linear") == [("linear",)] * 4
    assert experiment.select("path", C=1) == expected(runs, "path", where=lambda r: r["C"] == 1)


def test_select_kwarg_and_expression_agree(json_loaded: None) -> None:
    E = experiment.E
    assert experiment.select("kernel", kernel="linear") == experiment.select(
        "kernel", E.kernel == "linear"
    )
    assert experiment.select("path", C=1) == experiment.select("path", E.C == 1)


def test_select_with_list_is_in_and_values_matching_nothing_dont_matter(
    json_loaded: None, runs: list[dict[str, Any]]
) -> None:
    in_1_2 = expected(runs, "path", "C", where=lambda r: r["C"] in (1, 2))

    assert experiment.select("path", "C", C=[1, 2]) == in_1_2
    assert experiment.select("path", "C", C=[1, 2, 3]) == in_1_2
    assert experiment.select("path", "C", experiment.E.C.in_([1, 2, 3])) == in_1_2
    assert [path for path, _ in in_1_2] == [
        "results/2",
        "results/3",
        "results/6",
        "results/7",
        "results/10",
        "results/11",
    ]


def test_select_with_comparison_expression(json_loaded: None, runs: list[dict[str, Any]]) -> None:
    E = experiment.E
    threshold = sorted({run["f1"] for run in runs})[-2]  # the seed's 0.82 now matches nothing

    rows = experiment.select("i", "kernel", "C", "f1", E.f1 > threshold)

    assert rows == expected(runs, "i", "kernel", "C", "f1", where=lambda r: r["f1"] > threshold)
    assert rows  # the threshold leaves at least the best run
    assert experiment.select("i", E.f1 > 0.82) == expected(
        runs, "i", where=lambda r: r["f1"] > 0.82
    )


def test_select_without_columns_returns_E_objects(
    json_loaded: None, runs: list[dict[str, Any]]
) -> None:
    objects = experiment.select(kernel="linear")

    assert [type(obj) for obj in objects] == [experiment.E] * 4
    assert [(obj.path,) for obj in objects] == expected(
        runs, "path", where=lambda r: r["kernel"] == "linear"
    )
    assert len(experiment.select()) == 12


def test_E_object_reads_like_its_settings_dict(
    json_loaded: None, runs: list[dict[str, Any]]
) -> None:
    first = experiment.select()[0]

    assert {key: value for key, value in first if key != "naklar_dir"} == runs[0]
    assert first["f1"] == first.f1 == runs[0]["f1"]
    assert dict(first)["naklar_dir"] == "0"
    assert repr(first).startswith("Exp(naklar_dir='0', ")
    assert f"f1={runs[0]['f1']!r}" in repr(first)


def test_E_attributes_are_sqlalchemy_properties(json_loaded: None) -> None:
    E = experiment.E
    assert E.__name__ == "Exp"
    assert isinstance(E.f1, sa.orm.QueryableAttribute)
    assert (
        str((E.f1 > 0.5).compile(compile_kwargs={"literal_binds": True})) == "experiment.f1 > 0.5"
    )


def test_raw_session_queries_on_the_engine(json_loaded: None) -> None:
    E = experiment.E
    session = Session(bind=experiment._engine)
    try:
        kernels = session.query(E.kernel).filter(E.kernel.in_(["linear"])).all()
        # SQLAlchemy 2 wants text columns spelt sa.column('path'), not the bare 'path'
        paths = (
            session.query(sa.column("path")).select_from(E).filter(E.kernel.in_(["linear"])).all()
        )
    finally:
        session.close()

    assert pprint.pformat(kernels) == "[('linear',), ('linear',), ('linear',), ('linear',)]"
    assert [tuple(row) for row in paths] == [
        ("results/0",),
        ("results/1",),
        ("results/2",),
        ("results/3",),
    ]


def test_joblib_arrays_become_the_path_of_their_file(iris_tree: Path) -> None:
    experiment.initialise(iris_tree, dict_file="conf.jbl", load_func=naklar.util.load_joblib)

    first = experiment.select("results", i=0)[0]

    assert first.results == str(iris_tree / "0" / "conf.jbl")


def test_pickled_numpy_array_is_left_out_with_one_warning(iris_tree: Path) -> None:
    with pytest.warns(NaklarWarning) as warned:
        report = experiment.initialise(iris_tree)

    assert len(warned) == 1
    assert str(warned[0].message) == (
        "left out of the table, as their values map onto no column type: 'results' "
        "(values of type ndarray in 12 file(s) map onto no column type). Pass "
        "on_unsupported='raise' to stop instead, or restrict_keys= to choose the keys."
    )
    assert report.dropped_keys == {
        "results": "values of type ndarray in 12 file(s) map onto no column type"
    }
    assert "results" not in experiment.store().columns


def test_unknown_column_names_the_closest_ones(json_loaded: None) -> None:
    with pytest.raises(UnknownColumnError) as raised:
        experiment.select("path", kernal="linear")

    assert str(raised.value).startswith(
        "'kernal' is not a column; closest: 'kernel'. Columns are: "
    )


def test_decorator_getter_translates_paths_in_select_and_objects(
    json_loaded: None, iris_tree: Path
) -> None:
    home_path = partial(decorator.translate_path, ptrn="^results/", replace=f"{iris_tree}/")
    experiment.initialise(iris_tree, dict_file="conf.json", decorators={"path": (home_path,)})
    E = experiment.E

    translated = [str(iris_tree / str(i)) for i in (2, 6, 10)]
    assert [row.path for row in experiment.select("path", C=1)] == translated
    assert [row.path for row in experiment.select(E.path, C=1)] == translated
    assert experiment.select(C=1)[0].path == translated[0]
    # SQL still compares the stored value
    assert experiment.select("i", E.path == "results/2") == [(2,)]
    assert experiment.frame("path", C=1)["path"].tolist() == translated


def test_decorator_getter_warns_when_translated_path_is_missing(iris_tree: Path) -> None:
    nowhere = partial(decorator.translate_path, ptrn="^results/", replace="/nonexistent/")
    experiment.initialise(iris_tree, dict_file="conf.json", decorators={"path": (nowhere, None)})

    with pytest.warns(
        NaklarWarning, match=r"translated path '/nonexistent/0' \(from 'results/0'\) does not exist"
    ):
        assert experiment.select("path", i=0) == [("/nonexistent/0",)]


def set_startdate(self: Any, value: Any) -> pd.Timestamp:
    """The documentation's setter: a timestamp parsed from the end of ``output``."""
    pth = self.output
    ts = pth[-14:]
    ts = (ts[:2], ts[2:4], ts[4:8], ts[8:10], ts[10:12], ts[12:])
    return pd.to_datetime("{}.{}.{} {}:{}:{}".format(*ts), dayfirst=True)


def test_decorator_setter_with_column_computes_startdate(make_tree: Any) -> None:
    root = make_tree(
        {
            "0": {"i": 0, "output": "/home/user/results/exp.39034.21102015141054"},
            "1": {"i": 1, "output": "/home/user/results/exp.89045.21102015113236"},
        }
    )
    startdate = (None, set_startdate, sa.Column("startdate", sa.DateTime))

    experiment.initialise(root_dir=root, autoload=True, decorators={"startdate": startdate})

    assert isinstance(experiment.E.startdate.type, sa.DateTime)
    assert experiment.select("i", "startdate") == [
        (0, pd.Timestamp("2015-10-21 14:10:54").to_pydatetime()),
        (1, pd.Timestamp("2015-10-21 11:32:36").to_pydatetime()),
    ]
    assert experiment.select("i", experiment.E.startdate < pd.Timestamp("2015-10-21 12:00")) == [
        (1,)
    ]


def test_decorator_setter_runs_on_attribute_assignment(make_tree: Any) -> None:
    root = make_tree({"0": {"lr": 0.1}})
    experiment.initialise(root, decorators={"lr": (None, lambda self, value: value * 10)})

    run = experiment.select()[0]
    run.lr = 0.5

    assert run.lr == 5.0
    assert experiment.select("lr") == [(1.0,)]  # the setter ran on load too


def test_connect_to_a_file_database_keeps_the_rows(iris_tree: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    experiment.connect(url)
    experiment.initialise(iris_tree, dict_file="conf.json")

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM experiment")).scalar_one()
    engine.dispose()
    assert count == 12
    assert str(experiment._engine.url) == url


def test_engine_kwargs_of_initialise_go_to_create_engine(iris_tree: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kw.db'}"
    experiment.initialise(iris_tree, dict_file="conf.json", url=url)

    assert str(experiment._engine.url) == url


def test_initialise_twice_without_reset_replaces_the_table(iris_tree: Path) -> None:
    experiment.initialise(iris_tree, dict_file="conf.json")
    experiment.initialise(iris_tree, dict_file="conf.json", restrict_keys={"i", "kernel"})

    assert experiment.store().columns == ["naklar_dir", "kernel", "i"]
    assert len(experiment.select()) == 12


def test_reset_forgets_the_table(iris_tree: Path) -> None:
    experiment.initialise(iris_tree, dict_file="conf.json")
    experiment.reset()

    with pytest.raises(naklar.NotInitialisedError, match="call initialise"):
        experiment.select()
    experiment.initialise(iris_tree, dict_file="conf.json")
    assert len(experiment.select("i")) == 12


def test_autoload_false_defines_the_table_without_rows(iris_tree: Path) -> None:
    report = experiment.initialise(iris_tree, autoload=False, dict_file="conf.json")

    assert experiment.select() == []
    assert "f1" in experiment.store().columns
    assert (report.files_found, report.loaded, report.inserted) == (12, 12, False)
    assert str(report).endswith(
        "12 loaded, 0 skipped (autoload=False: table defined, no rows inserted)"
    )


def test_restrict_keys_limits_the_columns(iris_tree: Path) -> None:
    experiment.initialise(iris_tree, dict_file="conf.json", restrict_keys={"C", "f1"})

    assert experiment.store().columns == ["naklar_dir", "C", "f1"]


def test_two_stores_live_side_by_side(iris_tree: Path, make_tree: Any) -> None:
    other = make_tree({"a": {"x": 1}, "b": {"x": 2}}, fmt="json", root="other")

    iris = naklar.load(iris_tree, dict_file="conf.json")
    small = naklar.load(other, dict_file="conf.json")

    assert len(iris.select()) == 12
    assert small.select("x", small.E.x > 1) == [(2,)]
    assert iris.select("kernel", iris.E.C == 2)[0].kernel == "linear"


class _no_warning:
    """Context manager asserting that no NaklarWarning is raised inside."""

    def __enter__(self) -> None:
        import warnings

        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc: object) -> None:
        self._catcher.__exit__(*exc)
        assert not [w for w in self._caught if issubclass(w.category, NaklarWarning)]
