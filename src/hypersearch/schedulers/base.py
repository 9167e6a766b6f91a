"""The scheduler interface: from reported learning curves, decide whether a trial goes on.

Schedulers decide *when* (continue or stop); samplers decide *what*.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from hypersearch.trial import TrialRecord

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["Scheduler"]


class Scheduler(ABC):
    """Base class. ``should_stop`` runs after every ``trial.report``."""

    name: ClassVar[str] = "scheduler"

    @abstractmethod
    def should_stop(self, trial: TrialRecord, trials: Sequence[TrialRecord], study: Study) -> bool:
        """True to stop ``trial`` now, given its curve and every trial of the study."""

    def config(self) -> dict[str, Any]:
        return {"name": self.name}
