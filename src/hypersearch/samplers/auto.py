"""The default sampler: picks a strategy from the space and says which and why."""

from __future__ import annotations

from typing import Any

from hypersearch.samplers.base import Sampler, SamplingContext
from hypersearch.samplers.random import RandomSampler
from hypersearch.samplers.sobol import SobolSampler
from hypersearch.space import Param

__all__ = ["AutoSampler"]


class AutoSampler(Sampler):
    """Sobol quasi-random search for a declared space, random draws for define-by-run
    parameters. Model-based choices (GP, TPE) join here as they land."""

    name = "auto"

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self._sobol = SobolSampler(seed=self.seed)
        self._random = RandomSampler(seed=self.seed)

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        return self._sobol.sample(ctx)

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        return self._random.sample_one(ctx, name, param)

    def describe(self) -> str:
        return (
            "auto sampler: Sobol quasi-random points for the declared space (even coverage for "
            "small budgets), random draws for define-by-run parameters"
        )
