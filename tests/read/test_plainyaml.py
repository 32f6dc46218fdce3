"""The plain-YAML reader gives what ``yaml.safe_load`` gives, or declines."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from naklar._read.plainyaml import parse_plain_yaml

#: Scalars whose YAML 1.1 reading is easy to get wrong.
TRICKY = [
    "yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "Null", "~", "",
    "0x1F", "0o17", "017", "0b101", "1_000", "+12", "-0", "1e3", "1.0e3", "1.5e-3",
    ".inf", "-.Inf", ".NaN", "1:30", "190:20:30", "2026-12-07", "2026-12-07 04:29:22",
    "3.", ".5", "1.2.3", "abc", "a b", "x:y", "http://h:80/p", "-", "- x", "a: b", "[a]",
    "=", "<<", "a,b", "a]", "é", "1__0", "0.", "-.5", "+.inf", "1e", "0x", "_1",
]  # fmt: skip
KEYS = st.sampled_from(["a", "b", "model", "lr", "x.y", "1", "true", "null", "k k", "n"])


def same(left: Any, right: Any) -> bool:
    """Equality where NaN equals NaN and bool is not int."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right)


def check(text: str) -> None:
    parsed = parse_plain_yaml(text)
    if parsed is None:
        return
    expected = yaml.safe_load(text)  # raising here means the reader accepted bad YAML
    assert same(parsed, expected), (text, parsed, expected)


scalars = st.one_of(st.sampled_from(TRICKY), st.text("ab1.:-_ e+", max_size=6))
values = st.recursive(
    scalars.map(lambda text: ("scalar", text))
    | st.lists(scalars, max_size=3).map(lambda items: ("flow", items))
    | st.lists(scalars, min_size=1, max_size=3).map(lambda items: ("block", items)),
    lambda inner: st.dictionaries(KEYS, inner, min_size=1, max_size=3).map(lambda d: ("map", d)),
    max_leaves=12,
)


def render(mapping: dict[str, Any], indent: int, sequence_indent: int) -> str:
    pad = " " * indent
    lines = []
    for key, (kind, value) in mapping.items():
        if kind == "scalar":
            lines.append(f"{pad}{key}: {value}".rstrip(" ") + "\n")
        elif kind == "flow":
            lines.append(f"{pad}{key}: [{', '.join(value)}]\n")
        elif kind == "block":
            lines.append(f"{pad}{key}:\n")
            lines += [f"{' ' * (indent + sequence_indent)}- {item}\n" for item in value]
        else:
            lines.append(f"{pad}{key}:\n" + render(value, indent + 2, sequence_indent))
    return "".join(lines)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, values, min_size=1, max_size=4), st.sampled_from([0, 2]))
def test_parse_plain_yaml_agrees_with_safe_load(mapping: dict[str, Any], sequence: int) -> None:
    check(render(mapping, 0, sequence))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2, 4]), st.sampled_from(TRICKY)), max_size=6))
def test_parse_plain_yaml_declines_what_it_cannot_read_as_safe_load_does(
    lines: list[tuple[int, str]],
) -> None:
    check("".join(" " * indent + text + "\n" for indent, text in lines))


@pytest.mark.parametrize(
    "text",
    [
        'a: "quoted"\n',
        "a: 1 # comment\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  block\n",
        "a: {b: 1}\n",
        "---\na: 1\n",
        "a: 2026-12-07\n",
        "a: one\n  two\n",
        "- a\n- b: 1\n",
        "a:\n- b: 1\n",
        "a:\tb\n",
        "",
        "  a: 1\n",
        "<<: 1\n",
    ],
)
def test_parse_plain_yaml_declines_outside_the_subset(text: str) -> None:
    assert parse_plain_yaml(text) is None


def test_parse_plain_yaml_reads_hydras_overrides() -> None:
    text = "- model=mlp\n- optim.lr=0.1\n"
    assert parse_plain_yaml(text) == yaml.safe_load(text) == ["model=mlp", "optim.lr=0.1"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TRICKY), min_size=1, max_size=5))
def test_parse_plain_yaml_reads_a_list_as_safe_load_does(items: list[str]) -> None:
    check("".join(f"- {item}\n" for item in items))


def test_parse_plain_yaml_reads_a_hydra_config() -> None:
    text = (
        "model:\n  name: mlp\n  depth: 2\noptim:\n  lr: 0.01\n  betas:\n  - 0.9\n  - 0.999\n"
        "tags: [a, yes]\nempty:\nseed: 0\n"
    )
    assert parse_plain_yaml(text) == yaml.safe_load(text)
