"""Workers started from scripts and notebooks, each test in a new interpreter.

A process that runs other Python threads (a notebook kernel) takes its workers
from a fork server: most tests run a script, or ``python -c`` for a notebook,
that starts such a thread first, and check what reaches the workers.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from new_interpreter import run_python, run_script, write_runs


@pytest.mark.parametrize("first", ["numpy", "pandas"])
def test_a_fork_after_libraries_started_threads_warns_about_nothing(
    tmp_path: Path, first: str
) -> None:
    # pandas starts a thread of Arrow's that outlives a fork: Python 3.12+ warns at os.fork()
    write_runs(tmp_path / "results", 50)
    seen = run_python(
        f"""
        import warnings
        import {first}
        from naklar._read import workers as parallel
        from naklar._read import chunks as reading
        from naklar._read.loaders import load_json
        options = reading.ReadOptions({str(tmp_path / "results")!r}, 'conf.json', load_json, {{}})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read = parallel.read_tree(options, workers=2, progress=False)
        print(len(read.rows), read.workers_used,
              [str(warning.message) for warning in caught if "fork" in str(warning.message)])
        """
    )
    assert seen == "50 2 []"


# A Python thread besides the main one: workers come from a fork server, as in a
# notebook kernel or on macOS, and such a child runs the parent's script first.
UNGUARDED_SCRIPT = """
    import threading
    threading.Thread(target=threading.Event().wait, daemon=True).start()
    print("the script ran", flush=True)
    from naklar._read import workers as parallel
    from naklar._read import chunks as reading
    from naklar._read.loaders import load_json
    options = reading.ReadOptions({root!r}, "conf.json", load_json, {{}})
    read = parallel.read_tree(options, workers=2, progress=False)
    print(len(read.rows), read.workers_used)
"""


def test_workers_from_a_fork_server_do_not_run_an_unguarded_script(tmp_path: Path) -> None:
    write_runs(tmp_path / "results", 50)
    script = UNGUARDED_SCRIPT.format(root=str(tmp_path / "results"))

    printed = run_script(tmp_path / "analysis.py", script)

    assert printed == ["the script ran", "50 2"]


def test_a_load_at_the_top_of_an_unguarded_script_uses_the_fork_server(tmp_path: Path) -> None:
    write_runs(tmp_path / "results", 50)
    script = f"""
        import threading
        threading.Thread(target=threading.Event().wait, daemon=True).start()
        import naklar
        store = naklar.load({str(tmp_path / "results")!r}, dict_file="conf.json", workers=2)
        print(store.report.loaded)
    """

    assert run_script(tmp_path / "analysis.py", script) == ["50"]


# The loader a script defines: it uses a global the script sets and notes which
# process read each file; the main process waits until a worker has read one.
SCRIPT_LOADER = """
    import json, os
    from worker_sync import wait_until_a_worker_reads

    def load(path):
        wait_until_a_worker_reads(path)
        with open(path) as handle:
            return {"j": json.load(handle)["i"] * FACTOR, "reader": os.getpid()}
"""
# Reading with a Python thread running (so from a fork server's workers); print the
# largest value read, how many rows and how many processes read them.
SCRIPT_READS = """
    import threading
    threading.Thread(target=threading.Event().wait, daemon=True).start()
    print("the script ran", flush=True)
    from naklar._read import workers as parallel
    from naklar._read import chunks as reading
    options = reading.ReadOptions({root!r}, "conf.json", load, {{}})
    read = parallel.read_tree(options, workers=2, progress=False)
    readers = {{values["reader"] for _, values in read.rows}}
    print(max(values["j"] for _, values in read.rows), len(read.rows), len(readers))
"""


def _script(root: Path, guarded: bool = False) -> str:
    """The loader with ``FACTOR = 2``, then the read; under the guard, ``FACTOR = 3``."""
    loader = textwrap.dedent(SCRIPT_LOADER)
    reads = textwrap.dedent(SCRIPT_READS.format(root=str(root)))
    if guarded:
        return (
            loader + 'if __name__ == "__main__":\n    FACTOR = 3\n' + textwrap.indent(reads, "    ")
        )
    return loader + "FACTOR = 2\n" + reads


def test_a_loader_defined_in_an_unguarded_script_reaches_the_workers(tmp_path: Path) -> None:
    write_runs(tmp_path / "results", 50)

    printed = run_script(tmp_path / "analysis.py", _script(tmp_path / "results"))

    assert printed == ["the script ran", "98 50 2"]


def test_a_loader_using_a_global_the_guarded_block_sets_reaches_the_workers(
    tmp_path: Path,
) -> None:
    # a worker that imported the script would skip the guarded block: FACTOR is copied instead
    write_runs(tmp_path / "results", 50)

    printed = run_script(tmp_path / "analysis.py", _script(tmp_path / "results", guarded=True))

    assert printed == ["the script ran", "147 50 2"]


def test_a_loader_defined_in_a_notebook_reaches_the_workers(tmp_path: Path) -> None:
    # python -c, like a notebook kernel, has a __main__ no worker could import
    write_runs(tmp_path / "results", 50)

    assert run_python(_script(tmp_path / "results")) == "the script ran\n98 50 2"


def test_a_loader_defined_in_a_notebook_reaches_spawned_workers(tmp_path: Path) -> None:
    # Windows has only spawn: a spawned child imports the parent's __main__ unless left behind
    write_runs(tmp_path / "results", 50)
    only_spawn = (
        "import multiprocessing\nmultiprocessing.get_all_start_methods = lambda: ['spawn']\n"
    )

    assert run_python(only_spawn + _script(tmp_path / "results")) == "the script ran\n98 50 2"


def test_a_fork_server_worker_that_dies_stops_the_load_with_its_exit_code(tmp_path: Path) -> None:
    write_runs(tmp_path / "results", 50)
    (tmp_path / "dying_loader.py").write_text(
        textwrap.dedent(
            """
            import json, multiprocessing, os
            from worker_sync import wait_until_a_worker_reads

            def load(path):
                wait_until_a_worker_reads(path)
                if multiprocessing.parent_process() is not None:
                    os._exit(3)  # the worker dies without a word
                with open(path) as handle:
                    return json.load(handle)
            """
        )
    )
    script = f"""
        import sys, threading
        threading.Thread(target=threading.Event().wait, daemon=True).start()
        sys.path.insert(0, {str(tmp_path)!r})
        from dying_loader import load
        from naklar._read import workers as parallel
        from naklar._read import chunks as reading
        from naklar.errors import NaklarError
        options = reading.ReadOptions({str(tmp_path / "results")!r}, "conf.json", load, {{}})
        try:
            parallel.read_tree(options, workers=2, progress=False)
        except NaklarError as error:
            print(error)
    """

    printed = run_script(tmp_path / "analysis.py", script)

    assert printed == [
        "a worker process reading settings files died (exit code 3); "
        "pass workers=1 to read in this process only"
    ]


def test_a_loader_from_a_module_workers_cannot_import_is_read_by_the_main_process(
    tmp_path: Path,
) -> None:
    # loaded from its file by path: pickled by reference, a worker finds no such module
    write_runs(tmp_path / "results", 50)
    module_path = tmp_path / "loaders" / "by_path.py"
    module_path.parent.mkdir()
    module_path.write_text(
        "import json, os\n"
        "def load(path):\n"
        "    with open(path) as handle:\n"
        "        return {'j': json.load(handle)['i'] * 2, 'reader': os.getpid()}\n"
    )
    load_by_path = f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("by_path", {str(module_path)!r})
        module = importlib.util.module_from_spec(spec)
        sys.modules["by_path"] = module
        spec.loader.exec_module(module)
        load = module.load
    """
    reads = SCRIPT_READS.format(root=str(tmp_path / "results"))
    script = textwrap.dedent(load_by_path) + textwrap.dedent(reads)

    printed = run_script(tmp_path / "analysis.py", script)

    assert printed == ["the script ran", "98 50 1"]


def test_a_notebook_loads_and_refreshes_a_store_with_its_own_loader_in_workers(
    tmp_path: Path,
) -> None:
    write_runs(tmp_path / "results", 50)
    notebook = f"""
        import json, os, pathlib, threading
        threading.Thread(target=threading.Event().wait, daemon=True).start()
        import naklar
        from worker_sync import wait_until_a_worker_reads

        def load(path):
            wait_until_a_worker_reads(path)
            with open(path) as handle:
                return {{"j": json.load(handle)["i"] + 1000, "reader": os.getpid()}}

        root = pathlib.Path({str(tmp_path / "results")!r})
        store = naklar.load(root, dict_file="conf.json", load_func=load, workers=2)
        for number in range(30):
            (root / "later" / str(number)).mkdir(parents=True)
            (root / "later" / str(number) / "conf.json").write_text(json.dumps({{"i": number}}))
        changes = store.refresh(workers=2).changes
        frame = store.frame()
        print(store.report.loaded, changes.added, frame.j.min(), frame.j.max(),
              frame.reader.nunique() > 2)
    """

    assert run_python(notebook) == "80 30 1000 1049 True"
