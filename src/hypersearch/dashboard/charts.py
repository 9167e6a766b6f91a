"""The dashboard's charts: a study's numbers read from the database, handed to the chart
specifications of ``hypersearch.plot.specs`` (the code ``hypersearch.plot`` draws from too).

No web framework here: the server (``app``) and the report (``report``) both call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hypersearch.dashboard.queries import MAX_CURVES, DashboardData
from hypersearch.plot import pareto_specs, specs
from hypersearch.plot.shared import Compared

__all__ = ["analysis_charts", "contour_chart", "curves_chart", "history_chart", "pareto_charts"]

#: The note of the dashboard's learning curves: which trials it draws first.
CURVES_PICKED = "the best, running and latest trials; click a curve or a row to select it"


def history_chart(data: DashboardData, study: Mapping[str, Any]) -> dict[str, Any]:
    """The optimisation history of ``study`` (a ``DashboardData.study`` answer)."""
    points = data.points(study["id"], with_params=False)
    return specs.history_spec(
        points["numbers"],
        points["states"],
        points["values"],
        direction=study["direction"],
        metric=study["metric"],
        fail_reasons=data.fail_reasons(study["id"]),
        objectives=len(study["objectives"]),
        infeasible=data.infeasible_numbers(study["id"]) if study["constraints"] else (),
    )


def pareto_charts(data: DashboardData, study: Mapping[str, Any]) -> dict[str, Any]:
    """A multi-objective study's Pareto front and hypervolume over time (``{}`` for a study
    of one objective)."""
    objectives = [(o["name"], o["direction"]) for o in study["objectives"]]
    if len(objectives) < 2:
        return {}
    numbers, values, feasible, violations = data.objective_points(study["id"])
    return {
        "pareto": pareto_specs.pareto_spec(
            numbers, values, feasible, objectives=objectives, violations=violations
        ),
        "hypervolume": pareto_specs.hypervolume_spec(
            numbers, values, feasible, objectives=objectives
        ),
    }


def curves_chart(
    data: DashboardData, study: Mapping[str, Any], extra: Iterable[int] = (), *, k: int = 60
) -> dict[str, Any]:
    """The learning curves the study page shows: the ``k`` best, the running and the ``k``
    latest trials' (``DashboardData.default_curve_numbers``) and the ``extra`` ones."""
    sid = study["id"]
    chosen = data.default_curve_numbers(sid, study["direction"], k=k)
    wanted = list(dict.fromkeys([*(int(n) for n in extra), *chosen]))
    numbers = sorted(wanted[:MAX_CURVES])  # the selected ones first
    curves = {int(n): c for n, c in data.curves(sid, numbers).items()}
    states, values = data.states_and_values(sid, list(curves))
    return specs.curves_spec(
        curves,
        states,
        values,
        direction=study["direction"],
        metric=study["metric"],
        which=CURVES_PICKED,
    )


def analysis_charts(
    data: DashboardData, study: Mapping[str, Any], compared: Mapping[str, Any]
) -> dict[str, Any]:
    """Importance, parallel coordinates, slices and the default contour of ``study`` from its
    ``analysis()`` answer."""
    definitions = data.param_definitions(study["id"], study["space"])
    return specs.analysis_specs(
        Compared.from_analysis(compared),
        definitions,
        direction=study["direction"],
        metric=study["metric"],
    )


def contour_chart(
    data: DashboardData,
    study: Mapping[str, Any],
    compared: Mapping[str, Any],
    x: str | None,
    y: str | None,
) -> dict[str, Any]:
    """The contour of ``x`` and ``y`` (default: the two most important parameters)."""
    definitions = data.param_definitions(study["id"], study["space"])
    return specs.contour_spec(
        Compared.from_analysis(compared),
        definitions,
        direction=study["direction"],
        metric=study["metric"],
        x=x,
        y=y,
    )
