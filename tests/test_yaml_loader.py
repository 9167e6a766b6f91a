"""The safe YAML loader: duplicate keys rejected, 1e-3 is a float, line numbers kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypersearch.exceptions import HypersearchError
from hypersearch.yaml_loader import ConfigError, load_yaml, load_yaml_file


def test_scientific_notation_without_a_dot_is_a_float() -> None:
    doc = load_yaml("a: 1e-3\nb: 5E+2\nc: -2.5e-4\nd: 1.0\ne: .5\nf: 10\ng: 1_000\n")
    assert doc.data == {
        "a": 0.001,
        "b": 500.0,
        "c": -0.00025,
        "d": 1.0,
        "e": 0.5,
        "f": 10,
        "g": 1000,
    }
    assert isinstance(doc.data["a"], float) and isinstance(doc.data["f"], int)


def test_only_true_and_false_are_booleans() -> None:
    doc = load_yaml("flags: [on, off, yes, no, y, n]\nt: true\nf: False\n")
    assert doc.data == {"flags": ["on", "off", "yes", "no", "y", "n"], "t": True, "f": False}


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("space:\n  lr: 1\n  wd: 2\n  lr: 3\n", source="exp.yaml")
    err = info.value
    assert err.line == 4 and err.source == "exp.yaml"
    assert "duplicate key 'lr'" in str(err) and "line 2" in str(err)
    assert str(err).startswith("exp.yaml:4: ")
    assert isinstance(err, ValueError) and isinstance(err, HypersearchError)


def test_line_numbers_of_nested_keys_and_items() -> None:
    doc = load_yaml(
        "# comment\nname: x\nspace:\n  lr:\n    low: 1\n    high: 2\nlist:\n  - a\n  - b\n"
    )
    assert doc.line(("name",)) == 2
    assert doc.line(("space", "lr", "high")) == 6
    assert doc.line(("list", 1)) == 9
    assert doc.line(("space", "lr", "missing")) == 4  # nearest ancestor


def test_syntax_errors_carry_a_line() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n", source="f.yaml")
    assert info.value.line is not None and info.value.line >= 2
    assert "invalid YAML" in str(info.value)


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(ConfigError, match="invalid"):
        load_yaml("a: !!python/object/apply:os.system ['echo hi']\n")


def test_non_scalar_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="scalar"):
        load_yaml("? [a, b]\n: 1\n")


def test_merge_keys_and_empty_documents() -> None:
    assert load_yaml("").data is None
    doc = load_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert doc.data["other"] == {"x": 1, "y": 2}


def test_files(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("lr: 3e-4\n")
    assert load_yaml_file(path).data == {"lr": 3e-4}
    with pytest.raises(ConfigError, match="cannot read"):
        load_yaml_file(tmp_path / "missing.yaml")
