"""Baseline: the loop a researcher writes by hand -- os.walk, load, DataFrame, filter."""

from __future__ import annotations

import json
import os
import pickle
from typing import Any

import numpy as np
import pandas as pd

from _common import F1_THRESHOLD, SELECTED_COLUMNS, contestant_parser, report, settings_file_name


def load_runs(root: str, fmt: str) -> list[dict[str, Any]]:
    """One dict per run directory holding a settings file, plus its relative path."""
    conf_name = settings_file_name(fmt)
    runs = []
    for dirpath, _dirnames, filenames in os.walk(root):
        if conf_name not in filenames:
            continue
        conf_path = os.path.join(dirpath, conf_name)
        if fmt == "json":
            with open(conf_path) as f:
                conf = json.load(f)
        elif fmt == "pkl":
            with open(conf_path, "rb") as f:
                conf = pickle.load(f)
        else:
            import joblib

            conf = joblib.load(conf_path)
        if fmt != "json":
            # Arrays (pickled predictions) don't belong in a table of settings.
            conf = {k: v for k, v in conf.items() if not isinstance(v, np.ndarray)}
        conf["path"] = os.path.relpath(dirpath, root)
        runs.append(conf)
    return runs


def filtered_frame(root: str, fmt: str) -> pd.DataFrame:
    """The loop's whole job: every run as a row, then the benchmark's query."""
    df = pd.DataFrame(load_runs(root, fmt))
    return df[df.f1 > F1_THRESHOLD][list(SELECTED_COLUMNS)]


def main() -> None:
    args = contestant_parser(__doc__).parse_args()
    report(filtered_frame(args.root, args.format))


if __name__ == "__main__":
    main()
