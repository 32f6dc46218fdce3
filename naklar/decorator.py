"""Ready-made decorators: :func:`translate_path`, a getter for ``initialise(decorators=...)``."""

from __future__ import annotations

import os
import re
from typing import Any

from .errors import warn

__all__ = ["translate_path"]


def translate_path(self: Any, path: str | None, ptrn: str, replace: str) -> str | None:
    """Map a path recorded on one machine to where it lives on this one.

    Replaces the regular expression ``ptrn`` by ``replace``, then expands ``~``
    and environment variables and normalises the result. Warns when the
    translated path does not exist. Use it with :func:`functools.partial`::

        home_path = partial(translate_path, ptrn='/mnt/scratch/', replace='~/scratch/')
        experiment.initialise(root, decorators={'output': (home_path,)})

    >>> translate_path(None, '/mnt/scratch/results/../', '^/mnt/scratch/', '/tmp/')
    '/tmp'
    """
    if path is None:
        return None
    translated = os.path.normpath(
        os.path.expandvars(os.path.expanduser(re.sub(ptrn, replace, path)))
    )
    if not os.path.exists(translated):
        warn(
            f"translated path {translated!r} (from {path!r}) does not exist; check "
            f"ptrn={ptrn!r} and replace={replace!r}"
        )
    return translated
