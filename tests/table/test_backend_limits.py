"""Each backend's limits, and row sizes estimated as the servers count them."""

from __future__ import annotations

import pytest

from naklar._read.values import Kind
from naklar._table.limits import (
    limits_for,
    mariadb_row_bytes,
    postgres_row_bytes,
    postgres_widest_row_bytes,
)


@pytest.mark.parametrize(
    ("dialect", "columns", "row_bytes", "nul"),
    [
        ("sqlite", 2000, None, False),
        ("postgresql", 1600, 8160, True),
        ("mysql", 1017, 8126, False),
        ("mariadb", 1017, 8126, False),
        ("oracle", None, None, False),
    ],
)
def test_limits_for_dialect(dialect: str, columns: int, row_bytes: int, nul: bool) -> None:
    limits = limits_for(dialect)

    assert (limits.max_columns, limits.max_row_bytes, limits.refuses_nul) == (
        columns,
        row_bytes,
        nul,
    )


@pytest.mark.parametrize(
    ("kind", "count", "size"),
    [
        (Kind.FLOAT, 1016, 8160),  # PostgreSQL stores this row...
        (Kind.FLOAT, 1017, 8168),  # ...and refuses this one: "size 8168, maximum size 8160"
        (Kind.INTEGER, 1016, 8160),
        (Kind.BOOLEAN, 10, 24 + 4 + 2 + 10),  # header, naklar_id, naklar_dir "0", no padding
    ],
)
def test_postgres_row_bytes_as_the_server_counts(kind: Kind, count: int, size: int) -> None:
    assert postgres_row_bytes([kind] * count, [1] * count, "0") == size


def test_postgres_row_bytes_nulls_take_no_room_but_a_bitmap() -> None:
    full = postgres_row_bytes([Kind.FLOAT] * 100, [0.5] * 100, "0")
    half = postgres_row_bytes([Kind.FLOAT] * 100, [0.5] * 50 + [None] * 50, "0")

    assert half == full - 50 * 8 + 16  # a 13-byte null bitmap, aligned


@pytest.mark.parametrize(
    ("value", "size"),
    [("a" * 10, 11), ("a" * 23, 24), ("a" * 24, 18), ("a" * 5000, 18), (b"\x00" * 3, 4)],
    ids=["short", "longest_inline", "toasted", "long", "bytes"],
)
def test_postgres_row_bytes_text_inline_or_toasted(value: object, size: int) -> None:
    kind = Kind.BYTES if isinstance(value, bytes) else Kind.STRING

    assert postgres_row_bytes([kind], [value], "") - postgres_row_bytes([], [], "") == size


def test_postgres_widest_row_bytes_bounds_every_row() -> None:
    kinds = [Kind.BOOLEAN, Kind.FLOAT, Kind.STRING, Kind.DATE, Kind.FLOAT] * 40
    rows = [
        [True, 0.5, "x" * 30, None, 1.0] * 40,
        [None, 0.5, "x" * 23, None, None] * 40,
        [False, None, "y", None, 2.0] * 40,
    ]

    bound = postgres_widest_row_bytes(kinds)

    assert all(postgres_row_bytes(kinds, row, "some/dir") <= bound for row in rows)


@pytest.mark.parametrize(
    ("kinds", "fits"),
    [
        ([Kind.FLOAT] * 994, True),  # MariaDB 10.11 creates this table...
        ([Kind.FLOAT] * 995, False),  # ...and refuses this one (1118 Row size too large)
        ([Kind.STRING] * 365, True),
        ([Kind.STRING] * 383, False),
        ([Kind.BOOLEAN] * 1015, True),
    ],
    ids=["994_doubles", "995_doubles", "365_texts", "383_texts", "1015_booleans"],
)
def test_mariadb_row_bytes_against_its_limit(kinds: list[Kind], fits: bool) -> None:
    assert (mariadb_row_bytes(kinds) <= 8126) is fits
