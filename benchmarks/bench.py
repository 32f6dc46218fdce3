"""Time each contestant loading a sweep tree and selecting f1 > 0.5 as a DataFrame.

    python benchmarks/bench.py --runs 1000 10000 --format json pkl --repeat 5 \
        [--contestants hand,hand_sql,sqlite_utils,naklar] [--json results.json] \
        [--compare LABEL=PATH ...]

Every measurement is a fresh process started with this interpreter; the wall time is
taken by this parent around the whole process, imports included. Contestants run
round-robin (rotating the starting one) within each repeat, so machine noise hits
them all alike. Trees are made once under benchmarks/trees/ and reused.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from _common import compile_bytecode
from make_tree import make_tree

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
BASELINE = "hand"


@dataclass(frozen=True)
class Contestant:
    name: str
    script: str
    extra_args: tuple[str, ...] = ()
    naklar: bool = False  # takes --initialise-kwargs
    needs_store: bool = False  # run once with --prepare (untimed) before timing
    checkout: Path = REPO_ROOT  # whose benchmarks/ the script is run from (--compare)

    @property
    def script_path(self) -> Path:
        return self.checkout / "benchmarks" / self.script


def _naklar(name: str, scenario: str, needs_store: bool = False) -> Contestant:
    return Contestant(name, "run_naklar.py", ("--scenario", scenario), True, needs_store)


CONTESTANTS = {
    c.name: c
    for c in (
        Contestant("hand", "hand_loop.py"),
        Contestant("hand_sql", "hand_loop_sql.py"),
        Contestant("sqlite_utils", "run_sqlite_utils.py"),
        _naklar("naklar", "cold"),
        _naklar("naklar_reopen", "reopen", needs_store=True),
        _naklar("naklar_refresh", "refresh", needs_store=True),
    )
}
DEFAULT_CONTESTANTS = "hand,hand_sql,sqlite_utils,naklar,naklar_reopen,naklar_refresh"


@dataclass
class Cell:
    """All measurements of one contestant on one tree."""

    contestant: str
    runs: int
    format: str
    status: str = "ok"  # ok | failed | skipped
    message: str = ""
    wall_s: list[float] = field(default_factory=list)
    maxrss_mib: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    i_sums: list[int] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.status == "ok" and bool(self.wall_s)

    def median_wall(self) -> float:
        return statistics.median(self.wall_s)

    def median_rss(self) -> float:
        return statistics.median(self.maxrss_mib)


@dataclass
class Outcome:
    wall_s: float
    result: dict[str, Any] | None = None  # the contestant's JSON line
    error: str = ""


def run_process(argv: list[str], timeout: float) -> Outcome:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return Outcome(time.perf_counter() - start, error=f"timed out after {timeout:.0f} s")
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        stderr_lines = proc.stderr.strip().splitlines() or ["(no stderr)"]
        return Outcome(wall, error=f"exit {proc.returncode}: {stderr_lines[-1]}")
    try:
        return Outcome(wall, result=json.loads(proc.stdout.strip().splitlines()[-1]))
    except (IndexError, ValueError):
        return Outcome(wall, error=f"no JSON result line in stdout: {proc.stdout[-200:]!r}")


def contestant_argv(c: Contestant, tree: Path, fmt: str, args: argparse.Namespace) -> list[str]:
    argv = [sys.executable, str(c.script_path), str(tree), "--format", fmt, *c.extra_args]
    if c.naklar and args.naklar_kwargs:
        argv += ["--initialise-kwargs", args.naklar_kwargs]
    if c.needs_store:
        store = args.trees_dir / "stores" / f"{c.name}-{tree.name}.db"
        store.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--store", str(store)]
    return argv


def warm_page_cache(tree: Path) -> None:
    """Read every file once so no contestant pays for the first, cold read."""
    for dirpath, _dirs, files in os.walk(tree):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                f.read()


def record(cell: Cell, outcome: Outcome) -> str:
    """Store one outcome in its cell; return a short progress note."""
    if outcome.error:
        cell.status, cell.message = "failed", outcome.error
        return "FAILED"
    assert outcome.result is not None
    if "skipped" in outcome.result:
        cell.status, cell.message = "skipped", str(outcome.result["skipped"])
        return "skipped"
    cell.wall_s.append(outcome.wall_s)
    cell.maxrss_mib.append(float(outcome.result["maxrss_mib"]))
    cell.rows.append(int(outcome.result["rows"]))
    cell.i_sums.append(int(outcome.result["i_sum"]))
    return f"{outcome.wall_s:.2f}s"


def bench_tree(tree: Path, runs: int, fmt: str, args: argparse.Namespace) -> list[Cell]:
    cells = {name: Cell(name, runs, fmt) for name in args.contestants}
    for name in args.contestants:
        c = CONTESTANTS[name]
        if c.needs_store:  # untimed set-up; a failure or skip here ends the contestant
            outcome = run_process(contestant_argv(c, tree, fmt, args) + ["--prepare"], args.timeout)
            if outcome.error or (outcome.result and "skipped" in outcome.result):
                print(f"  {name}: prepare {record(cells[name], outcome)}")

    for rep in range(args.repeat):
        # A contestant that failed or was skipped once is not run again.
        active = [name for name in args.contestants if cells[name].status == "ok"]
        if not active:
            break
        shift = rep % len(active)
        notes = []
        for name in active[shift:] + active[:shift]:
            outcome = run_process(contestant_argv(CONTESTANTS[name], tree, fmt, args), args.timeout)
            notes.append(f"{name} {record(cells[name], outcome)}")
        print(f"  repeat {rep + 1}/{args.repeat}: " + ", ".join(notes), flush=True)
    return list(cells.values())


def check_rows(cells: list[Cell]) -> list[str]:
    """All contestants, in all repeats, must return the same rows."""
    answers = {
        (cell.contestant, rows, i_sum)
        for cell in cells
        if cell.measured
        for rows, i_sum in zip(cell.rows, cell.i_sums, strict=True)
    }
    if len({(rows, i_sum) for _, rows, i_sum in answers}) <= 1:
        return []
    return [
        f"row MISMATCH: {name} returned {rows} rows (i_sum {i})"
        for name, rows, i in sorted(answers)
    ]


def ratio(value: float, baseline: float | None) -> str:
    return f"{value / baseline:.2f}x" if baseline else "-"


def paired_ratio(cell: Cell, base: Cell | None) -> str:
    """The median, over repeats, of this contestant's time over the loop's in that repeat.

    Contestants of one repeat run back to back, so a machine that slows down or
    speeds up between repeats moves both times of a pair alike: on a noisy machine
    this ratio varies less than the ratio of the medians.
    """
    if base is None:
        return "-"
    pairs = zip(cell.wall_s, base.wall_s, strict=False)  # a failed contestant stops early
    return f"{statistics.median(wall / hand for wall, hand in pairs):.2f}x"


def table(cells: list[Cell]) -> str:
    width = max([15, *(len(c.contestant) for c in cells)])
    header = (
        f"{'contestant':<{width}} {'N':>7} {'fmt':<4} {'median s':>9} {'min s':>8} "
        f"{'peak MiB':>9} {'wall/hand':>9} {'paired':>7} {'mem/hand':>9} {'rows':>7}"
    )
    lines = [header, "-" * len(header)]
    baselines = {(c.runs, c.format): c for c in cells if c.contestant == BASELINE and c.measured}
    for c in cells:
        prefix = f"{c.contestant:<{width}} {c.runs:>7} {c.format:<4}"
        if not c.measured:
            lines.append(f"{prefix} {c.status.upper()}: {c.message}")
            continue
        base = baselines.get((c.runs, c.format))
        wall, rss = c.median_wall(), c.median_rss()
        lines.append(
            f"{prefix} {wall:>9.3f} {min(c.wall_s):>8.3f} {rss:>9.1f} "
            f"{ratio(wall, base.median_wall() if base else None):>9} "
            f"{paired_ratio(c, base):>7} "
            f"{ratio(rss, base.median_rss() if base else None):>9} {c.rows[0]:>7}"
        )
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """An argument as JSON can hold it: paths as strings."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Path) else value


def machine_info() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    versions = {}
    for dist in ("pandas", "SQLAlchemy", "sqlite-utils", "numpy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "ram_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        **versions,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--format", nargs="+", choices=("json", "pkl", "jbl"), default=["json"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--contestants", default=DEFAULT_CONTESTANTS, help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trees-dir", type=Path, default=BENCH_DIR / "trees")
    parser.add_argument(
        "--naklar-kwargs", default="", help="JSON passed to run_naklar.py --initialise-kwargs"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    parser.add_argument("--json", type=Path, help="also write all measurements here")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="also run each chosen naklar contestant from the checkout at PATH (another "
        "commit's git worktree), as <contestant>@LABEL, in the same repeats",
    )
    args = parser.parse_args()
    args.contestants = [name.strip() for name in args.contestants.split(",") if name.strip()]
    unknown = [name for name in args.contestants if name not in CONTESTANTS]
    if unknown:
        parser.error(f"unknown contestants {unknown}; choose from {list(CONTESTANTS)}")
    args.checkouts = [REPO_ROOT]
    chosen_naklar = [name for name in args.contestants if CONTESTANTS[name].naklar]
    for spec in args.compare:
        label, _, path = spec.partition("=")
        checkout = Path(path).resolve()
        if not label or not (checkout / "benchmarks" / "run_naklar.py").is_file():
            parser.error(f"--compare {spec!r}: want LABEL=PATH to a checkout with benchmarks/")
        args.checkouts.append(checkout)
        for name in chosen_naklar:
            twin = dataclasses.replace(CONTESTANTS[name], name=f"{name}@{label}", checkout=checkout)
            CONTESTANTS[twin.name] = twin
            args.contestants.append(twin.name)
    return args


def main() -> int:
    args = parse_args()
    machine = machine_info()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine.items()))
    compile_bytecode(args.checkouts)
    # Load the libraries' files into the page cache before the first timed process.
    subprocess.run([sys.executable, "-c", "import pandas, sqlalchemy, sqlite_utils"], check=False)

    cells: list[Cell] = []
    problems: list[str] = []
    for fmt in args.format:
        for runs in args.runs:
            tree = args.trees_dir / f"{fmt}-{runs}-seed{args.seed}"
            start = time.perf_counter()
            existed = tree.exists()
            make_tree(tree, runs, fmt, args.seed)
            print(
                f"{'reused' if existed else 'made'} {tree} in {time.perf_counter() - start:.1f} s"
            )
            warm_page_cache(tree)
            tree_cells = bench_tree(tree, runs, fmt, args)
            problems += check_rows(tree_cells)
            cells += tree_cells

    print()
    print(table(cells))
    for problem in problems:
        print(problem)
    if args.json:
        payload = {
            "machine": machine,
            "args": {k: _plain(v) for k, v in vars(args).items()},
            "cells": [asdict(c) for c in cells],
        }
        args.json.write_text(json.dumps(payload, indent=2))
    if problems:
        return 2
    return 1 if any(c.status == "failed" for c in cells) else 0


if __name__ == "__main__":
    sys.exit(main())
