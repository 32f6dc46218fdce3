"""One bad value never sinks a load: runs the backend cannot store are reported skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

import naklar
from naklar.errors import NaklarWarning, SettingsFileError

#: JSON text of each bad value; every backend refuses a lone surrogate.
SURROGATE = '{"s": "a\\ud83d", "i": 0}'
NUL = '{"s": "a\\u0000b", "i": 0}'
NESTED_SURROGATE = '{"s": ["\\udc80"], "i": 0}'


def tree(tmp_path: Path, runs: dict[str | bytes, str]) -> Path:
    """``conf.json`` files holding the given JSON text, in directories named by ``runs``' keys."""
    root = tmp_path / "results"
    for directory, text in runs.items():
        name = directory if isinstance(directory, bytes) else directory.encode()
        path = os.path.join(bytes(root), name)
        os.makedirs(path)
        with open(os.path.join(path, b"conf.json"), "w") as handle:
            handle.write(text)
    return root


def load(engine: sa.Engine, table_name: str, root: Path, **options: object) -> naklar.Store:
    store = naklar.Store(engine, table_name=table_name)
    store.load(str(root), dict_file="conf.json", **options)  # type: ignore[arg-type]
    return store


def refuses_nul(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.mark.parametrize(
    ("text", "key"),
    [(SURROGATE, "s"), (NESTED_SURROGATE, "s")],
    ids=["surrogate", "surrogate_in_list"],
)
def test_load_value_no_backend_stores_skips_its_run(
    tmp_path: Path, any_engine: sa.Engine, table_name: str, text: str, key: str
) -> None:
    root = tree(tmp_path, {"0": text, "1": '{"s": "ok", "i": 1}'})

    with pytest.warns(NaklarWarning, match="cannot store their text"):
        store = load(any_engine, table_name, root)

    assert store.select("i", "s") == [(1, "ok")]
    assert store.report is not None
    assert store.report.loaded == 1
    [skipped] = store.report.skipped
    assert skipped.path == str(root / "0" / "conf.json")
    assert f"key {key!r}" in skipped.reason
    assert "surrogate" in skipped.reason
    store.drop()


def test_load_nul_skipped_only_where_refused(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    root = tree(tmp_path, {"0": NUL, "1": '{"s": "ok", "i": 1}'})

    if refuses_nul(any_engine):
        with pytest.warns(NaklarWarning, match="PostgreSQL cannot store their text"):
            store = load(any_engine, table_name, root)
        assert store.select("s") == [("ok",)]
        assert store.report is not None
        [skipped] = store.report.skipped
        assert "NUL" in skipped.reason
        assert "PostgreSQL" in skipped.reason
    else:
        store = load(any_engine, table_name, root)
        assert store.select("s") == [("a\x00b",), ("ok",)]
    store.drop()


def test_load_directory_name_not_utf8_skips_its_run(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    root = tree(tmp_path, {b"run\xff": '{"i": 0}', "1": '{"i": 1}'})

    with pytest.warns(NaklarWarning, match="cannot store their text"):
        store = load(any_engine, table_name, root)

    assert store.select("naklar_dir", "i") == [("1", 1)]
    assert store.report is not None
    [skipped] = store.report.skipped
    assert "directory name" in skipped.reason
    assert "rename the directory" in skipped.reason
    assert store.report.loaded + len(store.report.skipped) == store.report.files_found
    store.drop()


def test_load_bad_value_on_error_raise_names_file_and_key(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    root = tree(tmp_path, {"0": SURROGATE, "1": '{"i": 1}'})

    with pytest.raises(SettingsFileError) as caught:
        load(any_engine, table_name, root, on_error="raise")

    assert str(root / "0" / "conf.json") in str(caught.value)
    assert "'s'" in str(caught.value)


def test_load_bad_value_on_error_ignore_is_silent(
    tmp_path: Path, any_engine: sa.Engine, table_name: str, recwarn: pytest.WarningsRecorder
) -> None:
    root = tree(tmp_path, {"0": SURROGATE, "1": '{"s": "ok", "i": 1}'})

    store = load(any_engine, table_name, root, on_error="ignore")

    assert store.select("i") == [(1,)]
    assert not [record for record in recwarn if record.category is NaklarWarning]
    store.drop()


def test_refresh_bad_value_skips_that_run_and_stays_refreshable(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> None:
    root = tree(tmp_path, {"0": '{"s": "a", "i": 0}'})
    store = load(any_engine, table_name, root)
    (root / "1").mkdir()
    (root / "1" / "conf.json").write_text(SURROGATE)

    with pytest.warns(NaklarWarning, match="cannot store their text"):
        report = store.refresh()

    assert report.changes is not None
    assert (report.changes.added, report.changes.skipped) == (0, 1)
    assert "surrogate" in report.skipped[0].reason
    (root / "2").mkdir()
    (root / "2" / "conf.json").write_text('{"s": "c", "i": 2}')
    with pytest.warns(NaklarWarning):  # run 1 is still there, still skipped
        store.refresh()
    assert store.select("i", "s") == [(0, "a"), (2, "c")]
    store.drop()


@pytest.mark.parametrize(
    ("first", "second"),
    [("ß", "ſ"), ("%(p0)s", "a"), ("\ud800", "a")],
    ids=["sharp_s_then_long_s", "bind_parameter", "surrogate"],
)
def test_refresh_new_odd_key_becomes_its_own_column(
    tmp_path: Path, any_engine: sa.Engine, table_name: str, first: str, second: str
) -> None:
    root = tree(tmp_path, {"0": f'{{"{_json(first)}": 1}}'})
    with pytest.warns(NaklarWarning) if first == "\ud800" else _quiet():
        store = load(any_engine, table_name, root)
    (root / "1").mkdir()
    (root / "1" / "conf.json").write_text(f'{{"{_json(second)}": 2}}')

    with pytest.warns(NaklarWarning) if second == "ſ" else _quiet():
        store.refresh()

    public = "\\ud800" if first == "\ud800" else first
    frame = store.frame()
    assert frame[public].tolist()[0] == 1
    assert frame[second].tolist()[1] == 2
    assert naklar.open(any_engine, table_name=table_name).frame().shape == (2, 3)
    store.drop()


def _json(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode() if key == "\ud800" else key


def _quiet() -> object:
    import contextlib

    return contextlib.nullcontext()
