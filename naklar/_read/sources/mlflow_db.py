"""MLflow's SQLite backend: the runs in ``mlflow.db``, read through SQLAlchemy.

MLflow 3 keeps runs, params, metrics and tags in ``mlflow.db``; the run folders
(``mlruns/<experiment id>/<run id>/artifacts``) hold only artifacts, and a run
that logged none has no folder. So the runs are listed from the database, each
under the directory its artifacts would have, ``mlruns/<experiment id>/<run id>``
(as in the file store). Columns are named as for the file store
(:mod:`naklar._read.sources.mlflow`); status is text here (``'FINISHED'``).
A deleted run (``lifecycle_stage = 'deleted'``), or a run of a deleted
experiment, is listed but left out, as MLflow's own views leave it out, and
named in the load report.

SQLAlchemy is imported when a database is read, not with this module: the
reading layer imports no SQLAlchemy at module level. The database is read once
per process while its file (and write-ahead log) keep their size and mtime.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from ...errors import SettingsFileError
from ..layouts import NotARun, RunLayout, RunParts
from .common import facts_part, metrics_part, param_value, utc_from_seconds

__all__ = ["DATABASE", "layout", "recognises"]

DATABASE = "mlflow.db"
#: The anchor of a run read from the database: no file, a name for the report.
ANCHOR = "(mlflow.db)"

#: Why a deleted run is not a row, as the load report says it (as for the file store).
DELETED = "deleted in MLflow (lifecycle_stage: deleted)"
#: The file store moves a deleted experiment to ``.trash/``; the database marks it.
EXPERIMENT_DELETED = "its experiment is deleted in MLflow (lifecycle_stage: deleted)"

#: One run as read: its row's parts, or why it is left out, and its stamp's
#: ``(size, mtime_ns)``, which change when the run does.
_Run = tuple[list[tuple[str, dict[str, Any]]] | str, tuple[int, int]]
#: database path -> (its files' sizes and mtimes, run directory -> run)
_READ: dict[str, tuple[tuple[int, ...], dict[str, _Run]]] = {}


def _file_state(database: str) -> tuple[int, ...]:
    state: list[int] = []
    for path in (database, database + "-wal"):
        try:
            status = os.stat(path)
        except OSError:
            state += [-1, -1]
        else:
            state += [status.st_size, status.st_mtime_ns]
    return tuple(state)


def _runs(root: str) -> dict[str, _Run]:
    """Every run in ``root``'s database by its run directory, read again when the file changed."""
    database = os.path.join(root, DATABASE)
    state = _file_state(database)
    cached = _READ.get(database)
    if cached is not None and cached[0] == state:
        return cached[1]
    runs = _read_database(database, root)
    _READ[database] = (state, runs)
    return runs


def _read_database(database: str, root: str) -> dict[str, _Run]:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            runs = connection.execute(
                sa.text(
                    "SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, "
                    "r.experiment_id, r.lifecycle_stage, e.lifecycle_stage FROM runs AS r "
                    "LEFT JOIN experiments AS e ON e.experiment_id = r.experiment_id"
                )
            ).all()
            params = connection.execute(sa.text("SELECT run_uuid, key, value FROM params")).all()
            metrics = connection.execute(
                sa.text("SELECT run_uuid, key, value, is_nan, step, timestamp FROM latest_metrics")
            ).all()
            tags = connection.execute(sa.text("SELECT run_uuid, key, value FROM tags")).all()
    except sa.exc.SQLAlchemyError as error:
        raise SettingsFileError(
            database, f"not an MLflow database naklar can read ({error})"
        ) from None
    finally:
        engine.dispose()
    by_run: dict[str, dict[str, dict[str, Any]]] = {}
    for run_uuid, key, value in params:
        by_run.setdefault(run_uuid, {}).setdefault("params", {})[key] = param_value(value)
    for run_uuid, key, value, is_nan, step, timestamp in metrics:
        entry = by_run.setdefault(run_uuid, {})
        entry.setdefault("metrics", {})[key] = float("nan") if is_nan else value
        entry.setdefault("versions", {})[key] = (step, timestamp)
    for run_uuid, key, value in tags:
        by_run.setdefault(run_uuid, {}).setdefault("tags", {})["tags." + key] = value
    found: dict[str, _Run] = {}
    for run_uuid, name, status, start, end, experiment_id, stage, experiment_stage in runs:
        entry = by_run.get(run_uuid, {})
        facts = {
            "id": run_uuid,
            "name": name,
            "status": status,
            "start": utc_from_seconds(start / 1000) if start is not None else None,
            "end": utc_from_seconds(end / 1000) if end is not None else None,
            "experiment_id": str(experiment_id),
        }
        parts = [
            ("params", entry.get("params", {})),
            metrics_part("latest_metrics", entry.get("metrics", {})),
            ("tags", entry.get("tags", {})),
            facts_part("runs", facts),
        ]
        # the stamp hashes the row or the reason: deleting or restoring changes it
        row: list[tuple[str, dict[str, Any]]] | str = parts
        if stage == "deleted":
            row = DELETED
        elif experiment_stage == "deleted":
            row = EXPERIMENT_DELETED
        logged = entry.get("versions", {})
        # hashlib, not hash(): a store that outlives the process compares it in another one
        text = repr((status, end, sorted(logged.items()), row)).encode()
        changes = int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")
        # the run's own latest time, so that one run's change leaves the others unchanged
        latest_ms = max([start or 0, end or 0, *(time for _, time in logged.values())])
        version = (changes & ((1 << 62) - 1), latest_ms * 1_000_000)
        directory = os.path.join(root, "mlruns", str(experiment_id), run_uuid)
        found[directory] = (row, version)
    return found


def list_runs(root: str) -> list[str]:
    """The anchor path of every run in the database, in the database's order of runs.

    Deleted runs too: reading one says it is left out, so the report lists it.
    """
    return [os.path.join(directory, ANCHOR) for directory in _runs(root)]


def read_run(run_dir: str) -> RunParts:
    root = os.path.dirname(os.path.dirname(os.path.dirname(run_dir)))
    run = _runs(root).get(run_dir)
    if run is None:
        raise SettingsFileError(run_dir, "the run is no longer in mlflow.db")
    if isinstance(run[0], str):
        raise NotARun(os.path.join(run_dir, ANCHOR), run[0])
    return run[0], []


def run_version(run_dir: str) -> tuple[int, int]:
    """``(size, mtime_ns)`` for the run's stamp: a hash of its rows and its latest time."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(run_dir)))
    run = _runs(root).get(run_dir)
    return (-1, -1) if run is None else run[1]


def no_files(run_dir: str) -> list[str]:
    """A database run has no files of its own: :func:`run_version` stamps it."""
    return []


def layout(root: str) -> RunLayout:
    return RunLayout(
        anchor=ANCHOR,
        markers=frozenset(),
        read=read_run,
        files=no_files,
        name="mlflow runs (mlflow.db)",
        list_runs=list_runs,
        version=run_version,
    )


def recognises(root: str) -> bool:
    return os.path.isfile(os.path.join(root, DATABASE))
