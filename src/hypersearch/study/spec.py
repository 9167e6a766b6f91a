"""A study's spec: everything needed to open the same study elsewhere (a worker process, a Ray
task, a wrapped storage), so executors hand over ``study.to_spec()`` and call ``spec.open()``
instead of reading the study's private fields. Importing it costs nothing of the study."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypersearch.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from hypersearch.objectives import Constraints, Objective
    from hypersearch.samplers import Sampler
    from hypersearch.schedulers import Scheduler
    from hypersearch.space import Space
    from hypersearch.storage import Storage
    from hypersearch.study.kernel import Study

__all__ = ["StudySpec"]


@dataclass(frozen=True)
class StudySpec:
    """Everything needed to open the same study elsewhere: in a worker process, a Ray task or
    on a wrapped storage (``spec.open(storage=...)``). Picklable when its sampler, scheduler
    and constraints are; ``storage_url`` carries the password, for our own workers only."""

    name: str
    study_id: int
    storage_url: str
    direction: str
    metric: str
    space: Space
    sampler: Sampler
    scheduler: Scheduler | None
    objectives: tuple[Objective, ...] = ()
    constraints: Constraints | None = None
    connection_retry_s: float | None = None
    #: seconds between lease refreshes; ``None``: leases are not refreshed (a fake clock)
    heartbeat_interval: float | None = 10.0
    grace_period: float = 60.0
    reap_interval: float = 15.0
    max_retries: int = 0
    deterministic_lag: int | None = None
    artifact_dir: str | None = None
    #: the class that opens it (``Study``, or the user's subclass)
    study_class: type[Study] | None = None

    def open(self, storage: Storage | None = None) -> Study:
        """The study this spec describes, on ``storage`` (default: a new connection to
        ``storage_url``)."""
        if self.study_class is None:
            raise InvalidArgumentError(
                "This StudySpec names no study class; make specs with study.to_spec()."
            )
        return self.study_class.from_spec(self, storage)
