"""The same job inside a running session, as in a notebook kernel: imports already paid.

    python benchmarks/in_session.py --runs 10000 --format json --repeat 7

``bench.py`` times whole processes, imports included, which is how a script
meets a sweep. A notebook user has pandas and SQLAlchemy imported by the time
they load, and the kernel runs other Python threads, so naklar reads without
its early fork (workers come from a fork server once a read runs long enough).
This script recreates that: it starts a Python thread, imports everything, then
alternates the hand loop's body and naklar's (a new store, ``initialise``, the
filtered frame) in one process, and prints medians and the paired ratio.
Trees are the ones ``bench.py`` makes (under ``benchmarks/trees/``).

``--own-loader`` adds ``naklar_own_loader``: naklar given a ``load_func``
defined in this script, as a notebook user passes a loader defined in a cell
(workers get it by cloudpickle).

    python benchmarks/in_session.py --runs 100000 --format json --repeat 3 --own-loader
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

# Benchmark the checkout this file lives in, whether or not naklar is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402
import sqlalchemy.orm  # noqa: E402, F401  (imported, as in a session that used naklar before)

from naklar import experiment  # noqa: E402
from naklar.errors import NaklarWarning  # noqa: E402

from _common import settings_file_name  # noqa: E402
from hand_loop import filtered_frame  # noqa: E402
from make_tree import make_tree  # noqa: E402
from run_naklar import select_filtered  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent


def hand(root: str, fmt: str) -> pd.DataFrame:
    return filtered_frame(root, fmt)


def naklar(root: str, fmt: str, **initialise_kwargs: Any) -> pd.DataFrame:
    experiment.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NaklarWarning)  # the arrays left out of pickles
        experiment.initialise(
            root, dict_file=settings_file_name(fmt), progress=False, **initialise_kwargs
        )
    return select_filtered()


def load_settings(path: str) -> dict[str, Any]:
    """A loader of the user's own, defined in ``__main__`` as a notebook's would be."""
    with open(path, "rb") as handle:
        return json.load(handle) if path.endswith(".json") else pickle.load(handle)


def naklar_own_loader(root: str, fmt: str) -> pd.DataFrame:
    return naklar(root, fmt, load_func=load_settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000])
    parser.add_argument("--format", nargs="+", default=["json", "pkl"])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--own-loader", action="store_true", help="add naklar_own_loader")
    args = parser.parse_args()
    # a kernel runs other Python threads: naklar must not fork there
    threading.Thread(target=threading.Event().wait, daemon=True).start()

    contestants = [hand, naklar, *([naklar_own_loader] if args.own_loader else [])]
    print(f"{'N':>7} {'fmt':4} {'contestant':18} {'median s':>8} {'ratio':>6} {'paired':>7}")
    for runs in args.runs:
        for fmt in args.format:
            name = f"{fmt}-{runs}-seed{args.seed}"
            root = make_tree(BENCH_DIR / "trees" / name, runs, fmt, args.seed)
            times: dict[str, list[float]] = {contestant.__name__: [] for contestant in contestants}
            for repeat in range(args.repeat):
                shift = repeat % len(contestants)  # each contestant starts in turn
                lengths = set()
                for contestant in contestants[shift:] + contestants[:shift]:
                    started = time.perf_counter()
                    lengths.add(len(contestant(str(root), fmt)))
                    times[contestant.__name__].append(time.perf_counter() - started)
                if len(lengths) != 1:
                    sys.exit(f"the contestants selected different rows: {lengths}")
            hand_s = statistics.median(times["hand"])
            for contestant, seconds in times.items():
                median = statistics.median(seconds)
                paired = statistics.median(
                    own / loop for own, loop in zip(seconds, times["hand"], strict=True)
                )
                print(
                    f"{runs:>7} {fmt:4} {contestant:18} {median:>8.3f} "
                    f"{median / hand_s:>5.2f}x {paired:>6.2f}x"
                )


if __name__ == "__main__":
    main()
