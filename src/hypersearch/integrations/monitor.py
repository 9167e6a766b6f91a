"""What the framework callbacks monitor: one logged metric, or several for a study with
several objectives.

``monitor="val_loss"`` reports that metric's value. ``monitor=["val_accuracy", "latency_ms"]``
reports each named metric under its own name, and ``monitor={"val_accuracy": "val_acc",
"latency_ms": "latency"}`` maps each objective of the study to the metric logged for it; both
report a dict, as ``trial.report({...}, step=epoch)`` expects on a multi-objective study.
No framework is imported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hypersearch.exceptions import InvalidArgumentError

__all__ = ["Monitor", "check_monitor", "missing", "monitored_values", "reportable"]

#: A metric name, a sequence of names, or a mapping objective name -> logged metric name.
Monitor = str | Sequence[str] | Mapping[str, str]


def check_monitor(monitor: Any, who: str) -> str | dict[str, str]:
    """``monitor`` as a metric name or a mapping objective -> logged metric, or a clear error."""
    if isinstance(monitor, str):
        if monitor:
            return monitor
    elif isinstance(monitor, Mapping):
        pairs = dict(monitor)
        if pairs and all(isinstance(k, str) and k and isinstance(v, str) and v
                         for k, v in pairs.items()):  # fmt: skip
            return pairs
    elif isinstance(monitor, Sequence):
        names = list(monitor)
        if names and all(isinstance(n, str) and n for n in names):
            if len(set(names)) < len(names):
                raise InvalidArgumentError(f"{who}: monitor names a metric twice: {names!r}.")
            return {n: n for n in names}
    raise InvalidArgumentError(
        f"{who}: monitor must be a metric name (monitor='val_loss'), a list of metric names "
        "for a study with several objectives (monitor=['val_accuracy', 'latency_ms']), or a "
        "mapping of each objective to the metric logged for it (monitor={'val_accuracy': "
        f"'val_acc', 'latency_ms': 'latency'}}); got {monitor!r}."
    )


def monitored_values(
    monitor: str | Mapping[str, str], metrics: Mapping[str, Any]
) -> float | dict[str, float] | None:
    """The monitored value (or ``{objective: value}``) from a framework's logged ``metrics``;
    None when one of the monitored metrics was not logged."""
    if isinstance(monitor, str):
        return float(metrics[monitor]) if monitor in metrics else None
    if any(name not in metrics for name in monitor.values()):
        return None
    return {objective: float(metrics[name]) for objective, name in monitor.items()}


def reportable(value: float | Mapping[str, float]) -> float | dict[str, float]:
    """``value`` for ``trial.report``: infinities as NaN (stored, ignored by schedulers)."""

    def number(x: float) -> float:
        return x if math.isfinite(x) else float("nan")

    if isinstance(value, Mapping):
        return {k: number(v) for k, v in value.items()}
    return number(value)


def missing(monitor: str | Mapping[str, str], metrics: Mapping[str, Any]) -> list[str]:
    """The monitored metric names ``metrics`` lacks (for the error message)."""
    names = [monitor] if isinstance(monitor, str) else list(monitor.values())
    return [n for n in names if n not in metrics]
