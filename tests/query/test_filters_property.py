"""Property: for any tree and any filter, the database and ``df.naklar`` select the same rows."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import naklar

from filter_strategies import RUNS, build, expressions, keyword, typed_keys, write_tree


@settings(max_examples=75, deadline=None)
@given(runs=RUNS.filter(typed_keys), data=st.data())
def test_database_and_frame_select_same_rows(runs: list[dict[str, Any]], data: Any) -> None:
    keys = typed_keys(runs)
    specs = data.draw(st.lists(expressions(keys), max_size=2), label="expressions")
    filters = dict(data.draw(st.lists(st.one_of([keyword(k) for k in keys]), max_size=2)))
    with tempfile.TemporaryDirectory() as directory:
        write_tree(Path(directory), runs)
        store = naklar.load(directory, dict_file="conf.json")
    conditions = [build(store.E, spec) for spec in specs]

    from_database = store.frame(*conditions, **filters)
    from_frame = store.frame().naklar.select(*conditions, **filters)

    assert from_frame["i"].tolist() == [row.i for row in store.select("i", *conditions, **filters)]
    # dtypes may differ: the full frame's nullable columns stay nullable
    pd.testing.assert_frame_equal(
        from_frame.reset_index(drop=True), from_database, check_dtype=False
    )
