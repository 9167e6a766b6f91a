"""Quasi-random search: a scrambled Sobol sequence covers the cube more evenly than random."""

from __future__ import annotations

import warnings
from typing import Any

from hypersearch.samplers.base import Sampler, SamplingContext

__all__ = ["SobolSampler"]


class SobolSampler(Sampler):
    """Trial ``n`` takes point ``n`` of a seeded, scrambled Sobol sequence.

    Fewer gaps and clumps than random search for the same number of trials, which matters
    most for small budgets. Define-by-run parameters fall back to random draws.
    """

    name = "sobol"

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        from scipy.stats import qmc  # imported on first use: scipy.stats takes seconds

        engine = qmc.Sobol(d=len(ctx.space), scramble=True, seed=self.seed)
        if ctx.number:
            engine.fast_forward(ctx.number)
        with warnings.catch_warnings():  # balance warnings are about n not being 2^m
            warnings.simplefilter("ignore", UserWarning)
            point = engine.random(1)[0]
        return ctx.space.decode(point)
