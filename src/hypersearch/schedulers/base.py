"""The scheduler interface: from reported learning curves, decide whether a trial goes on.

Schedulers decide *when* (continue, stop, pause for a later trial to continue from its
checkpoint); samplers decide *what*. The simple interface is one method, ``should_stop``;
multi-fidelity schedulers also use the hooks below:

- ``plan(number, trials, study)`` runs when a trial starts: it may fix some parameters (BOHB's
  model, PBT's explore step) and attach attributes (Hyperband bracket, the step a continued
  trial starts at, the trial whose checkpoint it continues from).
- ``decide(trial, trials, study)`` runs after every report and returns a ``Decision``.
- ``needed_checkpoints(trials)`` names the finished trials whose checkpoint a future trial may
  still read (PBT donors, promotions); the study deletes the other checkpoints.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from hypersearch.trial import TrialRecord

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["Decision", "Scheduler", "TrialPlan"]


class Decision(enum.StrEnum):
    """What a scheduler says after a report.

    CONTINUE: train on. STOP: hopeless, end as STOPPED. PAUSE: the trial's segment is done
    (PBT); it ends as STOPPED and a later trial continues its lineage from its checkpoint.
    """

    CONTINUE = "continue"
    STOP = "stop"
    PAUSE = "pause"


@dataclass(frozen=True)
class TrialPlan:
    """What a scheduler decides for a trial that starts: parameters it fixes (the sampler
    proposes the rest) and attributes stored with the trial (``bracket``, ``start_step``,
    ``resume_from``, ``schedule``, ...). ``claim``: a key only one trial of the study may
    hold (``"promote:12"``); when another worker's trial took it first, the study plans
    again with that trial in the history, so parallel workers never duplicate the work."""

    params: Mapping[str, Any] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)
    claim: str | None = None


class Scheduler(ABC):
    """Base class. ``should_stop`` runs after every ``trial.report``."""

    name: ClassVar[str] = "scheduler"
    #: True when the scheduler cannot work unless the objective saves checkpoints (PBT).
    requires_checkpoints: ClassVar[bool] = False
    #: True when the scheduler ranks trials by several objectives (a multi-objective study
    #: refuses schedulers without it).
    supports_multi_objective: ClassVar[bool] = False

    @abstractmethod
    def should_stop(self, trial: TrialRecord, trials: Sequence[TrialRecord], study: Study) -> bool:
        """True to stop ``trial`` now, given its curve and every trial of the study."""

    def decide(self, trial: TrialRecord, trials: Sequence[TrialRecord], study: Study) -> Decision:
        """The decision after a report; by default ``should_stop`` as STOP or CONTINUE."""
        return Decision.STOP if self.should_stop(trial, trials, study) else Decision.CONTINUE

    def reacts_to(self, step: int, previous: int | None, attrs: Mapping[str, Any]) -> bool:
        """False when a report at ``step`` (after ``previous``) cannot change the decision, so
        the study need not read the history (rung schedulers decide only at rungs)."""
        return True

    def plan(self, number: int, trials: Sequence[TrialRecord], study: Study) -> TrialPlan | None:
        """Called when trial ``number`` starts; ``None`` leaves everything to the sampler."""
        return None

    def needed_checkpoints(self, trials: Sequence[TrialRecord]) -> set[int]:
        """Numbers of finished trials whose checkpoint a future trial may read."""
        return set()

    def config(self) -> dict[str, Any]:
        return {"name": self.name}
