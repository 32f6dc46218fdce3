"""Parallel and serial reading give the same table; the fast normalisation agrees with schema's."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import naklar
from naklar._read import chunks as reading
from naklar._read import workers as parallel
from naklar._read.decorators import parse_decorators
from naklar._read.loaders import load_json
from naklar.errors import SettingsFileError

from worker_sync import wait_until_a_worker_reads


def _sweep(count: int) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = {}
    for i in range(count):
        settings: dict[str, Any] = {"i": i, "f1": i / count, "kernel": ["rbf", "linear"][i % 2]}
        if i % 7 == 0:
            settings["C"] = np.float64(i)  # numpy scalars take the per-value path
        if i % 11 == 0:
            settings["mixed"] = "text" if i % 2 else i
        runs[f"group{i % 3}/run{i}"] = settings
    runs["group1/run5"] = {"i": 5, "arr": np.zeros(3)}  # unsupported values are dropped
    return runs


def _frame_of(root: Path, **options: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", naklar.NaklarWarning)
        store = naklar.load(root, dict_file="conf.pkl", progress=False, **options)
    return store.frame(), store.report


def test_parallel_read_gives_the_serial_table(make_tree: Any) -> None:
    root = make_tree(_sweep(300), fmt="pkl")
    (root / "group2" / "broken").mkdir()
    (root / "group2" / "broken" / "conf.pkl").write_bytes(b"not a pickle")

    serial, serial_report = _frame_of(root, workers=1)
    in_workers, workers_report = _frame_of(root, workers=2)

    assert in_workers.equals(serial)
    assert list(in_workers.dtypes) == list(serial.dtypes)
    assert workers_report.skipped == serial_report.skipped
    assert workers_report.dropped_keys == serial_report.dropped_keys
    assert workers_report.loaded + len(workers_report.skipped) == workers_report.files_found


def test_parallel_read_runs_a_lambda_loader_and_closure_setter(make_tree: Any) -> None:
    root = make_tree({str(i): {"i": i} for i in range(50)}, fmt="json")
    offset = 100
    decorators = {"j": (None, lambda self, value: self.i + offset)}

    store = naklar.load(
        root,
        dict_file="conf.json",
        load_func=lambda path: load_json(path),
        decorators=decorators,
        workers=2,
        progress=False,
    )

    assert store.frame()["j"].tolist() == [i + offset for i in range(50)]


def test_parallel_read_raises_at_the_first_bad_file_in_tree_order(make_tree: Any) -> None:
    runs = {str(i): {"i": i} for i in range(200)}
    root = make_tree(runs, fmt="json")
    for bad in ("150", "40"):
        (root / bad / "conf.json").write_text("{")

    with pytest.raises(SettingsFileError) as raised:
        naklar.load(root, dict_file="conf.json", on_error="raise", workers=2, progress=False)

    assert raised.value.path == str(root / "40" / "conf.json")


def test_parallel_read_reraises_a_setter_error(make_tree: Any) -> None:
    root = make_tree({str(i): {"i": i} for i in range(100)}, fmt="json")

    def setter(self: Any, value: Any) -> Any:
        if self.i == 70:
            raise ZeroDivisionError("setter failed")
        return value

    with pytest.raises(ZeroDivisionError, match="setter failed"):
        naklar.load(
            root, dict_file="conf.json", decorators={"i": (None, setter)}, workers=2, progress=False
        )


def test_workers_below_one_are_refused(make_tree: Any) -> None:
    root = make_tree({"0": {"i": 0}}, fmt="json")
    with pytest.raises(ValueError, match="workers must be None or at least 1, got 0"):
        naklar.load(root, dict_file="conf.json", workers=0)


def test_plan_units_keeps_natural_order_when_splitting_subtrees(make_tree: Any) -> None:
    runs = {f"a{i}/b{j}": {"i": i, "j": j} for i in (10, 2, 1) for j in (3, 20)}
    runs["."] = {"i": -1, "j": -1}
    root = make_tree(runs, fmt="json")
    options = reading.ReadOptions(str(root), "conf.json", load_json, {})

    read = parallel.read_tree(options, workers=1, progress=False)

    assert [directory for directory, _ in read.rows] == [
        ".",
        "a1/b3",
        "a1/b20",
        "a2/b3",
        "a2/b20",
        "a10/b3",
        "a10/b20",
    ]


@given(st.lists(st.one_of(st.from_regex(r"\A[0-9]{1,4}\Z"), st.text(max_size=4)), max_size=20))
def test_natural_sorted_orders_as_natural_key(names: list[str]) -> None:
    from naklar._read.walk import natural_key, natural_sorted

    assert natural_sorted(names) == sorted(names, key=natural_key)


@given(st.lists(st.from_regex(r"\A[0-9]{1,4}\Z"), max_size=20))
def test_natural_sorted_orders_numbers_as_natural_key(names: list[str]) -> None:
    from naklar._read.walk import natural_key, natural_sorted

    assert natural_sorted(names) == sorted(names, key=natural_key)


def test_a_worker_that_dies_stops_the_load_with_a_hint(make_tree: Any) -> None:
    root = make_tree({str(i): {"i": i} for i in range(100)}, fmt="json")
    main_process = os.getpid()
    # a setter is given no path: it marks (or waits for) the tree through the first run's
    a_settings_file = os.path.join(root, "0", "conf.json")

    def die_in_a_worker(self: Any, value: Any) -> Any:
        wait_until_a_worker_reads(a_settings_file)
        if os.getpid() != main_process:
            os._exit(3)
        return value

    with pytest.raises(naklar.NaklarError, match=r"died \(exit code 3\); pass workers=1"):
        naklar.load(
            root,
            dict_file="conf.json",
            decorators={"i": (None, die_in_a_worker)},
            workers=2,
            progress=False,
        )


def test_reading_on_macos_never_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # a script's one thread
    assert parallel._start_method() == "fork"

    monkeypatch.setattr(sys, "platform", "darwin")

    assert parallel._start_method() in ("forkserver", "spawn")


@contextlib.contextmanager
def _another_thread_running() -> Iterator[None]:
    """A Python thread besides this one, as in a notebook kernel: naklar does not fork."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel._start_method() in ("forkserver", "spawn")
        yield
    finally:
        stop.set()
        thread.join()


def test_with_threads_running_a_closure_loader_and_lambda_setter_reach_the_workers(
    make_tree: Any,
) -> None:
    root = make_tree({str(i): {"i": i} for i in range(40)}, fmt="json")
    offset = 1000

    def load_when_a_worker_reads(path: str) -> dict[str, Any]:  # a closure: pickle refuses it
        wait_until_a_worker_reads(path)
        return {**load_json(path), "j": offset, "reader": os.getpid()}

    setters = parse_decorators({"i": (None, lambda run, value: value * 10)})
    options = reading.ReadOptions(str(root), "conf.json", load_when_a_worker_reads, setters)
    with _another_thread_running():
        read = parallel.read_tree(options, workers=2, progress=False)

    rows = [values for _, values in read.rows]
    assert len({row["reader"] for row in rows}) == 2
    assert [row["i"] for row in rows] == [10 * i for i in range(40)]
    assert {row["j"] for row in rows} == {1000}


def test_a_loader_that_cannot_be_pickled_is_read_by_this_process_alone(make_tree: Any) -> None:
    root = make_tree({str(i): {"i": i} for i in range(40)}, fmt="json")
    lock = threading.Lock()  # no pickler can copy a lock

    def load_holding_a_lock(path: str) -> dict[str, Any]:
        with lock:
            return load_json(path)

    options = reading.ReadOptions(str(root), "conf.json", load_holding_a_lock, {})
    with _another_thread_running():
        read = parallel.read_tree(options, workers=2, progress=False)

    assert read.workers_used == 1
    assert sorted(values["i"] for _, values in read.rows) == list(range(40))


class _Counter:
    def __init__(self, value: int) -> None:
        self.value = value


@pytest.mark.parametrize(
    ("elapsed", "done", "starts"),
    [
        (0.05, 5, False),  # too early to judge
        (0.09, 5, False),  # 5 of 20 chunks in 0.09 s: 0.27 s left
        (0.1, 4, True),  # 0.4 s left
        (0.5, 1, True),
    ],
)
def test_fork_server_workers_start_when_more_than_0_3_s_of_reading_is_left(
    elapsed: float, done: int, starts: bool
) -> None:
    import time

    chunks: list[list[Any]] = [[("file", str(number))] for number in range(20)]
    started = time.monotonic() - elapsed

    worth = parallel._worth_starting(started, parallel._SLOW_START_SECONDS, chunks, _Counter(done))

    assert worth is starts


def test_every_core_reads_where_processes_cannot_be_bound_to_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # macOS and Windows have no os.sched_getaffinity
    monkeypatch.delattr(parallel.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 8)

    assert parallel._process_count(None) == 8
    assert parallel._process_count(3) == 3


def test_only_the_cores_a_process_is_bound_to_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 8)

    assert parallel._process_count(None) == 3


def test_a_machine_that_cannot_count_its_cores_reads_serially(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(parallel.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: None)

    assert parallel._process_count(None) == 1
