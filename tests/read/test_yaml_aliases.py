"""YAML from others: alias loops and alias bombs are skipped files, never a hung load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import naklar
from naklar._read.loaders import YAML_ALIAS_BOUND, load_yaml, yaml_alias_problem
from naklar.errors import NaklarWarning, SettingsFileError

yaml = pytest.importorskip("yaml", reason="YAML needs PyYAML (yaml extra)")

LOOP = "x: &a [*a]\n"


def bomb(levels: int) -> str:
    """Each level lists the previous one ten times: 10**levels strings from a few hundred bytes."""
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [
        f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]" for level in range(1, levels)
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(params=["libyaml", "python"])
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with libyaml's parser (where installed) and with PyYAML's own."""
    if request.param == "libyaml":
        if not getattr(yaml, "__with_libyaml__", False):
            pytest.skip("PyYAML is installed without libyaml")
    else:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    return str(request.param)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "conf.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.usefixtures("yaml_parser")
def test_load_yaml_alias_loop_refused(tmp_path: Path) -> None:
    path = write(tmp_path, LOOP)

    with pytest.raises(SettingsFileError) as caught:
        load_yaml(path)

    assert path in str(caught.value)
    assert "loop" in str(caught.value)
    assert "write the value out" in str(caught.value)


@pytest.mark.usefixtures("yaml_parser")
def test_load_yaml_alias_bomb_refused(tmp_path: Path) -> None:
    path = write(tmp_path, bomb(7))

    with pytest.raises(SettingsFileError) as caught:
        load_yaml(path)

    message = str(caught.value)
    assert path in message
    assert f"{YAML_ALIAS_BOUND:,}" in message
    # 10**7 strings, the lists holding them and the keys, written out
    assert re.search(r"to 12,345,6\d\d nodes", message)


@pytest.mark.usefixtures("yaml_parser")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &v [1, 2]\nb: *v\n", {"a": [1, 2], "b": [1, 2]}),
        (
            "base: &b {lr: 0.1}\nrun:\n  <<: *b\n  C: 1\n",
            {"base": {"lr": 0.1}, "run": {"lr": 0.1, "C": 1}},
        ),
        ("", None),
    ],
    ids=["alias", "merge_key", "empty"],
)
def test_load_yaml_aliases_within_bound_load(tmp_path: Path, text: str, expected: object) -> None:
    assert load_yaml(write(tmp_path, text)) == expected


def test_yaml_alias_problem_at_the_bound() -> None:
    # 4 levels of 10 names 11,111 nodes: within the bound; 6 levels 1,111,111: beyond it
    assert yaml_alias_problem(yaml.compose(bomb(4))) is None
    assert "alias bomb" in str(yaml_alias_problem(yaml.compose(bomb(6))))


@pytest.mark.parametrize("on_error", ["warn", "ignore"])
@pytest.mark.parametrize("text", [LOOP, bomb(7)], ids=["loop", "bomb"])
def test_load_tree_with_hostile_yaml_skips_that_file(
    tmp_path: Path, any_engine: sa.Engine, table_name: str, text: str, on_error: str
) -> None:
    root = tmp_path / "results"
    (root / "0").mkdir(parents=True)
    (root / "1").mkdir()
    (root / "0" / "conf.yaml").write_text(text)
    (root / "1" / "conf.yaml").write_text("C: 1\n")
    store = naklar.Store(any_engine, table_name=table_name)

    with pytest.warns(NaklarWarning) if on_error == "warn" else _no_warning():
        report = store.load(str(root), dict_file="conf.yaml", on_error=on_error)  # type: ignore[arg-type]

    assert report.loaded == 1
    assert [entry.path for entry in report.skipped] == [str(root / "0" / "conf.yaml")]
    assert "YAML alias" in report.skipped[0].reason
    assert store.select("C") == [(1,)]
    store.drop()


def _no_warning() -> object:
    import contextlib
    import warnings

    @contextlib.contextmanager
    def silent():  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("error", NaklarWarning)
            yield

    return silent()
