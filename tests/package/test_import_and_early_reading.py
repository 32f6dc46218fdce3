"""``import naklar`` is quick, ``df.naklar`` is always there, and loading reads while importing.

Which modules a fresh interpreter imports can only be seen in a new process, so
most tests here run a short script with the same interpreter.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from naklar._read import chunks as reading
from naklar._read import workers as parallel
from naklar._read.loaders import load_json

from new_interpreter import run_python, write_runs

TWO_CORES = len(os.sched_getaffinity(0)) >= 2 if hasattr(os, "sched_getaffinity") else False


def test_import_naklar_imports_neither_pandas_nor_sqlalchemy_nor_numpy() -> None:
    loaded = run_python(
        """
        import sys
        import naklar
        from naklar import experiment
        print(sorted(m for m in ('pandas', 'sqlalchemy', 'pyarrow', 'numpy') if m in sys.modules))
        """
    )
    assert loaded == "[]"


def test_import_naklar_leaves_importlib_abc_and_resources_alone() -> None:
    """They cost 0.015 s before a load's reader can start, and registering needs neither."""
    imported = run_python(
        """
        import sys
        before = set(sys.modules)
        import naklar
        from naklar import experiment
        print(sorted(m for m in set(sys.modules) - before if m.startswith('importlib.')))
        """
    )
    assert "importlib.abc" not in imported
    assert "importlib.resources" not in imported


def test_reading_json_imports_no_numpy(tmp_path: Path) -> None:
    write_runs(tmp_path / "results", 5)
    seen = run_python(
        f"""
        import sys
        from naklar._read.tree import LoadOptions, start_loading
        options = LoadOptions(dict_file='conf.json', workers=1)
        tree = start_loading({str(tmp_path / "results")!r}, options).finish()
        print(len(tree.rows), 'numpy' in sys.modules)
        """
    )
    assert seen == "5 False"


def test_numpy_scalars_are_typed_when_unpickling_imports_numpy(tmp_path: Path) -> None:
    import pickle

    import numpy as np

    run = tmp_path / "results" / "0"
    run.mkdir(parents=True)
    settings = {"n": np.int32(3), "u": np.uint64(2**63 + 1), "x": np.float32(0.5)}
    settings |= {"ok": np.bool_(True), "when": np.datetime64("2020-01-02T03:04:05")}
    (run / "conf.pkl").write_bytes(pickle.dumps(settings))
    seen = run_python(
        f"""
        import sys
        from naklar._read.tree import LoadOptions, start_loading
        print('numpy' in sys.modules)
        tree = start_loading({str(tmp_path / "results")!r}, LoadOptions(workers=1)).finish()
        print({{key: kind.value for key, kind in tree.kinds.items()}})
        _, first = next(iter(tree.rows))
        print([(key, type(value).__name__) for key, value in first.items()])
        """
    )
    assert seen.splitlines() == [
        "False",
        "{'n': 'Integer', 'u': 'String', 'x': 'Float', 'ok': 'Boolean', 'when': 'DateTime'}",
        "[('n', 'int'), ('u', 'str'), ('x', 'float'), ('ok', 'bool'), ('when', 'datetime')]",
    ]


def test_a_sqlite_store_of_every_kind_imports_no_mysql_dialect(tmp_path: Path) -> None:
    import datetime as dt
    import pickle

    run = tmp_path / "results" / "0"
    run.mkdir(parents=True)
    moment = dt.datetime(2020, 1, 2, 3, 4, 5, 6)
    settings = {"n": 1, "x": 0.5, "s": "a", "ok": True, "when": moment, "day": moment.date()}
    settings |= {"utc": moment.replace(tzinfo=dt.UTC), "raw": b"\x00"}
    (run / "conf.pkl").write_bytes(pickle.dumps(settings))
    seen = run_python(
        f"""
        import sys
        from naklar import experiment
        experiment.initialise({str(tmp_path / "results")!r})
        frame = experiment.select(experiment.E.x > 0, as_frame=True)
        print(len(frame), any(name.startswith('sqlalchemy.dialects.mysql') for name in sys.modules))
        """
    )
    assert seen == "1 False"


def test_loading_selecting_and_refreshing_leave_the_orm_unimported_until_e_is_used(
    tmp_path: Path,
) -> None:
    write_runs(tmp_path, 3)
    seen = run_python(
        f"""
        import sys
        import naklar
        store = naklar.load({str(tmp_path)!r}, dict_file='conf.json', progress=False)
        store.frame(i__gt=0)
        store.select('i', i=1)
        store.refresh()
        print(len(store.columns), 'sqlalchemy.orm' in sys.modules)
        print(store.select('i', store.E.i > 0), 'sqlalchemy.orm' in sys.modules)
        """
    )
    assert seen.splitlines() == ["2 False", "[Row(i=1), Row(i=2)] True"]


def test_the_accessor_is_there_when_pandas_is_imported_after_naklar() -> None:
    selected = run_python(
        """
        import naklar
        import pandas as pd
        frame = pd.DataFrame({'C': [1, 2, 3], 'f1': [0.1, 0.9, 0.8]})
        print(frame.naklar.select('C', f1__gt=0.5)['C'].tolist())
        """
    )
    assert selected == "[2, 3]"


def test_the_accessor_is_there_when_pandas_was_imported_first() -> None:
    selected = run_python(
        """
        import pandas as pd
        import naklar
        print(pd.DataFrame({'C': [1, 2]}).naklar.select(C=2)['C'].tolist())
        """
    )
    assert selected == "[2]"


def test_registering_the_accessor_does_not_import_sqlalchemy() -> None:
    loaded = run_python(
        """
        import sys
        import naklar
        import pandas as pd
        print(hasattr(pd.DataFrame(), 'naklar'), 'sqlalchemy' in sys.modules)
        """
    )
    assert loaded == "True False"


def test_lazy_names_of_the_package_resolve() -> None:
    import naklar

    assert naklar.Store.__name__ == "Store"
    assert callable(naklar.load) and callable(naklar.open)
    assert naklar.LoadReport.__name__ == "LoadReport"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        naklar.nothing  # noqa: B018


@pytest.mark.parametrize(
    "load",
    [
        "experiment.initialise({root!r}, dict_file='conf.json'); report = experiment.report",
        "report = naklar.load({root!r}, dict_file='conf.json').report",
        "report = naklar.load({root!r}, dict_file='conf.json', on_error='raise').report",
    ],
    ids=["initialise", "naklar.load", "a strict load"],
)
def test_a_load_into_a_new_store_forks_its_reader_before_sqlalchemy_and_pandas(
    tmp_path: Path, load: str
) -> None:
    write_runs(tmp_path / "results", 20)
    seen = run_python(
        f"""
        import sys
        import naklar
        from naklar import experiment
        from naklar._read import tree as loading
        calls = []
        original = loading.start_read
        def start_read(*args, **kwargs):
            imported = [name in sys.modules for name in ('sqlalchemy', 'pandas')]
            calls.append((kwargs['start_workers_now'], *imported))
            return original(*args, **kwargs)
        loading.start_read = start_read
        {load.format(root=str(tmp_path / "results"))}
        print(calls, report.loaded)
        """
    )
    assert seen == "[(True, False, False)] 20"


@pytest.mark.skipif(not TWO_CORES, reason="a worker needs a second core")
def test_started_workers_read_before_finish_is_called(tmp_path: Path) -> None:
    root = tmp_path / "results"
    write_runs(root, 200)
    options = reading.ReadOptions(str(root), "conf.json", load_json, {})

    started = parallel.start_read(options, workers=None, progress=False, start_workers_now=True)
    for worker in _worker_running():
        worker.join()  # the worker exits once every chunk is read and sent
    shutil.rmtree(root)  # anything read from now on would be missing
    read = started.finish()

    assert sorted(values["i"] for _, values in read.rows) == list(range(200))
    assert read.workers_used == 2


def _worker_running() -> Any:
    return [child for child in multiprocessing.active_children() if child.is_alive()]


@pytest.mark.skipif(not TWO_CORES, reason="a worker needs a second core")
def test_a_cancelled_read_leaves_no_worker(tmp_path: Path) -> None:
    root = tmp_path / "results"
    write_runs(root, 200)
    stuck = reading.ReadOptions(str(root), "conf.json", _never_returns, {})

    started = parallel.start_read(stuck, workers=None, progress=False, start_workers_now=True)
    assert _worker_running()
    started.cancel()

    assert not _worker_running()


def _never_returns(path: str) -> Any:
    threading.Event().wait()  # a worker stuck in a loader: only cancel() ends it


def test_opening_a_store_leaves_pandas_to_the_first_frame(tmp_path: Path) -> None:
    write_runs(tmp_path / "results", 3)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    loaded = run_python(
        f"""
        import sys
        import naklar
        naklar.load({str(tmp_path / "results")!r}, url={url!r}, dict_file='conf.json')
        """
    )
    assert loaded == ""
    seen = run_python(
        f"""
        import sys
        from naklar import experiment
        store = experiment.open({url!r})
        print('pandas' in sys.modules, store.select('i', i=1))
        experiment.refresh()  # imports pandas while workers walk: a frame usually follows
        print('pandas' in sys.modules, experiment.frame()['i'].tolist())
        """
    )
    assert seen.splitlines() == ["False [Row(i=1)]", "True [0, 1, 2]"]


@pytest.mark.skipif(not TWO_CORES, reason="a worker needs a second core")
def test_a_load_that_fails_after_reading_began_leaves_no_worker(tmp_path: Path) -> None:
    from naklar import experiment

    root = tmp_path / "results"
    write_runs(root, 200)

    def refuse_seven(run: Any, value: Any) -> Any:
        if value == 7:
            raise RuntimeError("run 7 is broken")
        return value

    with pytest.raises(RuntimeError, match="run 7 is broken"):
        experiment.initialise(root, dict_file="conf.json", decorators={"i": (None, refuse_seven)})

    assert not _worker_running()
