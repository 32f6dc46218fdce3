"""Time naklar from other checkouts against this one, in adjacent pairs of processes.

    python benchmarks/pairs.py --runs 10000 --scenario cold --pairs 8 \\
        --variant no-gc=/tmp/naklar-no-gc --variant plain-rows=/tmp/naklar-plain-rows

Each pair runs ``run_naklar.py`` from this checkout and from one variant's, back
to back, the order alternating from pair to pair, so a machine that slows down
between pairs slows both alike. Printed per variant: the median, over pairs, of
its wall time and of its CPU time (the process and its workers) divided by this
checkout's, and of its peak memory likewise. CPU time varies far less than wall
time on a shared machine, but does not show what overlapping work buys (reading
while importing). ``bench.py --compare`` does the same with the loop as well; it
runs the contestants of a repeat in a fixed rotation, so a pair can lie many
processes apart.

The trees are ``bench.py``'s (it makes them); the reopen and refresh scenarios
build each checkout's store first, untimed, then run it once untimed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
THIS = "this"


def run(checkout: Path, args: argparse.Namespace, prepare: bool = False) -> dict[str, Any]:
    """One process of ``run_naklar.py`` from ``checkout``: its report, wall and CPU time."""
    tree = args.trees_dir / f"json-{args.runs}-seed{args.seed}"
    argv = [sys.executable, str(checkout / "benchmarks" / "run_naklar.py"), str(tree)]
    argv += ["--format", "json", "--scenario", args.scenario]
    if args.scenario != "cold":
        store = args.trees_dir / "stores" / f"pairs-{checkout.name}-{args.scenario}-{tree.name}.db"
        store.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--store", str(store)] + (["--prepare"] if prepare else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{checkout} failed: {done.stderr.strip()[-300:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--scenario", choices=("cold", "reopen", "refresh"), default="cold")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trees-dir", type=Path, default=BENCH_DIR / "trees")
    parser.add_argument("--json", type=Path, help="also write every pair here")
    args = parser.parse_args()
    variants = {label: Path(path).resolve() for label, _, path in map(_split, args.variant)}
    checkouts = {THIS: BENCH_DIR.parent, **variants}
    if args.scenario != "cold":
        for checkout in checkouts.values():
            run(checkout, args, prepare=True)
            run(checkout, args)
    pairs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {v: [] for v in variants}
    for number in range(args.pairs):
        for label in variants if number % 2 == 0 else reversed(variants):
            order = [THIS, label] if number % 2 == 0 else [label, THIS]
            got = {name: run(checkouts[name], args) for name in order}
            if (got[THIS]["rows"], got[THIS]["i_sum"]) != (got[label]["rows"], got[label]["i_sum"]):
                sys.exit(f"{label} returned other rows than this checkout")
            pairs[label].append((got[THIS], got[label]))
        print(f"pair {number + 1}/{args.pairs}", flush=True)
    for label, measured in pairs.items():
        ratios = {
            key: statistics.median(variant[key] / this[key] for this, variant in measured)
            for key in ("wall_s", "cpu_s", "maxrss_mib")
        }
        print(
            f"{args.scenario} {args.runs} {label}: wall x{ratios['wall_s']:.3f}, "
            f"cpu x{ratios['cpu_s']:.3f}, peak memory x{ratios['maxrss_mib']:.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"args": sys.argv[1:], "pairs": pairs}, indent=1))


def _split(spec: str) -> tuple[str, str, str]:
    label, sep, path = spec.partition("=")
    if not (label and sep and (Path(path) / "benchmarks" / "run_naklar.py").is_file()):
        sys.exit(f"--variant {spec!r}: want LABEL=PATH to a checkout with benchmarks/")
    return label, sep, path


if __name__ == "__main__":
    main()
