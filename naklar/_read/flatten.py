"""Nested settings as dotted column names: ``{'model': {'kernel': 'rbf'}}`` -> ``model.kernel``.

Sweep tools write nested configs (Hydra's config groups, Sacred's and Ray
Tune's nested dicts). Flattened, each leaf is a column that filters and sorts
like any other; ``flatten=False`` keeps a nested dict as one JSON text column.
Two spellings that flatten to one name (``'a.b'`` and ``{'a': {'b': ...}}``)
are refused with both named, never one silently kept.
"""

from __future__ import annotations

from typing import Any

from ..errors import SettingsFileError

__all__ = ["flatten_settings", "merge_settings"]


def flatten_settings(settings: dict[str, Any], path: str) -> dict[str, Any]:
    """``settings`` with every nested dict spread into dotted keys.

    An empty nested dict stays a value (``{}``), so its key is not lost.

    >>> flatten_settings({'model': {'kernel': 'rbf', 'C': 1}, 'seed': 0}, 'conf.json')
    {'model.kernel': 'rbf', 'model.C': 1, 'seed': 0}
    """
    for value in settings.values():
        if isinstance(value, dict) and value:
            break
    else:  # nothing nested: the common flat file costs one pass
        return settings
    flat: dict[str, Any] = {}
    _spread(settings, "", flat, path)
    return flat


def _spread(settings: dict[Any, Any], prefix: str, flat: dict[str, Any], path: str) -> None:
    for key, value in settings.items():
        name = prefix + (key if key.__class__ is str else str(key))
        if isinstance(value, dict) and value:
            _spread(value, name + ".", flat, path)
        elif name in flat:
            raise SettingsFileError(
                path,
                f"two keys flatten to the column {name!r} (a dotted key and a nested one, "
                "or keys 1 and '1'); rename one in the file, or pass flatten=False to keep "
                "nested dicts as JSON text",
            )
        else:
            flat[name] = value


def merge_settings(parts: list[tuple[str, dict[str, Any]]], path: str) -> dict[str, Any]:
    """One row from several files' settings, ``(file, settings)`` each, in order.

    A key two files both hold is refused, naming both files: neither value is
    silently kept.
    """
    if len(parts) == 1:
        return parts[0][1]
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, settings in parts:
        for key, value in settings.items():
            if key in merged:
                raise SettingsFileError(
                    path,
                    f"key {key!r} is in both {origin[key]} and {name}; rename it in one of "
                    "them, or read the files with load_func=",
                )
            merged[key] = value
            origin[key] = name
    return merged
