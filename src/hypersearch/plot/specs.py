"""Chart specifications: the one definition of every chart of a study.

Each function here turns a study's numbers into a JSON-ready ``dict`` that says everything a
chart shows: its series (positions on each axis, colours, sizes, hover texts), each axis (kind,
range, ticks and their labels, title), the colour bar, the note under the title (which trials
count, on which basis, how many outliers sit on the edge) and, when there is nothing to draw,
why. The dashboard and the HTML report send these dicts to ``static/charts.js``, which only
renders them; ``hypersearch.plot`` turns the same dicts into Plotly figures. So a notebook and
the dashboard always agree, and a rule changes in one place.

Positions are in each axis' own coordinate: log10 of the value on log axes, log2 on pow2 axes,
``-log10(1 - x)`` on log1m axes, the index on category axes, the value itself on linear ones.
The inputs are plain columns (numbers, states, values, curves, the analysis' compared values),
so the dashboard feeds them from its read-only queries and ``hypersearch.plot`` from a Study.

This module holds the history, learning-curve, compare and LR-finder charts; the analysis
charts (importance, parallel coordinates, slices, contour) live in ``plot.analysis_specs`` and
the shared colours, axes and colour bar in ``plot.spec_base``; all are importable from here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from hypersearch.direction import Direction
from hypersearch.plot.analysis_specs import CONTOUR_GRID as CONTOUR_GRID
from hypersearch.plot.analysis_specs import (
    MAX_PARCOORDS,
    analysis_specs,
    contour_spec,
    importance_spec,
    parcoords_spec,
    slices_spec,
)
from hypersearch.plot.shared import (
    NO_VALUE,
    axis_for,
    better,
    clamp,
    color_range,
    finite,
    format_number,
    robust_range,
    value_axis,
)
from hypersearch.plot.spec_base import (
    BEST_COLOR,
    STATE_COLORS,
    _empty,
    _positions,
    _r,
    _rn,
)
from hypersearch.plot.spec_base import PALETTE as PALETTE
from hypersearch.plot.spec_base import SELECTED as SELECTED
from hypersearch.plot.spec_base import axis_spec as axis_spec
from hypersearch.plot.spec_base import colorbar_spec as colorbar_spec

__all__ = [
    "BEST_COLOR",
    "HISTORY_POINTS",
    "MAX_PARCOORDS",
    "STATE_COLORS",
    "analysis_specs",
    "compare_spec",
    "contour_spec",
    "curves_spec",
    "history_spec",
    "importance_spec",
    "lr_finder_spec",
    "parcoords_spec",
    "slices_spec",
    "trial_curve_spec",
]

#: Markers per state in the history: above that, each bin's lowest and highest value is drawn.
HISTORY_POINTS = 2_000


# -- history and learning curves --------------------------------------------------------------
def _thin(points: list[tuple[int, float]]) -> tuple[list[tuple[int, float]], bool]:
    """At most ``HISTORY_POINTS`` markers: each bin's (by trial number) lowest and highest."""
    if len(points) <= HISTORY_POINTS:
        return points, False
    bins = HISTORY_POINTS // 2
    first, last = points[0][0], points[-1][0]
    width = (last - first + 1) / bins
    lo: list[int] = [-1] * bins
    hi: list[int] = [-1] * bins
    for i, (n, v) in enumerate(points):
        b = min(bins - 1, math.floor((n - first) / width))
        if lo[b] < 0 or v < points[lo[b]][1]:
            lo[b] = i
        if hi[b] < 0 or v > points[hi[b]][1]:
            hi[b] = i
    kept = sorted({i for pair in zip(lo, hi, strict=True) for i in pair if i >= 0})
    return [points[i] for i in kept], True


def history_spec(
    numbers: Sequence[int],
    states: Sequence[str],
    values: Sequence[Any],
    *,
    direction: str,
    metric: str,
    fail_reasons: Mapping[int, str] | None = None,
    objectives: int = 1,
    infeasible: Collection[int] = (),
) -> dict[str, Any]:
    """Each finished trial's value by number, the best so far over completed feasible trials,
    STOPPED trials at the value they stopped at, completed trials that break a constraint (the
    numbers in ``infeasible``) as crosses at their value and FAILED ones as crosses along the
    bottom (their hover text: the reason, from ``fail_reasons``). A study of several
    ``objectives`` has no single best: its history is the hypervolume chart's."""
    title = f"Optimisation history: {metric}"
    if objectives > 1:
        return _empty(
            "xy",
            title,
            f"This study has {objectives} objectives: its progress is the hypervolume of its "
            "Pareto front over time.",
        )
    reasons = fail_reasons or {}
    rows = sorted(zip(numbers, states, values, strict=True), key=lambda r: r[0])
    by_state: dict[str, list[tuple[int, float]]] = {"COMPLETE": [], "STOPPED": []}
    failed = [n for n, s, _ in rows if s == "FAILED"]
    broken = set(infeasible)
    best: float | None = None
    best_xy: list[tuple[int, float]] = []
    outside: list[tuple[int, float]] = []  # completed, but breaking a constraint
    for n, s, v in rows:
        x = finite(v)
        if x is None or s not in by_state:
            continue
        if s == "COMPLETE" and n in broken:
            outside.append((n, x))
            continue
        by_state[s].append((n, x))
        if s == "COMPLETE" and (best is None or better(x, best, direction)):
            best = x
            best_xy.append((n, x))
    shown = by_state["COMPLETE"] + by_state["STOPPED"] + outside
    if not shown:
        why = f" ({len(failed)} failed)" if failed else ""
        return _empty("xy", title, f"No finished trial with a value yet{why}.")
    if best is not None:
        best_xy.append((rows[-1][0], best))
    bounds = robust_range([v for _, v in shown])
    x_axis = value_axis("trial", [float(n) for n, _, _ in rows], integer=True)
    y_axis = value_axis(metric, [clamp(bounds, v) for _, v in shown])
    series: list[dict[str, Any]] = []
    legend: list[dict[str, str]] = []
    thinned = False
    for state, name in (("STOPPED", "stopped (value when stopped)"), ("COMPLETE", "completed")):
        pts, cut = _thin(by_state[state])
        thinned = thinned or cut
        if not pts:
            continue
        series.append(
            {
                "kind": "points",
                "name": name,
                "x": [n for n, _ in pts],
                "y": [_rn(clamp(bounds, v)) for _, v in pts],
                "color": STATE_COLORS[state],
                "size": 4 if cut else 7,
                "opacity": 0.75,
                "numbers": [n for n, _ in pts],
                "tips": [f"trial {n} ({state})\n{metric} {format_number(v)}" for n, v in pts],
            }
        )
        legend.append({"name": name, "color": STATE_COLORS[state]})
    if outside:
        series.append(
            {
                "kind": "points",
                "name": "infeasible",
                "symbol": "x",
                "x": [n for n, _ in outside],
                "y": [_rn(clamp(bounds, v)) for _, v in outside],
                "color": STATE_COLORS["FAILED"],
                "size": 7,
                "opacity": 0.9,
                "numbers": [n for n, _ in outside],
                "tips": [
                    f"trial {n} (COMPLETE, breaks a constraint)\n{metric} {format_number(v)}"
                    for n, v in outside
                ],
            }
        )
        legend.append({"name": "infeasible", "color": STATE_COLORS["FAILED"]})
    if best_xy:
        series.append(
            {
                "kind": "hv",
                "name": "best so far",
                "x": [n for n, _ in best_xy],
                "y": [_rn(clamp(bounds, v)) for _, v in best_xy],
                "color": BEST_COLOR,
                "width": 2,
            }
        )
        legend.append({"name": "best so far", "color": BEST_COLOR})
    if failed:
        bottom = y_axis.t0 + 0.02 * (y_axis.t1 - y_axis.t0)
        series.append(
            {
                "kind": "points",
                "name": "failed",
                "symbol": "x",
                "x": failed,
                "y": [_r(bottom)] * len(failed),
                "color": STATE_COLORS["FAILED"],
                "size": 7,
                "opacity": 0.9,
                "numbers": failed,
                "tips": [
                    f"trial {n} (FAILED)\n{(reasons.get(n) or 'no reason stored')[:120]}"
                    for n in failed
                ],
            }
        )
        legend.append({"name": "failed", "color": STATE_COLORS["FAILED"]})
    notes = [f"{len(shown)} trials with a value"]
    if outside:
        notes.append(f"{len(outside)} break a constraint (×, not in the best so far)")
    if failed:
        notes.append(f"{len(failed)} failed (× along the bottom)")
    if thinned:
        notes.append(f"above {HISTORY_POINTS} per state, each bin's lowest and highest is drawn")
    if bounds:
        notes.append(f"{bounds[2]} outlying value(s) drawn on the edge")
    return {
        "type": "xy",
        "title": title,
        "note": "; ".join(notes),
        "height": 320,
        "x": axis_spec(x_axis, "trial", count=10),
        "y": axis_spec(y_axis, metric),
        "series": series,
        "legend": legend,
    }


def curves_spec(
    curves: Mapping[int, Sequence[Sequence[Any]]],
    states: Mapping[int, str],
    values: Mapping[int, Any],
    *,
    direction: str,
    metric: str,
    max_curves: int | None = None,
    which: str = "",
) -> dict[str, Any]:
    """Each trial's reported values by step, coloured by its result (its value, else its last
    report) on the clipped colour scale; the best are drawn on top and listed first.

    ``curves`` maps a trial number to its ``[[step, value], ...]``; ``max_curves`` keeps the
    best; ``which`` says in the note which trials were picked (the dashboard's best, running
    and recent ones)."""
    title = f"Learning curves: {metric}"
    with_curves = {n: list(c) for n, c in curves.items() if c}
    if not with_curves:
        return _empty("xy", title, "No reported learning curve yet.")

    def result(n: int) -> float | None:
        v = finite(values.get(n))
        return v if v is not None else finite(with_curves[n][-1][1])

    loss = Direction(direction).to_loss
    ranked = sorted(with_curves, key=lambda n: (result(n) is None, loss(result(n) or 0.0), n))
    shown = ranked if max_curves is None else ranked[:max_curves]
    cr = color_range([result(n) for n in shown], direction)
    bounds = robust_range([finite(p[1]) for n in shown for p in with_curves[n]])
    steps = [float(p[0]) for n in shown for p in with_curves[n]]
    ys = [clamp(bounds, finite(p[1])) for n in shown for p in with_curves[n]]
    x_axis = value_axis("step", steps, integer=True)
    y_axis = value_axis(metric, ys)
    series = []
    for n in reversed(shown):  # worst first, so the best are drawn on top
        state = states.get(n, "?")
        pts = with_curves[n]
        series.append(
            {
                "kind": "line" if len(pts) > 1 else "points",
                "name": f"trial {n} ({state})",
                "number": n,
                "x": [p[0] for p in pts],
                "y": [_rn(clamp(bounds, finite(p[1]))) for p in pts],
                "color": cr.color(result(n)),
                "width": 1.3,
                "size": 6,
                "opacity": 0.8,
                "dash": state == "RUNNING",
                "tips": [f"step {p[0]}: {format_number(finite(p[1]))}" for p in pts],
            }
        )
    count = f"{len(shown)} curves"
    if len(shown) < len(ranked):
        count += f", the best of {len(ranked)}"
    notes = [count + (f" ({which})" if which else "")]
    if any(states.get(n) == "RUNNING" for n in shown):
        notes.append("dashed: running")
    if bounds:
        notes.append(f"{bounds[2]} outlying point(s) on the edge")
    return {
        "type": "xy",
        "title": title,
        "note": "; ".join(notes),
        "height": 320,
        "x": axis_spec(x_axis, "step", count=10),
        "y": axis_spec(y_axis, metric),
        "series": series,
        "colorbar": colorbar_spec(cr, "colour: each trial's result"),
        "highlight": SELECTED,
    }


def trial_curve_spec(curve: Sequence[Sequence[Any]], *, state: str, metric: str) -> dict[str, Any]:
    """One trial's learning curve (the trial page)."""
    title = f"Learning curve: {metric}"
    if not curve:
        return _empty("xy", title, "No reported values.")
    x_axis = value_axis("step", [float(p[0]) for p in curve], integer=True)
    y_axis = value_axis(metric, [finite(p[1]) for p in curve])
    return {
        "type": "xy",
        "title": title,
        "note": f"{len(curve)} reports",
        "height": 300,
        "x": axis_spec(x_axis, "step", count=10),
        "y": axis_spec(y_axis, metric),
        "series": [
            {
                "kind": "line" if len(curve) > 1 else "points",
                "name": state,
                "x": [p[0] for p in curve],
                "y": [_rn(finite(p[1])) for p in curve],
                "color": STATE_COLORS.get(state, STATE_COLORS["COMPLETE"]),
                "width": 2,
                "size": 7,
                "markers": 5 if len(curve) <= 60 else 0,
                "tips": [f"step {p[0]}: {format_number(finite(p[1]))}" for p in curve],
            }
        ],
    }


def compare_spec(
    curves: Sequence[tuple[int, Sequence[Sequence[Any]]]], *, metric: str
) -> dict[str, Any]:
    """The learning curves of 2 to 5 trials side by side, one colour each."""
    title = f"Compared trials: {metric}"
    if not any(c for _, c in curves):
        return _empty("xy", title, "None of these trials reported a learning curve.")
    steps = [float(p[0]) for _, c in curves for p in c]
    ys = [finite(p[1]) for _, c in curves for p in c]
    x_axis = value_axis("step", steps, integer=True)
    y_axis = value_axis(metric, ys)
    series = []
    for i, (n, c) in enumerate(curves):
        series.append(
            {
                "kind": "line" if len(c) > 1 else "points",
                "name": f"trial {n}",
                "number": n,
                "x": [p[0] for p in c],
                "y": [_rn(finite(p[1])) for p in c],
                "color": PALETTE[i % len(PALETTE)],
                "width": 2,
                "size": 7,
                "tips": [f"step {p[0]}: {format_number(finite(p[1]))}" for p in c],
            }
        )
    return {
        "type": "xy",
        "title": title,
        "note": "",
        "height": 340,
        "x": axis_spec(x_axis, "step", count=10),
        "y": axis_spec(y_axis, metric),
        "series": series,
        "legend": [{"name": s["name"], "color": s["color"]} for s in series],
        "palette": list(PALETTE),
    }


# -- the LR range test ------------------------------------------------------------------------
def lr_finder_spec(data: Mapping[str, Any]) -> dict[str, Any]:
    """Loss against learning rate on a log axis (smoothed; the raw loss per batch faint), the
    suggestion marked; ``data`` is an ``LRFinderResult.to_dict()``."""
    lrs = [finite(v) for v in data["lrs"]]
    losses = [finite(v) for v in data["losses"]]
    suggestion = finite(data.get("suggestion"))
    reason = str(data.get("reason") or "")
    head = f"suggested lr {format_number(suggestion)}" if suggestion else "no suggestion"
    raw = data.get("raw_losses")
    raw_ys = [finite(v) for v in raw] if isinstance(raw, Sequence) and len(raw) == len(lrs) else []
    x_axis = axis_for("learning rate", {"scale": "log"}, lrs)
    y_axis = value_axis("loss", losses)
    xs = _positions(x_axis)
    series: list[dict[str, Any]] = []
    if raw_ys:
        series.append(
            {
                "kind": "line",
                "name": "loss per batch",
                "x": xs,
                "y": [_rn(v) for v in raw_ys],
                "color": NO_VALUE,
                "width": 1,
                "opacity": 0.6,
            }
        )
    series.append(
        {
            "kind": "line",
            "name": "smoothed loss",
            "x": xs,
            "y": [_rn(v) for v in losses],
            "color": STATE_COLORS["COMPLETE"],
            "width": 2,
            "tips": [
                f"lr {format_number(a)}: loss {format_number(b)}"
                for a, b in zip(lrs, losses, strict=True)
            ],
        }
    )
    marks = []
    if suggestion:
        t = x_axis.transform(suggestion)
        if t is not None:
            marks.append(
                {
                    "x": _r(t),
                    "label": f"suggested {format_number(suggestion)}",
                    "color": BEST_COLOR,
                }
            )
    return {
        "type": "xy",
        "title": "LR range test",
        "note": f"{head}. {reason}" if reason else head,
        "height": 300,
        "x": axis_spec(x_axis, "learning rate", count=6),
        "y": axis_spec(y_axis, "loss"),
        "series": series,
        "vlines": marks,
        "legend": [{"name": s["name"], "color": s["color"]} for s in series],
    }
