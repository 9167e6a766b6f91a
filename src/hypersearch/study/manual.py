"""Trials users add by hand: ``enqueue`` (parameters to run next, the "babysitting" workflow)
and ``add_trial`` (a trial already run elsewhere, with its result and curve)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypersearch.exceptions import InvalidArgumentError, InvalidSpaceError
from hypersearch.lease import HOST
from hypersearch.space import Space
from hypersearch.study.reading import StudyReading
from hypersearch.study.results import (
    json_scalar,
    judge_constraints,
    parse_result,
    report_values,
    values_argument,
)
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["ManualTrials"]


class ManualTrials(StudyReading):
    """``enqueue`` and ``add_trial``: a base of ``Study``."""

    space: Space

    def enqueue(
        self,
        params: Mapping[str, Any],
        *,
        note: str = "",
        tags: Sequence[str] = (),
        allow_new: bool = False,
    ) -> int:
        """Queue a trial with your own parameters (the "babysitting" workflow); it runs before
        any sampled trial and is compared like any other. Parameters left out are sampled.

        Each name must be known: in the space, or asked (``trial.float(...)``...) by an
        earlier trial, so a misspelled name is an error rather than silently ignored. For a
        define-by-run parameter no trial has asked for yet, pass ``allow_new=True``. A study
        with no space and no trials yet takes any name (there is nothing to check against).

        >>> study.enqueue({"lr": 1e-3, "batch_size": 64}, note="baseline from the paper")
        """
        checked = self._validate_manual(params, partial=True)
        known = {*self.space, *self._definitions}
        unknown = [k for k in checked if k not in known]
        if unknown and known and not allow_new:
            raise InvalidSpaceError(
                f"enqueue: unknown parameter(s) {', '.join(map(repr, unknown))}; the known "
                f"parameters are {', '.join(map(repr, sorted(known)))}. Fix the name, or pass "
                "allow_new=True for a define-by-run parameter the objective asks for but no "
                "trial has asked yet."
            )
        return self._storage.enqueue_trial(self._id, checked, note=note, tags=list(tags))

    def add_trial(
        self,
        params: Mapping[str, Any],
        value: Any = None,
        *,
        values: Sequence[float] | Mapping[str, float] | None = None,
        note: str = "",
        tags: Sequence[str] = (),
        curve: Mapping[int, Any] | Sequence[Any] | None = None,
    ) -> int:
        """Record a trial you already ran by hand, with its result (and learning curve).

        With several objectives, pass every objective's value (``values=(acc, ms)`` or a
        dict by name, extra keys kept as metrics); a curve then has, per step, one value per
        objective.
        """
        checked = self._validate_manual(params, partial=False)
        if values is not None:
            if value is not None:
                raise InvalidArgumentError(
                    "add_trial() takes value= (one objective) or values= (several), not both."
                )
            value = values_argument(values, self._objectives)
        result = parse_result(value, self._objectives)
        problem = result.problem
        violations = None
        if problem is None:
            violations, problem = judge_constraints(result, self.constraints, self._objectives)
        if problem is not None:
            raise InvalidArgumentError(
                f"add_trial: {problem.replace('objective returned', 'value is')}."
            )
        if curve is not None and not isinstance(curve, Mapping):
            curve = dict(enumerate(curve))
        steps: dict[int, float] = {}
        several: dict[int, tuple[float, ...]] = {}
        for k, v in (curve or {}).items():
            first, per_objective = report_values(v, self._objectives)
            steps[int(k)] = first
            if per_objective is not None:
                several[int(k)] = per_objective
        dists = {k: self._definitions[k] for k in checked if k in self._definitions}
        record = TrialRecord(
            number=-1,
            state=TrialState.COMPLETE,
            params=checked,
            distributions=dists,
            value=result.value,
            metrics=result.metrics,
            source="manual",
            note=note,
            tags=tuple(tags),
            intermediate=steps,
            host=HOST,
            values=result.values,
            constraint_violations=violations,
            intermediate_values=several,
        )
        return self._storage.add_finished_trial(self._id, record)

    def _validate_manual(self, params: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        if not isinstance(params, Mapping):
            raise InvalidArgumentError(f"params must be a dict of name -> value, got {params!r}.")
        self._learn_definitions(self._read_history())
        declared = {k: v for k, v in params.items() if k in self.space}
        checked = self.space.validate(declared, partial=True)
        if not partial:
            missing = [k for k in self.space if k not in params]
            if missing:
                raise InvalidSpaceError(f"Missing value(s) for {missing!r}.")
        for k, v in params.items():
            if k in self.space:
                continue
            known = self._definitions.get(k)
            if known is not None:
                checked[k] = known.validate(v, k)
            elif not json_scalar(v):
                raise InvalidSpaceError(f"{k}: {v!r} must be a number, string, bool or None.")
            else:
                checked[k] = v
        return checked
