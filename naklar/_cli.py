"""The ``naklar`` command: a thin shell over the store.

``naklar demo [DIR]`` writes the documentation's iris sweep (needs the ``demo``
extra) and replays the walkthrough's selections on it. ``naklar show ROOT``
loads any results tree and prints the load report and the runs as a table.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ._store.starting import load

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="naklar", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="write the iris sweep and query it")
    demo.add_argument("directory", nargs="?", default="demo-results", help="where to write it")

    show = commands.add_parser("show", help="load a results tree and print its runs")
    show.add_argument("root_dir")
    show.add_argument("--dict-file", default="conf.pkl", help="settings file name (conf.pkl)")
    show.add_argument("--columns", nargs="*", default=[], help="columns to show (all)")

    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        run_demo(arguments.directory)
    else:
        store = load(arguments.root_dir, dict_file=arguments.dict_file)
        print(store.report)
        _print_frame(store.frame(*arguments.columns))
    return 0


def run_demo(directory: str) -> None:
    """Write the iris sweep under ``directory`` (unless there) and print selections."""
    from ._demo import write_iris_sweep

    if not os.path.isdir(os.path.join(directory, "0")):
        print(f"writing the iris sweep (12 SVC settings) to {directory}/ ...")
        write_iris_sweep(directory)
    store = load(directory, dict_file="conf.json")
    E: Any = store.E  # attributes are the sweep's keys, unknown to a type checker
    print(store.report, end="\n\n")
    _show("store.select('i', 'path', 'f1')", store.select("i", "path", "f1"))
    _show("store.select('path', C=[1, 2])", store.select("path", C=[1, 2]))
    _show(
        "store.select('i', 'kernel', 'C', 'f1', E.f1 > 0.8)",
        store.select("i", "kernel", "C", "f1", E.f1 > 0.8),
    )
    print(">>> store.frame().pivot_table(index='kernel', columns='C', values='f1')")
    _print_frame(store.frame().pivot_table(index="kernel", columns="C", values="f1"))


def _show(call: str, rows: list[tuple[object, ...]]) -> None:
    print(f">>> {call}")
    for row in rows:
        print(f"    {tuple(row)}")
    print()


def _print_frame(frame: pd.DataFrame) -> None:
    with pd.option_context("display.width", 120, "display.max_rows", 60):
        print(frame)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
