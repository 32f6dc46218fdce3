"""Pausing Python's cyclic garbage collector while naklar makes millions of objects.

Reading 100,000 settings files creates millions of dicts, strings and numbers
and no reference cycles, yet every few thousand of them trigger a collection,
and each full one walks every object in the process (pandas and SQLAlchemy
alone hold half a million). Loading, opening, refreshing and selecting run
with the collector off; what the pause buys is measured in
``benchmarks/README.md``. The pause is scoped: the collector runs again
afterwards (unless it was already off), and collects any cycle made meanwhile
then. ``gc.disable()`` and ``gc.enable()`` are all it uses.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block; restore it after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
