"""Making sure a worker reads, in tests of what workers are given.

A worker that starts after the main process has read every chunk reads nothing,
and a test of what workers do would pass without one. A test's loader calls
:func:`wait_until_a_worker_reads` with each settings file: a worker leaves a
mark beside the tree, and the main process, at its first file, waits for it.
Test scripts in a new interpreter import this module too (see
:mod:`new_interpreter`).
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

#: How long the main process waits for a worker before it reads on alone (the
#: test then fails): far longer than a worker takes to start.
PATIENCE_SECONDS = 20.0

_waited: set[Path] = set()


def wait_until_a_worker_reads(settings_path: str) -> None:
    """In a worker, mark the tree as read by one; in the main process, wait for that mark once.

    Runs are ``<root>/<run>/<settings file>``: the mark is a file beside ``<root>``.
    """
    mark = Path(settings_path).parent.parent.with_suffix(".a-worker-read")
    if multiprocessing.parent_process() is not None:
        mark.touch()
        return
    if mark in _waited:
        return
    _waited.add(mark)
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
