"""Pausing Python's cyclic garbage collector while naklar makes millions of objects.

Reading 100,000 settings files creates millions of dicts, strings and numbers
and no reference cycles, yet every few thousand of them trigger a collection,
and each full one walks every object in the process (pandas and SQLAlchemy
alone hold half a million). That was about 8 % of a cold load. The pause is
scoped: the collector runs again afterwards (unless it was already off), and
collects any cycle made meanwhile then.

A pause that leaves many new objects behind ends by moving every object into
the oldest generation, where full collections still examine them, instead of
leaving them to the young collections. Such objects are long-lived: the modules
imported meanwhile (SQLAlchemy and pandas, on a process's first load, reopen or
frame), a table and its mapped class. The young collections would walk the
imports' 160,000 objects twice to free a few hundred: 0.05 s of a 10,000-run
cold load. The price is paid once, by the next full collection (at the latest
at exit): it walks about 70,000 of the imports' tuples that a young collection
would have stopped tracking, 0.02 s. A pause that leaves few objects (a query's
leftovers, young garbage) does not promote them.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused", "promote_to_oldest_generation", "PROMOTE_AFTER_OBJECTS"]

#: A pause that ends with more new objects than this promotes them: an import or
#: a load leaves tens of thousands, a query hundreds.
PROMOTE_AFTER_OBJECTS = 10_000


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block; restore it after.

    A pause that turns the collector back on with more than
    :data:`PROMOTE_AFTER_OBJECTS` new objects first promotes every object
    (:func:`promote_to_oldest_generation`).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # the young generation's count: objects made since its last collection
            if gc.get_count()[0] > PROMOTE_AFTER_OBJECTS:
                promote_to_oldest_generation()
            gc.enable()


def promote_to_oldest_generation() -> None:
    """Move every object the collector tracks into its oldest generation, unexamined.

    ``gc.freeze()`` then ``gc.unfreeze()`` does that by relinking lists, whatever
    their size; nothing is exempted from later full collections. A process that
    froze objects itself (a server before it forks) keeps them frozen: the
    promotion is skipped there. So is it on Python 3.12, which starts with the
    MRO tuples of its built-in types frozen (375 of them in 3.12.1, before any
    code runs): unfreezing would hand them to this interpreter's
    collector. There the young collections run as they would without naklar.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
