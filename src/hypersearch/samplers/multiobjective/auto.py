"""What ``AutoSampler`` does on a study with several objectives: expected hypervolume
improvement on the GP (``EHVISampler``) where a GP is the right model, multi-objective TPE
elsewhere; the same rules as for one objective."""

from __future__ import annotations

import logging
from typing import Any

from hypersearch.samplers.base import Sampler, SamplingContext
from hypersearch.samplers.multiobjective.ehvi import EHVISampler
from hypersearch.samplers.multiobjective.tpe import MOTPESampler
from hypersearch.space import Choice, Param, Space

__all__ = ["MultiObjectiveAuto"]

logger = logging.getLogger("hypersearch")


class MultiObjectiveAuto(Sampler):
    """EHVI for spaces with a numeric parameter, up to ``max_gp_dims`` parameters and
    ``max_gp_trials`` finished trials (it replaced ParEGO there: bench/RESULTS-multiobjective.md);
    MOTPE for all-choice or wide spaces and long histories (its ask stays cheap at thousands
    of trials). Logs each switch with the reason."""

    name = "auto"

    def __init__(self, *, max_gp_dims: int, max_gp_trials: int, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.max_gp_dims = int(max_gp_dims)
        self.max_gp_trials = int(max_gp_trials)
        self._gp = EHVISampler(seed=self.seed)
        self._tpe = MOTPESampler(seed=self.seed)
        self._last: str | None = None

    def choose(self, space: Space, n_finished: int) -> tuple[str, str]:
        """(``"ehvi"`` or ``"motpe"``, the reason) for a space and a number of finished
        trials."""
        numeric = [k for k, p in space.items() if not isinstance(p, Choice) and p.cardinality != 1]
        if not numeric:
            return "motpe", "every parameter is a choice: a GP has nothing to interpolate"
        if len(space) > self.max_gp_dims:
            return "motpe", f"{len(space)} parameters (> {self.max_gp_dims}): too wide for a GP"
        if n_finished >= self.max_gp_trials:
            return "motpe", (
                f"{n_finished} finished trials (>= {self.max_gp_trials}): TPE stays cheap on "
                "long histories"
            )
        return "ehvi", (
            f"{len(numeric)} numeric of {len(space)} parameters and {n_finished} finished "
            "trials: a GP is the most sample-efficient"
        )

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        if not len(ctx.space):
            return {}
        n_finished = sum(t.state.is_finished for t in ctx.trials)
        which, why = self.choose(ctx.space, n_finished)
        if which != self._last:
            logger.info(
                "auto sampler (%d objectives): using %s from trial %d (%s).",
                len(ctx.directions),
                which,
                ctx.number,
                why,
            )
            self._last = which
        sampler: Sampler = self._gp if which == "ehvi" else self._tpe
        return sampler.sample(ctx)

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        return self._tpe.sample_one(ctx, name, param)
