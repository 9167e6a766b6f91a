"""Reading a study: its trials, the best one(s), tables, and the annotations users add
(notes, tags, attributes). A base of ``Study``; it only reads storage and annotates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.objectives import Constraints, Objective, pareto_front
from hypersearch.space import Param
from hypersearch.storage import Storage
from hypersearch.study.history import KnownTrials
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["MultiObjectiveError", "NoCompletedTrialsError", "StudyReading"]


class NoCompletedTrialsError(HypersearchError, ValueError):
    """Asked for a best trial before any trial completed with a value."""


class MultiObjectiveError(HypersearchError, ValueError):
    """A single-objective call (``best_value``, ``best_params``...) on a study with several
    objectives, which has a Pareto front (``best_trials``) instead of one best trial."""


class StudyReading:
    """The read side of a study (and its annotations): what the CLI, the dashboard and a
    notebook use. ``Study`` adds asking, telling and running trials."""

    name: str
    metric: str
    direction: Direction
    constraints: Constraints | None
    _storage: Storage
    _id: int
    _objectives: tuple[Objective, ...]
    _known: KnownTrials
    _definitions: dict[str, Param]
    _learned: set[int]

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def id(self) -> int:
        """The study's id in its storage (what storage calls take)."""
        return self._id

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """What the study optimises, in order: one ``Objective`` or several."""
        return self._objectives

    @property
    def directions(self) -> tuple[Direction, ...]:
        """Each objective's direction, in order."""
        return tuple(Direction.parse(o.direction) for o in self._objectives)

    @property
    def is_multi_objective(self) -> bool:
        return len(self._objectives) > 1

    @property
    def storage_url(self) -> str:
        """The storage's URL with any password replaced by ``***`` (``Storage.url``): safe to
        print as it is."""
        return self._storage.url

    # history ------------------------------------------------------------------------
    def _read_history(self, exclude: int | None = None) -> list[TrialRecord]:
        """Every trial by number (but the one with id ``exclude``), reading in full only
        those not already seen finished."""
        return self._known.refresh(self._storage, self._id, exclude)

    def _learn_definitions(self, trials: Sequence[TrialRecord]) -> None:
        learned = self._learned
        for t in trials:
            if t.id in learned:
                continue  # a finished trial's definitions do not change: learned once
            for k, p in t.distributions.items():
                self._definitions.setdefault(k, p)
            if t.state.is_finished:
                learned.add(t.id)

    # reading ------------------------------------------------------------------------------
    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial, by number, freshly read from storage."""
        return self._storage.get_trials(self._id)

    def get_trials(self, states: Sequence[TrialState | str] | None = None) -> list[TrialRecord]:
        return self._storage.get_trials(
            self._id, None if states is None else [TrialState(s) for s in states]
        )

    def get_trial(self, number: int) -> TrialRecord:
        return self._storage.get_trial(self._id, number)

    def top(self, k: int = 5) -> list[TrialRecord]:
        """The ``k`` best completed trials, best first (ties: earlier trial first)."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidArgumentError(f"top(k) needs a positive integer, got {k!r}.")
        self._single_objective_only("top()")
        done = [t for t in self.get_trials([TrialState.COMPLETE]) if t.has_value and t.feasible]
        sign = self.direction.sign
        done.sort(key=lambda t: (sign * float(t.value), t.number))  # type: ignore[arg-type]
        return done[:k]

    @property
    def best_trial(self) -> TrialRecord:
        """The best feasible completed trial (``NoCompletedTrialsError`` before any)."""
        self._single_objective_only("best_trial")
        best = self.top(1)
        if not best:
            infeasible = self.constraints is not None and any(
                t.has_value for t in self.get_trials([TrialState.COMPLETE])
            )
            raise NoCompletedTrialsError(
                f"Study {self.name!r} has no feasible completed trial: every one violates a "
                f"constraint ({self.constraints.describe()}). Relax the constraints, or look "
                "at study.trials."
                if infeasible and self.constraints is not None
                else f"Study {self.name!r} has no completed trial with a value yet; run "
                "study.optimize(...) or study.tell(...) first."
            )
        return best[0]

    @property
    def best_trials(self) -> list[TrialRecord]:
        """The feasible COMPLETE trials no other one beats on every objective (the Pareto
        front), by number; for one objective, the best trial alone (``[]`` before any)."""
        if not self.is_multi_objective:
            return self.top(1)
        return pareto_front(self.get_trials([TrialState.COMPLETE]), self.directions)

    @property
    def best_value(self) -> float:
        self._single_objective_only("best_value")
        return float(self.best_trial.value)  # type: ignore[arg-type]

    @property
    def best_params(self) -> dict[str, Any]:
        self._single_objective_only("best_params")
        return dict(self.best_trial.params)

    def _single_objective_only(self, what: str) -> None:
        if self.is_multi_objective:
            names = ", ".join(repr(o.name) for o in self._objectives)
            raise MultiObjectiveError(
                f"Study {self.name!r} has {len(self._objectives)} objectives ({names}), so it "
                f"has no single best trial for {what}: use study.best_trials (the Pareto "
                "front: trials no other trial beats on every objective) and pick one, e.g. "
                "max(study.best_trials, key=lambda t: t.values[0])."
            )

    def table(self) -> list[dict[str, Any]]:
        """One flat dict per trial (``params.*`` and ``metrics.*`` columns), for CSV or pandas."""
        from hypersearch.export import trials_to_rows

        return trials_to_rows(
            self.trials,
            self.metric,
            objectives=[o.name for o in self._objectives] if self.is_multi_objective else None,
            constraints=self.constraint_labels(),
        )

    def constraint_labels(self) -> list[str] | None:
        """A short name per constraint (its metric), for tables; ``None`` without any."""
        return None if self.constraints is None else self.constraints.labels()

    def trials_dataframe(self) -> Any:
        """The trials as a pandas DataFrame (needs ``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                'trials_dataframe() needs pandas: pip install "hypersearch[pandas]". '
                "study.table() gives the same rows as plain dicts."
            ) from None
        return pd.DataFrame(self.table())

    # annotations -----------------------------------------------------------------------
    def set_note(self, number: int, note: str) -> None:
        if not isinstance(note, str):
            raise InvalidArgumentError(f"A note is text, got {type(note).__name__}.")
        self._storage.update_trial_annotations(self._id, number, note=note)

    def add_tags(self, number: int, *tags: str) -> None:
        self._storage.update_trial_annotations(self._id, number, add_tags=check_tags(tags))

    def remove_tags(self, number: int, *tags: str) -> None:
        self._storage.update_trial_annotations(self._id, number, remove_tags=check_tags(tags))

    def set_attrs(self, number: int, attrs: Mapping[str, Any]) -> None:
        self._storage.update_trial_annotations(self._id, number, attrs=dict(attrs))


def check_tags(tags: Sequence[str]) -> list[str]:
    bad = [t for t in tags if not isinstance(t, str) or not t.strip()]
    if bad:
        raise InvalidArgumentError(f"Tags must be non-empty strings, got {bad!r}.")
    return [t.strip() for t in tags]
