"""The analysis charts' specifications: parameter importance, parallel coordinates, slices
and the contour, built from one ``Compared`` set of values (see ``hypersearch.plot.specs``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersearch.plot.shared import (
    Axis,
    Compared,
    axis_for,
    clamp,
    color_range,
    format_number,
    label,
    ranked_rows,
    robust_range,
    used_params,
    value_axis,
)
from hypersearch.plot.spec_base import (
    _empty,
    _positions,
    _r,
    _rn,
    axis_spec,
    colorbar_spec,
)

MAX_PARCOORDS = 1_000  # more lines are unreadable
CONTOUR_GRID = 40


def importance_spec(compared: Compared) -> dict[str, Any]:
    """Each parameter's fANOVA main-effect share on the compared values, largest first."""
    title = "Hyperparameter importance"
    imp = dict(compared.importance)
    if not imp:
        return _empty(
            "bars",
            title,
            f"Needs at least 20 trials with a value on one basis "
            f"(has {len(compared.values)}: {compared.basis.label}).",
        )
    note = (
        "Share of the variance each parameter explains alone (fANOVA main effect), "
        f"from {compared.basis.label}"
    )
    if len(compared.values) < compared.basis.n_trials:
        note += f" (a sample of {len(compared.values)})"
    top = max(0.05, min(1.0, max(imp.values()) * 1.15))
    axis = Axis("main-effect share", "linear", (), (), 0.0, top)
    return {
        "type": "bars",
        "title": title,
        "note": note + ".",
        "labels": list(imp),
        "values": [float(v) for v in imp.values()],
        "texts": [f"{v:.2f}" for v in imp.values()],
        "x": axis_spec(axis, "main-effect share"),
    }


def _rows(compared: Compared, direction: str) -> list[tuple[int, float, Mapping[str, Any]]]:
    return [r for r in ranked_rows(compared, direction) if math.isfinite(r[1])]


def _texts(values: Sequence[Any]) -> list[str]:
    return [label(v) or "" for v in values]


def parcoords_spec(
    compared: Compared,
    definitions: Mapping[str, Any],
    *,
    direction: str,
    metric: str,
    params: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One line per compared trial (the best 1,000) across its parameters and its value,
    coloured by that value; each axis in its parameter's units on its own scale."""
    title = "Parallel coordinates"
    rows = _rows(compared, direction)
    names = list(params) if params is not None else used_params(definitions, rows)
    if len(rows) < 2 or not names:
        return _empty("parcoords", title, "Needs two trials with a value and parameters.")
    shown = rows[:MAX_PARCOORDS]
    lead = (
        f"The best {len(shown)} of {len(rows)} trials"
        if len(rows) > len(shown)
        else f"{len(shown)} trials"
    )
    dims = []
    for name in names:
        axis = axis_for(name, definitions.get(name), [r[2].get(name) for r in shown])
        dims.append({**axis_spec(axis, name), "name": name, "values": _positions(axis)})
    values = [r[1] for r in shown]
    value_label = compared.value_label(metric)
    v_axis = value_axis(value_label, values)
    dims.append({**axis_spec(v_axis, value_label), "name": value_label, "values": values})
    cr = color_range(values, direction)
    return {
        "type": "parcoords",
        "title": title,
        "note": f"{lead}: {compared.basis.label}",
        "height": 380,
        "dims": dims,
        "colors": [cr.color(v) for v in values],
        "numbers": [r[0] for r in shown],
        "tips": [f"trial {r[0]}: {format_number(r[1])}" for r in shown],
        "colorbar": colorbar_spec(cr, f"colour: {value_label}"),
    }


def slices_spec(
    compared: Compared,
    definitions: Mapping[str, Any],
    *,
    direction: str,
    metric: str,
    params: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The compared value against each parameter, one panel each (in the parameter's units on
    its own scale, categories spread across their band), coloured by value. The panels share
    the trials, their values (y) and colours; each has its own x."""
    title = "Slices"
    rows = _rows(compared, direction)
    names = list(params) if params is not None else used_params(definitions, rows)
    if not rows or not names:
        return _empty("slices", title, "Needs trials with a value and parameters.")
    values = [r[1] for r in rows]
    bounds = robust_range(values)
    value_label = compared.value_label(metric)
    y_axis = value_axis(value_label, [clamp(bounds, v) for v in values])
    cr = color_range(values, direction)
    panels = []
    for name in names:
        column = [r[2].get(name) for r in rows]
        axis = axis_for(name, definitions.get(name), column)
        jitter = 0.5 if axis.kind == "category" else 0.0
        panels.append(
            {
                "name": name,
                "x": axis_spec(axis),
                "values": _positions(axis, jitter=jitter),
                "texts": _texts(column),
            }
        )
    note = compared.basis.label
    if bounds:
        note += f"; {bounds[2]} outlying value(s) drawn on the edge"
    return {
        "type": "slices",
        "title": title,
        "note": note,
        "height": 230,
        "y": axis_spec(y_axis, value_label),
        "values": [_rn(clamp(bounds, v)) for v in values],
        "value_texts": [format_number(v) for v in values],
        "numbers": [r[0] for r in rows],
        "colors": [cr.color(v) for v in values],
        "size": 4 if len(rows) > 2000 else 7,
        "panels": panels,
        "colorbar": colorbar_spec(cr, f"colour: {value_label}"),
    }


def _smoothed(fx: np.ndarray, fy: np.ndarray, z: np.ndarray) -> list[list[float | None]]:
    """A Gaussian-kernel mean of ``z`` on a CONTOUR_GRID square grid in axis fractions (row 0
    at the bottom), blank where the weights of the trials near a cell sum below 0.05."""
    grid = CONTOUR_GRID
    h = max(0.06, 0.35 * max(len(z), 1) ** (-1 / 6))
    centres = (np.arange(grid) + 0.5) / grid
    dx2 = ((fx[None, :] - centres[:, None]) / h) ** 2  # (grid, n)
    dy2 = ((fy[None, :] - centres[:, None]) / h) ** 2
    out: list[list[float | None]] = []
    for gy in range(grid):
        d2 = dx2 + dy2[gy][None, :]
        w = np.where(d2 > 9, 0.0, np.exp(-0.5 * d2))
        wsum = w.sum(axis=1)
        zsum = w @ z
        out.append(
            [float(zs / ws) if ws >= 0.05 else None for zs, ws in zip(zsum, wsum, strict=True)]
        )
    return out


def contour_spec(
    compared: Compared,
    definitions: Mapping[str, Any],
    *,
    direction: str,
    metric: str,
    x: str | None = None,
    y: str | None = None,
) -> dict[str, Any]:
    """The compared value over two parameters (default: the two most important): a kernel-
    smoothed mean of the clipped values on a 40x40 grid, blank where no trial is near, with
    the trials on top. ``cells`` holds each cell's colour band ('0'..'9', '.' blank), row by
    row from the bottom; ``z`` the smoothed values; a point's hover text is its number, both
    parameters (``x_texts``, ``y_texts``) and its value."""
    title = "Contour"
    rows = _rows(compared, direction)
    names = used_params(definitions, rows)
    if len(rows) < 3 or len(names) < 2:
        return _empty("contour", title, "Needs three trials with a value and two parameters.")
    imp = compared.importance
    ranked = sorted(names, key=lambda p: -imp.get(p, 0.0))
    px = x if x is not None else next(p for p in ranked if p != y)
    py = y if y is not None else next(p for p in ranked if p != px)
    sub = [r for r in rows if r[2].get(px) is not None and r[2].get(py) is not None]
    values = [r[1] for r in sub]
    cr = color_range(values, direction)
    ax = axis_for(px, definitions.get(px), [r[2][px] for r in sub])
    ay = axis_for(py, definitions.get(py), [r[2][py] for r in sub])
    keep = [
        (fx, fy, max(cr.lo, min(cr.hi, v)))
        for fx, fy, v in zip(
            map(ax.fraction, ax.values), map(ay.fraction, ay.values), values, strict=True
        )
        if fx is not None and fy is not None
    ]
    arr = np.asarray(keep, dtype=float).reshape(-1, 3)
    grid = _smoothed(arr[:, 0], arr[:, 1], arr[:, 2])
    cells = "".join("." if z is None else str(cr.band(z)) for line in grid for z in line)
    value_label = compared.value_label(metric)

    def cell_centres(axis: Axis) -> list[float]:
        if axis.kind == "category":
            n = max(1, len(axis.categories))
            return [_r((i + 0.5) / CONTOUR_GRID * n - 0.5) for i in range(CONTOUR_GRID)]
        span = axis.t1 - axis.t0
        return [_r(axis.t0 + (i + 0.5) / CONTOUR_GRID * span) for i in range(CONTOUR_GRID)]

    return {
        "type": "contour",
        "title": title,
        "note": f"{len(sub)} trials: {compared.basis.label}. Blank where no trial is near.",
        "height": 360,
        "params": names,
        "x": {**axis_spec(ax), "name": px},
        "y": {**axis_spec(ay), "name": py},
        "grid": CONTOUR_GRID,
        "cells": cells,
        "z": [[None if z is None else float(f"{z:.4g}") for z in line] for line in grid],
        "centres": [cell_centres(ax), cell_centres(ay)],
        "points": {
            "x": _positions(ax),
            "y": _positions(ay),
            "numbers": [r[0] for r in sub],
            "x_texts": _texts([p[px] for _, _, p in sub]),
            "y_texts": _texts([p[py] for _, _, p in sub]),
            "value_texts": [format_number(v) for v in values],
        },
        "colorbar": colorbar_spec(cr, f"colour: kernel-smoothed {value_label}"),
    }


def analysis_specs(
    compared: Compared, definitions: Mapping[str, Any], *, direction: str, metric: str
) -> dict[str, dict[str, Any]]:
    """The four analysis charts of one compared set (the dashboard's analysis section)."""
    kw: dict[str, Any] = {"direction": direction, "metric": metric}
    return {
        "importance": importance_spec(compared),
        "parcoords": parcoords_spec(compared, definitions, **kw),
        "slices": slices_spec(compared, definitions, **kw),
        "contour": contour_spec(compared, definitions, **kw),
    }
