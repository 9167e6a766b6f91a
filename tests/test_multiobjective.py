"""Multi-objective studies and outcome constraints, end to end on real storage."""

from __future__ import annotations

from typing import Any

import pytest

import hypersearch as hs
from hypersearch.samplers import RandomSampler, Sampler, SamplingContext
from hypersearch.schedulers import Scheduler

SPACE = {"x": hs.Float(0.0, 1.0), "n": hs.Int(1, 8)}


# the records of the contract --------------------------------------------------------------
def test_objective_is_a_validated_frozen_value() -> None:
    objective = hs.Objective("val_accuracy", "maximize")
    assert (objective.name, objective.direction) == ("val_accuracy", "maximize")
    with pytest.raises(AttributeError):
        objective.name = "other"  # type: ignore[misc]
    with pytest.raises(hs.InvalidArgumentError, match=r"'minimize' or 'maximize'.*'max'"):
        hs.Objective("acc", "max")
    with pytest.raises(hs.InvalidArgumentError, match="non-empty"):
        hs.Objective("", "minimize")


def test_trial_records_keep_working_without_the_new_fields() -> None:
    record = hs.TrialRecord(number=0, state=hs.TrialState.COMPLETE, params={}, value=1.0)
    assert record.values is None and record.constraint_violations is None
    assert record.intermediate_values == {} and record.feasible


@pytest.mark.parametrize(
    ("violations", "feasible"),
    [((0.0, -1.5), True), ((0.0, 0.25), False), ((float("nan"),), False), ((), True)],
)
def test_feasible_means_no_violation_above_zero(
    violations: tuple[float, ...], feasible: bool
) -> None:
    record = hs.TrialRecord(
        number=0, state=hs.TrialState.COMPLETE, params={}, constraint_violations=violations
    )
    assert record.feasible is feasible


def test_schedulers_do_not_claim_multi_objective_support_by_default() -> None:
    assert Scheduler.supports_multi_objective is False
    assert hs.schedulers.MedianStopping.supports_multi_objective is False


class _Recording(Sampler):
    """Random proposals that keep every context it was handed."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__(seed=0)
        self.contexts: list[SamplingContext] = []
        self._random = RandomSampler(seed=0)

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        self.contexts.append(ctx)
        return self._random.sample(ctx)

    def sample_one(self, ctx: SamplingContext, name: str, param: hs.space.Param) -> Any:
        self.contexts.append(ctx)
        return self._random.sample_one(ctx, name, param)


def test_single_objective_study_fills_directions_and_objectives() -> None:
    sampler = _Recording()
    study = hs.create_study(space=SPACE, direction="maximize", metric="acc", sampler=sampler)
    assert study.objectives == (hs.Objective("acc", "maximize"),)
    assert study.directions == ("maximize",) and not study.is_multi_objective
    assert study.best_trials == []
    study.optimize(lambda t: t.params["x"] + t.float("y", 0.0, 1.0), n_trials=2)
    assert [c.directions for c in sampler.contexts] == [("maximize",)] * 4
    assert study.best_trials == [study.best_trial]
