"""Sweep analysis at 100,000 runs: ``df.naklar`` against the pandas it replaces, and in SQL.

Part 1 times each ``df.naklar`` method against the hand-written pandas that answers
the same question on the same frame, and prints the ratio (the target: at most 2).
Part 2 fills a store on PostgreSQL (``--url``; skipped when unreachable) with the
same runs and times ``store.summary()`` and ``store.varying()``, which aggregate
in the database, against fetching the frame and asking it.

    python benchmarks/bench_analysis.py [--runs 100000] [--repeat 5] [--url URL]

Times are the best of ``--repeat``; the machine is shared, so the best is the
least disturbed.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import naklar

METRICS = ["f1", "accuracy", "loss"]
GRID = {
    "lr": [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6],
    "width": [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
    "optimizer": ["sgd", "adam", "rmsprop", "lbfgs"],
    "dropout": [0.0, 0.1, 0.2, 0.3, 0.5],
    "seed": list(range(50)),
}
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sweep_frame(runs: int, seed: int = 0) -> pd.DataFrame:
    """``runs`` runs of the grid (1% lost, 0.5% run twice), two constants, a conditional key."""
    rng = np.random.default_rng(seed)
    cells = list(itertools.product(*GRID.values()))
    chosen = rng.choice(len(cells), size=runs, replace=len(cells) < runs)
    keep = chosen[rng.random(runs) > 0.01]
    again = keep[rng.random(len(keep)) < 0.005]
    order = np.concatenate([keep, again])
    frame = pd.DataFrame([cells[index] for index in order], columns=list(GRID))
    count = len(frame)
    frame.insert(0, "naklar_dir", pd.array([f"run{index}" for index in range(count)], "string"))
    frame["optimizer"] = frame["optimizer"].astype("string")
    frame["dataset"] = pd.array(["iris"] * count, "string")
    frame["epochs"] = 100
    frame["momentum"] = np.where(frame["optimizer"] == "sgd", 0.9, np.nan)
    frame["f1"] = rng.random(count)
    frame["accuracy"] = rng.random(count)
    frame["loss"] = rng.random(count) * 3
    frame.attrs["naklar_metrics"] = sorted(METRICS)
    return frame


def best_time(function: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


# The hand-written pandas, as a user would write it without naklar.


def hand_varying(frame: pd.DataFrame) -> list[str]:
    settings = [c for c in frame.columns if c not in METRICS and c != "naklar_dir"]
    counts = frame[settings].nunique(dropna=False)
    return list(counts[counts > 1].index)


def hand_constants(frame: pd.DataFrame) -> dict[str, Any]:
    counts, full = frame.nunique(dropna=False), frame.notna().all()
    return {c: frame[c].iloc[0] for c in frame.columns if counts[c] == 1 and full[c]}


def hand_summary(frame: pd.DataFrame) -> pd.DataFrame:
    runs = frame.count()
    return pd.DataFrame(
        {
            "dtype": frame.dtypes.astype(str),
            "runs": runs,
            "share": runs / len(frame),
            "distinct": frame.nunique(),
            "examples": {c: list(frame[c].dropna().unique()[:3]) for c in frame.columns},
            "min": frame.min(numeric_only=True),
            "max": frame.max(numeric_only=True),
        }
    )


def hand_missing(frame: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([sorted(frame[p].dropna().unique()) for p in params])
    present = pd.MultiIndex.from_frame(frame[params])
    return grid.difference(present).to_frame(index=False, name=params)


def hand_duplicates(frame: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    return frame[frame.duplicated(params, keep=False)]


def hand_aggregate(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    stats = ["mean", "std", "sem", "count"]
    return frame.groupby(keys, dropna=False)[METRICS].agg(stats).reset_index()


def hand_best(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[[frame["f1"].idxmax()]]


def hand_best_by(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame.groupby("lr")["f1"].idxmax()]


def hand_diff(frame: pd.DataFrame, a: int, b: int) -> pd.Series:
    first, second = frame.loc[a], frame.loc[b]
    return first[first.ne(second) & ~(first.isna() & second.isna())]


def hand_diff_filters(frame: pd.DataFrame, a: dict[str, Any], b: dict[str, Any]) -> pd.Series:
    def one(filters: dict[str, Any]) -> int:
        mask = np.logical_and.reduce([frame[k] == v for k, v in filters.items()])
        return frame.index[mask][0]

    return hand_diff(frame, one(a), one(b))


def frame_part(frame: pd.DataFrame, repeat: int) -> None:
    params = list(GRID)
    keys = ["lr", "width", "optimizer", "dropout", "momentum"]
    unique = frame.drop_duplicates(params)
    a_row, b_row = unique.iloc[10], unique.iloc[20]
    a_filters = {p: _plain(a_row[p]) for p in params}
    b_filters = {p: _plain(b_row[p]) for p in params}
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("varying()", lambda: frame.naklar.varying(), lambda: hand_varying(frame)),
        ("constants()", lambda: frame.naklar.constants(), lambda: hand_constants(frame)),
        ("summary()", lambda: frame.naklar.summary(), lambda: hand_summary(frame)),
        ("missing(*5 params)", lambda: frame.naklar.missing(), lambda: hand_missing(frame, params)),
        (
            "duplicates()",
            lambda: frame.naklar.duplicates(),
            lambda: hand_duplicates(frame, params + ["momentum"]),
        ),
        (
            "aggregate(over='seed')",
            lambda: frame.naklar.aggregate(),
            lambda: hand_aggregate(frame, keys),
        ),
        ("best('f1')", lambda: frame.naklar.best("f1"), lambda: hand_best(frame)),
        (
            "best('f1', by='lr')",
            lambda: frame.naklar.best("f1", by="lr"),
            lambda: hand_best_by(frame),
        ),
        ("diff(label, label)", lambda: frame.naklar.diff(10, 20), lambda: hand_diff(frame, 10, 20)),
        (
            "diff(filters, filters)",
            lambda: frame.naklar.diff(a_filters, b_filters),
            lambda: hand_diff_filters(frame, a_filters, b_filters),
        ),
    ]
    print(f"df.naklar on {len(frame):,} runs, best of {repeat} (ratio: naklar / hand pandas)")
    print(f"{'method':<26}{'naklar s':>10}{'pandas s':>10}{'ratio':>8}")
    for name, ours, theirs in cases:
        ours(), theirs()  # warm: imports, caches
        mine, hand = best_time(ours, repeat), best_time(theirs, repeat)
        print(f"{name:<26}{mine:>10.4f}{hand:>10.4f}{mine / hand:>8.2f}")


def store_part(frame: pd.DataFrame, url: str, repeat: int) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except Exception as error:  # any driver or connection failure
        print(f"\nstore part skipped: {url} not reachable ({error.__class__.__name__})")
        return
    table_name = f"bench_analysis_{uuid.uuid4().hex[:8]}"
    store = naklar.Store(engine, table_name=table_name)
    try:
        fill_store(store, frame)
        fetched = store.frame()
        assert len(fetched) == len(frame)
        cases = [
            (
                "summary()",
                lambda: store.summary(),
                lambda: store.frame().naklar.summary(),
            ),
            (
                "varying()",
                lambda: store.varying(),
                lambda: store.frame().naklar.varying(),
            ),
            ("constants()", lambda: store.constants(), lambda: store.frame().naklar.constants()),
        ]
        print(
            f"\nstore on {engine.dialect.name}, {len(frame):,} runs, best of {repeat} "
            "(SQL aggregates against store.frame() then df.naklar)"
        )
        print(f"{'method':<26}{'SQL s':>10}{'frame s':>10}{'ratio':>8}")
        for name, ours, theirs in cases:
            ours()
            mine, other = best_time(ours, repeat), best_time(theirs, repeat)
            print(f"{name:<26}{mine:>10.4f}{other:>10.4f}{mine / other:>8.2f}")
    finally:
        store.drop()
        engine.dispose()


def fill_store(store: naklar.Store, frame: pd.DataFrame) -> None:
    """Load a one-run tree with the sweep's keys, then insert the sweep's rows into its table.

    The table, its types and the record are naklar's own; inserting the rows
    directly skips writing and reading 100,000 files, which is not measured here.
    """
    import pickle

    import sqlalchemy as sa

    settings = frame.drop(columns=["naklar_dir"])
    first = {key: _plain(value) for key, value in settings.iloc[0].items()}
    first["momentum"] = 0.9
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "results"
        (root / "run0").mkdir(parents=True)
        (root / "run0" / "conf.pkl").write_bytes(pickle.dumps(first))
        store.load(root, metrics=METRICS, workers=1)
    assert store.table is not None
    specs = store.E._naklar_columns
    records = [
        {specs[key].name: _plain(value) for key, value in row.items()}
        for row in frame.to_dict("records")
    ]
    with store.engine.begin() as connection:
        connection.execute(store.table.delete())
        records = [{"naklar_id": index, **record} for index, record in enumerate(records)]
        connection.execute(sa.insert(store.table), records)


def _plain(value: Any) -> Any:
    if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default=DEFAULT_URL, help="a PostgreSQL URL ('' skips part 2)")
    arguments = parser.parse_args()
    frame = sweep_frame(arguments.runs)
    frame_part(frame, arguments.repeat)
    if arguments.url:
        store_part(frame, arguments.url, arguments.repeat)


if __name__ == "__main__":
    main()
