"""Shared fixtures: small result trees on disk and real databases.

Database fixtures use the servers at 127.0.0.1 (PostgreSQL on 5432, MariaDB on
3306, database ``test``). Without a server those tests skip with the reason,
except under CI (``CI=true``), where a missing server is a failure.
"""

from __future__ import annotations

import json
import os
import pickle
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import joblib
import pytest
import sqlalchemy as sa

from naklar import experiment

POSTGRES_URL = os.environ.get(
    "NAKLAR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("NAKLAR_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

# the sweep tools' trees and the scripts that made them (which need the tools)
collect_ignore = ["fixtures"]


def write_settings(path: Path, settings: Any, fmt: str) -> None:
    """Write one settings payload as ``json``, ``pkl`` or ``jbl``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(settings))
    elif fmt == "pkl":
        path.write_bytes(pickle.dumps(settings))
    elif fmt == "jbl":
        joblib.dump(settings, path)
    else:
        raise ValueError(fmt)


TreeFactory = Callable[..., Path]


@pytest.fixture
def make_tree(tmp_path: Path) -> TreeFactory:
    """``make_tree({'0': {...}, '1': {...}}, fmt='pkl')`` writes ``<dir>/conf.<fmt>`` files.

    Keys of the mapping are run directories relative to the root (``'a/b'`` nests).
    Returns the root.
    """

    def make(runs: Mapping[str, Any], fmt: str = "pkl", root: str = "results") -> Path:
        root_path = tmp_path / root
        root_path.mkdir(parents=True, exist_ok=True)
        for directory, settings in runs.items():
            write_settings(root_path / directory / f"conf.{fmt}", settings, fmt)
        return root_path

    return make


@pytest.fixture(scope="session")
def iris_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation's example sweep, written once by its own script (scikit-learn)."""
    pytest.importorskip("sklearn", reason="the iris sweep needs scikit-learn (test extra)")
    from naklar.util import write_iris_sweep

    root = tmp_path_factory.mktemp("iris") / "results"
    write_iris_sweep(root, path_prefix="results")
    return root


@pytest.fixture(autouse=True)
def fresh_default_store() -> Iterator[None]:
    """Every test starts with the module API's default store empty."""
    experiment.reset()
    yield
    experiment.reset()


def _server_engine(url: str, name: str) -> sa.Engine:
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except Exception as error:  # any driver or connection failure
        engine.dispose()
        message = f"{name} server not reachable at {engine.url!r}: {error}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: database tests must run)")
        pytest.skip(message)
    return engine


@pytest.fixture
def postgres_engine() -> Iterator[sa.Engine]:
    yield from _server("psycopg", POSTGRES_URL, "PostgreSQL")


@pytest.fixture
def mysql_engine() -> Iterator[sa.Engine]:
    yield from _server("pymysql", MYSQL_URL, "MariaDB/MySQL")


def _server(driver: str, url: str, name: str) -> Iterator[sa.Engine]:
    pytest.importorskip(driver, reason=f"needs the {driver} driver (test extra)")
    engine = _server_engine(url, name)
    yield engine
    engine.dispose()


@pytest.fixture
def table_name() -> str:
    """A table name of its own per test, so tests sharing a server don't collide."""
    return f"exp_{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["sqlite", "sqlite_file", "postgres", "mysql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """The same test against every backend naklar supports."""
    if request.param == "sqlite":
        engine = sa.create_engine("sqlite://")
    elif request.param == "sqlite_file":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        engine = request.getfixturevalue(f"{request.param}_engine")
    yield engine
    engine.dispose()
