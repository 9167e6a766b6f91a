"""The sampler interface: propose parameters from the study's history, in the unit cube.

Samplers never touch storage and never train anything. A sampler may be asked for a whole
declared space at once (``sample``) and for single define-by-run parameters (``sample_one``).
"""

from __future__ import annotations

import math
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hypersearch.direction import Direction
from hypersearch.space import Param, Space
from hypersearch.trial import TrialRecord, TrialState

__all__ = [
    "EncodingCache",
    "Observations",
    "ParamSpaces",
    "Sampler",
    "SamplingContext",
    "impute_stopped",
    "is_infeasible_failure",
    "observations",
    "to_loss",
    "trial_rng",
]


@dataclass(frozen=True)
class SamplingContext:
    """What a sampler may know when proposing trial ``number``."""

    space: Space
    trials: Sequence[TrialRecord]
    number: int
    direction: str
    claim: Callable[[str], bool] = field(default=lambda key: True)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    #: Every objective's direction, in study order (``(direction,)`` for one objective);
    #: ``()`` from older callers means ``(direction,)``.
    directions: tuple[str, ...] = ()


def trial_rng(seed: int, number: int, name: str = "") -> np.random.Generator:
    """A generator determined by (seed, trial number, parameter name) alone, so the same seed
    proposes the same trials whatever order, process or resume they happen in."""
    return np.random.default_rng([seed, number, zlib.crc32(name.encode())])


class Sampler(ABC):
    """Base class. Subclasses set ``name`` and implement ``sample``."""

    name: ClassVar[str] = "sampler"

    def __init__(self, *, seed: int | None = None) -> None:
        #: False when the seed was drawn at random: a resumed study may then adopt its own.
        self.seed_given = seed is not None
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.seed = int(seed)

    @abstractmethod
    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        """Values for every parameter of ``ctx.space``."""

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        """A value for one define-by-run parameter; uniform in the unit cube by default."""
        return param.decode(float(trial_rng(self.seed, ctx.number, name).random()))

    def config(self) -> dict[str, Any]:
        """Settings that define this sampler's behaviour, stored with the study to detect drift."""
        return {"name": self.name}

    def describe(self) -> str:
        """One line for logs: which sampler and why."""
        return f"{self.name} sampler"

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def history_values(trials: Sequence[TrialRecord], space: Space) -> list[Mapping[str, Any]]:
    """Parameter dicts of trials that have a value for every parameter in ``space``."""
    return [t.params for t in trials if all(k in t.params for k in space)]


#: Failure reasons that say nothing about the parameters (the worker, not the point, failed).
_INFRASTRUCTURE_FAILURES = ("worker lost", "interrupted", "lost")


def to_loss(value: float, direction: str) -> float:
    """Minimise inside: a value as a loss (lower is better)."""
    return Direction(direction).to_loss(value)


def is_infeasible_failure(trial: TrialRecord) -> bool:
    """A FAILED trial whose failure is information about its parameters (an exception, NaN,
    out of memory), not about the infrastructure (a lost worker, Ctrl-C)."""
    if trial.state is not TrialState.FAILED:
        return False
    reason = (trial.fail_reason or "").lower()
    return not any(word in reason for word in _INFRASTRUCTURE_FAILURES)


@dataclass(frozen=True)
class Observations:
    """The history of one (sub)space in the unit cube, as the model-based samplers see it.

    ``x``/``loss``: finished trials with a finite loss (complete ones, and stopped ones with a
    loss imputed from their learning curve, see ``impute_stopped``); ``failed``: points whose
    trials failed on their own account or violate an outcome constraint (infeasible);
    ``running``: points still being tried.
    """

    x: np.ndarray
    loss: np.ndarray
    failed: np.ndarray
    running: np.ndarray
    n_complete: int
    n_stopped: int


def impute_stopped(trials: Sequence[TrialRecord], direction: str) -> dict[int, float]:
    """Losses for STOPPED trials (trial number -> loss), from their learning curves.

    A trial stopped at step ``k`` with loss ``v`` ranks at quantile ``q`` among the losses
    that the trials which completed reported at step ``k``; it gets the ``q``-quantile of the
    completed trials' final losses. With no completed curve to compare against (early in a
    Hyperband run), the last reported loss is used as is, which keeps stopped trials
    comparable among themselves. This is what lets model-based Hyperband learn from
    stopped trials.
    """
    stopped = [t for t in trials if t.state is TrialState.STOPPED]
    if not stopped:
        return {}
    complete = [
        t
        for t in trials
        if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    finals = np.sort([to_loss(float(t.value), direction) for t in complete])  # type: ignore[arg-type]
    at_step: dict[int, list[float]] = {}
    for t in complete:
        for step, v in t.intermediate.items():
            if v is not None and math.isfinite(v):
                at_step.setdefault(int(step), []).append(to_loss(float(v), direction))
    out: dict[int, float] = {}
    for t in stopped:
        curve = [(s, v) for s, v in t.intermediate.items() if v is not None and math.isfinite(v)]
        if not curve:
            if t.value is not None and math.isfinite(t.value) and not len(finals):
                out[t.number] = to_loss(float(t.value), direction)
            continue
        step, last = max(curve)
        loss = to_loss(float(last), direction)
        peers = at_step.get(int(step))
        if peers and len(finals):
            peers_arr = np.asarray(peers)
            q = (np.sum(peers_arr < loss) + 0.5 * np.sum(peers_arr == loss) + 0.5) / (
                len(peers_arr) + 1
            )
            out[t.number] = float(np.quantile(finals, q))
        elif not len(finals):
            out[t.number] = loss
    return out


class EncodingCache:
    """Unit-cube rows of finished trials, computed once: finished records never change."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, int, str], np.ndarray | None] = {}
        self._space: Space | None = None

    def row(self, trial: TrialRecord, space: Space) -> np.ndarray | None:
        if space is not self._space:
            self._rows.clear()
            self._space = space
        key = (trial.id, trial.number, trial.state.value)
        if trial.state.is_finished and key in self._rows:
            return self._rows[key]
        row: np.ndarray | None
        try:
            row = space.encode(trial.params) if all(k in trial.params for k in space) else None
        except (KeyError, ValueError):
            row = None  # a value outside the current space (e.g. after allow_changes)
        if trial.state.is_finished:
            self._rows[key] = row
        return row


class ParamSpaces:
    """One-parameter spaces, each with its encoding cache, for define-by-run asks: kept per
    name and made again only when the parameter's definition changes."""

    def __init__(self) -> None:
        self._by_name: dict[str, tuple[Space, EncodingCache]] = {}

    def get(self, name: str, param: Param) -> tuple[Space, EncodingCache]:
        cached = self._by_name.get(name)
        if cached is None or cached[0][name] != param:
            cached = (Space({name: param}), EncodingCache())
            self._by_name[name] = cached
        return cached


def observations(
    ctx: SamplingContext, space: Space, cache: EncodingCache | None = None
) -> Observations:
    """Split ``ctx.trials`` into what a model-based sampler learns from (see ``Observations``).
    Non-finite values are never used as losses."""
    cache = cache if cache is not None else EncodingCache()
    d = len(space)
    imputed = impute_stopped(ctx.trials, ctx.direction)
    xs: list[np.ndarray] = []
    losses: list[float] = []
    failed: list[np.ndarray] = []
    running: list[np.ndarray] = []
    n_complete = n_stopped = 0
    for t in ctx.trials:
        if t.state is TrialState.WAITING:
            continue
        row = cache.row(t, space)
        if row is None:
            continue
        if t.state is TrialState.COMPLETE:
            if not t.feasible:  # a violated outcome constraint: infeasible, never a good loss
                failed.append(row)
            elif t.value is not None and math.isfinite(t.value):
                xs.append(row)
                losses.append(to_loss(float(t.value), ctx.direction))
                n_complete += 1
        elif t.state is TrialState.STOPPED:
            if t.number in imputed:
                xs.append(row)
                losses.append(imputed[t.number])
                n_stopped += 1
        elif t.state is TrialState.RUNNING:
            running.append(row)
        elif is_infeasible_failure(t):
            failed.append(row)

    def stack(rows: list[np.ndarray]) -> np.ndarray:
        return np.array(rows, dtype=float).reshape(len(rows), d)

    return Observations(
        x=stack(xs),
        loss=np.asarray(losses, dtype=float),
        failed=stack(failed),
        running=stack(running),
        n_complete=n_complete,
        n_stopped=n_stopped,
    )
