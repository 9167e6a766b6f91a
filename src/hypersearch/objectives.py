"""What a study optimises: its objectives (name and direction) and its outcome constraints.

A study has one objective or several (``directions={"val_accuracy": "maximize",
"latency_ms": "minimize"}``), and optionally constraints on reported metrics
(``constraints={"gpu_mem_gb": ("<=", 16)}``). A constraint is turned into a *violation*:
``<= 0`` means satisfied, ``> 0`` says by how much it is violated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from hypersearch.trial import TrialRecord

__all__ = [
    "DIRECTIONS",
    "Bound",
    "ConstraintError",
    "Constraints",
    "Objective",
    "best_ranked",
    "front_candidates",
    "front_ranks",
    "has_all_values",
    "pareto_front",
    "parse_directions",
]

DIRECTIONS = tuple(d.value for d in Direction)  # ("minimize", "maximize")


@dataclass(frozen=True)
class Objective:
    """One quantity a study optimises: the metric's ``name`` and its ``direction``."""

    name: str
    direction: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgumentError(
                f"An objective's name must be a non-empty string, got {self.name!r}."
            )
        direction = Direction.parse(self.direction, name=f"Objective {self.name!r}: direction")
        object.__setattr__(self, "direction", direction.value)  # stored as its plain string


def parse_directions(directions: Any) -> tuple[Objective, ...]:
    """``{"val_accuracy": "maximize", "latency_ms": "minimize"}`` as objectives, in order."""
    example = '{"val_accuracy": "maximize", "latency_ms": "minimize"}'
    if not isinstance(directions, Mapping):
        hint = ""
        if isinstance(directions, list | tuple):
            hint = " (a list of directions has no names: name each objective)"
        raise InvalidArgumentError(
            f"directions must map each objective's name to 'minimize' or 'maximize', e.g. "
            f"directions={example}; got {directions!r}{hint}."
        )
    if not directions:
        raise InvalidArgumentError(
            f"directions needs at least one objective, e.g. directions={example}."
        )
    out = []
    for name, direction in directions.items():
        if not isinstance(name, str) or not name.strip() or "\x00" in name:
            raise InvalidArgumentError(
                f"directions: each objective's name must be a non-empty string (the key the "
                f"objective returns it under), got {name!r}."
            )
        out.append(Objective(name, Direction.parse(direction, name=f"directions[{name!r}]")))
    return tuple(out)


#: The comparison operators a constraint may use, as ``(op, bound)``.
OPERATORS = ("<=", ">=")


class ConstraintError(ValueError):
    """A trial's metrics cannot be checked against the constraints (a metric is missing, not
    a number, or the constraint function failed): the trial fails with this reason."""


@dataclass(frozen=True)
class Bound:
    """``metric op bound``, e.g. ``gpu_mem_gb <= 16``."""

    metric: str
    op: str
    bound: float

    def violation(self, value: float) -> float:
        """How far ``value`` is outside the bound (<= 0: inside)."""
        return value - self.bound if self.op == "<=" else self.bound - value

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"


class Constraints:
    """A study's outcome constraints: bounds on reported metrics, or a function of them.

    ``violations(metrics)`` gives one number per constraint: <= 0 satisfied, > 0 violated by
    that much. A function constraint gets the trial's metrics (objective values included) and
    returns one number or a sequence of them, read the same way.
    """

    def __init__(
        self, bounds: Sequence[Bound] = (), function: Callable[..., Any] | None = None
    ) -> None:
        self.bounds = tuple(bounds)
        self.function = function
        self._function_name = _qualified_name(function) if function is not None else None

    @classmethod
    def parse(cls, spec: Any) -> Constraints | None:
        """What ``create_study(constraints=...)`` takes, checked; ``None`` for none."""
        if spec is None:
            return None
        if isinstance(spec, Constraints):
            return spec
        if callable(spec) and not isinstance(spec, Mapping):
            return cls(function=spec)
        example = 'constraints={"gpu_mem_gb": ("<=", 16)}'
        if not isinstance(spec, Mapping) or not spec:
            raise InvalidArgumentError(
                f"constraints must map a metric's name to (op, bound), e.g. {example}, or be "
                f"a function metrics -> violations (<= 0 satisfied); got {spec!r}."
            )
        bounds = []
        for metric, rule in spec.items():
            if not isinstance(metric, str) or not metric.strip() or "\x00" in metric:
                raise InvalidArgumentError(
                    f"constraints: each key must be the name of a reported metric, got {metric!r}."
                )
            if not isinstance(rule, list | tuple) or len(rule) != 2:
                raise InvalidArgumentError(
                    f"constraints[{metric!r}] must be (op, bound) with op '<=' or '>=', e.g. "
                    f"{example}; got {rule!r}."
                )
            op, bound = rule
            if op not in OPERATORS:
                raise InvalidArgumentError(
                    f"constraints[{metric!r}]: the operator must be '<=' or '>=', got {op!r}."
                )
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                try:
                    if isinstance(bound, str | bytes):
                        raise TypeError(bound)
                    bound = float(bound)  # numpy scalars
                except (TypeError, ValueError):
                    raise InvalidArgumentError(
                        f"constraints[{metric!r}]: the bound must be a number, got {bound!r}."
                    ) from None
            if not math.isfinite(bound):
                raise InvalidArgumentError(
                    f"constraints[{metric!r}]: the bound must be finite, got {bound!r}."
                )
            bounds.append(Bound(metric, op, float(bound)))
        return cls(bounds)

    @classmethod
    def from_stored(
        cls, stored: Sequence[Mapping[str, Any]] | None, function: Callable[..., Any] | None
    ) -> Constraints | None:
        """The constraints of a stored study; a function constraint needs ``function``."""
        if not stored:
            return None if function is None else cls(function=function)
        if "function" in stored[0]:
            found = cls(function=function)
            found._function_name = str(stored[0]["function"])
            return found
        return cls([Bound(str(b["metric"]), str(b["op"]), float(b["bound"])) for b in stored])

    def to_stored(self) -> list[dict[str, Any]]:
        if self._function_name is not None:
            return [{"function": self._function_name}]
        return [{"metric": b.metric, "op": b.op, "bound": b.bound} for b in self.bounds]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constraints) and self.to_stored() == other.to_stored()

    def __hash__(self) -> int:
        return hash(repr(self.to_stored()))

    def __repr__(self) -> str:
        return f"Constraints({self.describe()})"

    def describe(self) -> str:
        """``gpu_mem_gb <= 16, latency_ms <= 10`` or ``function my_module.fits``."""
        if self._function_name is not None:
            return f"function {self._function_name}"
        return ", ".join(map(str, self.bounds))

    @property
    def function_missing(self) -> bool:
        """True for a stored function constraint whose function this process was not given
        (reading works; judging new trials needs it)."""
        return self._function_name is not None and self.function is None

    def labels(self) -> list[str]:
        """A name per constraint for tables: the metric of each bound (``[]`` for a function,
        whose violations are numbered)."""
        return [b.metric for b in self.bounds]

    def violations(self, metrics: Mapping[str, Any]) -> tuple[float, ...]:
        """One violation per constraint (<= 0 satisfied); ``ConstraintError`` saying what is
        wrong when a metric is missing or not a number."""
        if self._function_name is not None:
            return self._call(metrics)
        out = []
        for b in self.bounds:
            if b.metric not in metrics:
                raise ConstraintError(
                    f"constraint {b} needs the metric {b.metric!r}, but the trial did not report "
                    f"it (metrics: {sorted(map(str, metrics))}); return it in the objective's "
                    "dict"
                )
            out.append(b.violation(_number(metrics[b.metric], f"constraint metric {b.metric!r}")))
        return tuple(out)

    def _call(self, metrics: Mapping[str, Any]) -> tuple[float, ...]:
        if self.function is None:
            raise ConstraintError(
                f"this study's constraint is the function {self._function_name}, which was "
                "not given to this process: pass constraints=<that function> to "
                "hs.load_study / hs.create_study"
            )
        try:
            result = self.function(dict(metrics))
        except Exception as exc:
            raise ConstraintError(
                f"the constraint function {self._function_name} raised {type(exc).__name__}: {exc}"
            ) from exc
        items = list(result) if isinstance(result, Sequence | np.ndarray) else [result]
        if not items:
            raise ConstraintError(
                f"the constraint function {self._function_name} returned no values; return "
                "one number per constraint (<= 0 satisfied)"
            )
        what = f"the constraint function {self._function_name}"
        return tuple(_number(v, what) for v in items)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool | str | bytes) or value is None:
        raise ConstraintError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConstraintError(
            f"{what} must be a number, got {type(value).__name__} {value!r}"
        ) from None
    if math.isnan(number):
        raise ConstraintError(f"{what} is NaN, so feasibility cannot be judged")
    return number


def _qualified_name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None) or ""
    name = getattr(function, "__qualname__", None) or type(function).__name__
    return f"{module}.{name}" if module else name


def has_all_values(trial: TrialRecord, n_objectives: int) -> bool:
    """True when the trial has a finite value for each of ``n_objectives`` objectives."""
    values = trial.values
    return (
        values is not None
        and len(values) == n_objectives
        and all(math.isfinite(v) for v in values)
    )


def front_candidates(trials: Sequence[TrialRecord], n_objectives: int) -> list[TrialRecord]:
    """The trials a Pareto front is made of: COMPLETE, feasible, every objective finite."""
    from hypersearch.trial import TrialState

    return [
        t
        for t in trials
        if t.state is TrialState.COMPLETE and t.feasible and has_all_values(t, n_objectives)
    ]


def best_ranked(trials: Sequence[TrialRecord], direction: str) -> list[TrialRecord]:
    """The feasible COMPLETE trials with a value, best first under ``direction`` (a tie: the
    earlier trial first). One objective; ``front_ranks`` orders several."""
    from hypersearch.trial import TrialState

    loss = Direction.parse(direction).to_loss
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.has_value and t.feasible]
    done.sort(key=lambda t: (loss(float(t.value)), t.number))  # type: ignore[arg-type]
    return done


def pareto_front(trials: Sequence[TrialRecord], directions: Sequence[str]) -> list[TrialRecord]:
    """The feasible COMPLETE trials no other one beats on every objective, by number."""
    return [t for t, rank in front_ranks(trials, directions) if rank == 0]


def front_ranks(
    trials: Sequence[TrialRecord], directions: Sequence[str]
) -> list[tuple[TrialRecord, int]]:
    """Each candidate (see ``front_candidates``) with its non-dominated rank (0: the Pareto
    front, 1: the front once that is removed, ...), by number."""
    from hypersearch.pareto import as_losses, nondominated_ranks

    done = sorted(front_candidates(trials, len(directions)), key=lambda t: t.number)
    if not done:
        return []
    losses = as_losses([t.values for t in done], directions)  # type: ignore[misc]
    return list(zip(done, (int(r) for r in nondominated_ranks(losses)), strict=True))
