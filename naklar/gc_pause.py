"""Pausing Python's cyclic garbage collector while naklar makes millions of objects.

Reading 100,000 settings files creates millions of dicts, strings and numbers
and no reference cycles, yet every few thousand of them trigger a collection,
and each full one walks every object in the process (pandas and SQLAlchemy
alone hold half a million). That was about 8 % of a cold load. The pause is
scoped: the collector runs again afterwards (unless it was already off).

What the pause leaves alive (the table's model, and pandas' and SQLAlchemy's
modules when a load imported them: some 100,000 objects) would all be walked
by the young collection that the first allocation after the pause triggers:
0.05 s at 10,000 runs on two cores. So the survivors are moved into the oldest
generation instead (``gc.freeze()`` then ``gc.unfreeze()``, which splices lists
and walks nothing). A cycle among them, or among the program's own young
objects, is then collected by the next full collection: later, but not lost.
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
            _age_young_objects()
            gc.enable()


def _age_young_objects() -> None:
    """Move every tracked object into the oldest generation, without a collection."""
    if gc.get_freeze_count() == 0:  # objects the program froze itself stay frozen
        gc.freeze()
        gc.unfreeze()
