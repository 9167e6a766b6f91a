"""KerasTuner's ``HyperParameters`` and ``Objective`` on hypersearch trials."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError

__all__ = ["DEFAULT_OBJECTIVE", "Definition", "HyperParameters", "Objective", "parse_objective"]

#: The metric name of an objective that ``HyperModel.fit`` or ``run_trial`` returns itself.
DEFAULT_OBJECTIVE = "default_objective"


@dataclass(frozen=True)
class Objective:
    """The metric to optimize, as in KerasTuner: ``Objective("val_loss", "min")``."""

    name: str
    direction: str = "max"


def parse_objective(
    objective: str | Objective | tuple[str, str] | None,
) -> tuple[str, Direction]:
    """(metric name, its direction) of a KerasTuner objective."""
    if objective is None:  # the value HyperModel.fit / run_trial returns, minimized
        return DEFAULT_OBJECTIVE, Direction.MINIMIZE
    if isinstance(objective, tuple):
        objective = Objective(*objective)
    if isinstance(objective, str):
        # KerasTuner's rule for names: a loss or an error is minimized, anything else maximized.
        minimize = any(w in objective for w in ("loss", "error", "mae", "mse"))
        return objective, Direction.MINIMIZE if minimize else Direction.MAXIMIZE
    if isinstance(objective, Objective):
        direction = {"min": "minimize", "max": "maximize"}.get(
            objective.direction, objective.direction
        )
        if direction not in tuple(Direction):
            raise InvalidArgumentError(
                f"Objective direction must be 'min' or 'max', got {objective.direction!r}."
            )
        return objective.name, Direction(direction)
    raise InvalidArgumentError(
        f"objective must be a metric name such as 'val_accuracy' or Objective(name, 'min'|'max'),"
        f" got {objective!r}."
    )


# hyperparameters ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Definition:
    """One hyperparameter as ``build_model`` defined it (for summaries and grids)."""

    name: str
    kind: str  # Int, Float, Choice, Boolean, Fixed
    options: dict[str, Any]
    default: Any
    conditions: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def describe(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        when = "".join(f"; only when {p} in {list(v)}" for p, v in self.conditions)
        sep = ", " if opts else ""
        return f"{self.name} ({self.kind}): {opts}{sep}default={self.default!r}{when}"

    def param(self) -> Any:
        """The hypersearch parameter a trial samples for this definition."""
        from hypersearch.space import Bool, Choice, Float, Int

        o = self.options
        if self.kind == "Int":
            log = o["sampling"] == "log"
            return Int(o["min_value"], o["max_value"], step=o["step"] or 1, log=log)
        if self.kind == "Float":
            scale = {"linear": None, "log": "log", "reverse_log": "log1m"}[o["sampling"]]
            return Float(o["min_value"], o["max_value"], step=o["step"], scale=scale)
        if self.kind == "Choice":
            return Choice(tuple(o["values"]))
        return Bool()


class HyperParameters:
    """What ``build_model(hp)`` receives: KerasTuner's ``hp.Int`` / ``Float`` / ``Choice`` /
    ``Boolean`` / ``Fixed`` and ``conditional_scope``.

    In a search each value comes from the trial's sampler. Made by hand,
    ``HyperParameters()`` gives each hyperparameter its ``default`` (else the minimum, the
    first choice, or False), so ``build_model(HyperParameters())`` checks that the model
    builds; ``HyperParameters(values={...})`` rebuilds a model with given values.
    """

    def __init__(self, trial: Any = None, values: Mapping[str, Any] | None = None) -> None:
        self._trial = trial
        self._preset: dict[str, Any] = dict(values or {})  # given values win over sampling
        self._values: dict[str, Any] = dict(self._preset)
        self._definitions: dict[str, Definition] = {}
        self._conditions: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def values(self) -> dict[str, Any]:
        """The values chosen so far, by name (a copy)."""
        return dict(self._values)

    @property
    def space(self) -> list[Definition]:
        """The hyperparameters defined so far, in order."""
        return list(self._definitions.values())

    def get(self, name: str) -> Any:
        if name not in self._values:
            raise KeyError(
                f"Hyperparameter {name!r} is not defined (yet): define it with hp.Int / "
                f"hp.Float / hp.Choice / hp.Boolean before hp.get({name!r}). Defined: "
                f"{sorted(self._values)}."
            )
        return self._values[name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __repr__(self) -> str:
        return f"HyperParameters({self._values!r})"

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Hyperparameters defined inside are active only while ``parent_name`` takes one of
        ``parent_values``; an inactive one is not sampled and returns None."""
        if parent_name not in self._values:
            raise InvalidArgumentError(
                f"conditional_scope({parent_name!r}, ...): define {parent_name!r} first "
                "(e.g. hp.Choice) so its value decides what the scope holds."
            )
        wanted = (
            tuple(parent_values) if isinstance(parent_values, list | tuple) else (parent_values,)
        )
        self._conditions.append((parent_name, wanted))
        try:
            yield
        finally:
            self._conditions.pop()

    def is_active(self) -> bool:
        """True when every enclosing ``conditional_scope`` holds."""
        return all(self._values.get(p) in wanted for p, wanted in self._conditions)

    def _take(self, definition: Definition) -> Any:
        self._definitions.setdefault(definition.name, definition)
        if not self.is_active():
            return None
        name = definition.name
        if definition.kind == "Fixed":
            value = definition.default
        elif name in self._preset:
            value = self._preset[name]
        elif self._trial is not None:
            value = self._trial.suggest(name, definition.param())
        else:
            value = definition.default
        self._values[name] = value
        return value

    def _define(self, name: str, kind: str, default: Any, **options: Any) -> Definition:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"A hyperparameter name must be a string, got {name!r}.")
        return Definition(name, kind, options, default, tuple(self._conditions))

    def Int(  # KerasTuner's names
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> int | None:
        sampling = _sampling(name, sampling, allow_reverse=False)
        if sampling == "log" and step not in (None, 1):
            raise InvalidArgumentError(
                f"hp.Int({name!r}): sampling='log' with step={step} is not supported; use "
                "step=1 with log, or a linear step."
            )
        definition = self._define(
            name,
            "Int",
            min_value if default is None else default,
            min_value=min_value,
            max_value=max_value,
            step=step,
            sampling=sampling,
        )
        with self._parent(parent_name, parent_values):
            value = self._take(definition)
        return value if value is None else int(value)

    def Float(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> float | None:
        sampling = _sampling(name, sampling, allow_reverse=True)
        definition = self._define(
            name,
            "Float",
            min_value if default is None else default,
            min_value=min_value,
            max_value=max_value,
            step=step,
            sampling=sampling,
        )
        with self._parent(parent_name, parent_values):
            value = self._take(definition)
        return value if value is None else float(value)

    def Choice(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        values = list(values)
        if not values:
            raise InvalidArgumentError(f"hp.Choice({name!r}): values must not be empty.")
        if default is not None and default not in values:
            raise InvalidArgumentError(
                f"hp.Choice({name!r}): default {default!r} is not one of {values}."
            )
        definition = self._define(
            name, "Choice", values[0] if default is None else default, values=values
        )
        with self._parent(parent_name, parent_values):
            return self._take(definition)

    def Boolean(
        self,
        name: str,
        default: bool = False,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> bool | None:
        definition = self._define(name, "Boolean", bool(default))
        with self._parent(parent_name, parent_values):
            value = self._take(definition)
        return value if value is None else bool(value)

    def Fixed(
        self, name: str, value: Any, parent_name: str | None = None, parent_values: Any = None
    ) -> Any:
        with self._parent(parent_name, parent_values):
            return self._take(self._define(name, "Fixed", value))

    @contextlib.contextmanager
    def _parent(self, parent_name: str | None, parent_values: Any) -> Iterator[None]:
        if parent_name is None:
            yield
            return
        with self.conditional_scope(parent_name, parent_values):
            yield


def _sampling(name: str, sampling: str | None, *, allow_reverse: bool) -> str:
    s = (sampling or "linear").lower()
    allowed = ["linear", "log", *(["reverse_log"] if allow_reverse else [])]
    if s not in allowed:
        raise InvalidArgumentError(
            f"hp {name!r}: sampling must be one of {', '.join(map(repr, allowed))}, got "
            f"{sampling!r}."
        )
    return s
