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
from naklar.gc_pause import AGE_AFTER, gc_paused


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


def test_what_the_pause_leaves_alive_is_not_walked_by_a_young_collection(
    collector_on: None,
) -> None:
    with gc_paused():
        made = [[index] for index in range(2 * AGE_AFTER)]
        young_collections = gc.get_stats()[0]["collections"]
    more = [[index] for index in range(100)]

    assert gc.get_stats()[0]["collections"] == young_collections
    assert len(made) + len(more) == 2 * AGE_AFTER + 100


def test_after_a_short_pause_the_young_collection_runs_as_usual(collector_on: None) -> None:
    with gc_paused():
        made = [[index] for index in range(1_000)]
        young_collections = gc.get_stats()[0]["collections"]
    more = [[index] for index in range(100)]

    assert gc.get_stats()[0]["collections"] > young_collections
    assert len(made) + len(more) == 1_100


def test_a_cycle_made_during_the_pause_is_still_collected(collector_on: None) -> None:
    class Node:
        pass

    with gc_paused():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        collected = weakref.ref(node)
        del node
        made = [[index] for index in range(2 * AGE_AFTER)]  # enough to age what is left

    assert collected() is not None  # only the cycle holds it
    gc.collect()
    assert collected() is None
    assert len(made) == 2 * AGE_AFTER


def test_objects_the_program_froze_stay_frozen(collector_on: None) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            made = [[index] for index in range(2 * AGE_AFTER)]
        assert gc.get_freeze_count() == frozen
        assert len(made) == 2 * AGE_AFTER
    finally:
        gc.unfreeze()
