"""Loading pauses the cyclic garbage collector and always gives it back as it was."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import naklar
from naklar import experiment
from naklar._read.gc_pause import PROMOTE_AFTER_OBJECTS, gc_paused

#: Python 3.12 starts with objects of its own frozen, and naklar leaves frozen
#: objects alone, so it never promotes there (test_objects_frozen_by_the_process_stay_frozen).
PROMOTES = gc.get_freeze_count() == 0
promotes = pytest.mark.skipif(
    not PROMOTES, reason="this Python starts with frozen objects: naklar never promotes here"
)


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


@pytest.fixture
def young_generation_empty(collector_on: None) -> None:
    """Collect first, so no young collection runs (and promotes) during a short test."""
    gc.collect()


def _generation_of(obj: object) -> int | None:
    """The generation ``obj`` sits in: the index of the generation listing it."""
    for generation in range(3):
        if any(o is obj for o in gc.get_objects(generation)):
            return generation
    return None


def _many_objects() -> list[_Cycle]:
    """More new objects than a pause leaves without promoting them."""
    return [_Cycle() for _ in range(PROMOTE_AFTER_OBJECTS + 1)]


@promotes
def test_a_pause_that_made_many_objects_moves_them_to_the_oldest_generation(
    young_generation_empty: None,
) -> None:
    with gc_paused():
        made = _many_objects()
        assert _generation_of(made) == 0
    assert _generation_of(made) == 2
    assert _generation_of(made[-1]) == 2


def test_a_pause_that_made_few_objects_leaves_them_young(young_generation_empty: None) -> None:
    with gc_paused():
        made = [_Cycle() for _ in range(100)]
    assert _generation_of(made) in (0, 1)  # young: a young collection may have run since


@promotes
def test_objects_from_before_the_pause_are_promoted_too(young_generation_empty: None) -> None:
    before = _Cycle()
    with gc_paused():
        made = _many_objects()
    assert _generation_of(before) == 2
    assert _generation_of(made) == 2


@promotes
def test_an_inner_pause_promotes_nothing(young_generation_empty: None) -> None:
    with gc_paused():
        with gc_paused():
            made = _many_objects()
        assert _generation_of(made) == 0  # only the outermost pause ends the pause
    assert _generation_of(made) == 2


def test_a_pause_with_the_collector_off_promotes_nothing(young_generation_empty: None) -> None:
    gc.disable()
    with gc_paused():
        made = _many_objects()
    assert _generation_of(made) == 0


def test_cycles_made_during_the_pause_are_still_collected(young_generation_empty: None) -> None:
    with gc_paused():
        made = _many_objects()
        alive = weakref.ref(made[0])
        del made
    gc.collect()
    assert alive() is None


@promotes
def test_promoted_cycles_wait_for_a_full_collection(young_generation_empty: None) -> None:
    with gc_paused():
        made = _many_objects()
        alive = weakref.ref(made[0])
        del made
    gc.collect(1)
    assert alive() is not None  # in the oldest generation: young collections pass it by
    gc.collect()
    assert alive() is None


def test_objects_frozen_by_the_process_stay_frozen(young_generation_empty: None) -> None:
    frozen = _Cycle()
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        with gc_paused():
            made = _many_objects()
        assert gc.get_freeze_count() == count
        assert _generation_of(frozen) is None  # still in the permanent generation
        assert _generation_of(made) in (0, 1)  # young: a young collection may have run since
    finally:
        gc.unfreeze()


def test_a_select_promotes_nothing(young_generation_empty: None, make_tree: Any) -> None:
    root = make_tree({"a": {"C": 1}, "b": {"C": 2}}, fmt="json")
    store = naklar.load(root, dict_file="conf.json", workers=1)
    gc.collect()
    before_select = _Cycle()
    assert len(store.select("C", C=2)) == 1
    assert _generation_of(before_select) in (0, 1)  # young, not promoted


_FIRST_LOAD = """
import gc, sys
from naklar import experiment
experiment.initialise(sys.argv[1], dict_file="conf.json", workers=1)
table = experiment.store().table
print([any(o is table for o in gc.get_objects(g)) for g in range(3)])
"""


@promotes
def test_the_first_load_of_a_process_promotes_what_it_imported(make_tree: Any) -> None:
    root = make_tree({"a": {"C": 1}, "b": {"C": 2}}, fmt="json")
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_LOAD, str(root)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["[False,", "False,", "True]"]  # the table is in the oldest
