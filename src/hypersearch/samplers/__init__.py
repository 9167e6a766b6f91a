"""Samplers propose parameters. ``make_sampler`` builds one from a name or a stored config."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.registry import parse_spec
from hypersearch.samplers.base import Sampler, SamplingContext, trial_rng
from hypersearch.samplers.grid import GridSampler
from hypersearch.samplers.random import RandomSampler
from hypersearch.samplers.sobol import SobolSampler

if TYPE_CHECKING:
    from hypersearch.samplers.auto import AutoSampler
    from hypersearch.samplers.gp import GPSampler
    from hypersearch.samplers.multiobjective import EHVISampler, MOTPESampler, ParEGOSampler
    from hypersearch.samplers.tpe import TPESampler

__all__ = [
    "AutoSampler",
    "EHVISampler",
    "GPSampler",
    "GridSampler",
    "MOTPESampler",
    "ParEGOSampler",
    "RandomSampler",
    "Sampler",
    "SamplingContext",
    "SobolSampler",
    "TPESampler",
    "make_sampler",
    "sampler_names",
    "trial_rng",
    "with_seed",
]

# The model-based samplers import SciPy's optimisers (about a second): they load on first
# use, so `import hypersearch` and every worker process of a random or grid search start fast.
_LAZY = {
    "AutoSampler": "hypersearch.samplers.auto",
    "EHVISampler": "hypersearch.samplers.multiobjective",
    "GPSampler": "hypersearch.samplers.gp",
    "MOTPESampler": "hypersearch.samplers.multiobjective",
    "ParEGOSampler": "hypersearch.samplers.multiobjective",
    "TPESampler": "hypersearch.samplers.tpe",
}
_NAMES = {
    "auto": "AutoSampler",
    "ehvi": "EHVISampler",
    "gp": "GPSampler",
    "motpe": "MOTPESampler",
    "parego": "ParEGOSampler",
    "tpe": "TPESampler",
}
_EAGER: dict[str, type[Sampler]] = {
    cls.name: cls for cls in (GridSampler, RandomSampler, SobolSampler)
}
_REGISTRY: dict[str, Any] = {**_EAGER, **_NAMES}  # name -> class, or the class's name


def __getattr__(attr: str) -> Any:
    if attr in _LAZY:
        return getattr(importlib.import_module(_LAZY[attr]), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def _sampler_class(name: str) -> type[Sampler]:
    found = _REGISTRY[name]
    return found if isinstance(found, type) else __getattr__(found)


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
    name, options = parse_spec(spec, _REGISTRY, "sampler")
    try:
        return _sampler_class(name)(seed=seed, **options)
    except TypeError as exc:  # an unknown option, e.g. from a config of another version
        raise InvalidArgumentError(f"Sampler {name!r}: {exc}.") from None


def with_seed(sampler: Sampler, seed: int) -> Sampler:
    """``sampler`` with ``seed``, for one built without a seed (its seed drawn at random).

    A built-in sampler is rebuilt from its config, since some derive inner samplers from
    the seed when built; any other just takes the new seed."""
    if sampler.seed == seed:
        return sampler
    if sampler.seed_given:
        raise InvalidArgumentError(
            f"The sampler was built with seed={sampler.seed} but seed={seed} was asked for; "
            "give the seed in one place."
        )
    if sampler.name in _REGISTRY and _sampler_class(sampler.name) is type(sampler):
        return make_sampler(sampler.config(), seed=seed)
    sampler.seed = int(seed)
    return sampler
