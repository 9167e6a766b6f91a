"""Plotly figures of a study: the dashboard's charts, on the numbers ``shared`` computes."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.plot.shared import (
    Axis,
    ColorRange,
    Compared,
    axis_for,
    better,
    check_param_names,
    check_study,
    clamp,
    color_range,
    compared_values,
    finite,
    format_number,
    label,
    needs_extra,
    param_definitions,
    ranked_rows,
    robust_range,
    used_params,
)
from hypersearch.trial import TrialState

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hypersearch.study import Study

__all__ = [
    "plot_contour",
    "plot_history",
    "plot_importance",
    "plot_learning_curves",
    "plot_lr_finder",
    "plot_parallel_coordinates",
    "plot_slice",
]

# state colours: COLORS in static/dashboard.js
STATE_COLORS = {"COMPLETE": "#1f77b4", "STOPPED": "#e07b00", "FAILED": "#c62828"}
BEST_COLOR = "#1a7f37"
MAX_PARCOORDS = 1000  # more lines are unreadable (the dashboard's cap)
CONTOUR_GRID = 40


def _go() -> Any:
    with needs_extra("hypersearch.plot"):
        import plotly.graph_objects as go
    return go


def _figure(title: str, subtitle: str = "", height: int = 420) -> go.Figure:
    go = _go()
    text = f"{title}<br><sup>{_wrap(subtitle)}</sup>" if subtitle else title
    return go.Figure(
        layout={"title": {"text": text}, "template": "plotly_white", "height": height}
    )


def _wrap(text: str, width: int = 120) -> str:
    return "<br>".join(textwrap.wrap(text, width)) or text


def _message(title: str, text: str) -> go.Figure:
    """A figure that says why there is nothing to draw (the dashboard's empty-chart text)."""
    fig = _figure(title, height=300)
    fig.add_annotation(
        text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 14}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _colorbar(cr: ColorRange, title: str, *, below: bool = False) -> dict[str, Any]:
    cmin, cmax = cr.bounds()
    bar: dict[str, Any] = {"title": {"text": cr.caption(title)}}
    if below:  # leaves the right side to a long legend
        caption = cr.caption(title).replace("<br>", " ")
        bar = {"title": {"text": caption, "side": "top"}, "orientation": "h", "y": -0.32}
        bar |= {"yanchor": "top", "len": 0.6, "thickness": 14}
    return {"colorscale": cr.colorscale(), "cmin": cmin, "cmax": cmax, "colorbar": bar}


def _axis_layout(axis: Axis, *, ticks_for_all: bool = False) -> dict[str, Any]:
    """A Plotly axis in the parameter's units on its own scale: log axes for log and pow2,
    categories for choices, labelled ticks on transformed positions for log1m."""
    title = (
        axis.name if axis.kind in ("linear", "category") else f"{axis.name} ({axis.kind} scale)"
    )
    out: dict[str, Any] = {"title": {"text": title}}
    if axis.kind == "category" and not ticks_for_all:
        out.update(type="category", categoryorder="array", categoryarray=list(axis.categories))
    elif axis.kind in ("log", "pow2") and not ticks_for_all:
        to10 = 1.0 if axis.kind == "log" else math.log10(2)
        out.update(type="log", range=[axis.t0 * to10, axis.t1 * to10])
        ticks = axis.ticks()
        if len(ticks) >= 2:  # the dashboard's ticks (1e-4, 0.001, ...; 16, 32, ...)
            out.update(
                tickvals=[axis.inverse(t) for t, _ in ticks], ticktext=[s for _, s in ticks]
            )
    elif axis.kind == "linear":
        out.update(type="linear", range=[axis.t0, axis.t1])
    else:  # transformed positions with labels in the parameter's own units
        ticks = axis.ticks()
        out.update(
            type="linear",
            range=[axis.t0, axis.t1],
            tickvals=[t for t, _ in ticks],
            ticktext=[s for _, s in ticks],
        )
    return out


def _plotted(axis: Axis) -> list[Any]:
    """The values as the axis from ``_axis_layout`` takes them."""
    if axis.kind in ("linear", "log", "pow2", "category"):
        return list(axis.values)
    return [axis.transform(v) for v in axis.values]


# -- history and learning curves --------------------------------------------------------------
def plot_history(study: Study) -> go.Figure:
    """Each finished trial's value by trial number and the best so far (completed trials);
    STOPPED trials show the value they stopped at, FAILED ones are marked along the bottom."""
    check_study(study, "plot_history")
    trials = study.trials
    title = f"Optimisation history: {study.metric}"
    by_state: dict[str, list[tuple[int, float]]] = {"COMPLETE": [], "STOPPED": []}
    failed = [t for t in trials if t.state == TrialState.FAILED]
    best: float | None = None
    best_xy: list[tuple[int, float]] = []
    for t in trials:
        v = finite(t.value)
        if v is None or t.state.value not in by_state:
            continue
        by_state[t.state.value].append((t.number, v))
        if t.state == TrialState.COMPLETE and (best is None or better(v, best, study.direction)):
            best = v
            best_xy.append((t.number, v))
    shown = by_state["COMPLETE"] + by_state["STOPPED"]
    if not shown:
        why = f" ({len(failed)} failed)" if failed else ""
        return _message(title, f"No finished trial with a value yet{why}.")
    if best is not None:
        best_xy.append((trials[-1].number, best))
    bounds = robust_range([v for _, v in shown])
    notes = [f"{len(shown)} trials with a value"]
    if failed:
        notes.append(f"{len(failed)} failed (×)")
    if bounds:
        notes.append(f"{bounds[2]} outlying value(s) drawn on the edge")
    fig = _figure(title, "; ".join(notes))
    go = _go()
    for state, name in (("STOPPED", "stopped (value when stopped)"), ("COMPLETE", "completed")):
        pts = by_state[state]
        if not pts:
            continue
        fig.add_trace(
            go.Scatter(
                x=[n for n, _ in pts],
                y=[clamp(bounds, v) for _, v in pts],
                mode="markers",
                name=name,
                marker={"color": STATE_COLORS[state], "size": 7, "opacity": 0.75},
                customdata=[[format_number(v)] for _, v in pts],
                hovertemplate=f"trial %{{x}} ({state})<br>{study.metric} %{{customdata[0]}}"
                "<extra></extra>",
            )
        )
    if best_xy:
        fig.add_trace(
            go.Scatter(
                x=[n for n, _ in best_xy],
                y=[clamp(bounds, v) for _, v in best_xy],
                mode="lines",
                line={"shape": "hv", "color": BEST_COLOR, "width": 2},
                name="best so far",
            )
        )
    if failed:
        fig.add_trace(
            go.Scatter(
                x=[t.number for t in failed],
                y=[0.02] * len(failed),
                yaxis="y2",
                mode="markers",
                name="failed",
                marker={"color": STATE_COLORS["FAILED"], "symbol": "x", "size": 8},
                customdata=[[(t.fail_reason or "no reason stored")[:120]] for t in failed],
                hovertemplate="trial %{x} (FAILED)<br>%{customdata[0]}<extra></extra>",
            )
        )
        fig.update_layout(yaxis2={"overlaying": "y", "range": [0, 1], "visible": False})
    fig.update_xaxes(title_text="trial")
    fig.update_yaxes(title_text=study.metric)
    return fig


def plot_learning_curves(study: Study, *, max_curves: int | None = 300) -> go.Figure:
    """Each trial's reported values by step, coloured by its result (its value, else its last
    report) on the clipped colour scale; the legend lists the best first, drawn on top.
    ``max_curves`` keeps the best curves of a big study (``None``: all)."""
    check_study(study, "plot_learning_curves")
    if max_curves is not None and (isinstance(max_curves, bool) or max_curves < 1):
        raise InvalidArgumentError(
            f"plot_learning_curves(max_curves=...) needs a positive number or None, "
            f"got {max_curves!r}."
        )
    title = f"Learning curves: {study.metric}"
    with_curves = [t for t in study.trials if t.intermediate]
    if not with_curves:
        return _message(title, "No reported learning curve yet.")

    def result(t: Any) -> float | None:
        v = finite(t.value)
        return v if v is not None else finite(t.intermediate[max(t.intermediate)])

    sign = 1.0 if study.direction == "minimize" else -1.0
    ranked = sorted(
        with_curves, key=lambda t: (result(t) is None, sign * (result(t) or 0.0), t.number)
    )
    shown = ranked if max_curves is None else ranked[:max_curves]
    cr = color_range([result(t) for t in shown], study.direction)
    bounds = robust_range([finite(v) for t in shown for v in t.intermediate.values()])
    notes = [
        f"{len(shown)} curves"
        + (f", the best of {len(ranked)}" if len(shown) < len(ranked) else "")
    ]
    if any(t.state == TrialState.RUNNING for t in shown):
        notes.append("dashed: running")
    if bounds:
        notes.append(f"{bounds[2]} outlying point(s) on the edge")
    fig = _figure(title, "; ".join(notes), height=540)
    go = _go()
    for rank in range(len(shown), 0, -1):  # worst first, so the best are drawn on top
        t = shown[rank - 1]
        steps = sorted(t.intermediate)
        ys = [clamp(bounds, finite(t.intermediate[s])) for s in steps]
        state = t.state.value
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=ys,
                mode="lines" if len(steps) > 1 else "markers",
                name=f"trial {t.number} ({state})",
                legendrank=rank,
                line={
                    "color": cr.color(result(t)),
                    "width": 1.3,
                    "dash": "dash" if state == "RUNNING" else "solid",
                },
                marker={"color": cr.color(result(t)), "size": 6},
                customdata=[[format_number(t.intermediate[s])] for s in steps],
                hovertemplate=f"trial {t.number} ({state})<br>step %{{x}}: %{{customdata[0]}}"
                "<extra></extra>",
            )
        )
    results = [r for r in map(result, shown) if r is not None]
    if results:  # the colour scale's legend: one invisible point carries the colour bar
        fig.add_trace(
            go.Scatter(
                x=[sorted(shown[0].intermediate)[0]],
                y=[clamp(bounds, finite(shown[0].intermediate[min(shown[0].intermediate)]))],
                mode="markers",
                name="colour scale",
                showlegend=False,
                hoverinfo="skip",
                marker={
                    "color": [results[0]],
                    "opacity": 0,
                    **_colorbar(cr, "result", below=True),
                },
            )
        )
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text=study.metric)
    fig.update_layout(legend={"traceorder": "normal"}, margin={"b": 150})
    return fig


# -- analysis charts: importance, parallel coordinates, slices, contour -----------------------
def plot_importance(study: Study) -> go.Figure:
    """Each parameter's fANOVA main-effect share on the dashboard's basis (``main_effects``),
    largest at the top."""
    check_study(study, "plot_importance")
    compared = compared_values(study)
    title = "Hyperparameter importance"
    imp = dict(compared.importance)
    if not imp:
        return _message(
            title,
            f"Needs at least 20 trials with a value on one basis "
            f"(has {len(compared.values)}: {compared.basis.label}).",
        )
    subtitle = (
        "Share of the variance each parameter explains alone (fANOVA main effect), "
        f"from {compared.basis.label}"
    )
    if len(compared.values) < compared.basis.n_trials:
        subtitle += f" (a sample of {len(compared.values)})"
    names = list(imp)
    fig = _figure(title, subtitle, height=180 + 34 * len(names))
    go = _go()
    fig.add_trace(
        go.Bar(
            x=[imp[n] for n in names],
            y=names,
            orientation="h",
            marker={"color": "#2463eb"},
            text=[f"{imp[n]:.2f}" for n in names],
            textposition="outside",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    top = max(0.05, min(1.0, max(imp.values()) * 1.15))
    fig.update_xaxes(title_text="main-effect share", range=[0, top])
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def _analysis_inputs(
    study: Study, function: str
) -> tuple[Compared, list[tuple[int, float, Mapping[str, Any]]], dict[str, Any], list[str]]:
    check_study(study, function)
    trials = study.trials
    compared = compared_values(study, trials=trials)
    rows = ranked_rows(compared, study.direction)
    definitions = param_definitions(study, trials)
    return compared, rows, definitions, used_params(definitions, rows)


def plot_parallel_coordinates(study: Study, params: Sequence[str] | None = None) -> go.Figure:
    """One line per compared trial (the best 1,000) across its parameters and its value on the
    dashboard's basis, coloured by that value; each axis on its parameter's own scale."""
    compared, rows, definitions, names = _analysis_inputs(study, "plot_parallel_coordinates")
    if params is not None:
        check_param_names(list(params), names, "plot_parallel_coordinates")
        names = list(params)
    title = "Parallel coordinates"
    if len(rows) < 2 or not names:
        return _message(title, "Needs two trials with a value and parameters.")
    shown = rows[:MAX_PARCOORDS]
    lead = (
        f"The best {len(shown)} of {len(rows)} trials"
        if len(rows) > len(shown)
        else f"{len(shown)} trials"
    )
    fig = _figure(title, f"{lead}: {compared.basis.label}", height=460)
    go = _go()
    dims = []
    for name in names:
        axis = axis_for(name, definitions.get(name), [r[2].get(name) for r in shown])
        dim: dict[str, Any] = {
            "label": name,
            "values": [math.nan if (t := axis.transform(v)) is None else t for v in axis.values],
            "range": [axis.t0, axis.t1],
        }
        if axis.kind != "linear":
            ticks = axis.ticks()
            dim.update(tickvals=[t for t, _ in ticks], ticktext=[s for _, s in ticks])
        dims.append(dim)
    values = [r[1] for r in shown]
    value_label = compared.value_label(study.metric)
    dims.append({"label": value_label, "values": values})
    cr = color_range(values, study.direction)
    fig.add_trace(
        go.Parcoords(dimensions=dims, line={"color": values, **_colorbar(cr, value_label)})
    )
    fig.update_layout(margin={"t": 110})
    return fig


def plot_slice(study: Study, params: Sequence[str] | None = None, *, cols: int = 3) -> go.Figure:
    """The compared value against each parameter (one panel each, in the parameter's units on
    its own scale), coloured by value."""
    compared, rows, definitions, names = _analysis_inputs(study, "plot_slice")
    if params is not None:
        check_param_names(list(params), names, "plot_slice")
        names = list(params)
    title = "Slices"
    if not rows or not names:
        return _message(title, "Needs trials with a value and parameters.")
    with needs_extra("hypersearch.plot"):
        from plotly.subplots import make_subplots
    go = _go()
    n_cols = max(1, min(cols, len(names)))
    n_rows = math.ceil(len(names) / n_cols)
    bounds = robust_range([r[1] for r in rows])
    subtitle = compared.basis.label
    if bounds:
        subtitle += f"; {bounds[2]} outlying value(s) drawn on the edge"
    fig = make_subplots(rows=n_rows, cols=n_cols, shared_yaxes=True, horizontal_spacing=0.04)
    fig.update_layout(
        title={"text": f"{title}<br><sup>{_wrap(subtitle)}</sup>"},
        template="plotly_white",
        height=120 + 300 * n_rows,
    )
    values = [r[1] for r in rows]
    value_label = compared.value_label(study.metric)
    cr = color_range(values, study.direction)
    shown = [clamp(bounds, v) for v in values]
    for i, name in enumerate(names):
        row, col = i // n_cols + 1, i % n_cols + 1
        axis = axis_for(name, definitions.get(name), [r[2].get(name) for r in rows])
        fig.add_trace(
            go.Scatter(
                x=_plotted(axis),
                y=shown,
                mode="markers",
                name=name,
                showlegend=False,
                marker={
                    "color": values,
                    "size": 4 if len(rows) > 2000 else 7,
                    "opacity": 0.8,
                    **_colorbar(cr, value_label),
                    "showscale": i == 0,
                },
                customdata=[[n, format_number(v)] for n, v, _ in rows],
                hovertemplate=f"trial %{{customdata[0]}}<br>{name} = %{{x}}<br>"
                "%{customdata[1]}<extra></extra>",
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(_axis_layout(axis), row=row, col=col)
        if col == 1:
            fig.update_yaxes(title_text=value_label, row=row, col=col)
    return fig


def _smoothed_grid(
    fx: Sequence[float], fy: Sequence[float], z: Sequence[float], cr: ColorRange
) -> list[list[float | None]]:
    """A kernel-smoothed mean of the clipped values on a 40x40 grid in axis fractions, blank
    where no trial is near (mirrors ``contour`` in static/charts.js)."""
    pts = [(x, y, max(cr.lo, min(cr.hi, v))) for x, y, v in zip(fx, fy, z, strict=True)]
    h = max(0.06, 0.35 * max(len(pts), 1) ** (-1 / 6))
    grid: list[list[float | None]] = []
    for gy in range(CONTOUR_GRID):
        cy = (gy + 0.5) / CONTOUR_GRID
        line: list[float | None] = []
        for gx in range(CONTOUR_GRID):
            cx = (gx + 0.5) / CONTOUR_GRID
            wsum = zsum = 0.0
            for x, y, v in pts:
                d2 = ((x - cx) / h) ** 2 + ((y - cy) / h) ** 2
                if d2 > 9:
                    continue
                w = math.exp(-0.5 * d2)
                wsum += w
                zsum += w * v
            line.append(zsum / wsum if wsum >= 0.05 else None)
        grid.append(line)
    return grid


def _grid_coords(axis: Axis) -> tuple[list[float], dict[str, Any], list[Any]]:
    """Cell centres in the axis' plotted units, its layout, and the trials' plotted values."""
    fracs = [(i + 0.5) / CONTOUR_GRID for i in range(CONTOUR_GRID)]
    if axis.kind == "category":
        n = max(1, len(axis.categories))
        return (
            [f * n - 0.5 for f in fracs],
            _axis_layout(axis, ticks_for_all=True) | {"range": [-0.5, n - 0.5]},
            [axis.transform(v) for v in axis.values],
        )
    ts = [axis.t0 + f * (axis.t1 - axis.t0) for f in fracs]
    if axis.kind in ("log", "pow2"):
        return [axis.inverse(t) for t in ts], _axis_layout(axis), list(axis.values)
    return ts, _axis_layout(axis), _plotted(axis)


def plot_contour(study: Study, x: str | None = None, y: str | None = None) -> go.Figure:
    """The compared value over two parameters (default: the two most important): a
    kernel-smoothed mean of the clipped values, blank where no trial is near, trials on top."""
    compared, rows, definitions, names = _analysis_inputs(study, "plot_contour")
    check_param_names([n for n in (x, y) if n is not None], names, "plot_contour")
    if x is not None and x == y:
        raise InvalidArgumentError(
            f"plot_contour(): x and y are both {x!r}; pass two different parameters."
        )
    title = "Contour"
    if len(rows) < 3 or len(names) < 2:
        return _message(title, "Needs three trials with a value and two parameters.")
    imp = compared.importance
    ranked = sorted(names, key=lambda p: -imp.get(p, 0.0))
    px = x if x is not None else next(p for p in ranked if p != y)
    py = y if y is not None else next(p for p in ranked if p != px)
    sub = [r for r in rows if r[2].get(px) is not None and r[2].get(py) is not None]
    values = [r[1] for r in sub]
    cr = color_range(values, study.direction)
    ax = axis_for(px, definitions.get(px), [r[2][px] for r in sub])
    ay = axis_for(py, definitions.get(py), [r[2][py] for r in sub])
    keep = [
        (fx, fy, v)
        for fx, fy, v in zip(
            map(ax.fraction, ax.values), map(ay.fraction, ay.values), values, strict=True
        )
        if fx is not None and fy is not None
    ]
    grid = _smoothed_grid([k[0] for k in keep], [k[1] for k in keep], [k[2] for k in keep], cr)
    gx, x_layout, x_points = _grid_coords(ax)
    gy, y_layout, y_points = _grid_coords(ay)
    value_label = compared.value_label(study.metric)
    fig = _figure(
        title,
        f"{len(sub)} trials: {compared.basis.label}. Blank where no trial is near.",
        height=520,
    )
    go = _go()
    cmin, cmax = cr.bounds()
    fig.add_trace(
        go.Heatmap(
            x=gx,
            y=gy,
            z=grid,
            zmin=cmin,
            zmax=cmax,
            colorscale=cr.colorscale(),
            colorbar={"title": {"text": cr.caption(f"kernel-smoothed {value_label}")}},
            hoverongaps=False,
            hovertemplate="smoothed %{z:.4g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x_points,
            y=y_points,
            mode="markers",
            name="trials",
            showlegend=False,
            marker={"color": "#1d2330", "size": 5, "line": {"color": "#ffffff", "width": 1.5}},
            customdata=[[n, label(p[px]), label(p[py]), format_number(v)] for n, v, p in sub],
            hovertemplate=f"trial %{{customdata[0]}}<br>{px} = %{{customdata[1]}}<br>"
            f"{py} = %{{customdata[2]}}<br>%{{customdata[3]}}<extra></extra>",
        )
    )
    fig.update_layout(xaxis=x_layout, yaxis=y_layout)
    return fig


# -- the LR range test ------------------------------------------------------------------------
def plot_lr_finder(result: Any) -> go.Figure:
    """Loss against learning rate on a log axis (smoothed, raw faint), the suggestion marked;
    takes an ``LRFinderResult`` or its ``to_dict()`` form (``trial.attrs["lr_finder"]``)."""
    data: Mapping[str, Any]
    if hasattr(result, "to_dict") and hasattr(result, "lrs"):
        data = result.to_dict()
    elif isinstance(result, Mapping):
        data = result
    else:
        raise TypeError(
            "plot_lr_finder() takes the result of hypersearch.tools.lr_finder (an LRFinderResult) "
            f"or its to_dict() form, got {type(result).__name__}."
        )
    lrs = data.get("lrs")
    losses = data.get("losses")
    if not isinstance(lrs, Sequence) or not isinstance(losses, Sequence) or not lrs:
        raise InvalidArgumentError(
            "plot_lr_finder(): the result holds no curve ('lrs' and 'losses' lists); run the "
            "range test first: result = lr_finder(model, optimizer, loss_fn, loader)."
        )
    if len(lrs) != len(losses):
        raise InvalidArgumentError(
            f"plot_lr_finder(): {len(lrs)} learning rates but {len(losses)} losses."
        )
    suggestion = finite(data.get("suggestion"))
    reason = str(data.get("reason") or "")
    head = f"suggested lr {format_number(suggestion)}" if suggestion else "no suggestion"
    fig = _figure("LR range test", f"{head}. {reason}" if reason else head, height=420)
    go = _go()
    xs = [finite(v) for v in lrs]
    raw = data.get("raw_losses")
    if isinstance(raw, Sequence) and len(raw) == len(lrs):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[finite(v) for v in raw],
                mode="lines",
                name="loss per batch",
                line={"color": "#9aa4b1", "width": 1},
                opacity=0.6,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[finite(v) for v in losses],
            mode="lines",
            name="smoothed loss",
            line={"color": "#1f77b4", "width": 2},
            hovertemplate="lr %{x:.3g}: loss %{y:.4g}<extra></extra>",
        )
    )
    if suggestion:  # a trace, not a shape: shapes and annotations take log10 on log axes
        ys = [v for v in (finite(v) for v in losses) if v is not None]
        lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
        fig.add_trace(
            go.Scatter(
                x=[suggestion, suggestion],
                y=[lo, hi],
                mode="lines+text",
                name=f"suggested {format_number(suggestion)}",
                text=["", f"suggested {format_number(suggestion)}"],
                textposition="top right",
                line={"color": BEST_COLOR, "dash": "dash", "width": 1.5},
                hoverinfo="skip",
            )
        )
    fig.update_xaxes(type="log", title_text="learning rate")
    fig.update_yaxes(title_text="loss")
    return fig
