"""Pausing Python's cyclic garbage collector while naklar makes millions of objects.

Reading 100,000 settings files creates millions of dicts, strings and numbers
and no reference cycles, yet every few thousand of them trigger a collection,
and each full one walks every object in the process (pandas and SQLAlchemy
alone hold half a million). That was about 8 % of a cold load. The pause is
scoped: the collector runs again afterwards (unless it was already off).

What a long pause leaves alive (the table's model, and pandas' and SQLAlchemy's
modules when a load imported them: some 200,000 objects) would all be walked
by the young collection that the first allocation after the pause triggers:
0.05 s at 10,000 runs on two cores. So after a pause that left at least
:data:`AGE_AFTER` young objects, they are moved into the oldest generation
instead (``gc.freeze()`` then ``gc.unfreeze()``, which splices lists and walks
nothing). A cycle among them, or among the program's own young objects, is
then collected by the next full collection: later, but not lost. Short pauses
(a ``select()`` in a loop) leave the young collection as it was, so garbage
made in a loop of them is collected as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused", "AGE_AFTER"]

#: Young objects a pause must leave for them to be aged rather than walked.
AGE_AFTER = 50_000


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
    young = gc.get_count()[0]
    if young >= AGE_AFTER and gc.get_freeze_count() == 0:  # what the program froze stays so
        gc.freeze()
        gc.unfreeze()
