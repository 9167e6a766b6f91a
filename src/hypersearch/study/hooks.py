"""What a live ``Trial`` calls on its study while the objective runs: define-by-run
parameters (checked against earlier definitions, sampled, recorded), reports (stored, then
the scheduler consulted), and checkpoints. A base of ``Study``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from hypersearch.exceptions import ParameterConflictError
from hypersearch.interrupts import interrupts_held
from hypersearch.samplers import Sampler, SamplingContext
from hypersearch.schedulers import Scheduler
from hypersearch.schedulers.base import Decision, SchedulerContext, consult
from hypersearch.space import Param, Space
from hypersearch.study.reading import StudyReading
from hypersearch.study.results import report_values
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study.kernel import Study
    from hypersearch.trial import Trial

__all__ = ["TrialHooks"]


class TrialHooks(StudyReading):
    """The study side of ``Trial.suggest``, ``report``, ``save_checkpoint`` and
    ``load_checkpoint``."""

    space: Space
    sampler: Sampler
    scheduler: Scheduler | None
    _history: list[TrialRecord]

    def _check_definition(self, name: str, param: Param) -> None:
        known = self._definitions.get(name)
        if known is not None and known != param:
            self._raise_conflict(name, known, param)

    @staticmethod
    def _raise_conflict(name: str, known: Param, param: Param) -> None:
        raise ParameterConflictError(
            f"Parameter {name!r} was defined as {known!r} earlier in this study but is now "
            f"asked as {param!r}. Use one definition per name (or a new name, or a new study)."
        )

    def _sample_one(self, trial: Trial, name: str, param: Param) -> Any:
        record = TrialRecord(number=trial.number, state=TrialState.RUNNING, params=trial.params)
        ctx = SamplingContext(
            space=self.space,
            trials=self._history,
            number=record.number,
            direction=self.direction,
            directions=self.directions,
        )
        with interrupts_held():  # as in ``_ask_once``: compiled code must not lose a Ctrl-C
            value = self.sampler.sample_one(ctx, name, param)
        return param.validate(value, name)

    def _record_param(self, trial: Trial, name: str, value: Any, param: Param) -> None:
        self._definitions.setdefault(name, param)
        self._storage.set_trial_params(
            trial._id, trial._token, {name: value}, {name: param.to_dict()}
        )

    def _save_checkpoint(self, number: int, obj: Any, step: int | None) -> Any:
        """``trial.save_checkpoint``: keep ``obj`` as trial ``number``'s checkpoint."""
        from hypersearch.checkpoints import save

        return save(cast("Study", self), number, obj, step)

    def _load_checkpoint(self, number: int) -> Any:
        """``trial.load_checkpoint``: trial ``number``'s checkpoint."""
        from hypersearch.checkpoints import load

        return load(cast("Study", self), self.get_trial(number))

    def _report_values(self, value: Any) -> tuple[float, tuple[float, ...] | None]:
        """What ``trial.report(value)`` stores (see ``results.report_values``)."""
        return report_values(value, self._objectives)

    def _on_report(
        self, trial: Trial, value: float, step: int, values: tuple[float, ...] | None = None
    ) -> bool:
        self._storage.report(trial._id, trial._token, step, value, values)
        if self.scheduler is None:
            return False
        previous = getattr(trial, "_previous_step", None)
        if not self.scheduler.reacts_to(step, previous, trial._attrs):
            trial.decision = str(Decision.CONTINUE)
            return False
        # one history read, through the finished-trial cache: this runs after every report
        history = self._read_history()
        record = next(t for t in history if t.id == trial._id)
        verdict = consult(self.scheduler, record, self._scheduler_context(history))
        if verdict.attrs:  # the scheduler's annotations (ASHA's paused_at), written here
            self.set_attrs(trial.number, verdict.attrs)
        trial.decision = str(verdict.decision)
        return verdict.decision is not Decision.CONTINUE

    def _scheduler_context(self, trials: Sequence[TrialRecord]) -> SchedulerContext:
        """What the scheduler may read: the trials, the space, the directions (not the study)."""
        return SchedulerContext(trials=trials, space=self.space, directions=self.directions)
