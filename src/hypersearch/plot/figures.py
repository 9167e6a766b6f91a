"""Plotly figures of a study: each chart's specification (``specs``) drawn by Plotly.

The functions here only gather a study's numbers and translate the dashboard's chart
specifications; every rule a chart follows (which trials count, axes, ticks, colours,
outliers, notes) is decided in ``hypersearch.plot.specs``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import hypersearch.plot.pareto_specs as pareto_specs  # the submodules, not the package
import hypersearch.plot.specs as specs
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.plot.shared import (
    ColorRange,
    Compared,
    check_param_names,
    check_study,
    compared_values,
    needs_extra,
    param_definitions,
    ranked_rows,
    used_params,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hypersearch.study import Study

__all__ = [
    "figure",
    "hypervolume_history",
    "pareto_front",
    "plot_contour",
    "plot_history",
    "plot_importance",
    "plot_learning_curves",
    "plot_lr_finder",
    "plot_parallel_coordinates",
    "plot_slice",
    "spec_of",
]


def _go() -> Any:
    with needs_extra("hypersearch.plot"):
        import plotly.graph_objects as go
    return go


# -- a study's numbers, as the dashboard reads them from its database -------------------------
def history_spec(study: Study) -> dict[str, Any]:
    """The history chart's specification for ``study`` (what ``plot_history`` draws)."""
    check_study(study, "plot_history")
    trials = study.trials
    return specs.history_spec(
        [t.number for t in trials],
        [t.state.value for t in trials],
        [t.value for t in trials],
        direction=study.direction,
        metric=study.metric,
        fail_reasons={t.number: t.fail_reason or "" for t in trials if t.fail_reason},
        objectives=len(study.objectives),
        infeasible=[t.number for t in trials if not t.feasible],
    )


def curves_spec(study: Study, *, max_curves: int | None = 300) -> dict[str, Any]:
    """The learning-curves chart's specification (the best ``max_curves`` curves)."""
    check_study(study, "plot_learning_curves")
    if max_curves is not None and (isinstance(max_curves, bool) or max_curves < 1):
        raise InvalidArgumentError(
            f"plot_learning_curves(max_curves=...) needs a positive number or None, "
            f"got {max_curves!r}."
        )
    trials = [t for t in study.trials if t.intermediate]
    return specs.curves_spec(
        {t.number: [[s, t.intermediate[s]] for s in sorted(t.intermediate)] for t in trials},
        {t.number: t.state.value for t in trials},
        {t.number: t.value for t in trials},
        direction=study.direction,
        metric=study.metric,
        max_curves=max_curves,
    )


def _objective_columns(
    study: Study, function: str
) -> tuple[list[int], list[Any], list[bool], list[Any], list[tuple[str, str]]]:
    """The COMPLETE trials' numbers, objective values, feasibility and constraint violations,
    and the objectives, for the multi-objective charts."""
    check_study(study, function)
    objectives = [(o.name, o.direction) for o in study.objectives]
    if len(objectives) < 2:
        raise InvalidArgumentError(
            f"{function}() needs a study with two or more objectives (create_study(directions="
            f'{{"val_accuracy": "maximize", "latency_ms": "minimize"}})); study '
            f"{study.name!r} has one, {objectives[0][0]!r}: use plot_history(study)."
        )
    return (*pareto_specs.columns_of(study.trials), objectives)


def pareto_spec(study: Study) -> dict[str, Any]:
    """The Pareto-front chart's specification of a multi-objective study."""
    numbers, values, feasible, violations, objectives = _objective_columns(study, "pareto_front")
    return pareto_specs.pareto_spec(
        numbers, values, feasible, objectives=objectives, violations=violations
    )


def hypervolume_spec(study: Study) -> dict[str, Any]:
    """The hypervolume-over-time chart's specification of a multi-objective study."""
    numbers, values, feasible, _, objectives = _objective_columns(study, "hypervolume_history")
    return pareto_specs.hypervolume_spec(numbers, values, feasible, objectives=objectives)


def _analysis_inputs(study: Study, function: str) -> tuple[Compared, dict[str, Any], list[str]]:
    check_study(study, function)
    trials = study.trials
    compared = compared_values(study, trials=trials)
    definitions = param_definitions(study, trials)
    names = used_params(definitions, ranked_rows(compared, study.direction))
    return compared, definitions, names


def analysis_specs(study: Study) -> dict[str, dict[str, Any]]:
    """The importance, parallel-coordinates, slices and contour specifications of ``study``:
    what the dashboard's ``/api/studies/{id}/charts/analysis`` answers for it."""
    compared, definitions, _ = _analysis_inputs(study, "analysis_specs")
    return specs.analysis_specs(
        compared, definitions, direction=study.direction, metric=study.metric
    )


def spec_of(study: Study, chart: str) -> dict[str, Any]:
    """The specification of one chart of ``study`` ("history", "curves", "importance",
    "parcoords", "slices" or "contour"), as the dashboard serves it."""
    if chart == "history":
        return history_spec(study)
    if chart == "curves":
        return curves_spec(study, max_curves=None)
    if chart == "pareto":
        return pareto_spec(study)
    if chart == "hypervolume":
        return hypervolume_spec(study)
    found = analysis_specs(study)
    if chart not in found:
        raise InvalidArgumentError(
            f"spec_of(): no chart {chart!r}; charts are 'history', 'curves', "
            f"{', '.join(map(repr, found))}, 'pareto', 'hypervolume'."
        )
    return found[chart]


# -- the translation of a specification into a Plotly figure ----------------------------------
def _wrap(text: str, width: int = 120) -> str:
    return "<br>".join(textwrap.wrap(text, width)) or text


def _html(text: str) -> str:
    return text.replace("\n", "<br>")


def _layout(spec: Mapping[str, Any], height: int) -> dict[str, Any]:
    note = spec.get("note") or ""
    text = f"{spec['title']}<br><sup>{_wrap(note)}</sup>" if note else spec["title"]
    return {"title": {"text": text}, "template": "plotly_white", "height": height}


def _message(spec: Mapping[str, Any]) -> go.Figure:
    """A figure that says why there is nothing to draw (the dashboard's empty-chart text)."""
    fig = _go().Figure(layout=_layout({"title": spec["title"]}, 300))
    fig.add_annotation(
        text=spec["empty"],
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 14},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _log_base(kind: str) -> float | None:
    return 10.0 if kind == "log" else 2.0 if kind == "pow2" else None


def _values(axis: Mapping[str, Any], ts: Sequence[float | None]) -> list[float | None]:
    """Positions as Plotly takes them: values on log axes, positions elsewhere."""
    base = _log_base(axis["kind"])
    if base is None:
        return list(ts)
    return [None if t is None else base**t for t in ts]


def _axis(axis: Mapping[str, Any]) -> dict[str, Any]:
    """A Plotly axis: log axes for log and pow2 (hover shows the values), otherwise positions
    on a linear axis; ranges and ticks as the specification says."""
    out: dict[str, Any] = {"title": {"text": axis["title"]}}
    ticks = axis["ticks"]
    base = _log_base(axis["kind"])
    if base is not None:
        to10 = math.log10(base)
        out.update(type="log", range=[t * to10 for t in axis["range"]])
        out.update(tickvals=_values(axis, [t for t, _ in ticks]), ticktext=[s for _, s in ticks])
    else:
        out.update(type="linear", range=list(axis["range"]))
        out.update(tickvals=[t for t, _ in ticks], ticktext=[s for _, s in ticks])
    return out


def _colorbar(bar: Mapping[str, Any], *, below: bool = False) -> dict[str, Any]:
    cr = ColorRange(bar["lo"], bar["hi"], bar["clipped"], bar["direction"])
    cmin, cmax = cr.bounds()
    title = bar["title"] + ("<br>5th–95th<br>percentile" if bar["clipped"] else "")
    colorbar: dict[str, Any] = {"title": {"text": title}}
    if below:  # leaves the right side to a long legend
        colorbar = {"title": {"text": title.replace("<br>", " "), "side": "top"}}
        colorbar |= {"orientation": "h", "y": -0.32, "yanchor": "top", "len": 0.6}
        colorbar |= {"thickness": 14}
    return {"colorscale": cr.colorscale(), "cmin": cmin, "cmax": cmax, "colorbar": colorbar}


def _scatter(s: Mapping[str, Any], xa: Mapping[str, Any], ya: Mapping[str, Any]) -> Any:
    go = _go()
    lines = s["kind"] in ("line", "hv")
    tips = s.get("tips")
    if tips is not None and "number" in s:
        tips = [f"{s['name']}\n{t}" for t in tips]
    trace: dict[str, Any] = {
        "x": _values(xa, s["x"]),
        "y": _values(ya, s["y"]),
        "name": s["name"],
        "mode": ("lines+markers" if s.get("markers") else "lines") if lines else "markers",
        "opacity": s.get("opacity", 1.0),
    }
    if tips is not None:
        trace.update(hovertext=[_html(t) for t in tips], hoverinfo="text")
    else:
        trace.update(hoverinfo="skip")
    if lines:
        dash = "dash" if s.get("dash") else "solid"
        trace["line"] = {"color": s["color"], "width": s.get("width", 1.5), "dash": dash}
        if s["kind"] == "hv":
            trace["line"]["shape"] = "hv"
    else:
        marker = {"color": s.get("colors") or s["color"], "size": s.get("size", 6)}
        if s.get("symbol"):
            marker["symbol"] = s["symbol"]
        trace["marker"] = marker
    return go.Scatter(**trace)


def _xy(spec: Mapping[str, Any]) -> go.Figure:
    go = _go()
    xa, ya = spec["x"], spec["y"]
    colorbar = spec.get("colorbar")
    fig = go.Figure(layout=_layout(spec, 540 if colorbar else 420))
    legend = {item["name"] for item in spec.get("legend", [])}
    series = spec["series"]
    for i, s in enumerate(series):
        trace = _scatter(s, xa, ya)
        if "legend" in spec:
            trace.showlegend = s["name"] in legend
        else:  # one entry per trial, the last drawn (the best) listed first
            trace.legendrank = len(series) - i
        fig.add_trace(trace)
    lo, hi = ya["range"]
    for mark in spec.get("vlines", []):  # a trace, not a shape: shapes take log10 on log axes
        x = _values(xa, [mark["x"]])[0]
        fig.add_trace(
            go.Scatter(
                x=[x, x],
                y=_values(ya, [lo, hi]),
                mode="lines+text",
                name=mark["label"],
                text=["", mark["label"]],
                textposition="bottom right",
                line={"color": mark["color"], "dash": "dash", "width": 1.5},
                hoverinfo="skip",
            )
        )
    if colorbar:  # one invisible point carries the colour bar
        first = next(s for s in series if s["x"])
        fig.add_trace(
            go.Scatter(
                x=_values(xa, first["x"][:1]),
                y=_values(ya, first["y"][:1]),
                mode="markers",
                name="colour scale",
                showlegend=False,
                hoverinfo="skip",
                marker={
                    "color": [colorbar["lo"]],
                    "opacity": 0,
                    **_colorbar(colorbar, below=True),
                },
            )
        )
        fig.update_layout(margin={"b": 150}, legend={"traceorder": "normal"})
    fig.update_layout(xaxis=_axis(xa), yaxis=_axis(ya))
    return fig


def _bars(spec: Mapping[str, Any]) -> go.Figure:
    go = _go()
    fig = go.Figure(layout=_layout(spec, 180 + 34 * len(spec["labels"])))
    fig.add_trace(
        go.Bar(
            x=spec["values"],
            y=spec["labels"],
            orientation="h",
            marker={"color": "#2463eb"},
            text=spec["texts"],
            textposition="outside",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(xaxis=_axis(spec["x"]))
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def _parcoords(spec: Mapping[str, Any]) -> go.Figure:
    go = _go()
    fig = go.Figure(layout=_layout(spec, 460))
    dims = []
    for d in spec["dims"]:
        dims.append(
            {
                "label": d["name"],
                "values": [math.nan if v is None else v for v in d["values"]],
                "range": d["range"],
                "tickvals": [t for t, _ in d["ticks"]],
                "ticktext": [s for _, s in d["ticks"]],
            }
        )
    line = {"color": spec["dims"][-1]["values"], **_colorbar(spec["colorbar"])}
    fig.add_trace(go.Parcoords(dimensions=dims, line=line))
    fig.update_layout(margin={"t": 110})
    return fig


def _slices(spec: Mapping[str, Any], cols: int) -> go.Figure:
    with needs_extra("hypersearch.plot"):
        from plotly.subplots import make_subplots
    go = _go()
    panels = spec["panels"]
    n_cols = max(1, min(cols, len(panels)))
    n_rows = math.ceil(len(panels) / n_cols)
    fig = make_subplots(rows=n_rows, cols=n_cols, shared_yaxes=True, horizontal_spacing=0.04)
    fig.update_layout(**_layout(spec, 120 + 300 * n_rows))
    ya = spec["y"]
    for i, p in enumerate(panels):
        row, col = i // n_cols + 1, i % n_cols + 1
        tips = [
            f"trial {n}<br>{p['name']} = {x}<br>{v}"
            for n, x, v in zip(spec["numbers"], p["texts"], spec["value_texts"], strict=True)
        ]
        marker: dict[str, Any] = {"color": spec["colors"], "size": spec["size"], "opacity": 0.8}
        fig.add_trace(
            go.Scatter(
                x=_values(p["x"], p["values"]),
                y=spec["values"],
                mode="markers",
                name=p["name"],
                showlegend=False,
                marker=marker,
                hovertext=tips,
                hoverinfo="text",
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(_axis(p["x"]), row=row, col=col)
        fig.update_yaxes(_axis(ya) if col == 1 else {"range": ya["range"]}, row=row, col=col)
    bar = spec["colorbar"]  # the colour bar, on an invisible point of the first panel
    fig.add_trace(
        go.Scatter(
            x=_values(panels[0]["x"], panels[0]["values"][:1]),
            y=spec["values"][:1],
            mode="markers",
            name="colour scale",
            showlegend=False,
            hoverinfo="skip",
            marker={"color": [bar["lo"]], "opacity": 0, **_colorbar(bar)},
        ),
        row=1,
        col=1,
    )
    return fig


def _matrix(spec: Mapping[str, Any], cols: int) -> go.Figure:
    """Panels of x/y charts (each pair of objectives), the legend once."""
    with needs_extra("hypersearch.plot"):
        from plotly.subplots import make_subplots
    panels = spec["panels"]
    n_cols = max(1, min(cols, len(panels)))
    n_rows = math.ceil(len(panels) / n_cols)
    fig = make_subplots(rows=n_rows, cols=n_cols, horizontal_spacing=0.08, vertical_spacing=0.12)
    fig.update_layout(**_layout(spec, 140 + 320 * n_rows))
    for i, p in enumerate(panels):
        row, col = i // n_cols + 1, i % n_cols + 1
        for s in p["series"]:
            trace = _scatter(s, p["x"], p["y"])
            trace.showlegend = i == 0
            trace.legendgroup = s["name"]
            fig.add_trace(trace, row=row, col=col)
        fig.update_xaxes(_axis(p["x"]), row=row, col=col)
        fig.update_yaxes(_axis(p["y"]), row=row, col=col)
    return fig


def _contour(spec: Mapping[str, Any]) -> go.Figure:
    go = _go()
    xa, ya = spec["x"], spec["y"]
    fig = go.Figure(layout=_layout(spec, 520))
    bar = _colorbar(spec["colorbar"])
    fig.add_trace(
        go.Heatmap(
            x=_values(xa, spec["centres"][0]),
            y=_values(ya, spec["centres"][1]),
            z=spec["z"],
            zmin=bar["cmin"],
            zmax=bar["cmax"],
            colorscale=bar["colorscale"],
            colorbar=bar["colorbar"],
            hoverongaps=False,
            hovertemplate="smoothed %{z:.4g}<extra></extra>",
        )
    )
    pts = spec["points"]
    fig.add_trace(
        go.Scatter(
            x=_values(xa, pts["x"]),
            y=_values(ya, pts["y"]),
            mode="markers",
            name="trials",
            showlegend=False,
            marker={"color": "#1d2330", "size": 5, "line": {"color": "#ffffff", "width": 1.5}},
            hovertext=[
                f"trial {n}<br>{xa['name']} = {a}<br>{ya['name']} = {b}<br>{v}"
                for n, a, b, v in zip(
                    pts["numbers"], pts["x_texts"], pts["y_texts"], pts["value_texts"], strict=True
                )
            ],
            hoverinfo="text",
        )
    )
    fig.update_layout(xaxis=_axis(xa), yaxis=_axis(ya))
    return fig


def figure(spec: Mapping[str, Any], *, cols: int = 3) -> go.Figure:
    """A chart specification (from ``hypersearch.plot.specs`` or the dashboard's API) as a
    Plotly figure; ``cols``: panels per row of a slices or pairwise Pareto chart."""
    if isinstance(cols, bool) or not isinstance(cols, int) or cols < 1:
        raise InvalidArgumentError(
            f"cols is the number of panels per row, an integer >= 1 (default 3); got {cols!r}."
        )
    if spec.get("empty"):
        return _message(spec)
    kind = spec["type"]
    if kind == "xy":
        return _xy(spec)
    if kind == "bars":
        return _bars(spec)
    if kind == "parcoords":
        return _parcoords(spec)
    if kind == "slices":
        return _slices(spec, cols)
    if kind == "contour":
        return _contour(spec)
    if kind == "matrix":
        return _matrix(spec, cols)
    raise InvalidArgumentError(
        f"figure(): unknown chart type {kind!r}; pass a specification from hypersearch.plot.specs."
    )


# -- the public figures -----------------------------------------------------------------------
def plot_history(study: Study) -> go.Figure:
    """Each finished trial's value by trial number and the best so far (completed trials);
    STOPPED trials show the value they stopped at, FAILED ones are marked along the bottom."""
    return figure(history_spec(study))


def plot_learning_curves(study: Study, *, max_curves: int | None = 300) -> go.Figure:
    """Each trial's reported values by step, coloured by its result (its value, else its last
    report) on the clipped colour scale; the legend lists the best first, drawn on top.
    ``max_curves`` keeps the best curves of a big study (``None``: all)."""
    return figure(curves_spec(study, max_curves=max_curves))


def plot_importance(study: Study) -> go.Figure:
    """Each parameter's fANOVA main-effect share on the dashboard's basis (``main_effects``),
    largest at the top."""
    check_study(study, "plot_importance")
    return figure(specs.importance_spec(compared_values(study)))


def plot_parallel_coordinates(study: Study, params: Sequence[str] | None = None) -> go.Figure:
    """One line per compared trial (the best 1,000) across its parameters and its value on the
    dashboard's basis, coloured by that value; each axis on its parameter's own scale."""
    compared, definitions, names = _analysis_inputs(study, "plot_parallel_coordinates")
    if params is not None:
        check_param_names(list(params), names, "plot_parallel_coordinates")
    spec = specs.parcoords_spec(
        compared, definitions, direction=study.direction, metric=study.metric, params=params
    )
    return figure(spec)


def plot_slice(study: Study, params: Sequence[str] | None = None, *, cols: int = 3) -> go.Figure:
    """The compared value against each parameter (one panel each, in the parameter's units on
    its own scale), coloured by value."""
    compared, definitions, names = _analysis_inputs(study, "plot_slice")
    if params is not None:
        check_param_names(list(params), names, "plot_slice")
    spec = specs.slices_spec(
        compared, definitions, direction=study.direction, metric=study.metric, params=params
    )
    return figure(spec, cols=cols)


def plot_contour(study: Study, x: str | None = None, y: str | None = None) -> go.Figure:
    """The compared value over two parameters (default: the two most important): a
    kernel-smoothed mean of the clipped values, blank where no trial is near, trials on top."""
    compared, definitions, names = _analysis_inputs(study, "plot_contour")
    check_param_names([n for n in (x, y) if n is not None], names, "plot_contour")
    if x is not None and x == y:
        raise InvalidArgumentError(
            f"plot_contour(): x and y are both {x!r}; pass two different parameters."
        )
    spec = specs.contour_spec(
        compared, definitions, direction=study.direction, metric=study.metric, x=x, y=y
    )
    return figure(spec)


def pareto_front(study: Study, *, cols: int = 3) -> go.Figure:
    """The trade-off of a multi-objective study: each completed trial by its objective values,
    the feasible Pareto front highlighted, infeasible trials as crosses; one panel per pair of
    objectives when there are three or more (``cols`` per row)."""
    return figure(pareto_spec(study), cols=cols)


def hypervolume_history(study: Study) -> go.Figure:
    """The hypervolume of the feasible Pareto front by trial number, up to a fixed reference
    point: how the trade-off improved as the study ran."""
    return figure(hypervolume_spec(study))


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
    return figure(specs.lr_finder_spec(data))
