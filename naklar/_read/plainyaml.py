"""A fast reader of the plain YAML that configs are written in, giving what PyYAML gives.

Hydra (through OmegaConf), Lightning and most tools write configs as block
mappings of plain scalars: ``key: value`` lines, nested by indentation, lists as
``- item`` lines or ``[a, b]``. PyYAML builds such a document node by node in
Python, even with libyaml's parser: most of a sweep load's time. This module
reads that subset line by line and resolves each scalar with PyYAML's own
implicit resolvers and constructors (so ``yes``, ``0x1F``, ``1e3``, ``~`` and
``.inf`` read exactly as ``yaml.safe_load`` reads them).

Anything outside the subset -- quotes, comments, anchors, tags, flow mappings,
block scalars, documents markers, tabs, timestamps, multi-line plain scalars,
lists of mappings -- makes :func:`parse_plain_yaml` return ``None`` and the
caller use PyYAML. ``tests/read/test_plainyaml.py`` checks, for generated
documents, that whatever this module reads equals what ``yaml.safe_load``
reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

__all__ = ["parse_plain_yaml"]

#: Characters and line starts that take a document out of the subset.
_OUTSIDE = re.compile(
    r"[\"'&*!|>{}#%@`?\t\r\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]|^---|^\.\.\.|^ *:",
    re.MULTILINE,
)
_STARTS_OUTSIDE = frozenset("[]{},-:")


class _Outside(Exception):
    """The document leaves the subset: PyYAML reads it."""


_Resolve = Callable[[str], Any]
#: Resolved scalars kept per process (all immutable: bool, int, float, None, str).
_CACHE_SIZE = 100_000


@functools.cache
def _resolver() -> _Resolve:
    """PyYAML's scalar resolution for the safe loader: bool, int, float, null, else text."""
    from yaml.constructor import SafeConstructor
    from yaml.nodes import ScalarNode
    from yaml.resolver import Resolver

    constructor = SafeConstructor()
    kinds = {
        "tag:yaml.org,2002:bool": SafeConstructor.construct_yaml_bool,
        "tag:yaml.org,2002:int": SafeConstructor.construct_yaml_int,
        "tag:yaml.org,2002:float": SafeConstructor.construct_yaml_float,
        "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
    }
    # PyYAML's safe loader has no resolvers for any first character (key None)
    table = Resolver.yaml_implicit_resolvers

    cache: dict[str, Any] = {}

    def resolve(text: str) -> Any:
        # configs repeat their keys and values from run to run: each text is resolved once
        try:
            return cache[text]
        except KeyError:
            pass
        value: Any = text
        for tag, pattern in table.get(text[:1], ()):
            if pattern.match(text):
                construct = kinds.get(tag)
                if construct is None:  # timestamps, merge keys, '=': PyYAML's business
                    raise _Outside
                value = construct(constructor, ScalarNode(tag, text))
                break
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        cache[text] = value
        return value

    return resolve


def parse_plain_yaml(text: str) -> dict[Any, Any] | list[Any] | None:
    """The mapping or list ``text`` holds, as ``yaml.safe_load`` reads it; ``None`` if outside.

    >>> parse_plain_yaml('model:\\n  name: mlp\\n  depth: 2\\nlr: 1e-3\\ntags: [a, yes]\\n')
    {'model': {'name': 'mlp', 'depth': 2}, 'lr': '1e-3', 'tags': ['a', True]}
    >>> parse_plain_yaml('name: "quoted"') is None
    True
    """
    if _OUTSIDE.search(text):
        return None
    lines = []
    for line in text.split("\n"):
        content = line.lstrip(" ")
        if content:
            lines.append((len(line) - len(content), content.rstrip(" ")))
    if not lines or lines[0][0] != 0:
        return None
    try:
        resolve = _resolver()
    except ImportError:  # no PyYAML: the caller's loader says how to install it
        return None
    try:
        if lines[0][1].startswith("- "):  # a list of plain scalars (Hydra's overrides.yaml)
            document: dict[Any, Any] | list[Any]
            document, end = _sequence(lines, 0, 0, resolve)
        else:
            document, end = _mapping(lines, 0, 0, resolve)
    except _Outside:
        return None
    return document if end == len(lines) else None


def _mapping(
    lines: list[tuple[int, str]], index: int, indent: int, resolve: _Resolve
) -> tuple[dict[Any, Any], int]:
    mapping: dict[Any, Any] = {}
    count = len(lines)
    while index < count:
        line_indent, content = lines[index]
        if line_indent < indent:
            break
        if line_indent > indent or content[0] in _STARTS_OUTSIDE:
            raise _Outside
        key, separator, value = content.partition(": ")
        if not separator:
            if not content.endswith(":"):
                raise _Outside
            key, value = content[:-1], ""
        key, value = key.rstrip(" "), value.strip(" ")
        if not key or ": " in value or value.endswith(":") or key.endswith(":"):
            raise _Outside
        index += 1
        if not value:
            following = lines[index] if index < count else (-1, "")
            if following[1].startswith("- ") and following[0] >= indent:
                mapping[resolve(key)], index = _sequence(lines, index, following[0], resolve)
            elif following[0] > indent:
                mapping[resolve(key)], index = _mapping(lines, index, following[0], resolve)
            else:
                mapping[resolve(key)] = None
            continue
        if value[0] == "[":
            mapping[resolve(key)] = _flow_list(value, resolve)
        elif value[0] in _STARTS_OUTSIDE:
            raise _Outside
        else:
            mapping[resolve(key)] = resolve(value)
        if index < count and lines[index][0] > indent:  # a plain scalar over several lines
            raise _Outside
    return mapping, index


def _sequence(
    lines: list[tuple[int, str]], index: int, indent: int, resolve: _Resolve
) -> tuple[list[Any], int]:
    items = []
    count = len(lines)
    while index < count:
        line_indent, content = lines[index]
        if line_indent < indent or (line_indent == indent and not content.startswith("- ")):
            break
        if line_indent > indent:
            raise _Outside
        item = content[2:].strip(" ")
        if not item or item[0] in _STARTS_OUTSIDE or ": " in item or item.endswith(":"):
            raise _Outside
        items.append(resolve(item))
        index += 1
    return items, index


def _flow_list(value: str, resolve: _Resolve) -> list[Any]:
    if not value.endswith("]"):
        raise _Outside
    inner = value[1:-1]
    if not inner.strip(" "):
        return []
    if any(mark in inner for mark in "[]:"):
        raise _Outside
    items = [item.strip(" ") for item in inner.split(",")]
    if any(not item or item[0] in _STARTS_OUTSIDE for item in items):
        raise _Outside
    return [resolve(item) for item in items]
