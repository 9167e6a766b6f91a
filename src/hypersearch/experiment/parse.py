"""Metrics read from a script's own output with regular expressions (``parse:`` in a file).

A script that prints ``Test set: Average loss: 0.1234, Accuracy: 348/360 (97%)`` is tuned
unmodified with

    parse:
      regex: 'Average loss: (?P<loss>[0-9.]+), Accuracy: (?P<correct>\\d+)/(?P<total>\\d+)'
      metrics: {accuracy: correct / total}

Each named group that holds a number is a metric; ``metrics`` adds arithmetic over the groups
(numbers, group names, ``+ - * / // % **`` and parentheses; nothing else is evaluated).
``step`` names a group holding the step; without it, each line that yields the study's
metric is the next step, counted from 1 (epochs completed, for a line printed per epoch).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Expression", "OutputParser"]

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


@dataclass(frozen=True)
class Expression:
    """Arithmetic over named groups, checked when the file is read, evaluated per line."""

    text: str
    tree: ast.Expression = field(repr=False, compare=False)
    names: frozenset[str] = frozenset()

    @classmethod
    def compile(cls, text: str, known: Sequence[str]) -> Expression:
        """Parse ``text``; ``ValueError`` names what is not allowed or not a known group."""
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"{text!r} is not an arithmetic expression ({exc.msg})") from None
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                    raise ValueError(f"{text!r}: only numbers may appear, not {node.value!r}")
            elif isinstance(node, ast.BinOp | ast.UnaryOp) and type(node.op) not in (
                _BINARY if isinstance(node, ast.BinOp) else _UNARY
            ):
                raise ValueError(f"{text!r}: operator {type(node.op).__name__} is not allowed")
            elif not isinstance(
                node,
                ast.Expression | ast.BinOp | ast.UnaryOp | ast.Load | ast.operator | ast.unaryop,
            ):
                raise ValueError(
                    f"{text!r}: only numbers, group names, + - * / // % ** and parentheses "
                    f"are allowed (found {type(node).__name__})"
                )
        unknown = sorted(names - set(known))
        if unknown:
            raise ValueError(
                f"{text!r} uses {', '.join(unknown)}, which the regex does not name; its "
                f"named groups are {', '.join(known) or 'none'}"
            )
        return cls(text, tree, frozenset(names))

    def evaluate(self, values: Mapping[str, float]) -> float | None:
        """The value, or None when a group it needs is missing; x/0 is NaN."""
        if not self.names <= set(values):
            return None
        try:
            return float(_evaluate(self.tree.body, values))
        except (ZeroDivisionError, OverflowError, ValueError):
            return math.nan


def _evaluate(node: ast.expr, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # compile() allowed only numbers
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, values))
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        return _BINARY[type(node.op)](left, right)
    raise ValueError(type(node).__name__)  # unreachable: compile() checked the tree


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "")) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class OutputParser:
    """The ``parse:`` section: regular expressions with named groups, expressions over them,
    and optionally the group that holds the step."""

    patterns: tuple[re.Pattern[str], ...]
    expressions: dict[str, Expression] = field(default_factory=dict)
    step_group: str | None = None

    @property
    def groups(self) -> list[str]:
        """Every named group of every pattern, in order."""
        return list(dict.fromkeys(g for p in self.patterns for g in p.groupindex))

    @property
    def names(self) -> set[str]:
        """The metrics this parser can produce."""
        return (set(self.groups) - {self.step_group}) | set(self.expressions)

    def describe(self) -> str:
        return " or ".join(repr(p.pattern) for p in self.patterns)

    def parse(self, line: str) -> tuple[dict[str, Any], int | None] | None:
        """Metrics and step from one line of output, or None when no pattern matches."""
        found: dict[str, float] = {}
        matched = False
        for pattern in self.patterns:
            match = pattern.search(line)
            if match is None:
                continue
            matched = True
            for name, text in match.groupdict().items():
                value = _number(text) if text is not None else None
                if value is not None:
                    found[name] = value
        if not matched:
            return None
        step = None
        if self.step_group is not None and self.step_group in found:
            raw = found.pop(self.step_group)
            step = int(raw) if raw >= 0 and raw == int(raw) else None
        for name, expression in self.expressions.items():
            value = expression.evaluate(found)
            if value is not None:
                found[name] = value
        return found, step
