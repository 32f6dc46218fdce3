"""Settings rows as a load carries them: value tuples grouped by their keys.

A sweep's files share a handful of key sets, so a row is kept as its
directory, the number of its key set and a tuple of its values, not as a dict.
A worker's rows cross the process boundary without a dict each, and the insert
takes whole columns, one transpose per key set. At 10,000 runs that is about
0.02 s less than rebuilding and then taking apart a dict per row, on the path
from the last import to the first selection.

>>> rows = SettingsRows()
>>> rows.append("0", {"C": 1, "kernel": "rbf"})
>>> rows.append("1", {"C": 2, "gamma": 0.5})
>>> rows.keys()
['C', 'kernel', 'gamma']
>>> rows.columns(["gamma", "C"])
[[None, 0.5], [1, 2]]
>>> list(rows)
[('0', {'C': 1, 'kernel': 'rbf'}), ('1', {'C': 2, 'gamma': 0.5})]
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SettingsRows"]


@dataclass
class SettingsRows:
    """Rows in order: ``directories[i]`` holds ``values[i]`` under ``key_sets[key_set_of[i]]``.

    Key sets are numbered in the order they first appear, so :meth:`keys`
    lists every key where it first appears in the rows.
    """

    directories: list[str] = field(default_factory=list)
    key_sets: list[tuple[str, ...]] = field(default_factory=list)
    key_set_of: list[int] = field(default_factory=list)
    values: list[tuple[Any, ...]] = field(default_factory=list)
    #: ``key_sets`` inverted.
    _numbers: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each row as ``(directory, settings dict)``."""
        key_sets = self.key_sets
        for directory, number, values in zip(
            self.directories, self.key_set_of, self.values, strict=True
        ):
            yield directory, dict(zip(key_sets[number], values, strict=True))

    def append(self, directory: str, settings: dict[str, Any]) -> None:
        keys = tuple(settings)
        self.directories.append(directory)
        self.key_set_of.append(self._number(keys))
        self.values.append(tuple(settings.values()))

    def extend(self, other: SettingsRows) -> None:
        """Append ``other``'s rows after these."""
        renumbered = [self._number(keys) for keys in other.key_sets]
        self.directories += other.directories
        self.values += other.values
        if renumbered == list(range(len(renumbered))):  # the same key sets, as usual
            self.key_set_of += other.key_set_of
        else:
            self.key_set_of += [renumbered[number] for number in other.key_set_of]

    def keys(self) -> list[str]:
        """Every key, in the order it first appears in the rows."""
        seen: dict[str, None] = {}
        for keys in self.key_sets:
            seen.update(dict.fromkeys(keys))
        return list(seen)

    def columns(self, keys: Sequence[str]) -> list[Sequence[Any]]:
        """The values of each key, one per row (``None`` where a row lacks the key)."""
        if len(self.key_sets) == 1 and self.values:  # one transpose gives every column
            transposed = list(zip(*self.values, strict=True))
            position = {key: index for index, key in enumerate(self.key_sets[0])}
            nothing = [None] * len(self.values)
            return [transposed[position[key]] if key in position else nothing for key in keys]
        return [self._column(key) for key in keys]

    def drop_rows(self, positions: Collection[int]) -> None:
        """Remove the rows at these positions (a set or dict), keeping the others in order.

        :meth:`keys` then lists only the keys of the rows left.
        """
        if not positions:
            return
        kept = [index for index in range(len(self.values)) if index not in positions]
        self.directories = [self.directories[index] for index in kept]
        self.values = [self.values[index] for index in kept]
        old_sets, old_numbers = self.key_sets, [self.key_set_of[index] for index in kept]
        self.key_sets, self._numbers = [], {}  # only the key sets of rows left
        renumbered = {
            number: self._number(old_sets[number]) for number in dict.fromkeys(old_numbers)
        }
        self.key_set_of = [renumbered[number] for number in old_numbers]

    def drop_keys(self, keys: Collection[str]) -> None:
        """Remove these keys (and their values) from every row."""
        if not any(key in keys for key_set in self.key_sets for key in key_set):
            return
        old_sets, old_numbers = self.key_sets, self.key_set_of
        self.key_sets, self._numbers = [], {}
        kept_positions = []
        renumbered = []
        for key_set in old_sets:
            kept = [index for index, key in enumerate(key_set) if key not in keys]
            kept_positions.append(kept)
            renumbered.append(self._number(tuple(key_set[index] for index in kept)))
        self.key_set_of = [renumbered[number] for number in old_numbers]
        self.values = [
            tuple(values[index] for index in kept_positions[number])
            for number, values in zip(old_numbers, self.values, strict=True)
        ]

    def rename_key(self, key: str, new_key: str) -> None:
        """Store ``key``'s values under ``new_key`` (a key no row has), in the same place."""
        self.key_sets = [
            tuple(new_key if name == key else name for name in key_set) for key_set in self.key_sets
        ]
        self._numbers = {keys: number for number, keys in enumerate(self.key_sets)}

    def _number(self, keys: tuple[str, ...]) -> int:
        number = self._numbers.get(keys)
        if number is None:
            number = self._numbers[keys] = len(self.key_sets)
            self.key_sets.append(keys)
        return number

    def _column(self, key: str) -> list[Any]:
        getters = [
            operator.itemgetter(key_set.index(key)) if key in key_set else None
            for key_set in self.key_sets
        ]
        return [
            None if (getter := getters[number]) is None else getter(values)
            for number, values in zip(self.key_set_of, self.values, strict=True)
        ]
