"""Many processes on one store: loads and refreshes that compose, on every shared backend.

Each test runs real processes (forked, each with its own engine) against one
SQLite file, PostgreSQL or MariaDB store, lined up by barriers and queues, never
by sleeping. Afterwards the store must hold every run on disk exactly once with
its current values, and one more refresh from a new process must succeed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import random
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar._store.catalog import Catalog

FORK = multiprocessing.get_context("fork")
# Under pytest-xdist each test process runs execnet's receiving thread, so Python
# 3.12+ warns at every fork. The children here open a database and call naklar;
# nothing of theirs waits on that thread's locks.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:This process \(pid=\d+\) is multi-threaded, use of fork\(\):DeprecationWarning"
)
#: Longest a test waits for one process's answer: far longer than any step takes.
PATIENCE_SECONDS = 240
#: How long the writer changes the tree while others refresh.
WRITING_SECONDS = 6.0

Outcome = tuple[Any, ...]


# -- the tree ---------------------------------------------------------------------


def write_run(root: Path, run: int, version: int = 0, **extra: Any) -> None:
    """Run ``r<run>``: its number, a version, and padding that grows with the version.

    The file's size changes with every version, so a rewrite is seen even
    within one tick of the file system's clock.
    """
    directory = root / f"r{run:04d}"
    directory.mkdir(parents=True, exist_ok=True)
    settings = {"i": run, "v": version, "pad": "." * version, **extra}
    temporary = directory / "conf.json.partial"
    temporary.write_text(json.dumps(settings))
    os.replace(temporary, directory / "conf.json")  # readers see a whole file or the old one


def remove_run(root: Path, run: int) -> None:
    shutil.rmtree(root / f"r{run:04d}")


def runs_on_disk(root: Path) -> dict[str, tuple[int, int]]:
    runs = {}
    for settings_file in root.glob("*/conf.json"):
        settings = json.loads(settings_file.read_text())
        runs[settings_file.parent.name] = (settings["i"], settings["v"])
    return runs


def keys_on_disk(root: Path) -> set[str]:
    return {key for path in root.glob("*/conf.json") for key in json.loads(path.read_text())}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    tree = tmp_path / "results"
    for run in range(6):
        write_run(tree, run)
    return tree


@pytest.fixture(params=["sqlite_file", "postgres", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, table_name: str) -> Iterator[str]:
    """A shared database's URL (with its password), the store in it dropped afterwards."""
    if request.param == "sqlite_file":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    else:
        engine = request.getfixturevalue(f"{request.param}_engine")
    yield engine.url.render_as_string(hide_password=False)
    naklar.Store(engine, table_name=table_name).drop()
    engine.dispose()


# -- processes ----------------------------------------------------------------------


def _answer(results: Any, job: Callable[..., Outcome], *arguments: Any) -> None:
    """In a child: run ``job`` and put its outcome (or its error, as text) on ``results``."""
    try:
        results.put(job(*arguments))
    except BaseException as error:  # every failure is the parent's to report
        results.put(("error", repr(error)))


def run_processes(jobs: list[tuple[Callable[..., Outcome], tuple[Any, ...]]]) -> list[Outcome]:
    """Run each job in a process of its own; their outcomes, in the order they finished."""
    results = FORK.Queue()
    processes = [FORK.Process(target=_answer, args=(results, job, *args)) for job, args in jobs]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=PATIENCE_SECONDS) for _ in processes]
    finally:
        for process in processes:
            process.join(PATIENCE_SECONDS)
            if process.is_alive():
                process.kill()
    return outcomes


def outcome(report: naklar.LoadReport) -> Outcome:
    """``('loaded', n)`` for a load, ``('refreshed', added, updated, removed)`` for a refresh."""
    changes = report.changes
    if changes is None:
        return ("loaded", report.loaded)
    return ("refreshed", changes.added, changes.updated, changes.removed)


def refresh_in_process(url: str, table_name: str, barrier: Any = None) -> Outcome:
    """Open the store, wait for the others at ``barrier``, refresh."""
    engine = sa.create_engine(url)
    try:
        store = naklar.open(engine, table_name=table_name)
        if barrier is not None:
            barrier.wait(PATIENCE_SECONDS)
        return outcome(store.refresh(workers=1))
    finally:
        engine.dispose()


def load_in_process(url: str, table_name: str, root: Path, barrier: Any) -> Outcome:
    """A first load into an empty database, at once with the others at ``barrier``."""
    engine = sa.create_engine(url)
    try:
        store = naklar.Store(engine, table_name=table_name)
        barrier.wait(PATIENCE_SECONDS)
        return outcome(store.load(root, dict_file="conf.json", workers=1))
    finally:
        engine.dispose()


def load(url: str, table_name: str, root: Path) -> None:
    engine = sa.create_engine(url)
    try:
        naklar.Store(engine, table_name=table_name).load(root, dict_file="conf.json", workers=1)
    finally:
        engine.dispose()


# -- what must hold afterwards ------------------------------------------------------


def assert_store_holds_the_tree(url: str, table_name: str, root: Path) -> None:
    """Rows equal runs on disk, each once, with its current values; all keys are columns."""
    engine = sa.create_engine(url)
    try:
        store = naklar.open(engine, table_name=table_name)
        frame = store.frame()
        stored = {
            row.naklar_dir: (int(row.i), int(row.v))
            for row in frame[["naklar_dir", "i", "v"]].itertuples()
        }
        assert sorted(frame["naklar_dir"]) == sorted(stored)  # no run twice
        assert stored == runs_on_disk(root)
        assert keys_on_disk(root) <= set(store.columns)
        runs = Catalog(table_name).runs
        with engine.connect() as connection:
            indexed = connection.execute(sa.select(sa.func.count()).select_from(runs)).scalar()
        assert indexed == len(frame)
    finally:
        engine.dispose()


def assert_a_new_process_refreshes(url: str, table_name: str, root: Path) -> None:
    """One more run, refreshed in by a new process; the store still holds the tree."""
    next_run = 1 + max(number for number, _ in runs_on_disk(root).values())
    write_run(root, next_run)

    [answer] = run_processes([(refresh_in_process, (url, table_name))])

    assert answer == ("refreshed", 1, 0, 0)
    assert_store_holds_the_tree(url, table_name, root)


# -- two notebooks ------------------------------------------------------------------


def notebook(url: str, table_name: str, commands: Any, answers: Any) -> Outcome:
    """Open the store, then refresh each time the parent says so, until it says stop."""
    engine = sa.create_engine(url)
    try:
        store = naklar.open(engine, table_name=table_name)
        answers.put(("opened",))
        while commands.get(timeout=PATIENCE_SECONDS) == "refresh":
            try:
                answers.put(outcome(store.refresh(workers=1)))
            except Exception as error:  # the parent reports it
                answers.put(("error", repr(error)))
        return ("stopped",)
    finally:
        engine.dispose()


def test_two_notebooks_refreshing_from_old_opens_keep_each_others_work(
    url: str, table_name: str, root: Path
) -> None:
    load(url, table_name, root)
    commands = {name: FORK.Queue() for name in "AB"}
    answers = {name: FORK.Queue() for name in "AB"}
    processes = [
        FORK.Process(
            target=_answer,
            args=(FORK.Queue(), notebook, url, table_name, commands[name], answers[name]),
        )
        for name in "AB"
    ]
    for process in processes:
        process.start()
    try:
        assert [answers[name].get(timeout=PATIENCE_SECONDS) for name in "AB"] == [("opened",)] * 2

        write_run(root, 6, optimizer="adam")  # a new run with a new key
        commands["A"].put("refresh")
        assert answers["A"].get(timeout=PATIENCE_SECONDS) == ("refreshed", 1, 0, 0)
        remove_run(root, 0)
        commands["B"].put("refresh")  # B opened before A's refresh
        assert answers["B"].get(timeout=PATIENCE_SECONDS) == ("refreshed", 0, 0, 1)
    finally:
        for name in "AB":
            commands[name].put("stop")
        for process in processes:
            process.join(PATIENCE_SECONDS)

    assert_store_holds_the_tree(url, table_name, root)
    assert_a_new_process_refreshes(url, table_name, root)


# -- racing refreshes and loads -----------------------------------------------------


def test_four_refreshes_at_once_apply_each_change_once(
    url: str, table_name: str, root: Path
) -> None:
    load(url, table_name, root)
    for run in (6, 7):
        write_run(root, run)
    write_run(root, 8, optimizer="adam")
    for run in (1, 2):
        write_run(root, run, version=1)
    for run in (3, 4):
        remove_run(root, run)
    barrier = FORK.Barrier(4)

    answers = run_processes([(refresh_in_process, (url, table_name, barrier))] * 4)

    assert all(answer[0] == "refreshed" for answer in answers), answers
    totals = [sum(answer[column] for answer in answers) for column in (1, 2, 3)]
    assert totals == [3, 2, 2]  # added, updated, removed: each change made by one process
    assert answers.count(("refreshed", 0, 0, 0)) == 3  # the others found the work done
    assert_store_holds_the_tree(url, table_name, root)
    assert_a_new_process_refreshes(url, table_name, root)


def test_four_first_loads_at_once_end_with_one_store_the_others_find(
    url: str, table_name: str, root: Path
) -> None:
    barrier = FORK.Barrier(4)

    answers = run_processes([(load_in_process, (url, table_name, root, barrier))] * 4)

    assert sorted(answers) == [("loaded", 6)] + [("refreshed", 0, 0, 0)] * 3
    assert_store_holds_the_tree(url, table_name, root)
    assert_a_new_process_refreshes(url, table_name, root)


# -- a sweep writing while others refresh -------------------------------------------


def change_tree(root: Path, seconds: float, seed: int, done: Any) -> Outcome:
    """Add, change and remove runs until ``seconds`` have passed; then set ``done``."""
    rng = random.Random(seed)
    versions = {number: version for number, version in runs_on_disk(root).values()}
    next_run = max(versions) + 1
    changes = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            action = rng.choice(["add", "add", "change", "change", "remove"])
            if action == "add" or len(versions) < 3:
                extra = {f"key{next_run % 5}": next_run} if rng.random() < 0.2 else {}
                write_run(root, next_run, **extra)
                versions[next_run] = 0
                next_run += 1
            elif action == "change":
                run = rng.choice(list(versions))
                versions[run] += 1
                write_run(root, run, versions[run])
            else:
                run = rng.choice(list(versions))
                remove_run(root, run)
                del versions[run]
            changes += 1
    finally:
        done.set()
    return ("wrote", changes)


def refresh_until(url: str, table_name: str, done: Any) -> Outcome:
    """Refresh again and again until the writer is done; how many refreshes ran."""
    engine = sa.create_engine(url)
    refreshes = 0
    try:
        store = naklar.open(engine, table_name=table_name)
        while not done.is_set():
            store.refresh(workers=1)
            refreshes += 1
        return ("refreshed", refreshes)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_refreshes_while_a_writer_changes_the_tree_end_with_the_tree(
    url: str, table_name: str, root: Path
) -> None:
    load(url, table_name, root)
    done = FORK.Event()

    answers = run_processes(
        [
            (change_tree, (root, WRITING_SECONDS, 17, done)),
            (refresh_until, (url, table_name, done)),
            (refresh_until, (url, table_name, done)),
        ]
    )

    assert not [answer for answer in answers if answer[0] == "error"], answers
    assert sorted(answer[0] for answer in answers) == ["refreshed", "refreshed", "wrote"]
    assert all(answer[1] >= 1 for answer in answers), answers  # each refreshed, the tree changed
    [refreshed] = run_processes([(refresh_in_process, (url, table_name))])
    assert refreshed[0] == "refreshed"
    assert_store_holds_the_tree(url, table_name, root)
    assert_a_new_process_refreshes(url, table_name, root)


def test_a_reader_sees_a_refresh_whole_or_not_at_all(url: str, table_name: str, root: Path) -> None:
    load(url, table_name, root)
    for run in range(6):
        write_run(root, run, version=1)  # every row changes in one refresh
    engine = sa.create_engine(url)
    try:
        reader = naklar.open(engine, table_name=table_name)
        results = FORK.Queue()
        arguments = (results, refresh_in_process, url, table_name)
        refresher = FORK.Process(target=_answer, args=arguments)
        refresher.start()
        seen = set()
        try:
            while True:
                seen.add(tuple(sorted(reader.frame()["v"])))
                try:
                    answer = results.get_nowait()
                    break
                except queue.Empty:
                    continue
        finally:
            refresher.join(PATIENCE_SECONDS)
        seen.add(tuple(sorted(reader.frame()["v"])))
    finally:
        engine.dispose()

    assert answer == ("refreshed", 0, 6, 0)
    assert seen <= {(0,) * 6, (1,) * 6}
    assert (1,) * 6 in seen


def test_metrics_named_from_an_old_open_keep_another_process_s_columns(
    url: str, table_name: str, root: Path
) -> None:
    load(url, table_name, root)
    engine = sa.create_engine(url)
    try:
        old = naklar.open(engine, table_name=table_name)
        write_run(root, 6, optimizer="adam")
        [answer] = run_processes([(refresh_in_process, (url, table_name))])
        assert answer == ("refreshed", 1, 0, 0)

        old.add_metrics(["v"])

        reopened = naklar.open(engine, table_name=table_name)
        assert "optimizer" in reopened.columns
        assert reopened.metrics == ["v"]
    finally:
        engine.dispose()
    assert_a_new_process_refreshes(url, table_name, root)
