"""An objective's results, read: the value (one objective) or values (several), the other
metrics, and why the trial fails; the same for reports and constraint violations.

Pure functions of the result and the study's objectives, so ``tell``, ``add_trial`` and
``trial.report`` read results one way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.objectives import ConstraintError, Constraints, Objective

__all__ = [
    "Result",
    "is_sequence",
    "json_scalar",
    "judge_constraints",
    "parse_result",
    "read_number",
    "report_values",
    "values_argument",
]


class Result(NamedTuple):
    """An objective's return value, read: the value (one objective) or values (several),
    the other metrics, and why the trial fails (``None``: it does not)."""

    value: float | None
    values: tuple[float, ...] | None
    metrics: dict[str, Any]
    problem: str | None


def parse_result(result: Any, objectives: Sequence[Objective]) -> Result:
    """The objective's return value as its value(s), other metrics and failure reason."""
    if len(objectives) > 1:
        return parse_several(result, objectives)
    value, metrics, problem = parse_single(result, objectives[0].name)
    return Result(value, None, metrics, problem)


def parse_single(result: Any, metric: str) -> tuple[float | None, dict[str, Any], str | None]:
    """One objective's result as (metric value, other metrics, failure reason)."""
    metrics: dict[str, Any] = {}
    if isinstance(result, Mapping):
        metrics = dict(result)
        if metric not in metrics:
            return (
                None,
                metrics,
                (
                    f"objective returned a dict without the study's metric {metric!r} "
                    f"(keys: {sorted(map(str, metrics))})"
                ),
            )
        result = metrics.pop(metric)
    value, problem = read_number(result, "objective returned", "return the metric value")
    return value, metrics, problem


def judge_constraints(
    result: Result, constraints: Constraints | None, objectives: Sequence[Objective]
) -> tuple[tuple[float, ...] | None, str | None]:
    """The result's constraint violations, or why they cannot be judged (a metric never
    reported...): then the trial fails with that reason."""
    if constraints is None:
        return None, None
    if len(objectives) > 1:
        if result.values is None:
            return None, None
        named = dict(zip((o.name for o in objectives), result.values, strict=True))
    else:
        if result.value is None:
            return None, None
        named = {objectives[0].name: result.value}
    try:
        return constraints.violations({**result.metrics, **named}), None
    except ConstraintError as exc:
        return None, str(exc)


def report_values(
    value: Any, objectives: Sequence[Objective]
) -> tuple[float, tuple[float, ...] | None]:
    """What ``trial.report(value)`` stores: the first objective's value, and with several
    objectives all of them. NaN is kept (schedulers skip it); a wrong shape is an error."""
    if len(objectives) == 1:
        metric = objectives[0].name
        if isinstance(value, Mapping):
            if metric not in value or len(value) != 1:
                raise InvalidArgumentError(
                    f"report() needs a number, or {{{metric!r}: number}} with this "
                    f"study's metric; got a dict with the keys {sorted(map(str, value))}."
                )
            value = value[metric]
        return report_number(value, "report()"), None
    names = [o.name for o in objectives]
    listing = ", ".join(map(repr, names))
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        extra = sorted(str(k) for k in value if k not in names)
        if missing or extra:
            problem = f"misses {missing}" if missing else f"has other keys {extra}"
            raise InvalidArgumentError(
                f"report() on a study with the objectives {listing} needs a value for each "
                f"of them, and only them; the dict {problem}. Store other numbers with "
                "trial.set_attr(...) or return them from the objective."
            )
        items = [value[n] for n in names]
    elif is_sequence(value):
        items = list(value)
        if len(items) != len(names):
            raise InvalidArgumentError(
                f"report() got {len(items)} values for the {len(names)} objectives "
                f"({listing}); give one per objective, in that order."
            )
    else:
        raise InvalidArgumentError(
            f"This study has {len(names)} objectives ({listing}): report all of them, "
            f"e.g. trial.report({{{names[0]!r}: ..., {names[1]!r}: ...}}, step=epoch), "
            f"not the single number {value!r}."
        )
    values = tuple(
        report_number(v, f"report() value of {n!r}") for n, v in zip(names, items, strict=True)
    )
    return values[0], values


def read_number(result: Any, said: str, fix: str) -> tuple[float | None, str | None]:
    """``result`` as a float and why it cannot rank a trial (None, NaN, not a number...)."""
    if result is None:
        return None, f"{said} None; {fix}"
    if isinstance(result, bool | str):
        return None, f"{said} {result!r}, not a number"
    try:
        value = float(result)
    except (TypeError, ValueError):
        return None, f"{said} {type(result).__name__}, not a number"
    except OverflowError:  # an int beyond ~1.8e308
        return None, f"{said} an integer too large for a float"
    if math.isnan(value):
        return None, f"{said} NaN"
    if math.isinf(value):
        return value, f"{said} {value}"
    return value, None


def is_sequence(value: Any) -> bool:
    """A tuple, list or 1-D array of values (not text, not a dict)."""
    if isinstance(value, str | bytes | Mapping):
        return False
    if isinstance(value, Sequence):
        return True
    return getattr(value, "ndim", None) == 1  # numpy and torch vectors


def parse_several(result: Any, objectives: Sequence[Objective]) -> Result:
    """A multi-objective result: a dict with every objective's name (other keys are
    metrics) or a tuple/list in objective order."""
    names = [o.name for o in objectives]
    listing = ", ".join(map(repr, names))
    how = (
        f"return a dict with every objective ({{{names[0]!r}: ..., {names[1]!r}: ..., ...}}) "
        "or a tuple of values in that order"
    )
    metrics: dict[str, Any] = {}
    if isinstance(result, Mapping):
        metrics = dict(result)
        missing = [n for n in names if n not in metrics]
        if missing:
            return Result(
                None,
                None,
                metrics,
                f"objective returned a dict without the objective(s) "
                f"{', '.join(map(repr, missing))} (keys: {sorted(map(str, metrics))}); the "
                f"study's objectives are {listing}",
            )
        items = [metrics.pop(n) for n in names]
    elif is_sequence(result):
        items = list(result)
        if len(items) != len(names):
            return Result(
                None,
                None,
                metrics,
                f"objective returned {len(items)} values for {len(names)} objectives "
                f"({listing}); {how}",
            )
    else:
        shown = "None" if result is None else f"a single {type(result).__name__}"
        return Result(
            None,
            None,
            metrics,
            f"objective returned {shown}, but the study has {len(names)} objectives "
            f"({listing}); {how}",
        )
    values = []
    problems = []
    for name, item in zip(names, items, strict=True):
        value, problem = read_number(
            item, f"objective {name!r} is", f"return a number for {name!r}"
        )
        values.append(math.nan if value is None else value)
        if problem is not None:
            problems.append(problem)
    if problems:
        finite = all(not math.isnan(v) for v in values)  # infinite values are kept as given
        return Result(None, tuple(values) if finite else None, metrics, "; ".join(problems))
    return Result(None, tuple(values), metrics, None)


def report_number(value: Any, what: str) -> float:
    """A reported value as a float (NaN kept, to be skipped by schedulers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            if isinstance(value, bool | str | bytes):
                raise TypeError(value)  # float("0.5") or float(True) would hide a bug
            value = float(value)  # numpy and torch scalars
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"{what} needs a number, got {value!r} of type {type(value).__name__}."
            ) from None
    return float(value)


def values_argument(values: Any, objectives: Sequence[Objective]) -> Any:
    """``values=`` of tell/add_trial as the objective's return value would be."""
    if isinstance(values, Mapping) or len(objectives) > 1:
        return values
    if is_sequence(values) and len(values) == 1:
        return values[0]
    raise InvalidArgumentError(
        f"values= needs one value per objective; this study has one ({objectives[0].name!r}): "
        f"pass value=... (or values=[...] with one number), got {values!r}."
    )


def json_scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)
