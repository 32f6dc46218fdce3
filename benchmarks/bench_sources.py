"""naklar's sweep-tool sources against the loop a careful user writes by hand.

    python benchmarks/bench_sources.py [--hydra-runs 10000] [--ray-trials 5000]
        [--ray-reports 200] [--repeat 3] [--scenarios hydra,raytune]

Two trees are made once under benchmarks/trees/ (git-ignored):

* a Hydra multirun: ``multirun/<date>/<time>/<job>/.hydra/config.yaml`` (a
  nested config of 20 keys) and ``metrics.json``, plus the sweep's
  ``multirun.yaml``;
* a Ray Tune experiment: trial folders with ``params.json`` and a
  ``result.json`` of ``--ray-reports`` JSON lines each.

Each contestant is a fresh process (this script with ``--contestant``), timed
by this parent around the whole process, imports included; the contestants of
one repeat run back to back, the first rotating, so machine noise hits them
alike. Printed: median wall time and peak RSS of the load and filtered frame,
their ratios to the hand loop, and the in-process time of an unchanged
``refresh()`` against the hand loop's in-process time (what reading the tree
again by hand costs), with naklar's peak RSS once that refresh is done too.

The hand loops: Hydra -- ``os.walk``, ``yaml.load`` with ``CSafeLoader`` where
PyYAML has it, ``json.load``, ``pd.json_normalize`` and a boolean mask (and the
same loop with the plain ``yaml.safe_load``, as ``safeload``); Ray
Tune -- ``os.walk``, ``json.load`` of ``params.json``, every line of
``result.json`` parsed and the last kept, ``pd.json_normalize`` and a mask.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import compile_bytecode, peak_rss_mib

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TREES = BENCH_DIR / "trees"

# The query of both scenarios: the runs of one model with a large learning rate.
MODEL, LR_ABOVE = "resnet", 0.01


# -- the trees -------------------------------------------------------------------

_MODELS = ("resnet", "vit", "mlp", "cnn")
_CONFIG = """\
model:
  name: {model}
  depth: {depth}
  width: {width}
  dropout: {dropout}
  activation: relu
optim:
  name: adamw
  lr: {lr}
  weight_decay: {wd}
  betas: [0.9, 0.999]
  scheduler:
    name: cosine
    warmup: {warmup}
data:
  name: cifar10
  batch_size: {batch}
  augment: {augment}
  root: /data/cifar10
seed: {seed}
epochs: 100
trainer:
  precision: bf16
  devices: 1
"""


def _settings(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "model": rng.choice(_MODELS),
        "depth": rng.choice((18, 34, 50)),
        "width": rng.choice((64, 128, 256)),
        "dropout": rng.choice((0.0, 0.1, 0.2)),
        "lr": rng.choice((0.001, 0.003, 0.01, 0.03, 0.1)),
        "wd": rng.choice((0.0, 0.01, 0.05)),
        "warmup": rng.choice((0, 500, 1000)),
        "batch": rng.choice((64, 128, 256)),
        "augment": rng.choice(("true", "false")),
        "seed": index % 5,
    }


def make_hydra_tree(runs: int) -> Path:
    root = TREES / f"hydra-{runs}"
    if (root / "done").exists():
        return root
    rng = random.Random(0)
    sweep = root / "multirun" / "2026-12-07" / "04-29-22"
    sweep.mkdir(parents=True, exist_ok=True)
    (sweep / "multirun.yaml").write_text("hydra:\n  mode: MULTIRUN\n")
    for index in range(runs):
        job = sweep / str(index) / ".hydra"
        job.mkdir(parents=True, exist_ok=True)
        (job / "config.yaml").write_text(_CONFIG.format(**_settings(rng, index)))
        metrics = {"loss": rng.random(), "acc": rng.random(), "epoch": 100}
        (job.parent / "metrics.json").write_text(json.dumps(metrics))
    (root / "done").write_text("")
    return root


def make_ray_tree(trials: int, reports: int) -> Path:
    root = TREES / f"raytune-{trials}x{reports}"
    if (root / "done").exists():
        return root
    rng = random.Random(0)
    experiment = root / "sweep"
    experiment.mkdir(parents=True, exist_ok=True)
    for index in range(trials):
        settings = _settings(rng, index)
        config = {
            "model": {k: settings[k] for k in ("depth", "width", "dropout")}
            | {"name": settings["model"]},
            "optim": {"lr": settings["lr"], "weight_decay": settings["wd"]},
            "seed": settings["seed"],
        }
        trial = experiment / f"trainable_ab12c_{index:05d}_{index}_2026-12-07_04-29-39"
        trial.mkdir(exist_ok=True)
        (trial / "params.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        lines = []
        for step in range(1, reports + 1):
            report = {
                "loss": 1 / (1 + step * settings["lr"]),
                "acc": 1 - 1 / (1 + step),
                "step": step,
                "timestamp": 1796617781 + step,
                "checkpoint_dir_name": None,
                "done": False,
                "training_iteration": step,
                "trial_id": f"ab12c_{index:05d}",
                "date": "2026-12-07_04-29-41",
                "time_this_iter_s": 0.01,
                "time_total_s": step * 0.01,
                "pid": 1234,
                "hostname": "vm",
                "node_ip": "127.0.0.1",
                "config": config,
                "time_since_restore": step * 0.01,
                "iterations_since_restore": step,
            }
            lines.append(json.dumps(report))
        (trial / "result.json").write_text("\n".join(lines) + "\n")
    (root / "done").write_text("")
    return root


# -- the contestants (each run in its own process) ----------------------------------


def hand_hydra(root: str, careful: bool = True) -> Any:
    import pandas as pd
    import yaml

    # a careful user picks libyaml's loader; the plain yaml.safe_load is the pure-Python one
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if careful else yaml.SafeLoader
    runs = []
    for dirpath, _dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) != ".hydra" or "config.yaml" not in filenames:
            continue
        run_dir = os.path.dirname(dirpath)
        with open(os.path.join(dirpath, "config.yaml"), "rb") as handle:
            run = yaml.load(handle, Loader=loader)
        try:
            with open(os.path.join(run_dir, "metrics.json"), "rb") as handle:
                run["metrics"] = json.load(handle)
        except FileNotFoundError:
            pass
        run["path"] = os.path.relpath(run_dir, root)
        runs.append(run)
    frame = pd.json_normalize(runs)
    return frame[(frame["model.name"] == MODEL) & (frame["optim.lr"] > LR_ABOVE)]


def hand_raytune(root: str) -> Any:
    import pandas as pd

    runs = []
    for dirpath, _dirnames, filenames in os.walk(root):
        if "params.json" not in filenames:
            continue
        with open(os.path.join(dirpath, "params.json"), "rb") as handle:
            run = json.load(handle)
        last = None
        with open(os.path.join(dirpath, "result.json"), "rb") as handle:
            for line in handle:
                if line.strip():
                    last = json.loads(line)
        if last is not None:
            last.pop("config", None)
            run["metrics"] = last
        run["path"] = os.path.relpath(dirpath, root)
        runs.append(run)
    frame = pd.json_normalize(runs)
    return frame[(frame["model.name"] == MODEL) & (frame["optim.lr"] > LR_ABOVE)]


def run_naklar(root: str, source: str) -> tuple[Any, Any]:
    import naklar

    store = naklar.load(root, source=source, progress=False)
    return store, store.frame(model__name=MODEL, optim__lr__gt=LR_ABOVE)


def contestant(name: str, root: str) -> None:
    """Run one contestant in this process and print its result line."""
    import resource

    started = time.perf_counter()
    store = None
    if name == "hand_hydra":
        frame = hand_hydra(root)
    elif name == "safeload_hydra":
        frame = hand_hydra(root, careful=False)
    elif name == "hand_raytune":
        frame = hand_raytune(root)
    else:
        store, frame = run_naklar(root, name.removeprefix("naklar_"))
    work_s = time.perf_counter() - started
    # the peak of loading and the filtered frame: the work the hand loop does
    line = {
        "rows": len(frame),
        "work_s": round(work_s, 3),
        "maxrss_mib": round(peak_rss_mib(), 1),
        # the largest of naklar's reading workers (forked before pandas is imported)
        "worker_mib": round(peak_rss_mib(resource.RUSAGE_CHILDREN), 1),
    }
    if store is not None:
        refresh_started = time.perf_counter()
        report = store.refresh()
        line["refresh_s"] = round(time.perf_counter() - refresh_started, 3)
        line["refreshed_mib"] = round(peak_rss_mib(), 1)
        assert report.changes is not None and report.changes.updated == 0, report
    print(json.dumps(line), flush=True)


# -- the harness -----------------------------------------------------------------------


def measure(name: str, root: Path) -> dict[str, Any]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, __file__, "--contestant", name, str(root)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    ).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["wall_s"] = wall
    # CPU seconds of the process and its workers: steadier than wall time on a shared machine
    result["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def scenario(name: str, root: Path, repeat: int) -> None:
    hand, ours = f"hand_{name}", f"naklar_{name}"
    others = ["safeload_hydra"] if name == "hydra" else []
    results: dict[str, list[dict[str, Any]]] = {hand: [], ours: [], **{o: [] for o in others}}
    for index in range(repeat):
        order = [hand, ours, *others]
        order = order[index % len(order) :] + order[: index % len(order)]
        for contestant_name in order:
            results[contestant_name].append(measure(contestant_name, root))
    rows = {r["rows"] for runs in results.values() for r in runs}
    if len(rows) != 1:
        sys.exit(f"{name}: the contestants disagree on the rows: {rows}")

    def median(contestant_name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[contestant_name])

    paired = statistics.median(
        ours_run["wall_s"] / hand_run["wall_s"]
        for ours_run, hand_run in zip(results[ours], results[hand], strict=True)
    )
    print(f"\n{name}: {root.name}, {rows.pop()} rows selected, {repeat} repeats")
    print(
        f"  {'':8} {'wall s':>8} {'cpu s':>7} {'in-process s':>13} {'peak MiB':>9} "
        f"{'worker MiB':>11}"
    )
    for contestant_name in (hand, *others, ours):
        print(
            f"  {contestant_name.split('_')[0]:8} {median(contestant_name, 'wall_s'):8.2f} "
            f"{median(contestant_name, 'cpu_s'):7.2f} {median(contestant_name, 'work_s'):13.2f} "
            f"{median(contestant_name, 'maxrss_mib'):9.0f} "
            f"{median(contestant_name, 'worker_mib'):11.0f}"
        )
    print(
        f"  naklar / hand: wall {median(ours, 'wall_s') / median(hand, 'wall_s'):.2f}x "
        f"(paired {paired:.2f}x), cpu {median(ours, 'cpu_s') / median(hand, 'cpu_s'):.2f}x, "
        "peak memory "
        f"{median(ours, 'maxrss_mib') / median(hand, 'maxrss_mib'):.2f}x, unchanged refresh "
        f"{median(ours, 'refresh_s'):.2f} s = "
        f"{median(ours, 'refresh_s') / median(hand, 'work_s'):.2f}x the hand loop's in-process "
        f"time, peak memory with that refresh {median(ours, 'refreshed_mib'):.0f} MiB = "
        f"{median(ours, 'refreshed_mib') / median(hand, 'maxrss_mib'):.2f}x"
    )
    for other in others:
        print(
            f"  naklar / {other.split('_')[0]}: wall "
            f"{median(ours, 'wall_s') / median(other, 'wall_s'):.2f}x, cpu "
            f"{median(ours, 'cpu_s') / median(other, 'cpu_s'):.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contestant", help=argparse.SUPPRESS)
    parser.add_argument("root", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--hydra-runs", type=int, default=10_000)
    parser.add_argument("--ray-trials", type=int, default=5_000)
    parser.add_argument("--ray-reports", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenarios", default="hydra,raytune")
    args = parser.parse_args()
    if args.contestant:
        contestant(args.contestant, args.root)
        return
    chosen = args.scenarios.split(",")
    compile_bytecode([REPO_ROOT])  # as installing naklar does (see _common.py)
    if "hydra" in chosen:
        scenario("hydra", make_hydra_tree(args.hydra_runs), args.repeat)
    if "raytune" in chosen:
        scenario("raytune", make_ray_tree(args.ray_trials, args.ray_reports), args.repeat)


if __name__ == "__main__":
    main()
