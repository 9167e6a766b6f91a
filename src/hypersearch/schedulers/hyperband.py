"""Successive halving, ASHA and Hyperband on a resource axis (whatever ``step`` counts:
epochs, batches, samples).

Rungs sit at ``min_resource * reduction_factor**k`` (below ``max_resource``). When a trial first
reports a step at or past a rung, it goes on only if its best value so far is among the top
``1/reduction_factor`` of the trials of its bracket that reached that rung (the first trial at a
rung always goes on). This is the asynchronous, stopping form of successive halving (ASHA, as in
Ray Tune and Optuna): no worker ever waits for a rung to fill, and a promoted trial simply
trains on, so nothing is retrained from scratch. Stopped trials are STOPPED, curves kept.

Hyperband runs several such brackets at once, each starting its first rung at a different
resource (aggressive to none), and gives each new trial a bracket in proportion to the number
of trials Hyperband's schedule puts in that bracket.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.schedulers.base import Scheduler, TrialPlan
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["ASHA", "Hyperband", "SuccessiveHalving", "rung_value"]

logger = logging.getLogger("hypersearch")


def rung_value(trial: TrialRecord, resource: int, minimize: bool) -> float | None:
    """The trial's best finite value up to the first step >= ``resource`` (None if it never
    reached it)."""
    steps = sorted(trial.intermediate)
    reached = [s for s in steps if s >= resource]
    if not reached:
        return None
    values = [v for s in steps if s <= reached[0] and not math.isnan(v := trial.intermediate[s])]
    if not values:
        return None
    return min(values) if minimize else max(values)


def _check_resources(owner: str, min_resource: int, max_resource: int | str, eta: int) -> None:
    if isinstance(min_resource, bool) or not isinstance(min_resource, int) or min_resource < 0:
        raise InvalidArgumentError(
            f"{owner}: min_resource must be an integer >= 0, got {min_resource!r}."
        )
    if max_resource != "auto" and (
        isinstance(max_resource, bool)
        or not isinstance(max_resource, int)
        or max_resource <= min_resource
    ):
        raise InvalidArgumentError(
            f"{owner}: max_resource must be 'auto' or an integer > min_resource={min_resource}, "
            f"got {max_resource!r}."
        )
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise InvalidArgumentError(
            f"{owner}: reduction_factor must be an integer >= 2, got {eta!r}."
        )


class ASHA(Scheduler):
    """Asynchronous successive halving.

    ``min_early_stopping_rate`` s puts the first rung at ``min_resource * reduction_factor**s``.
    ``max_resource="auto"`` takes the last step of the first completed trial (until then
    nothing is stopped).

    >>> hs.create_study(..., scheduler=hs.schedulers.ASHA(min_resource=1, max_resource=27))
    """

    name = "asha"

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
    ) -> None:
        _check_resources(type(self).__name__, min_resource, max_resource, reduction_factor)
        if min_early_stopping_rate < 0:
            raise InvalidArgumentError(
                f"{type(self).__name__}: min_early_stopping_rate >= 0 must hold, got "
                f"{min_early_stopping_rate!r}."
            )
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.reduction_factor = reduction_factor
        self.min_early_stopping_rate = min_early_stopping_rate
        self._max: int | None = None if max_resource == "auto" else int(max_resource)
        self._warned: set[str] = set()

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "min_resource": self.min_resource,
            "max_resource": self.max_resource,
            "reduction_factor": self.reduction_factor,
            "min_early_stopping_rate": self.min_early_stopping_rate,
        }

    # resources -------------------------------------------------------------------------
    def resolved_max(self, trials: Sequence[TrialRecord]) -> int | None:
        """``max_resource``, or with "auto" the last step of the first completed trial."""
        if self._max is None:
            done = [t for t in trials if t.state is TrialState.COMPLETE and t.last_step]
            if done:
                first = min(done, key=lambda t: t.number)
                self._max = max(int(first.last_step or 0), self.min_resource + 1)
        return self._max

    def rungs(self, max_resource: int, rate: int | None = None) -> list[int]:
        """The rung resources of a bracket with early-stopping rate ``rate``."""
        rate = self.min_early_stopping_rate if rate is None else rate
        base = max(self.min_resource, 1)
        out = []
        r = base * self.reduction_factor**rate
        while r < max_resource:
            out.append(int(r))
            r *= self.reduction_factor
        return out

    def _bracket_of(self, trial: TrialRecord) -> Any:
        return None

    def _rate_of(self, trial: TrialRecord) -> int | None:
        return self.min_early_stopping_rate

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    def _check_bounds(self, trial: TrialRecord, trials: Sequence[TrialRecord]) -> None:
        if self.max_resource == "auto" or trial.last_step is None:
            return
        if trial.last_step > int(self.max_resource):
            self._warn_once(
                "over",
                f"{type(self).__name__}: trial {trial.number} reports step {trial.last_step} "
                f"beyond max_resource={self.max_resource}; set max_resource to the number of "
                "steps the objective trains, or rungs will be misplaced.",
            )

    def _check_under(self, trials: Sequence[TrialRecord]) -> None:
        if self.max_resource == "auto" or "under" in self._warned:
            return
        short = [
            t.last_step
            for t in trials
            if t.state is TrialState.COMPLETE
            and t.last_step is not None
            and t.last_step < int(self.max_resource) - 1
            and t.source == "sampler"
        ]
        if len(short) >= 3:
            self._warn_once(
                "under",
                f"{type(self).__name__}: completed trials end at step {max(short)} but "
                f"max_resource={self.max_resource}: the top rungs are never reached. Set "
                f"max_resource={max(short) + 1} (or 'auto').",
            )

    def plan(self, number: int, trials: Sequence[TrialRecord], study: Study) -> TrialPlan | None:
        self._check_under(trials)
        return None

    # decision ---------------------------------------------------------------------------
    def reacts_to(self, step: int, previous: int | None, attrs: Mapping[str, Any]) -> bool:
        if self._max is None:
            return True  # "auto" not resolved yet
        rate = self._rate_of_attrs(attrs)
        if rate is None:
            return False
        prev = -1 if previous is None else previous
        if step > self._max and self.max_resource != "auto":
            return True  # let the bounds check warn
        return any(prev < r <= step for r in self.rungs(self._max, rate))

    def _rate_of_attrs(self, attrs: Mapping[str, Any]) -> int | None:
        return self.min_early_stopping_rate

    def should_stop(self, trial: TrialRecord, trials: Sequence[TrialRecord], study: Study) -> bool:
        step = trial.last_step
        if step is None:
            return False
        self._check_bounds(trial, trials)
        max_resource = self.resolved_max(trials)
        rate = self._rate_of(trial)
        if max_resource is None or rate is None:
            return False
        earlier = [s for s in trial.intermediate if s < step]
        previous = max(earlier) if earlier else -1
        crossed = [r for r in self.rungs(max_resource, rate) if previous < r <= step]
        if not crossed:
            return False
        minimize = study.direction == "minimize"
        rung = crossed[-1]
        mine = rung_value(trial, rung, minimize)
        if mine is None:
            return False  # only NaN so far: no evidence
        bracket = self._bracket_of(trial)
        values = []
        for t in trials:
            if t.id == trial.id or t.state is TrialState.WAITING:
                continue
            if self._bracket_of(t) != bracket:
                continue
            v = rung_value(t, rung, minimize)
            if v is not None:
                values.append(v)
        n = len(values) + 1
        k = max(1, n // self.reduction_factor)
        better = sum(1 for v in values if (v < mine if minimize else v > mine))
        return better >= k


class SuccessiveHalving(ASHA):
    """Successive halving with one bracket; the asynchronous form (see ``ASHA``)."""

    name = "sha"


class Hyperband(ASHA):
    """Hyperband: brackets of asynchronous successive halving with first rungs at
    ``min_resource * reduction_factor**s`` for s = 0 .. s_max; each trial gets a bracket
    (``trial.attrs["bracket"]``) by Hyperband's proportions, in a fixed order by trial number.

    >>> hs.schedulers.Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
    """

    name = "hyperband"

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
    ) -> None:
        super().__init__(
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
        )

    def config(self) -> dict[str, Any]:
        out = super().config()
        out.pop("min_early_stopping_rate")
        return out

    def brackets(self, max_resource: int) -> list[tuple[int, int]]:
        """``(s, n_s)``: early-stopping rate and Hyperband's number of trials, per bracket."""
        base = max(self.min_resource, 1)
        s_max = max(0, math.floor(math.log(max_resource / base, self.reduction_factor) + 1e-9))
        out = []
        for s in range(s_max + 1):
            halvings = s_max - s
            n = math.ceil((s_max + 1) / (halvings + 1) * self.reduction_factor**halvings)
            out.append((s, n))
        return out

    def bracket_for(self, number: int, max_resource: int) -> int:
        order = [s for s, n in self.brackets(max_resource) for _ in range(n)]
        # interleave deterministically: a stride coprime with the cycle length spreads brackets
        cycle = len(order)
        stride = next(p for p in (7, 11, 13, 17, 19, 23, 29, 31, 1) if math.gcd(p, cycle) == 1)
        return order[(number * stride) % cycle]

    def plan(self, number: int, trials: Sequence[TrialRecord], study: Study) -> TrialPlan | None:
        self._check_under(trials)
        max_resource = self.resolved_max(trials)
        if max_resource is None:
            return None
        return TrialPlan(attrs={"bracket": self.bracket_for(number, max_resource)})

    def _bracket_of(self, trial: TrialRecord) -> Any:
        return trial.attrs.get("bracket")

    def _rate_of(self, trial: TrialRecord) -> int | None:
        return self._rate_of_attrs(trial.attrs)

    def _rate_of_attrs(self, attrs: Mapping[str, Any]) -> int | None:
        bracket = attrs.get("bracket")
        return None if bracket is None else int(bracket)
