"""Text tables that fit the terminal they are printed on.

The rules, in order: numbers are written compactly (``format_number``) and never cut; columns
whose every cell is empty are left out; free text (notes, failure reasons) is cut at its end
with ``…``; the gap between columns narrows from two spaces to one; only then are whole
columns hidden, least important first, and the table says which. Written to a pipe or file
(no ``$COLUMNS``), nothing is hidden. The ``hypersearch`` command and the examples use this.

>>> cols = [Column("#", ("3", "5"), align="right", priority=0),
...         Column("lr", (format_number(0.0040512), format_number(3.4567e-6)), align="right")]
>>> print_table(fit_table(cols, width=80, title="digits"))
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, TextIO

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.text import Text

__all__ = ["Column", "FittedTable", "fit_table", "format_number", "print_table", "terminal_width"]

#: A column that may be cut never gets narrower than this (or its header), unless hidden.
MIN_TEXT_WIDTH = 8
_EMPTY = frozenset({"", "-"})
_HEADER_BREAKS = "_- /."


def format_number(value: Any, digits: int = 4) -> str:
    """``value`` rounded to ``digits`` significant digits (never truncated), as short as that
    allows: ``0.9844``, ``0.004051``, ``12.35``, ``12346``, ``3.46e-06``, ``1.23e+05``.

    Integers are written exactly, ``None`` as ``-``, text unchanged. Scientific notation is
    used below 1e-3 and from 1e5 on, with one digit less so it stays as narrow as the rest.
    """
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    x = float(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    size = abs(x)
    if 1e-3 <= size < 1e5:  # large ones as whole numbers: 12346, not 1.235e+04
        return f"{x:.{digits}g}" if size < 10 ** (digits - 1) else f"{x:.0f}"
    mantissa, exponent = f"{x:.{max(digits - 2, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


@dataclass(frozen=True, eq=False)  # compared by identity: two columns may look alike
class Column:
    """One column: its header (also the name ``--columns`` selects it by) and its cells.

    ``cut`` marks free text that may be cut at its end (with ``…``); other cells are never
    cut: the column is hidden instead. When the table is too wide, the column with the
    highest ``priority`` is hidden first (0: never). ``max_width`` caps text even when there
    is room; ``keep`` shows the column even when every cell is empty (``""`` or ``-``).
    """

    name: str
    cells: tuple[str, ...]
    align: Literal["left", "right"] = "left"
    _: KW_ONLY
    cut: bool = False
    priority: int = 10
    max_width: int | None = None
    keep: bool = False

    @property
    def empty(self) -> bool:
        return all(c.strip() in _EMPTY for c in self.cells)


@dataclass(frozen=True)
class FittedTable:
    """A table laid out for one width: the columns shown, their widths and the gap."""

    title: str
    columns: tuple[Column, ...]
    widths: tuple[int, ...]
    gap: int
    hidden: tuple[str, ...]
    width: int | None
    note: str = ""

    def lines(self) -> list[tuple[str, str]]:
        """``(kind, text)`` per line; kind is ``title``, ``header``, ``rule``, ``row`` or
        ``note``. No line is wider than ``width`` (unless the never-hidden columns are)."""
        out: list[tuple[str, str]] = []
        for line in _wrap(self.title, self.width):
            out.append(("title", line))
        sep = " " * self.gap
        headers = [_wrap_header(c.name, w) for c, w in zip(self.columns, self.widths, strict=True)]
        depth = max((len(h) for h in headers), default=0)
        for i in range(depth):
            cells = []
            for col, w, lines in zip(self.columns, self.widths, headers, strict=True):
                k = i - (depth - len(lines))  # headers sit on the bottom line
                cells.append(_pad(lines[k] if k >= 0 else "", w, col.align))
            out.append(("header", sep.join(cells).rstrip()))
        out.append(("rule", sep.join("─" * w for w in self.widths)))
        for r in range(len(self.columns[0].cells) if self.columns else 0):
            cells = [
                _pad(_cut(c.cells[r], w) if c.cut else c.cells[r], w, c.align)
                for c, w in zip(self.columns, self.widths, strict=True)
            ]
            out.append(("row", sep.join(cells).rstrip()))
        if self.note:
            out.extend(("note", line) for line in _wrap(self.note, self.width))
        return out

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines())


def fit_table(
    columns: Sequence[Column],
    width: int | None,
    *,
    title: str = "",
    hidden_hint: str = "widen the terminal to see them",
) -> FittedTable:
    """Lay ``columns`` out within ``width`` characters (``None``: no limit) by the rules in the
    module's docstring; columns hidden for width are named in a note under the table, followed
    by ``hidden_hint``."""
    shown = [c for c in columns if c.keep or not c.empty]
    hidden: list[Column] = []
    while True:
        laid = _layout(shown, width)
        if laid is not None or width is None:
            break
        victims = [c for c in shown if c.priority > 0]
        if not victims:  # only never-hidden columns left: print them as they are
            laid = _layout(shown, None)
            break
        top = max(c.priority for c in victims)
        victim = [c for c in victims if c.priority == top][-1]  # the rightmost of them
        shown.remove(victim)
        hidden.append(victim)
    widths, gap = laid if laid is not None else ((), 2)
    note = ""
    names = tuple(c.name for c in columns if c in hidden)  # in their order in the table
    if names:
        note = f"Not shown in {width} columns: {', '.join(names)}; {hidden_hint}."
    return FittedTable(title, tuple(shown), tuple(widths), gap, names, width, note)


def terminal_width(file: TextIO | None = None) -> int | None:
    """The width to fit tables to: ``$COLUMNS`` when set, else the terminal's width when
    ``file`` (default stdout) is a terminal, else ``None`` (a pipe or file: no limit)."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    out = file if file is not None else sys.stdout
    try:
        if out.isatty():
            return os.get_terminal_size(out.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        pass
    return None


def print_table(table: FittedTable, file: TextIO | None = None) -> None:
    """Print ``table``; on a terminal the header is bold and the rule dim (Rich decides, so
    ``NO_COLOR`` and pipes get plain text)."""
    console = Console(
        file=file if file is not None else sys.stdout,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=True,
    )
    styles = {"title": "italic", "header": "bold", "rule": "dim", "note": "dim"}
    for kind, line in table.lines():
        console.print(Text(line, style=styles.get(kind, "")), soft_wrap=True)


# -- layout -------------------------------------------------------------------------------------
def _header_min(name: str) -> int:
    return max((cell_len(p) for p in _header_pieces(name)), default=0)


def _header_pieces(name: str) -> list[str]:
    """``"weight_decay"`` -> ``["weight_", "decay"]``: places a header may wrap after."""
    pieces, current = [], ""
    for ch in name:
        current += ch
        if ch in _HEADER_BREAKS:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _wrap_header(name: str, width: int) -> list[str]:
    lines: list[str] = []
    for piece in _header_pieces(name):
        if lines and cell_len(lines[-1] + piece.rstrip()) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    return [line.strip() for line in lines] or [""]


def _natural(col: Column) -> tuple[int, int]:
    """(widest the column needs, narrowest it may get)."""
    head = _header_min(col.name)
    widest = max([head, *(cell_len(c) for c in col.cells)])
    if not col.cut:
        return widest, widest
    if col.max_width is not None:
        widest = min(widest, max(col.max_width, head))
    return widest, max(head, min(widest, MIN_TEXT_WIDTH))


def _layout(cols: Sequence[Column], width: int | None) -> tuple[list[int], int] | None:
    """Widths and gap that fit ``width``, or ``None`` when these columns cannot fit."""
    sizes = [_natural(c) for c in cols]
    wide = [w for w, _ in sizes]
    if width is None:
        return wide, 2
    for gap in (2, 1):
        spare = width - gap * max(len(cols) - 1, 0)
        if sum(wide) <= spare:
            return wide, gap
        narrow = [n for _, n in sizes]
        if sum(narrow) <= spare:
            extra = spare - sum(narrow)
            out = list(narrow)
            for i, (w, n) in enumerate(sizes):  # text columns grow back, left to right
                grow = min(w - n, extra)
                out[i] += grow
                extra -= grow
            return out, gap
    return None


# -- cells --------------------------------------------------------------------------------------
def _cut(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return set_cell_size(text, width - 1).rstrip() + "…"


def _pad(text: str, width: int, align: str) -> str:
    room = max(width - cell_len(text), 0)
    return " " * room + text if align == "right" else text + " " * room


def _wrap(text: str, width: int | None) -> list[str]:
    """Words of ``text`` in lines of at most ``width`` cells (a longer word is cut)."""
    if not text:
        return []
    if width is None or cell_len(text) <= width:
        return [text]
    lines: list[str] = []
    for word in text.split(" "):
        if lines and cell_len(lines[-1]) + 1 + cell_len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(_cut(word, width))
    return lines
