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
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

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


def naklar(root: str, fmt: str) -> pd.DataFrame:
    experiment.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NaklarWarning)  # the arrays left out of pickles
        experiment.initialise(root, dict_file=settings_file_name(fmt), progress=False)
    return select_filtered()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000])
    parser.add_argument("--format", nargs="+", default=["json", "pkl"])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # a kernel runs other Python threads: naklar must not fork there
    threading.Thread(target=threading.Event().wait, daemon=True).start()

    print(f"{'N':>7} {'fmt':4} {'hand s':>8} {'naklar s':>9} {'ratio':>6} {'paired':>7}")
    for runs in args.runs:
        for fmt in args.format:
            name = f"{fmt}-{runs}-seed{args.seed}"
            root = make_tree(BENCH_DIR / "trees" / name, runs, fmt, args.seed)
            times: dict[str, list[float]] = {"hand": [], "naklar": []}
            for repeat in range(args.repeat):
                order = [hand, naklar] if repeat % 2 == 0 else [naklar, hand]
                lengths = set()
                for contestant in order:
                    started = time.perf_counter()
                    lengths.add(len(contestant(str(root), fmt)))
                    times[contestant.__name__].append(time.perf_counter() - started)
                if len(lengths) != 1:
                    sys.exit(f"hand and naklar selected different rows: {lengths}")
            hand_s, naklar_s = (statistics.median(times[name]) for name in ("hand", "naklar"))
            paired = statistics.median(
                n / h for n, h in zip(times["naklar"], times["hand"], strict=True)
            )
            print(
                f"{runs:>7} {fmt:4} {hand_s:>8.3f} {naklar_s:>9.3f} "
                f"{naklar_s / hand_s:>5.2f}x {paired:>6.2f}x"
            )


if __name__ == "__main__":
    main()
