"""Samplers propose parameters. ``make_sampler`` builds one from a name or a stored config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.samplers.auto import AutoSampler
from hypersearch.samplers.base import Sampler, SamplingContext, trial_rng
from hypersearch.samplers.grid import GridSampler
from hypersearch.samplers.random import RandomSampler
from hypersearch.samplers.sobol import SobolSampler

__all__ = [
    "AutoSampler",
    "GridSampler",
    "RandomSampler",
    "Sampler",
    "SamplingContext",
    "SobolSampler",
    "make_sampler",
    "sampler_names",
    "trial_rng",
]

_REGISTRY: dict[str, type[Sampler]] = {
    cls.name: cls for cls in (AutoSampler, GridSampler, RandomSampler, SobolSampler)
}


def sampler_names() -> list[str]:
    """Names accepted by ``create_study(sampler=...)``."""
    return sorted(_REGISTRY)


def make_sampler(
    spec: str | Sampler | Mapping[str, Any] | None, *, seed: int | None = None
) -> Sampler:
    """Build a sampler from a name (``"grid"``), a stored ``config()`` dict, or an object."""
    if isinstance(spec, Sampler):
        return spec
    if spec is None:
        spec = "auto"
    if isinstance(spec, Mapping):
        options = {k: v for k, v in spec.items() if k != "name"}
        name = spec.get("name")
    else:
        options, name = {}, spec
    if not isinstance(name, str) or name not in _REGISTRY:
        raise InvalidArgumentError(
            f"Unknown sampler {name!r}. Use one of {', '.join(map(repr, sampler_names()))}, "
            "or pass a Sampler object."
        )
    try:
        return _REGISTRY[name](seed=seed, **options)
    except TypeError as exc:  # an unknown option, e.g. from a config of another version
        raise InvalidArgumentError(f"Sampler {name!r}: {exc}.") from None
