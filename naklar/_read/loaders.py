"""Reading one settings file into a dict.

A loader is any callable ``load(path) -> Mapping``. naklar picks one by the
settings file's extension unless the user passes ``load_func``.

Pickle and joblib files run code when they are loaded: only load trees you
trust with them, and prefer json or yaml for trees from others.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import NaklarError, SettingsFileError

__all__ = [
    "Loader",
    "load_pickle",
    "load_json",
    "load_joblib",
    "load_yaml",
    "YAML_ALIAS_BOUND",
    "yaml_alias_problem",
    "loader_for",
    "read_settings",
    "parser_for",
    "read_and_stat_settings",
    "describe_error",
]

if TYPE_CHECKING:
    import numpy as np

Loader = Callable[[str], Mapping[str, Any]]


def load_pickle(path: str) -> Any:
    """Unpickle ``path`` (runs code from the file: trusted trees only)."""
    with open(path, "rb") as handle:
        return pickle.load(handle)


def load_json(path: str) -> Any:
    """Parse ``path`` as JSON."""
    with open(path, "rb") as handle:
        return _parse_json(handle)


def _parse_json(handle: BinaryIO) -> Any:
    return json.loads(handle.read())


#: How many nodes YAML aliases may add to one settings file, written out (see :func:`load_yaml`).
YAML_ALIAS_BOUND = 100_000


def load_yaml(path: str) -> Any:
    """Parse ``path`` as ``yaml.safe_load`` would, refusing alias loops and alias bombs.

    libyaml's parser is used where PyYAML has it. The document is composed into
    nodes first and checked before any Python object is built: an alias inside
    the node it names (``x: &a [*a]``) is a loop, and aliases that would add more
    than :data:`YAML_ALIAS_BOUND` nodes once written out (a few hundred bytes can
    name ten million) make the file a :class:`SettingsFileError`, so it is skipped
    like any unreadable file. Needs the ``yaml`` extra.
    """
    try:
        import yaml
    except ImportError as error:  # pragma: no cover - depends on the install
        raise NaklarError(
            f"{path}: reading YAML needs PyYAML; install it with pip install 'naklar[yaml]'"
        ) from error
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as handle:
        loader = loader_class(handle)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            problem = yaml_alias_problem(node)
            if problem:
                raise SettingsFileError(path, problem)
            return loader.construct_document(node)
        finally:
            loader.dispose()


def yaml_alias_problem(root: Any) -> str | None:
    """Why a composed YAML document is refused (an alias loop, too much expansion), or None.

    Nodes that aliases share are counted once per use: that is the size of
    the Python objects the document would become.
    """
    expanded: dict[int, int] = {}  # node id -> its nodes, written out
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            on_path.discard(id(node))
            expanded[id(node)] = 1 + sum(expanded[id(child)] for child in _yaml_children(node))
            continue
        if id(node) in expanded:
            continue
        if id(node) in on_path:
            anchor = getattr(node, "anchor", None)
            return (
                "a YAML alias refers to a node that contains it (a loop"
                + (f" through &{anchor}" if anchor else "")
                + "); write the value out instead of aliasing it"
            )
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _yaml_children(node) if id(child) not in expanded)
    written_out = expanded[id(root)]
    if written_out - len(expanded) > YAML_ALIAS_BOUND:
        return (
            f"YAML aliases expand the file from {len(expanded):,} to {written_out:,} nodes, "
            f"more than the {YAML_ALIAS_BOUND:,} extra nodes naklar allows (an alias bomb "
            "exhausts memory); write the values out or load the file with load_func="
        )
    return None


def _yaml_children(node: Any) -> list[Any]:
    value = node.value
    if not isinstance(value, list):
        return []  # a scalar
    if value and isinstance(value[0], tuple):
        return [part for pair in value for part in pair]
    return value


def load_joblib(path: str) -> dict[str, Any]:
    """Load a joblib dump memory-mapped, replacing every numpy array by a path.

    Arrays can be large, so they are memory-mapped rather than read; each array
    value is then replaced by the path of the file that holds it (the dump
    itself, or the ``.npy`` file older joblib versions wrote beside it) and its
    memory map is closed, so nothing stays open once the dict is returned.
    """
    import joblib
    import numpy as np

    settings = joblib.load(path, mmap_mode="r")
    if not isinstance(settings, Mapping):
        return settings
    loaded = dict(settings)
    for key, value in loaded.items():
        if isinstance(value, np.ndarray):
            loaded[key] = _array_file(value, path)
            _close_memmap(value)
    return loaded


def _array_file(array: np.ndarray, dump_path: str) -> str:
    filename = getattr(array, "filename", None)
    return os.fspath(filename) if filename else dump_path


def _close_memmap(array: np.ndarray) -> None:
    mmap = getattr(array, "_mmap", None)
    if mmap is not None:
        mmap.close()


_LOADERS_BY_EXTENSION: dict[str, Loader] = {
    ".pkl": load_pickle,
    ".pickle": load_pickle,
    ".p": load_pickle,
    ".json": load_json,
    ".jbl": load_joblib,
    ".joblib": load_joblib,
    ".yaml": load_yaml,
    ".yml": load_yaml,
}


def loader_for(dict_file: str) -> Loader:
    """Pick the loader for a settings file name by its extension.

    >>> loader_for('conf.json').__name__
    'load_json'
    """
    extension = os.path.splitext(dict_file)[1].lower()
    try:
        return _LOADERS_BY_EXTENSION[extension]
    except KeyError:
        known = ", ".join(sorted(_LOADERS_BY_EXTENSION))
        raise NaklarError(
            f"no loader for settings files named {dict_file!r}: known extensions are "
            f"{known}; pass load_func=<callable taking a path, returning a dict>"
        ) from None


_ONLY_STR = {str}

Parser = Callable[[BinaryIO], Any]
#: The built-in loaders as parsers of a file opened for reading bytes, so that the
#: reader can stamp the file it opened with ``os.fstat``: one path lookup per file
#: instead of two (a ``stat`` and an ``open``), 1 us of 30 per file.
_PARSERS: dict[Loader, Parser] = {load_json: _parse_json, load_pickle: pickle.load}


def parser_for(load: Loader) -> Parser | None:
    """The parser of an open file that ``load`` amounts to, if it is a built-in loader."""
    return _PARSERS.get(load)


def read_settings(path: str, load: Loader) -> dict[str, Any]:
    """Read one settings file, turning every failure into :class:`SettingsFileError`.

    Keys come back as strings (``1`` becomes ``'1'``); a file whose keys would
    collide that way (``1`` and ``'1'``) is refused rather than losing a value.
    """
    try:
        settings = load(path)
    except SettingsFileError:
        raise
    except Exception as error:  # a user's load_func may raise anything
        raise SettingsFileError(path, describe_error(error, path)) from error
    return _checked(path, settings)


def read_and_stat_settings(path: str, parse: Parser) -> tuple[dict[str, Any], os.stat_result]:
    """:func:`read_settings` with a built-in parser, and the status of the file it read.

    The status is taken once the file is open and before it is read: a file
    rewritten meanwhile looks changed to the next refresh.
    """
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            settings = parse(handle)
    except Exception as error:
        raise SettingsFileError(path, describe_error(error)) from error
    return _checked(path, settings), status


def _checked(path: str, settings: Any) -> dict[str, Any]:
    """A loaded value as a settings dict with string keys, or :class:`SettingsFileError`."""
    if not isinstance(settings, Mapping):
        raise SettingsFileError(
            path, f"expected a dict of settings, the file holds a {type(settings).__name__}"
        )
    return _with_string_keys(path, settings)


def _with_string_keys(path: str, settings: Mapping[Any, Any]) -> dict[str, Any]:
    if set(map(type, settings)) <= _ONLY_STR:  # the common case, checked at C speed
        return dict(settings)
    text_keys: dict[str, Any] = {}
    originals: dict[str, Any] = {}
    for key, value in settings.items():
        text = key if isinstance(key, str) else str(key)
        if text in text_keys:
            raise SettingsFileError(
                path,
                f"keys {originals[text]!r} and {key!r} both read as the column name {text!r}; "
                "rename one in the file or in load_func=",
            )
        text_keys[text] = value
        originals[text] = key
    return text_keys


def _same_file(one: str, other: str) -> bool:
    return os.path.normpath(os.path.abspath(one)) == os.path.normpath(os.path.abspath(other))


def describe_error(error: BaseException, path: str | None = None) -> str:
    """A short reason for a file that could not be read, saying what probably happened.

    >>> describe_error(EOFError('Ran out of input'))
    'file ends early (EOFError: Ran out of input): the run was probably killed while writing it'

    An error about another file than the settings file ``path`` (a ``load_func``
    opening a sibling file) names that file:

    >>> error = FileNotFoundError(2, 'No such file or directory', 'run/metrics.json')
    >>> describe_error(error, 'run/conf.json')[:62]
    'load_func failed on run/metrics.json, not the settings file: F'
    """
    other = getattr(error, "filename", None) if isinstance(error, OSError) else None
    if other is not None and path is not None and not _same_file(os.fsdecode(other), path):
        return (
            f"load_func failed on {os.fsdecode(other)}, not the settings file: "
            f"{type(error).__name__}: {error}"
        )
    if isinstance(error, EOFError) or (
        isinstance(error, pickle.UnpicklingError) and "truncated" in str(error)
    ):
        return (
            f"file ends early ({type(error).__name__}: {error}): the run was probably "
            "killed while writing it"
        )
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(error, FileNotFoundError):
        return "file vanished before it could be read"
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON: {error}"
    if isinstance(error, UnicodeDecodeError):
        return f"not valid text ({error.reason} at byte {error.start})"
    return f"{type(error).__name__}: {error}"
