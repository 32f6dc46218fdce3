"""Loading pauses the cyclic garbage collector and always gives it back as it was."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import naklar
from naklar import experiment
from naklar._read.gc_pause import gc_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after(collector_on: None) -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not end the outer one
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on: None) -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_an_error_inside_still_restores_the_collector(collector_on: None) -> None:
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()


def test_loading_and_selecting_leave_the_collector_on(
    collector_on: None, make_tree: Any, tmp_path: Path
) -> None:
    seen: list[bool] = []

    def load(path: str) -> dict[str, Any]:
        seen.append(gc.isenabled())
        return {"i": len(seen)}

    root = make_tree({"a": {}, "b": {}}, fmt="json")
    experiment.initialise(root, dict_file="conf.json", load_func=load, workers=1)
    store = naklar.load(root, dict_file="conf.json", load_func=load, workers=1)
    store.select("i", i=1)
    with pytest.raises(naklar.NoSettingsFilesError):
        naklar.load(tmp_path / "nothing here", dict_file="conf.json")

    assert seen == [False] * 4
    assert gc.isenabled()


class _Cycle:
    """An object in a reference cycle with itself, so only the collector can free it."""

    def __init__(self) -> None:
        self.me = self


def test_cycles_made_during_the_pause_are_collected_after_it(collector_on: None) -> None:
    with gc_paused():
        made = [_Cycle() for _ in range(1000)]
        alive = weakref.ref(made[0])
        del made
    gc.collect()
    assert alive() is None
