"""Baseline with a database: the hand loop, then SQLAlchemy Core into in-memory SQLite."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)

from _common import (
    F1_THRESHOLD,
    SELECTED_COLUMNS,
    TABLE_NAME,
    contestant_parser,
    plain_scalars,
    report,
)
from hand_loop import load_runs

SQL_TYPES = {bool: Boolean, int: Integer, float: Float, str: String}


def main() -> None:
    args = contestant_parser(__doc__).parse_args()
    runs = load_runs(args.root, args.format)
    if args.format != "json":
        runs = [plain_scalars(run) for run in runs]

    # Every run has the same keys here, so the first run defines the table.
    columns: list[Column[Any]] = [
        Column(key, SQL_TYPES[type(value)]) for key, value in runs[0].items()
    ]
    table = Table(TABLE_NAME, MetaData(), *columns)
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), runs)  # a list of dicts -> executemany
        query = select(*(table.c[name] for name in SELECTED_COLUMNS)).where(
            table.c.f1 > F1_THRESHOLD
        )
        frame = pd.read_sql(query, conn)
    report(frame)


if __name__ == "__main__":
    main()
