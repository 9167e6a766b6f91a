"""Learning-curve arithmetic shared by the rung schedulers: a trial's best value up to a
resource or its value there, and curves joined along promotions (a trial continuing a paused
one)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from hypersearch.trial import TrialRecord

__all__ = ["curve_value", "lineage_curves", "promoted_parents", "rung_value", "value_at"]


def rung_value(trial: TrialRecord, resource: int, minimize: bool) -> float | None:
    """The trial's best finite value up to the first step >= ``resource`` (None if it never
    reached it)."""
    return curve_value(trial.intermediate, resource, minimize)


def curve_value(curve: Mapping[int, float], resource: int, minimize: bool) -> float | None:
    """Best finite value of ``curve`` (step -> value) up to its first step >= ``resource``."""
    reached = [s for s in curve if s >= resource]
    if not reached:
        return None
    first = min(reached)
    values = [v for s, v in curve.items() if s <= first and not math.isnan(v)]
    if not values:
        return None
    return min(values) if minimize else max(values)


def value_at(curve: Mapping[int, float], resource: int) -> float | None:
    """The value ``curve`` (step -> value) reported at its first step >= ``resource``; None if
    it never got there or that report is not finite. Unlike ``curve_value`` an earlier, better
    report does not count: on a fidelity whose early values mislead (a tree's error on 5% of
    the data) the best value so far is not the value at the resource."""
    reached = [s for s in curve if s >= resource]
    if not reached:
        return None
    v = curve[min(reached)]
    return v if math.isfinite(v) else None


def promoted_parents(trials: Sequence[TrialRecord]) -> set[int]:
    """Numbers of the trials that a later trial of ``trials`` continues (its
    ``attrs["promoted_from"]``): their curves are the front part of that trial's lineage."""
    return {int(p) for t in trials if (p := t.attrs.get("promoted_from")) is not None}


def lineage_curves(trials: Sequence[TrialRecord]) -> dict[int, dict[int, float]]:
    """Each trial's learning curve with the curves of the trials it continues (promotions
    from a paused trial, ``attrs["promoted_from"]``) in front of its own reports."""
    by_number = {t.number: t for t in trials}
    merged: dict[int, dict[int, float]] = {}
    for t in sorted(trials, key=lambda t: t.number):
        parent = t.attrs.get("promoted_from")
        base: dict[int, float] = {}
        if parent is not None and int(parent) in by_number and int(parent) < t.number:
            base = dict(merged.get(int(parent), by_number[int(parent)].intermediate))
        base.update(t.intermediate)
        merged[t.number] = base
    return merged
