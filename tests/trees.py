"""Result trees with every way a settings file can go wrong, for the robustness tests.

Each :class:`BadCase` writes one broken run directory and says which reason the
load report must give for it. :func:`write_tree` writes good runs and any bad
cases under one root and returns what the load must find.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from naklar._read.walk import natural_key

GOOD_SETTINGS = {"C": 1.0, "kernel": "rbf"}
RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class BadCase:
    """A run directory whose settings entry cannot become a row.

    ``write(path)`` creates the entry at ``path`` (the settings file's path);
    ``reason(path)`` is the exact reason the load report gives for it.
    """

    name: str
    fmt: str
    write: Callable[[Path], None]
    reason: Callable[[Path], str]


def _truncated_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({**GOOD_SETTINGS, "i": 99})[:10])


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


def _invalid_json(path: Path) -> None:
    path.write_text('{"C": 1,')


def _list_payload(path: Path) -> None:
    path.write_bytes(pickle.dumps([1, 2, 3]))


def _colliding_keys(path: Path) -> None:
    path.write_bytes(pickle.dumps({1: "int key", "1": "str key"}))


def _directory(path: Path) -> None:
    path.mkdir()


def _dangling_symlink(path: Path) -> None:
    path.symlink_to(path.parent / "missing.pkl")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _unreadable(path: Path) -> None:
    path.write_bytes(pickle.dumps(GOOD_SETTINGS))
    path.chmod(0)


def _constant(text: str) -> Callable[[Path], str]:
    return lambda path: text


BAD_CASES = [
    BadCase(
        "truncated_pickle",
        "pkl",
        _truncated_pickle,
        _constant(
            "file ends early (UnpicklingError: pickle data was truncated): the run was "
            "probably killed while writing it"
        ),
    ),
    BadCase(
        "empty_pickle",
        "pkl",
        _empty_file,
        _constant(
            "file ends early (EOFError: Ran out of input): the run was probably killed "
            "while writing it"
        ),
    ),
    BadCase(
        "invalid_json",
        "json",
        _invalid_json,
        _constant(
            "invalid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 9 (char 8)"
        ),
    ),
    BadCase(
        "list_payload",
        "pkl",
        _list_payload,
        _constant("expected a dict of settings, the file holds a list"),
    ),
    BadCase(
        "keys_colliding_as_text",
        "pkl",
        _colliding_keys,
        _constant(
            "keys 1 and '1' both read as the column name '1'; rename one in the file or in "
            "load_func="
        ),
    ),
    BadCase("directory", "pkl", _directory, _constant("is a directory, not a file")),
    BadCase(
        "dangling_symlink",
        "pkl",
        _dangling_symlink,
        lambda path: f"dangling symlink to {str(path.parent / 'missing.pkl')!r}",
    ),
    BadCase("fifo", "pkl", _fifo, _constant("is a named pipe (FIFO), not a file")),
    BadCase("permission_denied", "pkl", _unreadable, _constant("permission denied")),
]


def write_settings(path: Path, settings: Any, fmt: str) -> None:
    """Write one settings payload as ``json`` or ``pkl``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(settings))
    else:
        path.write_bytes(pickle.dumps(settings))


@dataclass
class Tree:
    """A written tree: its root, the settings file name, and what a load must report."""

    root: Path
    dict_file: str
    good: int
    skipped: dict[str, str]  # path -> reason


def write_tree(
    root: Path,
    bad_cases: Iterable[BadCase] = (),
    *,
    good_runs: int = 2,
    fmt: str = "pkl",
    extra_runs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Tree:
    """Write ``good_runs`` readable runs (``good0``...) and one directory per bad case."""
    dict_file = f"conf.{fmt}"
    for index in range(good_runs):
        write_settings(root / f"good{index}" / dict_file, {**GOOD_SETTINGS, "i": index}, fmt)
    for directory, settings in (extra_runs or {}).items():
        write_settings(root / directory / dict_file, settings, fmt)
    skipped = {}
    for case in bad_cases:
        path = root / f"bad_{case.name}" / dict_file
        path.parent.mkdir(parents=True, exist_ok=True)
        case.write(path)
        skipped[str(path)] = case.reason(path)
    in_report_order = dict(sorted(skipped.items(), key=lambda item: natural_key(item[0])))
    return Tree(root, dict_file, good_runs + len(extra_runs or {}), in_report_order)


# A sweep with known answers for the analysis tests: lr x width x seed (3 x 4 x 3),
# optimizer and dataset constant, momentum only where width is 64; metrics f1, acc.
SWEEP_LRS = (0.1, 0.01, 0.001)
SWEEP_WIDTHS = (16, 32, 64, 128)
SWEEP_SEEDS = (0, 1, 2)
SWEEP_METRICS = ["f1", "acc"]
#: Cells that never ran: one (lr, width) with all its seeds, and one lost seed.
SWEEP_REMOVED = [(0.01, 32, 0), (0.01, 32, 1), (0.01, 32, 2), (0.1, 128, 2)]
#: The run that ran twice (in two directories).
SWEEP_DUPLICATED = (0.001, 16, 0)
SWEEP_NOISE = {0: -0.01, 1: 0.0, 2: 0.01}


def sweep_f1(lr: float, width: int, seed: int) -> float:
    """The f1 of a run: its cell's base plus its seed's noise (mean over seeds = base)."""
    return sweep_base(lr, width) + SWEEP_NOISE[seed]


def sweep_base(lr: float, width: int) -> float:
    return 0.5 + lr + width / 1000


def sweep_runs() -> dict[str, dict[str, Any]]:
    """The sweep's run directories and their settings (metrics included)."""
    runs = {}
    for lr in SWEEP_LRS:
        for width in SWEEP_WIDTHS:
            for seed in SWEEP_SEEDS:
                if (lr, width, seed) in SWEEP_REMOVED:
                    continue
                settings: dict[str, Any] = {
                    "lr": lr,
                    "width": width,
                    "seed": seed,
                    "optimizer": "adam",
                    "dataset": "iris",
                    "f1": sweep_f1(lr, width, seed),
                    "acc": 0.8 + seed / 100,
                }
                if width == 64:
                    settings["momentum"] = 0.9
                runs[f"lr{lr}/w{width}/s{seed}"] = settings
    copy = dict(runs["lr{}/w{}/s{}".format(*SWEEP_DUPLICATED)])
    runs["lr{}/w{}/s{}-again".format(*SWEEP_DUPLICATED)] = copy
    return runs


def write_sweep(root: Path, fmt: str = "pkl") -> None:
    """Write :func:`sweep_runs` under ``root`` as ``conf.<fmt>`` files."""
    for directory, settings in sweep_runs().items():
        write_settings(root / directory / f"conf.{fmt}", settings, fmt)
