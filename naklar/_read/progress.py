"""A progress bar that appears only when a load is slow enough to need one.

tqdm is imported on first display, so quick loads never pay for it, and the bar
is created late (after :data:`SHOW_AFTER_SECONDS`) with the work already done as
its starting point, so a small tree never prints one. Nor does a load that is
about to finish when that time comes (less than :data:`SHOW_IF_LEFT_SECONDS`
left at its pace so far): a bar that flashes up at 90 % tells nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "SHOW_AFTER_SECONDS", "SHOW_IF_LEFT_SECONDS"]

#: A load that finishes sooner than this never shows a bar.
SHOW_AFTER_SECONDS = 1.0
#: ... and never one with less work left than this, at its pace so far.
SHOW_IF_LEFT_SECONDS = 0.5


class Progress:
    """Count finished work and show a ``tqdm.auto`` bar once it takes a while.

    Parameters
    ----------
    total:
        Units of work expected.
    description:
        Text in front of the bar.
    enabled:
        ``False`` never shows a bar (``progress=False``).
    unit:
        What one unit of work is called on the bar.
    clock:
        Seconds from some fixed point; the pace is measured with it.
    """

    def __init__(
        self,
        total: int,
        description: str,
        *,
        enabled: bool,
        unit: str = "dir",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.description = description
        self.enabled = enabled
        self.unit = unit
        self.done = 0
        self._clock = clock
        self._started = clock()
        self._bar: Any = None

    def advance_to(self, done: int) -> None:
        """Record that ``done`` units are finished in all (not an increment)."""
        if done <= self.done:
            return
        step, self.done = done - self.done, done
        if self._bar is not None:
            self._bar.update(step)
        elif self.enabled and self._worth_showing():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, initial=done, desc=self.description, unit=self.unit)

    def _worth_showing(self) -> bool:
        elapsed = self._clock() - self._started
        if elapsed < SHOW_AFTER_SECONDS:
            return False
        left = elapsed / self.done * (self.total - self.done)
        return left >= SHOW_IF_LEFT_SECONDS

    def close(self) -> None:
        """Finish the bar, if one is shown."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
