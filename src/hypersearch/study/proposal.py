"""Proposing a claimed trial's parameters: the history it may see (all other trials, or with
``deterministic=True`` only those ``n_workers`` back), the scheduler's plan (parameters it
fixes, attributes, a claimed promotion) and the sampler for the rest. A base of ``Study``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from hypersearch.samplers import Sampler, SamplingContext
from hypersearch.schedulers import Scheduler
from hypersearch.schedulers.base import SchedulerContext, TrialPlan, plan_trial
from hypersearch.space import Space
from hypersearch.study.reading import StudyReading
from hypersearch.trial import TrialRecord

if TYPE_CHECKING:
    from hypersearch.study.kernel import Study

__all__ = ["Proposal"]

logger = logging.getLogger("hypersearch")

#: Plans made again for one trial when other workers keep taking what it claims.
_PLAN_ATTEMPTS = 20


class Proposal(StudyReading):
    """``ask``'s second half: what a trial it claimed will run with."""

    space: Space
    sampler: Sampler
    scheduler: Scheduler | None
    #: The trials the last claimed trial is proposed from (its define-by-run samples too).
    _history: list[TrialRecord]
    _deterministic_lag: int | None
    _planned_attrs: dict[str, Any]

    def _propose(self, record: TrialRecord, token: str) -> dict[str, Any]:
        """The parameters of a claimed trial: the user's fixed ones, then the scheduler's plan,
        then the sampler for the rest; stored before the objective sees them."""
        fixed = dict(record.attrs.get("fixed_params", {}))
        lag = self._deterministic_lag
        if lag is not None:
            from hypersearch.execution.deterministic import wait_for_history

            wait_for_history(cast("Study", self), record.number - lag)
        self._history = self._visible_history(record)
        self._learn_definitions(self._history)
        self._planned_attrs = {}
        plan = self._plan(record, token)
        if plan is not None:  # the scheduler fixes some parameters; the user's fixed ones win
            fixed = {**{k: v for k, v in plan.params.items() if k in self.space}, **fixed}
            if plan.attrs:
                self._planned_attrs = dict(plan.attrs)
                self.set_attrs(record.number, self._planned_attrs)
        params: dict[str, Any] = {}
        todo = [k for k in self.space if k not in fixed]
        if todo:
            ctx = self._context(record, token, fixed)
            sampled = self.sampler.sample(ctx)
            params.update({k: self.space[k].validate(sampled[k], k) for k in todo})
        for k, v in fixed.items():
            if k in self.space:
                params[k] = self.space[k].validate(v, k)
        params = {k: params[k] for k in self.space}  # keep the space's order
        if params:
            self._storage.set_trial_params(
                record.id, token, params, {k: p.to_dict() for k, p in self.space.items()}
            )
        return params

    def _visible_history(self, record: TrialRecord) -> list[TrialRecord]:
        """The trials that ``record`` is proposed from: all others, or with
        ``deterministic=True`` those up to ``number - lag`` only."""
        history = self._read_history(exclude=record.id)
        lag = self._deterministic_lag
        if lag is not None:
            history = [t for t in history if t.number <= record.number - lag]
        return history

    def _plan(self, record: TrialRecord, token: str) -> TrialPlan | None:
        """The scheduler's plan for this trial. A plan that claims a key (a promotion) which
        another worker's trial took meanwhile is made again, with that trial in view."""
        if self.scheduler is None:
            return None
        for _ in range(_PLAN_ATTEMPTS):
            plan = plan_trial(
                self.scheduler, record.number, self._scheduler_context(self._history)
            )
            if plan is None or plan.claim is None:
                return plan
            if self._storage.set_claim_key(record.id, token, plan.claim):
                return plan
            self._history = self._visible_history(record)
        logger.warning(
            "Trial %d: other workers took each promotion it was planned for; sampling afresh.",
            record.number,
        )
        return None

    def _context(
        self, record: TrialRecord, token: str, fixed: Mapping[str, Any]
    ) -> SamplingContext:
        return SamplingContext(
            space=self.space,
            trials=self._history,
            number=record.number,
            direction=self.direction,
            claim=lambda key: self._storage.set_claim_key(record.id, token, key),
            fixed=fixed,
            directions=self.directions,
        )

    def _scheduler_context(self, trials: Sequence[TrialRecord]) -> SchedulerContext:
        """What the scheduler may read: the trials, the space, the directions (not the study)."""
        return SchedulerContext(trials=trials, space=self.space, directions=self.directions)
