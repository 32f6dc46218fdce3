"""``df.naklar``: registered on import, stateless, the store's filters on any frame."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import naklar
from naklar._query.accessor import NaklarAccessor
from naklar.errors import UnknownColumnError

from messages import assert_mentions

RUNS = {
    "0": {"i": 0, "kernel": "rbf", "C": 1.0, "learning rate": 0.1, "path": "/mnt/results/0"},
    "1": {"i": 1, "kernel": "linear", "C": 2.0, "learning rate": 0.01, "path": "/mnt/results/1"},
    "2": {"i": 2, "kernel": "poly", "C": None, "learning rate": 0.1, "path": None},
}


@pytest.fixture
def store(make_tree: Any) -> naklar.Store:
    return naklar.load(make_tree(RUNS, fmt="json"), dict_file="conf.json")


def test_import_registers_accessor_and_changes_nothing_else() -> None:
    script = (
        "import warnings, pandas as pd; filters = list(warnings.filters); "
        "options = pd.get_option('mode.copy_on_write'); import naklar; "
        "assert warnings.filters == filters, 'warning filters changed'; "
        "assert pd.get_option('mode.copy_on_write') == options; "
        "assert isinstance(pd.DataFrame().naklar, naklar.NaklarAccessor)"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_accessor_holds_only_the_frame(store: naklar.Store) -> None:
    frame = store.frame()
    assert vars(NaklarAccessor(frame)) == {"_frame": frame}


def test_accessor_select_returns_new_frame_and_leaves_original(store: naklar.Store) -> None:
    frame = store.frame()
    before = frame.copy()
    selected = frame.naklar.select("i", "C", C=1)
    selected.loc[:, "C"] = 5.0
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("arguments", "filters", "columns", "rows"),
    [
        ((), {}, ["naklar_dir", "i", "kernel", "C", "learning rate", "path"], [0, 1, 2]),
        (("C", "i"), {}, ["C", "i"], [0, 1, 2]),
        (("i",), {"learning rate": 0.1}, ["i"], [0, 2]),
        (("i",), {"learning rate__lt": 0.1}, ["i"], [1]),
        (("i",), {"C": None}, ["i"], [2]),
    ],
)
def test_accessor_select_gives_database_rows_and_columns(
    store: naklar.Store,
    arguments: tuple[str, ...],
    filters: dict[str, Any],
    columns: list[str],
    rows: list[int],
) -> None:
    selected = store.frame().naklar.select(*arguments, **filters)
    assert selected.columns.tolist() == columns
    assert selected.index.tolist() == rows
    pd.testing.assert_frame_equal(
        selected.reset_index(drop=True), store.frame(*arguments, **filters), check_dtype=False
    )


def test_accessor_select_takes_e_attributes_and_item_access(store: naklar.Store) -> None:
    E = store.E
    selected = store.frame().naklar.select(E.i, E["learning rate"] > 0.05, E.kernel != "rbf")
    assert selected.to_dict("list") == {"i": [2]}


def test_accessor_select_keeps_index_labels_like_pandas(store: naklar.Store) -> None:
    frame = store.frame().set_index("naklar_dir")
    assert frame.naklar.select("i", kernel__ne="rbf").index.tolist() == ["1", "2"]


def test_accessor_mask_is_aligned_boolean_series(store: naklar.Store) -> None:
    frame = store.frame()
    mask = frame.naklar.mask(store.E.C >= 1)
    assert mask.tolist() == [True, True, False]
    assert mask.index.equals(frame.index)


def test_accessor_select_unknown_column_names_closest(store: naklar.Store) -> None:
    with pytest.raises(UnknownColumnError) as error:
        store.frame("i", "C").naklar.select("kernal")
    assert_mentions(str(error.value), "'kernal' is not a column", "'i', 'C'")


def test_accessor_select_expression_on_missing_column_names_it(store: naklar.Store) -> None:
    with pytest.raises(UnknownColumnError) as error:
        store.frame("i", "C").naklar.select(store.E.kernel == "rbf")
    assert_mentions(str(error.value), "the filter names 'kernel'", "this frame", "'i', 'C'")


def test_accessor_translate_path_returns_translated_copy(
    store: naklar.Store, tmp_path: Path
) -> None:
    for i in (0, 1):
        (tmp_path / "results" / str(i)).mkdir(parents=True, exist_ok=True)
    frame = store.frame("i", "path")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        translated = frame.naklar.translate_path("path", "^/mnt/", f"{tmp_path}/")
    assert translated["path"].tolist()[:2] == [f"{tmp_path}/results/0", f"{tmp_path}/results/1"]
    assert translated["path"].isna().tolist() == [False, False, True]
    assert translated["path"].dtype == frame["path"].dtype
    assert frame["path"].tolist()[0] == "/mnt/results/0"  # the original is untouched


def test_accessor_translate_path_warns_once_for_missing_paths(store: naklar.Store) -> None:
    frame = store.frame("path")
    with pytest.warns(naklar.NaklarWarning) as record:
        frame.naklar.translate_path("path", "^/mnt/", "/nowhere/")
    assert len(record) == 1
    assert_mentions(
        str(record[0].message),
        "2 of 2 translated paths in 'path' do not exist",
        "'/nowhere/results/0'",
        "ptrn='^/mnt/'",
        "replace='/nowhere/'",
    )


def test_accessor_translate_path_counts_only_missing_paths(
    store: naklar.Store, tmp_path: Path
) -> None:
    (tmp_path / "local" / "results" / "0").mkdir(parents=True)
    frame = store.frame("path")
    with pytest.warns(naklar.NaklarWarning) as record:
        translated = frame.naklar.translate_path("path", "^/mnt/", f"{tmp_path}/local/")
    messages = [str(entry.message) for entry in record if entry.category is naklar.NaklarWarning]
    assert messages == [
        f"1 of 2 translated paths in 'path' do not exist: '{tmp_path}/local/results/1'; "
        f"check ptrn='^/mnt/' and replace='{tmp_path}/local/'"
    ]
    assert translated["path"].tolist()[0] == f"{tmp_path}/local/results/0"


def test_accessor_translate_path_all_present_warns_nothing(
    store: naklar.Store, tmp_path: Path
) -> None:
    for i in (0, 1):
        (tmp_path / "local" / "results" / str(i)).mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.frame("path").naklar.translate_path("path", "^/mnt/", f"{tmp_path}/local/")


def test_accessor_translate_path_unknown_column_raises(store: naklar.Store) -> None:
    with pytest.raises(UnknownColumnError) as error:
        store.frame("path").naklar.translate_path("paht", "a", "b")
    assert_mentions(str(error.value), "'paht' is not a column", "closest: 'path'")


def test_accessor_works_on_plain_frame_without_store() -> None:
    frame = pd.DataFrame({"kernel": ["rbf", "linear", None], "f1": [0.8, 0.9, None]})
    selected = frame.naklar.select("kernel", f1__gt=0.85)
    assert selected.to_dict("list") == {"kernel": ["linear"]}
    assert frame.naklar.select(kernel__ne="rbf")["kernel"].tolist() == ["linear"]


def test_frames_work_with_plain_pandas(store: naklar.Store) -> None:
    frame = store.frame()
    assert frame.groupby("learning rate")["i"].count().tolist() == [1, 2]
    assert frame.query("C > 1")["i"].tolist() == [1]
    table = frame.pivot_table(index="kernel", columns="learning rate", values="C")
    assert table.shape == (2, 2)  # the poly run has no C


def test_accessor_doctests_pass() -> None:
    import doctest

    import naklar._query.accessor

    assert doctest.testmod(naklar._query.accessor).failed == 0


@pytest.mark.parametrize(
    "module", ["naklar._query.accessor", "naklar._query.filters", "naklar._query.frames"]
)
def test_module_all_names_exist(module: str) -> None:
    import importlib

    imported = importlib.import_module(module)
    assert [name for name in imported.__all__ if not hasattr(imported, name)] == []


def test_package_exports_accessor() -> None:
    assert "NaklarAccessor" in naklar.__all__
    assert naklar.NaklarAccessor is NaklarAccessor
