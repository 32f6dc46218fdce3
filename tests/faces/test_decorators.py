"""The decorators' form is checked before any file is read, with errors naming the key."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

import naklar
from naklar._read.decorators import RESERVED_COLUMNS, parse_decorators
from naklar.errors import NaklarError


@pytest.mark.parametrize("key", RESERVED_COLUMNS)
def test_a_decorator_named_like_naklars_own_column_is_refused(key: str) -> None:
    with pytest.raises(NaklarError, match=f"a decorator cannot be named '{key}'.*'{key}_1'"):
        parse_decorators({key: (str.upper,)})


def test_a_load_with_such_a_decorator_fails_before_reading(make_tree: Any) -> None:
    read: list[str] = []

    def load(path: str) -> dict[str, Any]:
        read.append(path)
        return {"x": 1}

    root = make_tree({"a": {"x": 1}}, fmt="json")
    with pytest.raises(NaklarError, match="'naklar_dir'"):
        naklar.load(root, dict_file="conf.json", load_func=load, decorators={"naklar_dir": (str,)})
    assert read == []


@pytest.mark.parametrize("spec", [(), (str, str, None, None), "getter", 3])
def test_a_decorator_of_another_form_is_refused(spec: Any) -> None:
    with pytest.raises(NaklarError, match="decorator for 'lr' must be a tuple"):
        parse_decorators({"lr": spec})


def test_a_computed_column_must_be_a_sqlalchemy_column() -> None:
    with pytest.raises(NaklarError, match="third item of the decorator for 'start'.*got str"):
        parse_decorators({"start": (None, str, "DateTime")})


def test_the_seeds_forms_are_accepted() -> None:
    column = sa.Column("start", sa.DateTime)
    parsed = parse_decorators(
        {"a": (str.upper,), "b": (None, str.lower), "start": (None, str, column)}
    )

    assert parsed["a"].getter is str.upper and parsed["a"].setter is None
    assert parsed["b"].getter is None and parsed["b"].setter is str.lower
    assert parsed["start"].column is column
