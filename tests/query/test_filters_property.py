"""Property: for any tree and any filter, the database and ``df.naklar`` select the same rows.

Filter values are drawn as Python, numpy and pandas scalars alike, with every
missing marker; stored and filter floats include -0.0, NaN and ±inf, and text
has trailing spaces: the values where backends used to disagree with the frame.
SQLite runs the most examples; PostgreSQL and MariaDB run fewer, each example in
a table of its own.
"""

from __future__ import annotations

import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naklar

from filter_strategies import RUNS, build, expressions, keyword, typed_keys, write_tree


def assert_database_and_frame_agree(
    runs: list[dict[str, Any]], data: Any, engine: sa.Engine | None
) -> None:
    keys = typed_keys(runs)
    specs = data.draw(st.lists(expressions(keys), max_size=2), label="expressions")
    filters = dict(data.draw(st.lists(st.one_of([keyword(k) for k in keys]), max_size=2)))
    store = naklar.Store(engine, table_name=f"prop_{uuid.uuid4().hex[:10]}")
    with tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        warnings.simplefilter("ignore", naklar.NaklarWarning)  # NaN/inf stored as NULL
        write_tree(Path(directory), runs)
        store.load(directory, dict_file="conf.json")
    try:
        conditions = [build(store.E, spec) for spec in specs]
        from_database = store.frame(*conditions, **filters)
        from_frame = store.frame().naklar.select(*conditions, **filters)
        selected = [row.i for row in store.select("i", *conditions, **filters)]
        assert from_frame["i"].tolist() == selected
        # dtypes may differ: the full frame's nullable columns stay nullable
        pd.testing.assert_frame_equal(
            from_frame.reset_index(drop=True), from_database, check_dtype=False
        )
    finally:
        if engine is not None:
            store.drop()


@settings(max_examples=75, deadline=None)
@given(runs=RUNS.filter(typed_keys), data=st.data())
def test_database_and_frame_select_same_rows(runs: list[dict[str, Any]], data: Any) -> None:
    assert_database_and_frame_agree(runs, data, None)


@pytest.mark.parametrize("server", ["postgres", "mysql"])
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(runs=RUNS.filter(typed_keys), data=st.data())
def test_database_and_frame_select_same_rows_on_servers(
    server: str, request: pytest.FixtureRequest, runs: list[dict[str, Any]], data: Any
) -> None:
    engine = request.getfixturevalue(f"{server}_engine")
    assert_database_and_frame_agree(runs, data, engine)
