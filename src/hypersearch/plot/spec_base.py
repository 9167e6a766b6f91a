"""What every chart specification shares: the state and highlight colours, positions rounded
for JSON, an axis and a colour bar as charts draw them, and the "nothing to draw" spec."""

from __future__ import annotations

from typing import Any

from hypersearch.direction import Direction
from hypersearch.plot.shared import VIRIDIS, Axis, ColorRange, format_number

STATE_COLORS = {
    "COMPLETE": "#1f77b4",
    "STOPPED": "#e07b00",
    "FAILED": "#c62828",
    "RUNNING": "#2463eb",
    "WAITING": "#6e7781",
}
BEST_COLOR = "#1a7f37"
SELECTED = {"color": "#d62728", "width": 3}  # a selected trial's curve (dashboard and report)
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")  # compared trials, in order


def _r(v: float) -> float:
    """A position rounded to 6 significant digits (a pixel is far coarser; JSON stays small)."""
    return float(f"{v:.6g}")


def _rn(v: float | None) -> float | None:
    return None if v is None else _r(v)


def axis_spec(axis: Axis, title: str | None = None, *, count: int = 5) -> dict[str, Any]:
    """An axis as charts draw it: kind, range and ticks in its own coordinate, and its title."""
    if title is None:
        scaled = axis.kind not in ("linear", "category")
        title = f"{axis.name} ({axis.kind} scale)" if scaled else axis.name
    out: dict[str, Any] = {
        "title": title,
        "kind": axis.kind,
        "range": [_r(axis.t0), _r(axis.t1)],
        "ticks": [[_r(t), text] for t, text in axis.ticks(count)],
    }
    if axis.kind == "category":
        out["categories"] = list(axis.categories)
    return out


def colorbar_spec(cr: ColorRange, title: str) -> dict[str, Any]:
    """The colour legend: worst to best, the numbers at each end, whether the range is clipped."""
    worst, best = (cr.hi, cr.lo) if cr.direction == Direction.MINIMIZE else (cr.lo, cr.hi)
    return {
        "title": title + (" (low is good)" if cr.direction == Direction.MINIMIZE else ""),
        "colors": list(VIRIDIS),
        "worst": format_number(worst),
        "best": format_number(best),
        "lo": _r(cr.lo),
        "hi": _r(cr.hi),
        "direction": cr.direction,
        "clipped": cr.clipped,
    }


def _empty(kind: str, title: str, why: str) -> dict[str, Any]:
    return {"type": kind, "title": title, "note": "", "empty": why}


def _positions(axis: Axis, *, jitter: float = 0.0) -> list[float | None]:
    """Each value's position on its axis; categories spread across their band by ``jitter``."""
    out: list[float | None] = []
    for i, v in enumerate(axis.values):
        t = axis.transform(v)
        if t is not None and jitter:
            t += ((i * 0.6180339887) % 1 - 0.5) * jitter
        out.append(_rn(t))
    return out
