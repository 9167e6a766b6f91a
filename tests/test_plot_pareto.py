"""The Pareto-front and hypervolume chart specifications (hypersearch.plot.pareto_specs) on trial
records built by hand: the front is hypersearch.pareto's, infeasible trials are marked and never
on it, three objectives give one panel per pair, the hypervolume only grows and ends at the
front's; Plotly draws the same specifications."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from typing import Any

import pytest

from hypersearch import pareto
from hypersearch.plot import pareto_specs
from hypersearch.plot.pareto_specs import columns_of, hypervolume_spec, pareto_spec
from hypersearch.trial import TrialRecord, TrialState

TWO = [("val_accuracy", "maximize"), ("latency_ms", "minimize")]
THREE = [*TWO, ("params_m", "minimize")]


def _records(n: int, m: int, *, seed: int = 0, constrained: bool = True) -> list[TrialRecord]:
    """``n`` trials: most COMPLETE with ``m`` objective values (every fifth violates a memory
    constraint), a FAILED and a RUNNING one without values."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        x = rng.random()
        values = (
            0.5 + 0.45 * x,
            2.0 + 30 * x**2 + rng.random() * 5,
            *(rng.random() for _ in range(m - 2)),
        )
        violation = (0.5 if i % 5 == 3 else -1.0,) if constrained else None
        out.append(
            TrialRecord(i, TrialState.COMPLETE, {"x": x}, values=tuple(values),
                        constraint_violations=violation)
        )  # fmt: skip
    out.append(TrialRecord(n, TrialState.FAILED, {"x": 0.1}, fail_reason="OOM"))
    out.append(TrialRecord(n + 1, TrialState.RUNNING, {"x": 0.2}))
    return out


def _series(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in spec["series"]}


def test_two_objectives_front_is_paretos_and_infeasible_trials_are_marked() -> None:
    trials = _records(40, 2)
    numbers, values, feasible, violations = columns_of(trials)
    assert len(numbers) == 40  # the FAILED and RUNNING trials have no values
    spec = pareto_spec(numbers, values, feasible, objectives=TWO, violations=violations)
    json.dumps(spec, allow_nan=False)
    series = _series(spec)
    ok = [t for t in trials if t.values is not None and t.feasible]
    mask = pareto.pareto_mask(pareto.as_losses([t.values for t in ok], ["maximize", "minimize"]))
    expected = sorted(t.number for t, on in zip(ok, mask, strict=True) if on)
    assert sorted(series["Pareto front"]["numbers"]) == expected
    bad = [t.number for t in trials if t.values is not None and not t.feasible]
    assert series["infeasible"]["numbers"] == bad and series["infeasible"]["symbol"] == "x"
    assert not set(bad) & set(expected)
    assert "violates constraint(s) by 0.5" in series["infeasible"]["tips"][0]
    assert f"{len(expected)} of 40 completed trials on the Pareto front" in spec["note"]
    assert "8 infeasible" in spec["note"]
    assert spec["x"]["title"] == "val_accuracy (higher is better)"
    assert spec["y"]["title"] == "latency_ms (lower is better)"
    # the front drawn as the boundary of what it dominates: through corners worse in both
    line = series["front"]
    assert len(line["x"]) == 2 * len(expected) - 1
    front = sorted(zip(series["Pareto front"]["x"], series["Pareto front"]["y"], strict=True))
    for k, (_, y) in enumerate(front[1:]):
        corner = (line["x"][2 * k + 1], line["y"][2 * k + 1])
        assert corner == (front[k][0], y)  # maximize x: the smaller; minimize y: the larger


def test_three_objectives_one_panel_per_pair_with_the_full_front() -> None:
    trials = _records(30, 3, seed=1)
    numbers, values, feasible, violations = columns_of(trials)
    spec = pareto_spec(numbers, values, feasible, objectives=THREE, violations=violations)
    assert spec["type"] == "matrix" and len(spec["panels"]) == 3
    titles = [
        (p["x"]["title"].split(" (")[0], p["y"]["title"].split(" (")[0]) for p in spec["panels"]
    ]
    assert titles == [("val_accuracy", "latency_ms"), ("val_accuracy", "params_m"),
                      ("latency_ms", "params_m")]  # fmt: skip
    ok = [t for t in trials if t.values is not None and t.feasible]
    losses = pareto.as_losses([t.values for t in ok], [d for _, d in THREE])
    expected = sorted(t.number for t, on in zip(ok, pareto.pareto_mask(losses), strict=True) if on)
    for panel in spec["panels"]:  # the same front (in all three objectives) in every panel
        assert sorted(_series(panel)["Pareto front"]["numbers"]) == expected
        assert "front" not in _series(panel)  # no staircase in a projection


def test_hypervolume_grows_to_the_fronts_and_marks_where_the_front_changed() -> None:
    trials = _records(60, 2, seed=2)
    numbers, values, feasible, _ = columns_of(trials)
    spec = hypervolume_spec(numbers, values, feasible, objectives=TWO)
    line = _series(spec)["hypervolume"]
    assert line["y"] == sorted(line["y"]) and line["kind"] == "hv"
    assert line["x"][-1] == max(numbers)
    ok = [t for t in trials if t.values is not None and t.feasible]
    losses = pareto.as_losses([t.values for t in ok], ["maximize", "minimize"])
    ref = pareto.default_reference(losses)
    final = pareto.hypervolume(losses[pareto.pareto_mask(losses)], ref)
    assert line["y"][-1] == pytest.approx(final, rel=1e-5)  # 6 significant digits travel
    grew = _series(spec)["the front grew"]["x"]
    assert grew[0] == ok[0].number and all(a < b for a, b in pairwise(grew))
    assert "reference point (val_accuracy" in spec["note"]
    assert f"front after each trial ({len(ok)} feasible completed trials)" in spec["note"]


def test_a_long_study_computes_the_hypervolume_at_most_200_times() -> None:
    n = 3000  # every trial improves on the last: the front changes 3,000 times
    values = [(i / n, 1.0 - i / n * 0.5) for i in range(n)]
    objectives = [("a", "maximize"), ("b", "maximize")]
    spec = hypervolume_spec(list(range(n)), values, [True] * n, objectives=objectives)
    grew = _series(spec)["the front grew"]
    assert len(grew["x"]) <= pareto_specs.MAX_HYPERVOLUME_POINTS + 1 and grew["x"][-1] == n - 1
    assert grew["y"] == sorted(grew["y"])


def test_nothing_to_draw_says_why() -> None:
    none = pareto_spec([], [], [], objectives=TWO)
    assert none["empty"] == "No completed trial with every objective's value yet."
    one = pareto_spec([0], [(1.0,)], [True], objectives=[("loss", "minimize")])
    assert "two or more objectives" in one["empty"]
    infeasible = hypervolume_spec([0, 1], [(0.9, 3.0), (0.8, 2.0)], [False, False], objectives=TWO)
    assert infeasible["empty"] == "No feasible completed trial with every objective's value yet."
    spec = pareto_spec([0, 1], [(0.9, 3.0), (0.8, 2.0)], [False, False], objectives=TWO)
    assert "no feasible trial yet" in spec["note"] and "Pareto front" not in _series(spec)


def test_plotly_draws_the_specifications() -> None:
    pytest.importorskip("plotly")
    from hypersearch import plot

    numbers, values, feasible, violations = columns_of(_records(30, 3, seed=3))
    spec = pareto_spec(numbers, values, feasible, objectives=THREE, violations=violations)
    fig = plot.figure(spec)
    assert len({t.xaxis for t in fig.data}) == 3  # one subplot per pair
    shown = [t.name for t in fig.data if t.showlegend]
    assert shown == [s["name"] for s in spec["panels"][0]["series"]]  # the legend once
    front = next(t for t in fig.data if t.name == "Pareto front")
    assert "trial" in front.hovertext[0]
    hv = plot.figure(hypervolume_spec(numbers, values, feasible, objectives=THREE))
    assert hv.data[0].line.shape == "hv"


@pytest.mark.parametrize("cols", [0, -1, 1.5, True, "2"])
def test_panels_per_row_must_be_a_positive_integer(cols: Any) -> None:
    pytest.importorskip("plotly")
    from hypersearch import plot
    from hypersearch.exceptions import InvalidArgumentError

    numbers, values, feasible, violations = columns_of(_records(10, 3, seed=1))
    spec = pareto_spec(numbers, values, feasible, objectives=THREE, violations=violations)
    with pytest.raises(InvalidArgumentError, match="cols is the number of panels per row"):
        plot.figure(spec, cols=cols)
    assert len({t.xaxis for t in plot.figure(spec, cols=1).data}) == 3  # one per row works
