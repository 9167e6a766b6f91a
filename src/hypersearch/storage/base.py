"""The storage interface: the single source of truth that every worker coordinates through.

Backends implement this class; ``hypersearch.testing.storage_suite`` checks that each one
keeps the rules in DESIGN.md (atomic claims, leases, idempotent finish, schema versions).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypersearch.objectives import Objective
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["ClaimedTrial", "Storage", "StudyRecord", "StudySummary"]


@dataclass(frozen=True)
class StudyRecord:
    """A study's identity and the configuration it was created with."""

    id: int
    name: str
    direction: str
    metric: str
    space: Mapping[str, Any] | None
    config: Mapping[str, Any] = field(default_factory=dict)
    created_at: float | None = None
    #: Every objective in order (one, ``Objective(metric, direction)``, for older rows).
    objectives: tuple[Objective, ...] = ()
    #: The constraints as stored: ``[{"metric", "op", "bound"}, ...]`` or
    #: ``[{"function": "module.name"}]``; ``None`` without constraints.
    constraints: Sequence[Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class StudySummary:
    """What a list of studies shows: counts per state, best value, last activity."""

    name: str
    direction: str
    metric: str
    counts: Mapping[str, int]
    best_value: float | None
    created_at: float | None
    last_activity: float | None
    id: int = -1
    objectives: tuple[Objective, ...] = ()
    #: Multi-objective studies: how many trials are on the Pareto front (``best_value`` is None).
    front_size: int | None = None

    @property
    def n_trials(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ClaimedTrial:
    """A trial this worker now owns: its record and the lease token its writes must carry."""

    record: TrialRecord
    token: str


class Storage(ABC):
    """Persistent home of studies and trials. Every method is one short transaction."""

    #: The URL with any password replaced by ``***``, safe to print.
    url: str = ""

    # studies ----------------------------------------------------------------------------
    @abstractmethod
    def create_study(
        self,
        name: str,
        *,
        direction: str,
        metric: str,
        space: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        objectives: Sequence[Objective] = (),
        constraints: Sequence[Mapping[str, Any]] | None = None,
    ) -> StudyRecord: ...

    @abstractmethod
    def get_study(self, name: str) -> StudyRecord:
        """Raise ``StudyNotFoundError`` (listing the names there are) when absent."""

    @abstractmethod
    def update_study(
        self, study_id: int, *, space: Mapping[str, Any] | None, config: Mapping[str, Any]
    ) -> None: ...

    @abstractmethod
    def list_studies(self) -> list[StudySummary]: ...

    @abstractmethod
    def delete_study(self, name: str) -> None: ...

    # trials -----------------------------------------------------------------------------
    @abstractmethod
    def enqueue_trial(
        self,
        study_id: int,
        params: Mapping[str, Any],
        *,
        note: str = "",
        tags: Sequence[str] = (),
        attrs: Mapping[str, Any] | None = None,
    ) -> int:
        """Add a WAITING trial with fixed parameters; return its number."""

    @abstractmethod
    def add_finished_trial(self, study_id: int, record: TrialRecord) -> int:
        """Record a trial that ran elsewhere (e.g. by hand); return its number."""

    def add_finished_trials(self, study_id: int, records: Sequence[TrialRecord]) -> list[int]:
        """Record many trials that ran elsewhere (an import); return their numbers. Backends
        override this with one transaction; the default adds them one by one."""
        return [self.add_finished_trial(study_id, r) for r in records]

    @abstractmethod
    def claim_trial(
        self, study_id: int, *, host: str, pid: int, gpu: str | None, take_waiting: bool = True
    ) -> ClaimedTrial:
        """Atomically take the oldest WAITING trial, or create a new RUNNING one."""

    @abstractmethod
    def set_claim_key(self, trial_id: int, token: str, key: str) -> bool:
        """Reserve ``key`` (e.g. a grid point) for the trial; False if another trial has it."""

    @abstractmethod
    def discard_trial(self, trial_id: int, token: str) -> None:
        """Delete a RUNNING trial that never started its objective (e.g. the grid is done)."""

    @abstractmethod
    def set_trial_params(
        self,
        trial_id: int,
        token: str,
        params: Mapping[str, Any],
        distributions: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Merge parameters (with their definitions as dicts) into a running trial."""

    @abstractmethod
    def report(
        self,
        trial_id: int,
        token: str,
        step: int,
        value: float,
        values: Sequence[float] | None = None,
    ) -> None:
        """Record ``value`` at ``step`` (and, with several objectives, all of ``values``)."""

    @abstractmethod
    def heartbeat(self, trial_ids: Iterable[int], token_by_id: Mapping[int, str]) -> None: ...

    @abstractmethod
    def finish_trial(
        self,
        trial_id: int,
        token: str,
        state: TrialState,
        *,
        value: float | None = None,
        metrics: Mapping[str, Any] | None = None,
        fail_reason: str | None = None,
        traceback: str | None = None,
        values: Sequence[float] | None = None,
        constraint_violations: Sequence[float] | None = None,
    ) -> TrialRecord | None:
        """Finish a running trial. Repeating the same finish with the same token is a no-op;
        a token that no longer owns the trial raises ``StaleTrialError``.

        Returns the finished record when the backend has it at no extra cost (saving the
        caller a read), or None: then read it with ``get_trial``."""

    @abstractmethod
    def reap_stale_trials(
        self,
        study_id: int,
        *,
        grace_seconds: float,
        host: str,
        dead_pids: Iterable[int] = (),
        alive_pids: Iterable[int] = (),
    ) -> list[int]:
        """Mark FAILED the RUNNING trials whose lease expired (database clock; never with an
        infinite ``grace_seconds``) unless their worker on ``host`` is one of ``alive_pids``,
        or whose worker on ``host`` is one of ``dead_pids``. Return their numbers."""

    @abstractmethod
    def running_trials(self, study_id: int) -> list[tuple[int, str | None, int | None]]:
        """``(number, host, pid)`` of every RUNNING trial, for liveness checks."""

    @abstractmethod
    def get_trials(
        self, study_id: int, states: Sequence[TrialState] | None = None
    ) -> list[TrialRecord]: ...

    @abstractmethod
    def get_trial(self, study_id: int, number: int) -> TrialRecord: ...

    def trial_states(self, study_id: int) -> list[tuple[int, int, TrialState]]:
        """``(id, number, state)`` of every trial, by number: what a poll for progress needs.
        Backends override this with a narrow read; the default reads every record."""
        return [(t.id, t.number, t.state) for t in self.get_trials(study_id)]

    def get_trials_after(
        self, study_id: int, after: int, numbers: Iterable[int] = ()
    ) -> list[TrialRecord]:
        """Full records, by number, of the trials numbered above ``after`` and of those
        numbered in ``numbers``: what a caller holding every finished trial up to ``after``
        (finished records do not change) re-reads to bring its copy of the history up to date,
        with ``numbers`` the trials up to ``after`` it last saw unfinished. Backends override
        this with a read of only those rows; the default filters ``get_trials``."""
        wanted = set(numbers)
        return [t for t in self.get_trials(study_id) if t.number > after or t.number in wanted]

    @abstractmethod
    def update_trial_annotations(
        self,
        study_id: int,
        number: int,
        *,
        note: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        attrs: Mapping[str, Any] | None = None,
    ) -> None: ...

    def close(self) -> None:
        """Release connections. The default has nothing to release."""
