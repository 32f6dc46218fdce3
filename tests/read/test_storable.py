"""Text no database stores (lone surrogates), or one refuses (NUL on PostgreSQL)."""

from __future__ import annotations

import pytest

from naklar._read.rows import SettingsRows
from naklar._read.storable import text_problem


@pytest.mark.parametrize(
    ("text", "refuses_nul", "problem"),
    [
        ("plain", None, None),
        ("größe 😀", None, None),
        ("a\x00b", None, None),
        ("a\x00b", "PostgreSQL", "NUL character at 1, which PostgreSQL refuses"),
        ("x\ud83d", None, "lone surrogate ('\\ud83d' at 1)"),
        ("run\udcff", "PostgreSQL", "lone surrogate ('\\udcff' at 3)"),
    ],
    ids=["ascii", "unicode", "nul_allowed", "nul_refused", "surrogate", "undecodable_byte"],
)
def test_text_problem(text: str, refuses_nul: str | None, problem: str | None) -> None:
    found = text_problem(text, refuses_nul)

    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_settings_rows_drop_rows_keeps_order_and_forgets_their_keys() -> None:
    rows = SettingsRows()
    rows.append("0", {"a": 0})
    rows.append("1", {"a": 1, "wide": 1})
    rows.append("2", {"a": 2, "b": 2})

    rows.drop_rows({1})

    assert list(rows) == [("0", {"a": 0}), ("2", {"a": 2, "b": 2})]
    assert rows.keys() == ["a", "b"]
    assert rows.columns(["a", "b"]) == [[0, 2], [None, 2]]


def test_settings_rows_drop_every_row_leaves_empty_columns() -> None:
    rows = SettingsRows()
    rows.append("0", {"a": 0})

    rows.drop_rows({0})

    assert rows.columns(["a"]) == [[]]
    assert rows.keys() == []
