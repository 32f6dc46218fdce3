"""The same job with naklar: initialise on the tree, select as a DataFrame.

    python benchmarks/run_naklar.py ROOT --format json [--scenario cold|refresh|reopen]
        [--initialise-kwargs '{"progress": false}'] [--store PATH] [--prepare]

Scenarios (each one small entry in SCENARIOS):
  cold     initialise (autoload) on the tree, then select. The main comparison.
  reopen   open an existing file-SQLite store without walking the tree, then select.
  refresh  open an existing store, refresh it against the unchanged tree, then select.
The store scenarios need a store built once, untimed: ``bench.py`` does that by running
this script with ``--prepare`` first. They are skipped when naklar lacks
``experiment.open`` / ``experiment.refresh``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Benchmark the checkout this file lives in, whether or not naklar is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from naklar import experiment  # noqa: E402  (after the sys.path line)

from _common import (  # noqa: E402
    F1_THRESHOLD,
    SELECTED_COLUMNS,
    contestant_parser,
    report,
    report_skipped,
    settings_file_name,
)

if TYPE_CHECKING:
    import pandas as pd


def store_url(store: str) -> str:
    return f"sqlite:///{store}"


def initialise(args: argparse.Namespace, **defaults: Any) -> None:
    """initialise() with the benchmark's defaults; --initialise-kwargs wins over them."""
    kwargs = {"dict_file": settings_file_name(args.format), **defaults, **args.initialise_kwargs}
    experiment.initialise(args.root, **kwargs)


def select_filtered() -> pd.DataFrame:
    E = experiment.E
    return experiment.select(*SELECTED_COLUMNS, E.f1 > F1_THRESHOLD, as_frame=True)


def cold(args: argparse.Namespace) -> pd.DataFrame:
    initialise(args, autoload=True)
    return select_filtered()


def build_store(args: argparse.Namespace) -> None:
    Path(args.store).unlink(missing_ok=True)
    initialise(args, autoload=True, url=store_url(args.store))


def reopen(args: argparse.Namespace) -> pd.DataFrame:
    """Open the stored sweep in a new process (no walk) and take the full frame."""
    experiment.open(store_url(args.store))
    experiment.frame()
    return select_filtered()


def refresh(args: argparse.Namespace) -> pd.DataFrame:
    """Open the stored sweep and refresh it against the unchanged tree."""
    experiment.open(store_url(args.store))
    experiment.refresh()
    return select_filtered()


@dataclass(frozen=True)
class Scenario:
    run: Callable[[argparse.Namespace], pd.DataFrame]  # the measured process
    prepare: Callable[[argparse.Namespace], None] | None = None  # untimed, once per tree
    requires: tuple[str, ...] = ()  # attributes naklar.experiment must have

    @property
    def needs_store(self) -> bool:
        return self.prepare is not None


SCENARIOS: dict[str, Scenario] = {
    "cold": Scenario(run=cold),
    "reopen": Scenario(run=reopen, prepare=build_store, requires=("open",)),
    "refresh": Scenario(run=refresh, prepare=build_store, requires=("open", "refresh")),
}


def main() -> None:
    parser = contestant_parser(__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="cold")
    parser.add_argument(
        "--initialise-kwargs",
        type=json.loads,
        default={},
        help="JSON object of extra keyword arguments for experiment.initialise",
    )
    parser.add_argument("--store", help="file-SQLite store used by reopen/refresh")
    parser.add_argument("--prepare", action="store_true", help="only build the store (untimed)")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]

    missing = [name for name in scenario.requires if not hasattr(experiment, name)]
    if missing:
        report_skipped(f"naklar has no experiment.{', experiment.'.join(missing)}")
        return
    if scenario.needs_store and not args.store:
        parser.error(f"--scenario {args.scenario} needs --store")

    if args.prepare:
        if scenario.prepare is not None:
            scenario.prepare(args)
        print(json.dumps({"prepared": args.scenario}), flush=True)
        return
    report(scenario.run(args))


if __name__ == "__main__":
    main()
