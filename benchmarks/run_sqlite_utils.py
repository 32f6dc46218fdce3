"""The same job with sqlite-utils: hand walk, insert_all(alter=True), filtered query."""

from __future__ import annotations

import pandas as pd
import sqlite_utils

from _common import (
    F1_THRESHOLD,
    SELECTED_COLUMNS,
    TABLE_NAME,
    contestant_parser,
    plain_scalars,
    report,
)
from hand_loop import load_runs


def main() -> None:
    args = contestant_parser(__doc__).parse_args()
    runs = load_runs(args.root, args.format)
    if args.format != "json":
        runs = [plain_scalars(run) for run in runs]

    db = sqlite_utils.Database(memory=True)
    db.table(TABLE_NAME).insert_all(runs, alter=True)
    sql = f"select {', '.join(SELECTED_COLUMNS)} from {TABLE_NAME} where f1 > ?"
    frame = pd.DataFrame(list(db.query(sql, [F1_THRESHOLD])))
    report(frame)


if __name__ == "__main__":
    main()
