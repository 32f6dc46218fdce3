"""Wide stores: a load over a backend's limits is refused before writing; a refresh skips.

One run per tree keeps these fast: a table at a limit is as wide as it gets.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa

import naklar
from naklar._table.limits import limits_for
from naklar.errors import NaklarError, NaklarWarning


def write_run(root: Path, directory: str, settings: dict[str, object]) -> None:
    (root / directory).mkdir(parents=True)
    (root / directory / "conf.json").write_text(json.dumps(settings))


def wide(count: int, value: object) -> dict[str, object]:
    return {f"k{index}": value for index in range(count)}


def max_columns(engine: sa.Engine) -> int:
    limit = limits_for(engine.dialect.name).max_columns
    assert limit is not None
    return limit


def load(engine: sa.Engine, table_name: str, root: Path) -> naklar.Store:
    store = naklar.Store(engine, table_name=table_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NaklarWarning)
        store.load(str(root), dict_file="conf.json")
    return store


def table_exists(engine: sa.Engine, table_name: str) -> bool:
    return sa.inspect(engine).has_table(table_name)


def test_load_one_column_too_many_refused_before_writing(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    limit = max_columns(any_engine)
    write_run(tmp_path / "results", "0", wide(limit - 1, True))  # + naklar_id, naklar_dir

    with pytest.raises(NaklarError) as caught:
        load(any_engine, table_name, tmp_path / "results")

    message = str(caught.value)
    assert f"{limit + 1:,} columns" in message
    assert f"limit of {limit:,}" in message
    assert "restrict_keys" in message
    assert not table_exists(any_engine, table_name)


def test_load_at_the_column_limit_loads(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    limit = max_columns(any_engine)
    write_run(tmp_path / "results", "0", wide(limit - 2, True))

    store = load(any_engine, table_name, tmp_path / "results")

    assert len(store.columns) == limit - 1  # naklar_dir and the keys
    assert store.select("k0") == [(True,)]
    store.drop()


#: Float keys whose row just fits, per backend that limits row size.
ROW_FITS = {"postgresql": 1016, "mariadb": 994, "mysql": 994}


@pytest.fixture(params=["postgres", "mysql"])
def row_limited(request: pytest.FixtureRequest) -> sa.Engine:
    """The backends that limit a row's size (SQLite sets none a settings row meets)."""
    engine: sa.Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


def test_load_row_too_big_refused_naming_limit(
    tmp_path: Path, row_limited: sa.Engine, table_name: str
) -> None:
    write_run(tmp_path / "results", "0", wide(ROW_FITS[row_limited.dialect.name] + 1, 0.5))

    with pytest.raises(NaklarError) as caught:
        load(row_limited, table_name, tmp_path / "results")

    message = str(caught.value)
    limit = limits_for(row_limited.dialect.name).max_row_bytes
    assert f"limit of {limit:,} bytes" in message
    assert "restrict_keys" in message
    assert not table_exists(row_limited, table_name)


def test_load_row_at_the_limit_loads(
    tmp_path: Path, row_limited: sa.Engine, table_name: str
) -> None:
    count = ROW_FITS[row_limited.dialect.name]
    write_run(tmp_path / "results", "0", wide(count, 0.5))

    store = load(row_limited, table_name, tmp_path / "results")

    assert store.select(f"k{count - 1}") == [(0.5,)]
    store.drop()


def test_refresh_over_the_column_limit_skips_that_run_and_stays_refreshable(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    _refresh_skips_the_too_wide_run(
        tmp_path, any_engine, table_name, wide(max_columns(any_engine), True)
    )


def test_refresh_over_the_row_size_skips_that_run_and_stays_refreshable(
    tmp_path: Path, row_limited: sa.Engine, table_name: str
) -> None:
    too_wide = wide(ROW_FITS[row_limited.dialect.name] + 1, 0.5)
    _refresh_skips_the_too_wide_run(tmp_path, row_limited, table_name, too_wide)


def _refresh_skips_the_too_wide_run(
    tmp_path: Path, any_engine: sa.Engine, table_name: str, too_wide: dict[str, object]
) -> None:
    root = tmp_path / "results"
    write_run(root, "0", {"a": 0})
    store = load(any_engine, table_name, root)
    columns_before = {column["name"] for column in sa.inspect(any_engine).get_columns(table_name)}
    write_run(root, "1", too_wide)

    with pytest.warns(NaklarWarning, match="skipped"):
        report = store.refresh()

    assert report.changes is not None
    assert (report.changes.added, report.changes.skipped) == (0, 1)
    [skipped] = report.skipped
    assert skipped.path == str(root / "1" / "conf.json")
    assert "limit" in skipped.reason
    assert "restrict_keys" in skipped.reason
    after = {column["name"] for column in sa.inspect(any_engine).get_columns(table_name)}
    assert after == columns_before
    write_run(root, "2", {"a": 2, "b": "new"})
    with pytest.warns(NaklarWarning, match="skipped"):  # run 1 is still there
        store.refresh()
    reopened = naklar.open(any_engine, table_name=table_name)
    assert reopened.select("a", "b") == [(0, None), (2, "new")]
    store.drop()


def test_refresh_keeps_narrow_new_runs_beside_a_too_wide_one(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    root = tmp_path / "results"
    write_run(root, "0", {"a": 0})
    store = load(any_engine, table_name, root)
    write_run(root, "1", wide(max_columns(any_engine), True))
    write_run(root, "2", {"a": 2, "b": "new"})

    with pytest.warns(NaklarWarning, match="widen the table too far"):
        report = store.refresh()

    assert report.changes is not None
    assert (report.changes.added, report.changes.skipped) == (1, 1)
    assert [entry.path for entry in report.skipped] == [str(root / "1" / "conf.json")]
    assert store.select("a", "b") == [(0, None), (2, "new")]
    store.drop()
