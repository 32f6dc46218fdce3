"""What every contestant shares: the query, the command line and the report line.

Each contestant is a script run as its own process by ``bench.py``:

    python benchmarks/<contestant>.py ROOT --format json|pkl|jbl

and ends by printing one JSON line, which ``bench.py`` parses:

    {"rows": <filtered row count>, "i_sum": <sum of i over those rows>,
     "columns": [...], "maxrss_mib": <peak RSS of the process>}

A contestant that cannot run a scenario prints ``{"skipped": "<why>"}`` instead.
"""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# The query every contestant answers: SELECT i, kernel, f1 WHERE f1 > 0.5.
SELECTED_COLUMNS = ("i", "kernel", "f1")
F1_THRESHOLD = 0.5
TABLE_NAME = "experiment"
SETTINGS_FORMATS = ("json", "pkl", "jbl")


def settings_file_name(fmt: str) -> str:
    return f"conf.{fmt}"


def contestant_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("root", help="root directory of the sweep tree")
    parser.add_argument("--format", choices=SETTINGS_FORMATS, default="json")
    return parser


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """The peak RSS of this process (or, with ``RUSAGE_CHILDREN``, of its largest child)."""
    # ru_maxrss is in KiB on Linux (bytes on macOS; the suite targets Linux).
    return resource.getrusage(who).ru_maxrss / 1024


def report(frame: pd.DataFrame) -> None:
    """Print the result line; i_sum lets the harness check the rows, not just their count."""
    line = {
        "rows": len(frame),
        "i_sum": int(frame["i"].sum()) if len(frame) else 0,
        "columns": [str(c) for c in frame.columns],
        "maxrss_mib": round(peak_rss_mib(), 1),
    }
    print(json.dumps(line), flush=True)


def report_skipped(reason: str) -> None:
    print(json.dumps({"skipped": reason}), flush=True)


def plain_scalars(row: dict[str, Any]) -> dict[str, Any]:
    """Turn numpy scalars into Python ones before they reach SQLite.

    sqlite3 refuses to bind numpy.int64, and sqlite-utils silently stores it as an
    8-byte BLOB, so anyone putting pickled sweep settings in SQLite needs this.
    """
    import numpy as np

    return {k: v.item() if isinstance(v, np.generic) else v for k, v in row.items()}


def compile_bytecode(checkouts: list[Path]) -> None:
    """Write the bytecode of naklar and the contestants' modules, as an install would.

    naklar is imported from a checkout; where ``PYTHONDONTWRITEBYTECODE`` is set
    (this machine sets it) no ``.pyc`` is ever written, and every naklar process
    would compile its modules first (about 0.1 s here), which a package installed
    by pip (it compiles on install) never does. pandas, SQLAlchemy and sqlite-utils
    are installed, so theirs exist already.
    """
    import compileall

    for checkout in checkouts:
        compileall.compile_dir(checkout / "naklar", quiet=1)
        compileall.compile_dir(checkout / "benchmarks", maxlevels=0, quiet=1)
