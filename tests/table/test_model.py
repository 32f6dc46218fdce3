"""Any key works as a column: its SQL name is portable, its public name stays the key."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar._table.model import MAX_NAME_BYTES, assign_names, portable_column_name
from naklar.errors import NaklarWarning

LONG_A = "x" * 70 + "a"
LONG_B = "x" * 70 + "b"
ODD_KEYS: list[Any] = [
    "learning rate",
    "drop-out",
    "a.b",
    "größe",
    "λ",
    "日本語",
    "1st",
    "",
    "select",
    "order",
    "group",
    "metadata",
    "registry",
    "query",
    "id",
    "__table__",
    "__init__",
    "naklar_id",
    "naklar_dir",
    "LR",
    "lr",
    LONG_A,
    LONG_B,
    "😀 emoji",
    "trailing ",
    "nul\x00char",
    "class",
    "%(name)s",
    "%(p0)s",
    "__[POSTCOMPILE_p0]",
    "ß",
    "ſ",
    "\ud800",
    "a:b",
    "quote'\"`",
    7,  # a non-string key becomes '7'
]
RENAMED = {"naklar_id": "naklar_id_1", "naklar_dir": "naklar_dir_1", "\ud800": "\\ud800"}
PUBLIC_KEYS = [RENAMED.get(key, str(key)) for key in ODD_KEYS]


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("learning rate", "learning rate"),
        ("select", "select"),
        ("größe", "größe"),
        ("", "key_da39a3ee"),
        ("trailing ", "trailing_9c1e414e"),
        ("nul\x00char", "nul_char_6539737e"),
        ("😀 emoji", "_ emoji_2d93e021"),
        ("x" * 63, "x" * 63),
        ("x" * 64, "x" * 54 + "_bb2fa3ee"),
        ("é" * 32, "é" * 27 + "_90d16168"),  # 64 bytes: too long in bytes, not characters
        ("%(p0)s", "__p0)s_7ae522e1"),
        ("__[POSTCOMPILE_p0]", "___POSTCOMPILE_p0]_146d8959"),
        ("\ud800", "__10db70ec"),
    ],
    ids=[
        *("space", "keyword", "unicode", "empty", "trailing", "nul", "emoji", "63", "64", "bytes"),
        *("bind_parameter", "post_compile_marker", "surrogate"),
    ],
)
def test_portable_column_name_for_key(key: str, name: str) -> None:
    assert portable_column_name(key) == name
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES


def test_portable_column_name_long_keys_sharing_prefix_differ() -> None:
    assert portable_column_name(LONG_A) != portable_column_name(LONG_B)


@pytest.mark.parametrize(
    ("keys", "names", "warning"),
    [
        (["lr", "LR"], ["lr", "LR_1"], "'LR' as column 'LR_1'"),
        (["Ä", "ä", "A"], ["Ä", "ä_1", "A"], "'ä' as column 'ä_1'"),
        (["İ", "i"], ["İ", "i_1"], "'i' as column 'i_1'"),
        (["NAKLAR_ID"], ["NAKLAR_ID_1"], "'NAKLAR_ID' as column 'NAKLAR_ID_1'"),
        (["a", "a_1", "A"], ["a", "a_1", "A_2"], "'A' as column 'A_2'"),
        (["ß", "ſ"], ["ß", "ſ_1"], "'ſ' as column 'ſ_1'"),
        (["s", "ß"], ["s", "ß_1"], "'ß' as column 'ß_1'"),
    ],
    ids=["ascii", "umlaut", "dotted_i", "reserved", "suffix_taken", "sharp_s_long_s", "sharp_s"],
)
def test_assign_names_case_clash_suffixed_with_warning(
    keys: list[str], names: list[str], warning: str
) -> None:
    with pytest.warns(NaklarWarning) as records:
        assigned = assign_names(keys)

    assert [assigned[key][0] for key in keys] == names
    assert [str(record.message) for record in records] == [
        "keys that differ only in case (SQLite and MySQL compare column names ignoring case; "
        f"MySQL also takes ß and ſ for s) get numbered column names: {warning}. Select them by "
        "their keys as usual."
    ]


def test_assign_names_reserved_name_suffixed_with_its_own_warning() -> None:
    with pytest.warns(NaklarWarning) as records:
        assigned = assign_names(["naklar_dir", "x"])

    assert assigned["naklar_dir"][0] == "naklar_dir_1"
    assert [str(record.message) for record in records] == [
        "keys named like naklar's own columns get numbered column names: "
        "'naklar_dir' as column 'naklar_dir_1'. Select them by their keys as usual."
    ]


@pytest.mark.parametrize(
    ("key", "attribute"),
    [
        ("lr", "lr"),
        ("select", "select"),
        ("id", "id"),
        ("learning rate", "_naklar_c0"),
        ("class", "_naklar_c0"),
        ("metadata", "_naklar_c0"),
        ("registry", "_naklar_c0"),
        ("query", "_naklar_c0"),
        ("__table__", "_naklar_c0"),
        ("_private", "_naklar_c0"),
    ],
)
def test_assign_names_attribute_only_for_plain_identifiers(key: str, attribute: str) -> None:
    assert assign_names([key])[key][1] == attribute


@pytest.fixture
def odd_keys_store(
    tmp_path: Path, any_engine: sa.Engine, table_name: str
) -> Iterator[naklar.Store]:
    """Two runs whose settings use every odd key, loaded on each backend."""
    root = tmp_path / "results"
    for run in range(2):
        settings = {key: 100 * run + index for index, key in enumerate(ODD_KEYS)}
        (root / str(run)).mkdir(parents=True)
        (root / str(run) / "conf.pkl").write_bytes(pickle.dumps(settings))
    store = naklar.Store(any_engine, table_name=table_name)
    with pytest.warns(NaklarWarning) as records:
        store.load(str(root))
    store.load_warnings = [str(record.message) for record in records]  # type: ignore[attr-defined]
    yield store
    with any_engine.begin() as connection:
        assert store.table is not None
        store.table.drop(connection, checkfirst=True)


def test_load_odd_keys_warns_about_renames(odd_keys_store: naklar.Store) -> None:
    assert odd_keys_store.load_warnings == [  # type: ignore[attr-defined]
        "keys named like naklar's own columns are stored under new names: 'naklar_id' as "
        "'naklar_id_1', 'naklar_dir' as 'naklar_dir_1'",
        "keys holding lone surrogates (not valid Unicode, so no database or pandas takes them "
        "as names) are stored under their escaped spelling: '\\ud800' as '\\\\ud800'",
        "keys that differ only in case (SQLite and MySQL compare column names ignoring case; "
        "MySQL also takes ß and ſ for s) get numbered column names: 'lr' as column 'lr_1', "
        "'ſ' as column 'ſ_1'. Select them by their keys as usual.",
    ]


def test_load_odd_keys_every_key_a_column(odd_keys_store: naklar.Store) -> None:
    assert odd_keys_store.columns == ["naklar_dir", *PUBLIC_KEYS]


@pytest.mark.parametrize("index", range(len(ODD_KEYS)), ids=[repr(key) for key in PUBLIC_KEYS])
def test_select_odd_key_by_name_expression_and_item(
    odd_keys_store: naklar.Store, index: int
) -> None:
    key = PUBLIC_KEYS[index]
    store = odd_keys_store

    assert store.select(key) == [(index,), (100 + index,)]
    assert store.select(key, **{key: 100 + index}) == [(100 + index,)]
    assert store.select(key, store.E[key] > index) == [(100 + index,)]
    assert [run[key] for run in store.select()] == [index, 100 + index]
    assert store.frame(key)[key].tolist() == [index, 100 + index]


def test_select_odd_keys_as_frame_keeps_original_names(odd_keys_store: naklar.Store) -> None:
    frame = odd_keys_store.frame()

    assert list(frame.columns) == ["naklar_dir", *PUBLIC_KEYS]
    assert frame[""].tolist() == [ODD_KEYS.index(""), 100 + ODD_KEYS.index("")]


def test_select_plain_keys_as_attributes(odd_keys_store: naklar.Store) -> None:
    E = odd_keys_store.E

    assert odd_keys_store.select("select", E.select == 8, E.id > 0, E.LR < 200) == [(8,)]
