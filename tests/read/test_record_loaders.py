"""The loaders chosen by extension besides pickle and JSON: TOML, JSON lines, metrics CSV, YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from naklar._read.loaders import (
    last_json_line,
    load_config_yaml,
    load_csv_last,
    load_json,
    load_json_lines,
    load_toml,
    loader_for,
    parse_number,
)
from naklar.errors import NaklarError, SettingsFileError


@pytest.mark.parametrize(
    ("name", "loader"),
    [
        ("conf.toml", load_toml),
        ("result.jsonl", load_json_lines),
        ("metrics.csv", load_csv_last),
        ("conf.yaml", load_config_yaml),
        (".hydra/config.yml", load_config_yaml),
        ("result.json", load_json),
    ],
)
def test_loader_for_picks_by_extension(name: str, loader: object) -> None:
    assert loader_for(name) is loader


def test_loader_for_unknown_extension_names_load_func() -> None:
    with pytest.raises(NaklarError, match=r"'conf\.ini'.*\.toml.*load_func="):
        loader_for("conf.ini")


def test_load_toml_reads_nested_tables(tmp_path: Path) -> None:
    path = tmp_path / "conf.toml"
    path.write_text('seed = 1\n[model]\nkernel = "rbf"\nC = 0.5\n')

    assert load_toml(str(path)) == {"seed": 1, "model": {"kernel": "rbf", "C": 0.5}}


def test_load_json_lines_gives_the_last_record(tmp_path: Path) -> None:
    path = tmp_path / "result.jsonl"
    path.write_text("".join(json.dumps({"step": step}) + "\n" for step in range(5)))

    assert load_json_lines(str(path)) == {"step": 4}


def test_load_json_lines_passes_over_a_half_written_last_line(tmp_path: Path) -> None:
    path = tmp_path / "result.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"ste')

    assert load_json_lines(str(path)) == {"step": 2}


def test_load_json_lines_of_an_empty_file_is_a_skip_saying_why(tmp_path: Path) -> None:
    path = tmp_path / "result.jsonl"
    path.write_text("")

    with pytest.raises(SettingsFileError, match="no complete JSON line"):
        load_json_lines(str(path))


@pytest.mark.parametrize("lines", [1, 2, 300, 5000])
def test_last_json_line_reads_lines_longer_and_shorter_than_its_block(
    tmp_path: Path, lines: int
) -> None:
    path = tmp_path / "result.json"
    records = [{"step": step, "pad": "x" * (step % 97)} for step in range(lines)]
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n\n")

    assert last_json_line(str(path)) == records[-1]


def test_last_json_line_reads_one_line_larger_than_its_block(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    big = {"history": list(range(50_000))}
    path.write_text(json.dumps({"step": 0}) + "\n" + json.dumps(big) + "\n")

    assert last_json_line(str(path)) == big


def test_load_json_reads_a_json_lines_file_named_json_as_its_last_record(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.25}\n')

    assert load_json(str(path)) == {"step": 2, "loss": 0.25}


def test_load_csv_last_keeps_the_last_non_empty_value_of_each_column(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train_loss,val_acc\n0,0,0.5,\n0,1,0.25,\n0,1,,0.75\n1,2,0.125,\n")

    assert load_csv_last(str(path)) == {"epoch": 1, "step": 2, "train_loss": 0.125, "val_acc": 0.75}


def test_load_csv_last_leaves_out_a_column_never_filled(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("step,loss,note\n0,0.5,\n1,0.25,\n")

    assert load_csv_last(str(path)) == {"step": 1, "loss": 0.25}


def test_load_csv_last_of_an_empty_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("")

    assert load_csv_last(str(path)) == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [("2", 2), ("-3", -3), ("0.5", 0.5), ("1e-3", 0.001), ("sgd", "sgd"), ("1_000", "1_000")],
)
def test_parse_number_reads_numbers_and_keeps_text(text: str, value: object) -> None:
    assert parse_number(text) == value


def test_load_config_yaml_reads_what_safe_load_reads(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('model:\n  name: "quoted"\n  depth: 2  # a comment\nlr: 1.0e-3\n')

    assert load_config_yaml(str(path)) == yaml.safe_load(path.read_text())
