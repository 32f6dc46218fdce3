"""A progress bar shows on slow loads and ``progress=False`` silences it."""

from __future__ import annotations

from typing import Any

import pytest

import naklar
from naklar._read import progress as progress_module
from naklar._read.progress import Progress


@pytest.fixture
def bar_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every load 'slow': the bar may show from the first finished unit."""
    monkeypatch.setattr(progress_module, "SHOW_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(progress_module, "SHOW_IF_LEFT_SECONDS", 0.0)


@pytest.mark.usefixtures("bar_at_once")
def test_a_slow_load_shows_a_progress_bar(
    make_tree: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_tree({str(i): {"i": i} for i in range(60)}, fmt="json")

    naklar.load(root, dict_file="conf.json", workers=1)

    assert "naklar: reading conf.json" in capsys.readouterr().err


@pytest.mark.usefixtures("bar_at_once")
@pytest.mark.parametrize("workers", [1, 2])
def test_progress_false_silences_the_bar(
    make_tree: Any, capsys: pytest.CaptureFixture[str], workers: int
) -> None:
    root = make_tree({str(i): {"i": i} for i in range(60)}, fmt="json")

    store = naklar.load(root, dict_file="conf.json", workers=workers, progress=False)
    store.refresh(progress=False)

    assert capsys.readouterr().err == ""


def test_a_quick_load_shows_no_bar(make_tree: Any, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_tree({str(i): {"i": i} for i in range(20)}, fmt="json")

    naklar.load(root, dict_file="conf.json")

    assert capsys.readouterr().err == ""


def test_progress_counts_to_its_total(
    bar_at_once: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with Progress(4, "work", enabled=True) as bar:
        bar.advance_to(1)
        bar.advance_to(4)

    assert "4/4" in capsys.readouterr().err


class _Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("seconds", "done", "shown"),
    [
        (0.9, 10, False),  # too early to tell
        (2.0, 10, True),  # 18 s left
        (2.0, 90, True),  # 0.22 s left: just shown
        (2.0, 96, False),  # 0.08 s left: about to finish
    ],
)
def test_a_bar_shows_only_for_a_load_that_is_slow_and_not_about_to_finish(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    seconds: float,
    done: int,
    shown: bool,
) -> None:
    monkeypatch.setattr(progress_module, "SHOW_IF_LEFT_SECONDS", 0.2)
    clock = _Clock()
    with Progress(100, "work", enabled=True, clock=clock) as bar:
        clock.now = seconds
        bar.advance_to(done)

    assert ("work" in capsys.readouterr().err) is shown
