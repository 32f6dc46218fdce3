"""A progress bar that appears only when a load is slow enough to need one.

tqdm is imported on first display, so quick loads never pay for it, and the bar
is created late (after :data:`SHOW_AFTER_SECONDS`) with the work already done as
its starting point, so a small tree never prints one.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Progress", "SHOW_AFTER_SECONDS"]

#: A load that finishes sooner than this never shows a bar.
SHOW_AFTER_SECONDS = 1.0


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
    """

    def __init__(self, total: int, description: str, *, enabled: bool, unit: str = "dir") -> None:
        self.total = total
        self.description = description
        self.enabled = enabled
        self.unit = unit
        self.done = 0
        self._started = time.monotonic()
        self._bar: Any = None

    def advance_to(self, done: int) -> None:
        """Record that ``done`` units are finished in all (not an increment)."""
        if done <= self.done:
            return
        step, self.done = done - self.done, done
        if self._bar is not None:
            self._bar.update(step)
        elif self.enabled and time.monotonic() - self._started >= SHOW_AFTER_SECONDS:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, initial=done, desc=self.description, unit=self.unit)

    def close(self) -> None:
        """Finish the bar, if one is shown."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
