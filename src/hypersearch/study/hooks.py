"""What a live ``Trial`` asks of its study while the objective runs: define-by-run parameters
(checked against earlier definitions, sampled, recorded), reports (stored, then the scheduler
consulted), checkpoints and annotations. ``TrialHooks`` is the study's ``TrialHost``: each
study makes one and hands it to every trial it starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hypersearch.interrupts import interrupts_held
from hypersearch.samplers import SamplingContext
from hypersearch.schedulers.base import Decision, consult
from hypersearch.space import Param
from hypersearch.study.results import report_values
from hypersearch.trial import Trial, TrialHost, TrialRecord, TrialState, parameter_conflict

if TYPE_CHECKING:
    from hypersearch.study.kernel import Study

__all__ = ["TrialHooks"]


class TrialHooks(TrialHost):
    """The study side of ``Trial.suggest``, ``report``, ``save_checkpoint``,
    ``load_checkpoint`` and the trial's notes, tags and attributes."""

    def __init__(self, study: Study) -> None:
        self._study = study

    @property
    def study(self) -> Study:
        return self._study

    def check_definition(self, name: str, param: Param) -> None:
        known = self._study._definitions.get(name)
        if known is not None and known != param:
            raise parameter_conflict(name, known, param)

    def sample(self, trial: Trial, name: str, param: Param) -> Any:
        study = self._study
        record = TrialRecord(number=trial.number, state=TrialState.RUNNING, params=trial.params)
        ctx = SamplingContext(
            space=study.space,
            trials=study._history,
            number=record.number,
            direction=study.direction,
            directions=study.directions,
        )
        with interrupts_held():  # as in ``ask``: compiled code must not lose a Ctrl-C
            value = study.sampler.sample_one(ctx, name, param)
        return param.validate(value, name)

    def record_param(self, trial: Trial, name: str, value: Any, param: Param) -> None:
        self._study._definitions.setdefault(name, param)
        lease = trial.lease
        self._study._storage.set_trial_params(
            lease.id, lease.token, {name: value}, {name: param.to_dict()}
        )

    def parse_report(self, value: Any) -> tuple[float, tuple[float, ...] | None]:
        """What ``trial.report(value)`` stores (see ``results.report_values``)."""
        return report_values(value, self._study._objectives)

    def report(
        self,
        trial: Trial,
        value: float,
        step: int,
        values: tuple[float, ...] | None,
        previous_step: int | None,
    ) -> str | None:
        study, lease = self._study, trial.lease
        study._storage.report(lease.id, lease.token, step, value, values)
        if study.scheduler is None:
            return None
        if not study.scheduler.reacts_to(step, previous_step, trial.attrs):
            return str(Decision.CONTINUE)
        # one history read, through the finished-trial cache: this runs after every report
        history = study._read_history()
        record = next(t for t in history if t.id == lease.id)
        verdict = consult(study.scheduler, record, study._scheduler_context(history))
        if verdict.attrs:  # the scheduler's annotations (ASHA's paused_at), written here
            study.set_attrs(trial.number, verdict.attrs)
        return str(verdict.decision)

    def save_checkpoint(self, number: int, obj: Any, step: int | None) -> Any:
        """``trial.save_checkpoint``: keep ``obj`` as trial ``number``'s checkpoint."""
        from hypersearch.checkpoints import save

        return save(self._study, number, obj, step)

    def load_checkpoint(self, number: int) -> Any:
        """``trial.load_checkpoint``: trial ``number``'s checkpoint."""
        from hypersearch.checkpoints import load

        return load(self._study, self._study.get_trial(number))

    def set_attrs(self, number: int, attrs: Mapping[str, Any]) -> None:
        self._study.set_attrs(number, attrs)

    def set_note(self, number: int, note: str) -> None:
        self._study.set_note(number, note)

    def add_tags(self, number: int, *tags: str) -> None:
        self._study.add_tags(number, *tags)
