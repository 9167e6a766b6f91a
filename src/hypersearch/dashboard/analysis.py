"""Which value of each trial the dashboard's analysis charts compare, for multi-fidelity studies.

Importance, parallel coordinates, slices and the contour plot compare trials by one number
each. With a scheduler (Hyperband, ASHA, median) most trials are STOPPED early and only a few
COMPLETE, so final values alone leave almost nothing to compare, and a stopped trial's last
value (after 1 epoch) cannot be ranked against a completed one's (after 27). The fair
comparison is at one resource level: the *highest step that enough trials reached* (a rung),
each trial's value at that step (its last report at or before it).

The rule (``choose_basis``): final values when at least ``MIN_TRIALS`` trials completed with a
finite value (or nothing was stopped after reporting); otherwise the highest step reached by
``MIN_TRIALS`` completed or stopped trials; with fewer trials than that, the highest step every
one of them reached. The charts say which basis they show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypersearch.dashboard.importance import MIN_TRIALS, main_effects
from hypersearch.dashboard.queries import DashboardData

__all__ = ["Basis", "analysis", "choose_basis"]


@dataclass(frozen=True)
class Basis:
    """What the analysis charts compare: final values (``step is None``) or values at ``step``."""

    step: int | None
    n_trials: int
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "final" if self.step is None else "step",
            "step": self.step,
            "n": self.n_trials,
            "label": self.label,
        }


def choose_basis(n_complete: int, max_steps: Sequence[int]) -> Basis:
    """The basis for a study with ``n_complete`` finite completed values, where ``max_steps``
    holds the last reported step of each COMPLETE or STOPPED trial that reported.

    >>> choose_basis(1, [27] + [1] * 29).label
    'values at step 1, the highest step 20 trials reached (30 trials; 1 completed)'
    """
    final = Basis(None, n_complete, f"final values of {n_complete} completed trials")
    if n_complete >= MIN_TRIALS or len(max_steps) <= max(1, n_complete):
        return final
    ordered = sorted(max_steps, reverse=True)
    enough = min(MIN_TRIALS, len(ordered))
    step = ordered[enough - 1]
    reached = sum(1 for s in ordered if s >= step)
    why = (
        f"the highest step {MIN_TRIALS} trials reached"
        if enough == MIN_TRIALS
        else "the highest step all of them reached"
    )
    return Basis(
        step,
        reached,
        f"values at step {step}, {why} ({reached} trials; {n_complete} completed)",
    )


def analysis(data: DashboardData, study_id: int, *, sample: int) -> dict[str, Any]:
    """The basis, the compared value and the parameters of each trial on it, and importance
    computed from them (the charts need nothing else, so a big study's page never loads every
    trial's parameters).

    ``sample`` caps the trials used (evenly spaced) so a huge study stays fast.
    """
    numbers, values, params = data.finished_values_numbered(study_id, limit=sample)
    n_complete = len(values)
    basis = Basis(None, n_complete, f"final values of {n_complete} completed trials")
    if n_complete < MIN_TRIALS:
        max_steps = data.last_steps_of_finished(study_id)
        basis = choose_basis(n_complete, list(max_steps.values()))
        if basis.step is not None:
            wanted = sorted(n for n, s in max_steps.items() if s >= basis.step)
            if len(wanted) > sample:
                stride = len(wanted) / sample
                wanted = [wanted[int(i * stride)] for i in range(sample)]
            at_step = data.values_at_step(study_id, wanted, basis.step)
            numbers = [n for n in wanted if n in at_step]
            values = [at_step[n][0] for n in numbers]
            params = [at_step[n][1] for n in numbers]
    return {
        "basis": basis.to_dict(),
        "numbers": numbers,
        "values": values,
        "params": params,
        "importance": main_effects(params, values),
        "n_trials": basis.n_trials,
        "sample": len(values),
        "method": "fanova-main",
    }
