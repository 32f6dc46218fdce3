"""A file-SQLite store keeps its full frame as an Arrow copy, and never serves a stale one."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naklar
from naklar._store.snapshot import FrameSnapshot, snapshot_for
from naklar._store.store import Store

import filter_strategies
from trees import write_settings

RUNS = {
    f"C{c}/seed{seed}": {"C": c, "seed": seed, "f1": 0.5 + c / 10 + seed / 100, "kernel": "rbf"}
    for c in (1, 2)
    for seed in range(3)
}


@pytest.fixture
def tree(make_tree: Any) -> Path:
    return make_tree(RUNS, fmt="json")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sweep.db'}"


@contextlib.contextmanager
def sqlite_file(url: str) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the store's file: committed, then closed.

    (sqlite3's own ``with`` only commits; a connection left to the collector
    makes Python 3.13 warn, in whichever test is running then.)
    """
    path = url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        yield connection


def snapshot_rows(url: str) -> list[tuple[int, int]]:
    """(generation, schema_version) of every copy in the store's database file."""
    with sqlite_file(url) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "experiment_naklar_frame" not in tables:
            return []
        return connection.execute(
            "SELECT generation, schema_version FROM experiment_naklar_frame"
        ).fetchall()


def frame_from_table(store: Store) -> pd.DataFrame:
    """The full frame read from the table itself, bypassing the copy."""
    return store._frame_from_table(list(store.E._naklar_columns.values()), [])


def load_without_copy(tree: Path, url: str) -> Store:
    """Load into ``url``, then remove the copy the load kept, as if it never had one."""
    store = naklar.load(tree, url=url, dict_file="conf.json")
    with sqlite_file(url) as connection:
        connection.execute("DROP TABLE experiment_naklar_frame")
    return store


def forbid_table_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("the frame was read from the table, not from the copy")

    monkeypatch.setattr(store, "_frame_from_table", refuse)


def test_a_load_into_a_file_keeps_a_copy(
    tree: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")

    assert len(snapshot_rows(url)) == 1
    reopened = naklar.open(url)
    forbid_table_reads(reopened, monkeypatch)
    assert reopened.frame()["C"].tolist() == [1] * 3 + [2] * 3
    assert store.report is not None and store.report.loaded == 6


def test_a_load_without_rows_keeps_no_copy(tree: Path, url: str) -> None:
    naklar.load(tree, url=url, dict_file="conf.json", autoload=False)

    assert snapshot_rows(url) == []


def test_the_first_full_frame_keeps_a_copy(tree: Path, url: str) -> None:
    store = load_without_copy(tree, url)
    assert snapshot_rows(url) == []

    store.frame()

    assert len(snapshot_rows(url)) == 1


def test_a_reopened_store_reads_its_frame_from_the_copy(
    tree: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = naklar.load(tree, url=url, dict_file="conf.json").frame()
    reopened = naklar.open(url)
    forbid_table_reads(reopened, monkeypatch)

    pd.testing.assert_frame_equal(reopened.frame(), expected)
    pd.testing.assert_frame_equal(reopened.frame("f1", "C"), expected[["f1", "C"]])


def test_filtered_frames_come_from_a_current_copy(
    tree: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")
    expected = store.frame("seed", "f1", C=2, seed__gt=0)
    store.frame()
    forbid_table_reads(store, monkeypatch)

    pd.testing.assert_frame_equal(store.frame("seed", "f1", C=2, seed__gt=0), expected)
    assert store.frame(store.E.f1 > 9).empty


def test_like_filters_and_other_backends_come_from_the_table(
    tree: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")
    store.frame()
    forbid_table_reads(store, monkeypatch)

    with pytest.raises(AssertionError, match="read from the table"):
        store.frame(kernel__startswith="r")
    with pytest.raises(AssertionError, match="read from the table"):
        store.frame(dtype_backend="pyarrow")


def test_like_answers_as_sqlite_does_after_a_copy(make_tree: Any, url: str) -> None:
    tree = make_tree({"a": {"kernel": "rbf"}, "b": {"kernel": "RBF"}}, fmt="json")
    store = naklar.load(tree, url=url, dict_file="conf.json")
    store.frame()

    assert store.frame("kernel", kernel__like="rbf")["kernel"].tolist() == ["rbf", "RBF"]


def test_filtered_rows_get_the_dtypes_of_the_rows_selected(
    make_tree: Any, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = {"a": {"n": 1, "ok": True}, "b": {"n": None, "ok": None}, "c": {"n": 3, "ok": False}}
    store = naklar.load(make_tree(runs, fmt="json"), url=url, dict_file="conf.json")
    assert store.frame().dtypes.astype(str).tolist() == ["string", "Int64", "boolean"]
    forbid_table_reads(store, monkeypatch)

    without_missing = store.frame(n__isnull=False)

    assert without_missing.dtypes.astype(str).tolist() == ["string", "int64", "bool"]
    assert without_missing["n"].tolist() == [1, 3]


def test_a_column_subset_alone_keeps_no_copy(tree: Path, url: str) -> None:
    store = load_without_copy(tree, url)

    assert store.frame("f1")["f1"].tolist() == [RUNS[run]["f1"] for run in RUNS]
    assert snapshot_rows(url) == []


def test_sql_of_ones_own_makes_the_copy_stale(tree: Path, url: str) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")
    store.frame()
    with sqlite_file(url) as connection:
        connection.execute("UPDATE experiment SET kernel = 'linear' WHERE C = 2")

    reopened = naklar.open(url)

    assert reopened.frame()["kernel"].tolist() == ["rbf"] * 3 + ["linear"] * 3


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM experiment WHERE C = 1",
        "INSERT INTO experiment (naklar_id, naklar_dir, C) VALUES (99, 'new', 7)",
    ],
)
def test_deletes_and_inserts_make_the_copy_stale(tree: Path, url: str, statement: str) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")
    store.frame()
    with sqlite_file(url) as connection:
        connection.execute(statement)

    assert naklar.open(url).frame().equals(frame_from_table(naklar.open(url)))


def test_an_added_column_makes_the_copy_stale(tree: Path, url: str) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")
    store.frame()
    engine = sa.create_engine(url)
    snapshot = snapshot_for(engine, "experiment", "experiment_naklar_meta")
    assert snapshot is not None
    assert snapshot.read(engine, ["C"]) is not None
    with sqlite_file(url) as connection:
        connection.execute("ALTER TABLE experiment ADD COLUMN extra INTEGER")

    assert snapshot.read(engine, ["C"]) is None
    engine.dispose()


def test_a_refresh_shows_new_and_changed_runs(tree: Path, url: str) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")
    store.frame()
    write_settings(tree / "C3" / "seed0" / "conf.json", {"C": 3, "seed": 0, "lr": 0.1}, "json")
    write_settings(tree / "C1" / "seed0" / "conf.json", {"C": 1, "seed": 0, "f1": 0.0}, "json")

    store.refresh()
    frame = naklar.open(url).frame()

    assert frame["C"].tolist() == [1, 1, 1, 2, 2, 2, 3]
    assert frame.loc[frame.naklar_dir == "C1/seed0", "f1"].tolist() == [0.0]
    assert frame["lr"].isna().sum() == 6


def test_loading_again_replaces_the_copy(
    tree: Path, url: str, make_tree: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    naklar.load(tree, url=url, dict_file="conf.json").frame()
    other = make_tree({"x": {"gamma": 1.5}}, fmt="json", root="other")

    naklar.load(other, url=url, dict_file="conf.json")

    assert len(snapshot_rows(url)) == 1
    reopened = naklar.open(url)
    forbid_table_reads(reopened, monkeypatch)
    assert reopened.frame()["gamma"].tolist() == [1.5]


def test_a_change_while_the_frame_is_read_keeps_no_copy(tree: Path, url: str) -> None:
    store = load_without_copy(tree, url)
    assert store._snapshot is not None

    def read_while_someone_writes() -> pd.DataFrame:
        frame = frame_from_table(store)
        with sqlite_file(url) as connection:
            connection.execute("UPDATE experiment SET C = 5 WHERE C = 1")
        return frame

    store._snapshot.take(store.engine, read_while_someone_writes)

    assert snapshot_rows(url) == []
    assert store.frame()["C"].tolist() == [5] * 3 + [2] * 3


def test_a_read_only_database_gives_frames_without_a_copy(tree: Path, url: str) -> None:
    load_without_copy(tree, url)
    path = url.removeprefix("sqlite:///")

    read_only = naklar.open(f"sqlite:///file:{path}?mode=ro&uri=true")

    assert read_only.frame()["C"].tolist() == [1] * 3 + [2] * 3
    assert snapshot_rows(url) == []


def test_a_copy_in_a_locked_database_is_skipped(tree: Path, url: str) -> None:
    load_without_copy(tree, url)
    engine = sa.create_engine(url, connect_args={"timeout": 0})
    store = naklar.Store.open(engine)
    with sqlite_file(url) as writer:
        writer.execute("BEGIN IMMEDIATE")  # readers may read, no one else may write

        assert store.frame()["C"].tolist() == [1] * 3 + [2] * 3
    assert snapshot_rows(url) == []
    engine.dispose()


def test_in_memory_and_server_stores_keep_no_copy() -> None:
    assert snapshot_for(sa.create_engine("sqlite://"), "t", "t_meta") is None
    assert snapshot_for(sa.create_engine("sqlite:///:memory:"), "t", "t_meta") is None
    memory_uri = sa.create_engine(
        "sqlite:///file:x?mode=memory&uri=true", poolclass=sa.pool.StaticPool
    )
    assert snapshot_for(memory_uri, "t", "t_meta") is None
    server = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert snapshot_for(server, "t", "t_meta") is None
    assert isinstance(snapshot_for(sa.create_engine("sqlite:///x.db"), "t", "t_m"), FrameSnapshot)


def test_getter_columns_are_computed_after_the_copy(tree: Path, url: str) -> None:
    naklar.load(tree, url=url, dict_file="conf.json").frame()
    decorators = {"kernel": (lambda self, value: value.upper(), None)}

    reopened = naklar.open(url, decorators=decorators)

    assert reopened.frame()["kernel"].tolist() == ["RBF"] * 6


# -- every kind of value comes back from the copy as from the table ------------

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
    st.dates(),
    st.binary(max_size=4),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(runs=st.lists(st.dictionaries(st.sampled_from("abcd"), values), min_size=1, max_size=4))
def test_the_copy_equals_the_table_for_any_values(
    runs: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("runs")
    for number, run in enumerate(runs):
        write_settings(root / str(number) / "conf.pkl", run, "pkl")
    url = f"sqlite:///{root / 'store.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", naklar.NaklarWarning)  # mixed kinds become text
        store = naklar.load(root, url=url)
    from_table = store.frame()
    from_copy = naklar.open(url).frame()

    pd.testing.assert_frame_equal(from_copy, from_table, check_exact=True)


# NaN drawn as a value is stored as NULL on SQLite, with a warning this test expects
@pytest.mark.filterwarnings("ignore:sqlite cannot store these float values")
@settings(max_examples=30, deadline=None)
@given(runs=filter_strategies.RUNS.filter(filter_strategies.typed_keys), data=st.data())
def test_filtered_frames_from_the_copy_equal_the_table_s(
    runs: list[dict[str, Any]], data: Any
) -> None:
    keys = filter_strategies.typed_keys(runs)
    expressions = st.lists(filter_strategies.expressions(keys), max_size=2)
    specs = data.draw(expressions, label="expressions")
    keywords = st.lists(st.one_of([filter_strategies.keyword(key) for key in keys]), max_size=2)
    filters = dict(data.draw(keywords, label="filters"))
    with tempfile.TemporaryDirectory() as directory:
        filter_strategies.write_tree(Path(directory) / "runs", runs)
        url = f"sqlite:///{directory}/store.db"
        store = naklar.load(Path(directory) / "runs", url=url, dict_file="conf.json")
        store.frame()  # takes the copy
        from_table = naklar.open(url)
        from_table._snapshot = None
        conditions = [filter_strategies.build(store.E, spec) for spec in specs]
        same_conditions = [filter_strategies.build(from_table.E, spec) for spec in specs]

        expected = from_table.frame(*same_conditions, **filters)
        pd.testing.assert_frame_equal(store.frame(*conditions, **filters), expected)
        store.engine.dispose()
        from_table.engine.dispose()


def test_a_store_whose_counter_went_missing_gives_frames_without_a_copy(
    tree: Path, url: str
) -> None:
    store = naklar.load(tree, url=url, dict_file="conf.json")
    store.frame()
    with sqlite_file(url) as connection:
        connection.execute("DELETE FROM experiment_naklar_meta WHERE name = 'generation'")
        connection.execute("DELETE FROM experiment_naklar_frame")

    assert naklar.open(url).frame()["C"].tolist() == [1] * 3 + [2] * 3
    assert snapshot_rows(url) == []


def test_a_load_too_large_for_a_copy_reads_no_frame(
    tree: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = len(RUNS) * len(RUNS["C1/seed0"])  # 8 bytes each at least: one byte too many
    monkeypatch.setattr("naklar._store.snapshot.MAX_SNAPSHOT_BYTES", values * 8 - 1)
    engine = sa.create_engine(url)
    store = Store(engine)
    forbid_table_reads(store, monkeypatch)

    report = store.load(tree, dict_file="conf.json")

    assert report.loaded == 6
    assert snapshot_rows(url) == []
    engine.dispose()
