"""Chart specifications of multi-objective studies: the Pareto front and hypervolume over time.

Like ``specs``, each function returns the JSON-ready description that the dashboard, the
report and ``hypersearch.plot`` all draw. The maths is ``hypersearch.pareto``'s: objective
values become losses (maximised objectives negated), the front is ``pareto_mask`` of the
feasible trials, the hypervolume is ``hypervolume`` against ``default_reference``.

The inputs are plain columns of the COMPLETE trials with every objective's value: their
numbers, values (study order, raw), whether each satisfies the constraints and, for the hover
texts, by how much each constraint is violated.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from hypersearch import pareto
from hypersearch.direction import Direction
from hypersearch.plot.shared import finite, format_number, value_axis
from hypersearch.plot.specs import BEST_COLOR, STATE_COLORS, axis_spec
from hypersearch.trial import TrialRecord, TrialState

__all__ = [
    "MAX_HYPERVOLUME_POINTS",
    "Columns",
    "Objectives",
    "columns_of",
    "hypervolume_spec",
    "pareto_spec",
]

#: ``(name, direction)`` of each objective, in the study's order.
Objectives = Sequence[tuple[str, str]]
#: The hypervolume is computed after at most this many trials (every change of the front when
#: there are fewer changes; evenly spaced trial numbers otherwise), so a big study stays fast.
MAX_HYPERVOLUME_POINTS = 200
#: Numbers, objective values, feasibility and constraint violations of the COMPLETE trials.
Columns = tuple[list[int], list[Any], list[bool], list[Any]]
DOMINATED = "#5b8fd9"


def columns_of(trials: Sequence[TrialRecord]) -> Columns:
    """The inputs of ``pareto_spec`` and ``hypervolume_spec`` from trial records: the COMPLETE
    trials with every objective's value."""
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.values is not None]
    return (
        [t.number for t in done],
        [t.values for t in done],
        [t.feasible for t in done],
        [t.constraint_violations for t in done],
    )


INFEASIBLE = "#c62828"


def _rounded(v: float) -> float:
    return float(f"{v:.6g}")


def _columns(
    numbers: Sequence[int],
    values: Sequence[Sequence[float] | None],
    feasible: Sequence[bool],
    m: int,
) -> tuple[list[int], list[tuple[float, ...]], list[bool]]:
    """The trials with a finite value for each of the ``m`` objectives."""
    keep_n: list[int] = []
    keep_v: list[tuple[float, ...]] = []
    keep_f: list[bool] = []
    for n, vs, ok in zip(numbers, values, feasible, strict=True):
        if vs is None or len(vs) != m:
            continue
        xs = [finite(v) for v in vs]
        if any(x is None for x in xs):
            continue
        keep_n.append(int(n))
        keep_v.append(tuple(float(x) for x in xs))  # type: ignore[arg-type]
        keep_f.append(bool(ok))
    return keep_n, keep_v, keep_f


def _title(objective: tuple[str, str]) -> str:
    name, direction = objective
    return f"{name} ({'higher' if direction == 'maximize' else 'lower'} is better)"


def _tip(
    n: int,
    vs: tuple[float, ...],
    objectives: Objectives,
    violation: Sequence[float] | None,
    where: str,
) -> str:
    lines = [f"trial {n} ({where})"]
    lines += [f"{name} = {format_number(v)}" for (name, _), v in zip(objectives, vs, strict=True)]
    if violation:
        bad = [format_number(v) for v in violation if v > 0]
        if bad:
            lines.append("violates constraint(s) by " + ", ".join(bad))
    return "\n".join(lines)


def _staircase(front: list[tuple[float, float]], directions: Sequence[str]) -> list[list[float]]:
    """The front as the boundary of what it dominates: consecutive points (by the first
    objective) joined through the corner that is worse than both in each objective."""
    pts = sorted(front)
    if not pts:
        return [[], []]

    def worse(a: float, b: float, direction: str) -> float:
        return b if Direction(direction).better(a, b) else a

    xs, ys = [pts[0][0]], [pts[0][1]]
    for (x0, y0), (x1, y1) in pairwise(pts):
        xs += [worse(x0, x1, directions[0]), x1]
        ys += [worse(y0, y1, directions[1]), y1]
    return [xs, ys]


def _panel(
    i: int,
    j: int,
    objectives: Objectives,
    rows: list[tuple[int, tuple[float, ...], bool, bool, str]],
    staircase: bool,
) -> dict[str, Any]:
    """One pair of objectives: dominated, infeasible and front trials, the front on top."""
    x_axis = value_axis(objectives[i][0], [r[1][i] for r in rows])
    y_axis = value_axis(objectives[j][0], [r[1][j] for r in rows])
    groups = (
        ("infeasible", [r for r in rows if not r[2]], INFEASIBLE, 7, "x", 0.9),
        ("dominated", [r for r in rows if r[2] and not r[3]], DOMINATED, 6, None, 0.55),
        ("Pareto front", [r for r in rows if r[3]], BEST_COLOR, 9, None, 1.0),
    )
    series: list[dict[str, Any]] = []
    legend: list[dict[str, str]] = []
    for name, group, color, size, symbol, opacity in groups:
        if not group:
            continue
        if name == "Pareto front" and staircase:
            line = _staircase(
                [(r[1][i], r[1][j]) for r in group], [objectives[i][1], objectives[j][1]]
            )
            series.append(
                {
                    "kind": "line",
                    "name": "front",
                    "x": [_rounded(v) for v in line[0]],
                    "y": [_rounded(v) for v in line[1]],
                    "color": BEST_COLOR,
                    "width": 1.5,
                    "opacity": 0.8,
                }
            )
        s: dict[str, Any] = {
            "kind": "points",
            "name": name,
            "x": [_rounded(r[1][i]) for r in group],
            "y": [_rounded(r[1][j]) for r in group],
            "color": color,
            "size": size,
            "opacity": opacity,
            "numbers": [r[0] for r in group],
            "tips": [r[4] for r in group],
        }
        if symbol:
            s["symbol"] = symbol
        series.append(s)
        legend.append({"name": name, "color": color})
    return {
        "type": "xy",
        "title": f"{objectives[i][0]} and {objectives[j][0]}",
        "note": "",
        "height": 320 if staircase else 260,
        "x": axis_spec(x_axis, _title(objectives[i])),
        "y": axis_spec(y_axis, _title(objectives[j])),
        "series": series,
        "legend": legend,
    }


def pareto_spec(
    numbers: Sequence[int],
    values: Sequence[Sequence[float] | None],
    feasible: Sequence[bool],
    *,
    objectives: Objectives,
    violations: Sequence[Sequence[float] | None] | None = None,
) -> dict[str, Any]:
    """The trade-off between the objectives: every completed trial by its objective values,
    the Pareto front of the feasible ones highlighted (joined as the boundary of what it
    dominates, for two objectives), infeasible trials as red crosses. Two objectives give one
    chart (``type: "xy"``); three or more one panel per pair (``type: "matrix"``), the front
    being the front in all objectives."""
    m = len(objectives)
    title = "Pareto front"
    if m < 2:
        return {
            "type": "xy",
            "title": title,
            "note": "",
            "empty": "A Pareto front needs two or more objectives; this study has one.",
        }
    by_number = dict(zip(numbers, violations or [None] * len(numbers), strict=True))
    ns, vs, ok = _columns(numbers, values, feasible, m)
    if not ns:
        return {
            "type": "xy" if m == 2 else "matrix",
            "title": title,
            "note": "",
            "empty": "No completed trial with every objective's value yet.",
        }
    directions = [d for _, d in objectives]
    fs = [i for i, f in enumerate(ok) if f]
    on_front = set()
    if fs:
        mask = pareto.pareto_mask(pareto.as_losses([vs[i] for i in fs], directions))
        on_front = {fs[k] for k, kept in enumerate(mask) if kept}
    rows = []
    for k, (n, v, f) in enumerate(zip(ns, vs, ok, strict=True)):
        where = "Pareto front" if k in on_front else "dominated" if f else "infeasible"
        rows.append((n, v, f, k in on_front, _tip(n, v, objectives, by_number.get(n), where)))
    n_bad = len(ns) - len(fs)
    note = f"{len(on_front)} of {len(ns)} completed trials on the Pareto front"
    if n_bad:
        note += f"; {n_bad} infeasible (×), not on the front"
    if not fs:
        note += "; no feasible trial yet"
    if m == 2:
        return {**_panel(0, 1, objectives, rows, staircase=True), "title": title, "note": note}
    panels = [
        _panel(i, j, objectives, rows, staircase=False) for i in range(m) for j in range(i + 1, m)
    ]
    return {
        "type": "matrix",
        "title": title,
        "note": note + "; one panel per pair of objectives",
        "panels": panels,
    }


def hypervolume_spec(
    numbers: Sequence[int],
    values: Sequence[Sequence[float] | None],
    feasible: Sequence[bool],
    *,
    objectives: Objectives,
) -> dict[str, Any]:
    """The hypervolume of the feasible Pareto front after each trial (by trial number): how
    much of the objective space the front dominates, up to a fixed reference point (the worst
    feasible value of each objective plus 10% of its range), so it only ever grows."""
    m = len(objectives)
    title = "Hypervolume over time"
    if m < 2:
        return {
            "type": "xy",
            "title": title,
            "note": "",
            "empty": "Hypervolume needs two or more objectives; this study has one.",
        }
    ns, vs, ok = _columns(numbers, values, feasible, m)
    order = sorted((n, v) for n, v, f in zip(ns, vs, ok, strict=True) if f)
    if not order:
        return {
            "type": "xy",
            "title": title,
            "note": "",
            "empty": "No feasible completed trial with every objective's value yet.",
        }
    directions = [d for _, d in objectives]
    losses = pareto.as_losses([v for _, v in order], directions)
    reference = pareto.default_reference(losses)
    # the front after each trial, kept up to date one trial at a time; the trials after which
    # it changed (a trial no earlier one dominates or equals)
    fronts: list[np.ndarray] = []
    changes: list[int] = []
    front = losses[:0]
    for k, point in enumerate(losses):
        if not len(front) or not np.any(np.all(front <= point, axis=1)):
            dominated = np.all(point <= front, axis=1) & np.any(point < front, axis=1)
            front = np.vstack([front[~dominated], point])
            changes.append(k)
        fronts.append(front)
    # at most MAX_HYPERVOLUME_POINTS hypervolumes, fewer for a huge front (each costs about
    # its size squared): evenly spaced trials then, and the last one
    budget = max(10, min(MAX_HYPERVOLUME_POINTS, 4_000_000 // max(1, len(front)) ** 2))
    if len(changes) > budget:
        step = len(losses) / budget
        changes = sorted({int(i * step) for i in range(budget)} | {len(losses) - 1})
    xs = [order[k][0] for k in changes]
    ys = [pareto.hypervolume(fronts[k], reference) for k in changes]
    line_x, line_y = [*xs, max(int(n) for n in numbers)], [*ys, ys[-1]]
    ref_raw = [Direction(d).from_loss(r) for r, d in zip(reference, directions, strict=True)]
    ref_text = ", ".join(
        f"{name} {format_number(float(r))}"
        for (name, _), r in zip(objectives, ref_raw, strict=True)
    )
    x_axis = value_axis("trial", [float(x) for x in line_x], integer=True)
    y_axis = value_axis("hypervolume", ys)
    return {
        "type": "xy",
        "title": title,
        "note": (
            f"Hypervolume of the feasible Pareto front after each trial ({len(order)} feasible "
            f"completed trials), up to the reference point ({ref_text}): the worst feasible "
            "value of each objective plus 10% of its range"
        ),
        "height": 300,
        "x": axis_spec(x_axis, "trial", count=10),
        "y": axis_spec(y_axis, "hypervolume"),
        "series": [
            {
                "kind": "hv",
                "name": "hypervolume",
                "x": line_x,
                "y": [_rounded(v) for v in line_y],
                "color": BEST_COLOR,
                "width": 2,
            },
            {
                "kind": "points",
                "name": "the front grew",
                "x": xs,
                "y": [_rounded(v) for v in ys],
                "color": STATE_COLORS["COMPLETE"],
                "size": 6,
                "opacity": 0.9,
                "numbers": xs,
                "tips": [
                    f"after trial {x}\nhypervolume {format_number(y)}"
                    for x, y in zip(xs, ys, strict=True)
                ],
            },
        ],
        "legend": [
            {"name": "hypervolume", "color": BEST_COLOR},
            {"name": "the front grew", "color": STATE_COLORS["COMPLETE"]},
        ],
    }
