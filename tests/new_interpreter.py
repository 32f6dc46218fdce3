"""Running Python code in a new interpreter, on a tree of small json runs.

What a fresh process imports, and how workers start from a script or a notebook
(whose ``__main__`` has no file: ``python -c`` stands in for it), can only be
seen in a new process. The tests' own modules (:mod:`worker_sync`) can be
imported there, and in its workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run_python(script: str) -> str:
    """Run ``script`` in a new interpreter; its stdout, or the test fails with its stderr."""
    return _run([sys.executable, "-c", textwrap.dedent(script)]).strip()


def run_script(path: Path, text: str) -> list[str]:
    """Run ``text`` as the script ``path`` (so it is ``__main__`` with a file); its stdout lines."""
    path.write_text(textwrap.dedent(text))
    return _run([sys.executable, str(path)]).split("\n")[:-1]


def _run(command: list[str]) -> str:
    tests = str(Path(__file__).resolve().parent)
    path = os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def write_runs(root: Path, count: int) -> None:
    for number in range(count):
        run = root / str(number)
        run.mkdir(parents=True)
        (run / "conf.json").write_text(json.dumps({"i": number}))
