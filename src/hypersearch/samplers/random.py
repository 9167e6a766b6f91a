"""Uniform random search on each parameter's own scale (log, log1m, pow2 ...)."""

from __future__ import annotations

from typing import Any

from hypersearch.samplers.base import Sampler, SamplingContext, trial_rng

__all__ = ["RandomSampler"]


class RandomSampler(Sampler):
    """Independent uniform draws in the unit cube; reproducible per trial number.

    >>> hs.create_study(space=space, sampler=hs.samplers.RandomSampler(seed=0))
    """

    name = "random"

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        u = trial_rng(self.seed, ctx.number).random(len(ctx.space))
        return ctx.space.decode(u)
