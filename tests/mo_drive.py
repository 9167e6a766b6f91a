"""Shared by the multi-objective sampler tests: ZDT1, and a study's ask/tell loop on trial
records (what a study hands a sampler), without storage."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hypersearch.samplers import SamplingContext
from hypersearch.samplers.base import Sampler
from hypersearch.space import Float, Space
from hypersearch.trial import TrialRecord, TrialState

SPACE = Space({f"x{i}": Float(0.0, 1.0) for i in range(4)})
MIN2 = ("minimize", "minimize")


def zdt1(p: dict[str, Any]) -> tuple[float, float]:
    x = np.array([p[f"x{i}"] for i in range(4)])
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - math.sqrt(x[0] / g))


def ctx(
    trials: Sequence[TrialRecord], space: Space = SPACE, directions: tuple[str, ...] = MIN2
) -> SamplingContext:
    return SamplingContext(
        space=space,
        trials=tuple(trials),
        number=len(trials),
        direction=directions[0],
        directions=directions,
    )


def record(
    k: int,
    params: dict[str, Any],
    values: Sequence[float] | None,
    *,
    state: TrialState = TrialState.COMPLETE,
    violations: Sequence[float] | None = None,
    fail_reason: str | None = None,
) -> TrialRecord:
    return TrialRecord(
        number=k,
        state=state,
        params=params,
        values=None if values is None else tuple(values),
        constraint_violations=None if violations is None else tuple(violations),
        fail_reason=fail_reason,
        id=k,
    )


def drive(
    sampler: Sampler,
    evaluate: Callable[[dict[str, Any]], tuple[float, ...]],
    n: int,
    *,
    space: Space = SPACE,
    directions: tuple[str, ...] = MIN2,
    constraint: Callable[[dict[str, Any]], float] | None = None,
) -> list[TrialRecord]:
    """A study's ask/tell loop on records: what the study hands a sampler."""
    trials: list[TrialRecord] = []
    for k in range(n):
        params = sampler.sample(ctx(trials, space, directions))
        violations = None if constraint is None else (constraint(params),)
        trials.append(record(k, params, evaluate(params), violations=violations))
    return trials
