"""Schedulers stop hopeless trials early. ``make_scheduler`` builds one from a name or config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.schedulers.base import Scheduler
from hypersearch.schedulers.median import MedianStopping

__all__ = ["MedianStopping", "Scheduler", "make_scheduler", "scheduler_names"]

_REGISTRY: dict[str, type[Scheduler]] = {cls.name: cls for cls in (MedianStopping,)}


def scheduler_names() -> list[str]:
    return sorted(_REGISTRY)


def make_scheduler(spec: str | Scheduler | Mapping[str, Any] | None) -> Scheduler | None:
    """``None`` (no early stopping), a name such as ``"median"``, a stored config, or an object."""
    if spec is None or isinstance(spec, Scheduler):
        return spec
    if isinstance(spec, Mapping):
        options = {k: v for k, v in spec.items() if k != "name"}
        name = spec.get("name")
    else:
        options, name = {}, spec
    if not isinstance(name, str) or name not in _REGISTRY:
        raise InvalidArgumentError(
            f"Unknown scheduler {name!r}. Use None or one of "
            f"{', '.join(map(repr, scheduler_names()))}, or pass a Scheduler object."
        )
    try:
        return _REGISTRY[name](**options)
    except TypeError as exc:  # an unknown option, e.g. from a config of another version
        raise InvalidArgumentError(f"Scheduler {name!r}: {exc}.") from None
