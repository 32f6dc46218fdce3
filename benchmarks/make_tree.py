"""Generate a synthetic hyper-parameter sweep tree for the benchmarks.

Layout: ``OUT_DIR/<i>/conf.<fmt>`` plus two extra files per run (``svc.skl``, a
small pickled "model", and ``log.txt``), the way a real sweep leaves them.
Run directories are named 0..N-1, so a loader that sorts them must sort
naturally.

    python benchmarks/make_tree.py OUT_DIR --runs N --format json|pkl|jbl [--seed S]

The tree is built in ``OUT_DIR.partial`` and renamed when complete, so an
interrupted run never leaves a half tree that looks finished. A finished tree
carries a marker file with its parameters; asking for the same tree again is a
no-op.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("json", "pkl", "jbl")
MARKER_NAME = ".make_tree.json"
# Bump when the generated content changes, so stale trees are not reused.
GENERATOR_VERSION = 1

KERNELS = ("linear", "rbf", "poly", "sigmoid")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "lbfgs")


class TreeMismatchError(RuntimeError):
    """OUT_DIR exists but was not made by this generator with these parameters."""


def _settings(i: int, rnd: random.Random, rng: np.random.Generator, fmt: str) -> dict[str, Any]:
    precision, recall = rnd.random(), rnd.random()
    conf: dict[str, Any] = {
        "i": i,
        "kernel": rnd.choice(KERNELS),
        "C": 10 ** rnd.uniform(-3, 3),
        "gamma": 10 ** rnd.uniform(-4, 1),
        "lr": 10 ** rnd.uniform(-5, -1),
        "depth": rnd.randint(1, 12),
        "seed": rnd.randint(0, 4),
        "shuffle": rnd.random() < 0.5,
        "optimizer": rnd.choice(OPTIMIZERS),
        "f1": 2 * precision * recall / (precision + recall or 1.0),
        "accuracy": rnd.random(),
        "precision": precision,
        "recall": recall,
        "loss": rnd.uniform(0.0, 3.0),
        "path": str(i),
    }
    if fmt != "json":
        # A pickling sweep stores whatever numpy handed it: numpy scalars
        # for metrics and counters, and an array of predictions.
        for key in ("f1", "accuracy", "precision", "recall", "loss"):
            conf[key] = np.float64(conf[key])
        for key in ("depth", "seed"):
            conf[key] = np.int64(conf[key])
        conf["results"] = rng.integers(0, 2, size=32)
    return conf


def _model_bytes(conf: dict[str, Any], rng: np.random.Generator) -> bytes:
    """A few hundred bytes of pickle standing in for a fitted estimator."""
    return pickle.dumps(
        {
            "estimator": "sklearn.svm.SVC",
            "params": {"kernel": conf["kernel"], "C": conf["C"], "gamma": conf["gamma"]},
            "dual_coef_": rng.standard_normal(16),
            "support_": np.arange(8, dtype=np.int32),
        }
    )


def _log_text(conf: dict[str, Any]) -> str:
    return (
        f"run {conf['i']} kernel={conf['kernel']} optimizer={conf['optimizer']}\n"
        f"epoch 1 loss={float(conf['loss']) * 1.5:.4f}\n"
        f"epoch 2 loss={float(conf['loss']):.4f}\n"
        f"done f1={float(conf['f1']):.4f}\n"
    )


def _write_settings(path: Path, conf: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        path.write_text(json.dumps(conf))
    elif fmt == "pkl":
        path.write_bytes(pickle.dumps(conf))
    else:
        import joblib  # only the jbl trees need it

        joblib.dump(conf, path)


def _read_marker(directory: Path) -> dict[str, Any] | None:
    try:
        marker: dict[str, Any] = json.loads((directory / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    return marker


def make_tree(out_dir: str | os.PathLike[str], runs: int, fmt: str, seed: int = 0) -> Path:
    """Create (or reuse) a sweep tree of ``runs`` run directories; return its path."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    out = Path(out_dir)
    params = {"runs": runs, "format": fmt, "seed": seed, "generator_version": GENERATOR_VERSION}

    if out.exists():
        if _read_marker(out) == params:
            return out
        raise TreeMismatchError(
            f"{out} exists but is not a tree with {params}; remove it or pick another OUT_DIR"
        )

    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        # Only ever delete our own leftovers, recognised by the marker.
        if _read_marker(partial) is None:
            raise TreeMismatchError(f"{partial} exists and was not made by make_tree.py")
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    # Written first so an interrupted partial tree is recognisable as ours.
    (partial / MARKER_NAME).write_text(json.dumps(params))

    rnd = random.Random(seed)
    rng = np.random.default_rng(seed)
    conf_name = f"conf.{fmt}"
    for i in range(runs):
        run_dir = partial / str(i)
        run_dir.mkdir()
        conf = _settings(i, rnd, rng, fmt)
        _write_settings(run_dir / conf_name, conf, fmt)
        (run_dir / "svc.skl").write_bytes(_model_bytes(conf, rng))
        (run_dir / "log.txt").write_text(_log_text(conf))

    partial.rename(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    existed = args.out_dir.exists()
    try:
        path = make_tree(args.out_dir, args.runs, args.format, args.seed)
    except TreeMismatchError as exc:
        print(f"make_tree: {exc}", file=sys.stderr)
        return 1
    print(f"{'reused' if existed else 'wrote'} {path} ({args.runs} runs, {args.format})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
