"""ParEGO (Knowles 2006) on the package's Gaussian process: each trial minimises one random
Chebyshev scalarisation of the objectives with log-EI.

Objectives are scaled to [0, 1] over the feasible trials, a weight vector ``λ`` is drawn
from the simplex for the trial (from the seed and trial number alone), and the GP models
``max_j λ_j f_j + ρ Σ_j λ_j f_j``. Over many trials the weights sweep the whole front.
Infeasible trials (violated constraints, failures that are the point's fault) train the
GP sampler's feasibility model, as crashes do for one objective; until a trial is feasible,
the GP minimises the total constraint violation instead.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.samplers.base import (
    EncodingCache,
    Observations,
    Sampler,
    SamplingContext,
    trial_rng,
)
from hypersearch.samplers.gp import GPSampler
from hypersearch.samplers.multiobjective.history import (
    MOObservations,
    mo_observations,
    normalised,
)
from hypersearch.samplers.multiobjective.tpe import MOTPESampler
from hypersearch.samplers.sobol import SobolSampler
from hypersearch.space import Choice, Param

__all__ = ["ParEGOSampler", "chebyshev"]

logger = logging.getLogger("hypersearch")


def chebyshev(losses: np.ndarray, weights: np.ndarray, rho: float = 0.05) -> np.ndarray:
    """The augmented Chebyshev scalarisation of (already scaled) losses: lower is better."""
    weighted = losses * weights[None, :]
    return np.asarray(weighted.max(axis=1) + rho * weighted.sum(axis=1))


def simplex_weights(rng: np.random.Generator, m: int) -> np.ndarray:
    """A weight vector drawn uniformly from the simplex (``m`` non-negative, summing to 1)."""
    w = rng.exponential(size=m)
    return np.asarray(w / w.sum())


class ParEGOSampler(Sampler):
    """Multi-objective Bayesian optimisation by random Chebyshev scalarisations (ParEGO) on
    the GP of ``GPSampler``, constraint-aware; see the module docstring. Spaces of only
    choices and define-by-run parameters use ``MOTPESampler``.

    >>> hs.create_study(space=space, directions={"acc": "maximize", "ms": "minimize"},
    ...                 sampler=hs.samplers.ParEGOSampler(seed=0))
    """

    name = "parego"

    def __init__(
        self,
        *,
        n_startup: int | None = None,
        rho: float = 0.05,
        max_points: int = 250,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if not (rho >= 0 and math.isfinite(rho)) or int(max_points) < 2:
            raise InvalidArgumentError(
                f"ParEGOSampler: rho must be a finite number >= 0 and max_points >= 2, got "
                f"rho={rho}, max_points={max_points}; the defaults are rho=0.05, "
                "max_points=250."
            )
        self.n_startup = None if n_startup is None else int(n_startup)
        self.rho = float(rho)
        self.max_points = int(max_points)
        self._gp = GPSampler(n_startup=n_startup, max_points=max_points, seed=self.seed)
        self._tpe = MOTPESampler(seed=self.seed)
        self._sobol = SobolSampler(seed=self.seed)
        self._cache = EncodingCache()
        self._warned = False

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_startup": self.n_startup,
            "rho": self.rho,
            "max_points": self.max_points,
        }

    def describe(self) -> str:
        return (
            "parego sampler: a Gaussian process with log expected improvement on a random "
            "Chebyshev scalarisation per trial, after a Sobol design; infeasible trials are "
            "modelled as such"
        )

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        if not len(ctx.space):
            return {}
        if all(isinstance(p, Choice) or p.cardinality == 1 for p in ctx.space.values()):
            if not self._warned:
                logger.info(
                    "parego sampler: every parameter is a choice, where a GP has nothing to "
                    "interpolate; using multi-objective TPE for this space instead."
                )
                self._warned = True
            return self._tpe.sample(ctx)
        obs = mo_observations(ctx, ctx.space, self._cache)
        if obs.n_told < max(self._gp.startup_trials(ctx.space), 2):
            return self._sobol.sample(ctx)
        rng = trial_rng(self.seed, ctx.number, "parego")
        scalar = self.scalarised(obs, rng)
        if scalar is None or len(scalar.loss) < 2 or np.ptp(scalar.loss) == 0:
            return self._sobol.sample(ctx)
        return ctx.space.decode(self._gp.propose(ctx.space, scalar, rng))

    def scalarised(self, obs: MOObservations, rng: np.random.Generator) -> Observations | None:
        """The single-objective view the GP sees for one trial: scalarised losses of the
        feasible points with infeasible points as failures, or, with none feasible yet, the
        violations of the infeasible points (None when there is nothing to rank)."""
        d = obs.x.shape[1]
        if len(obs.x):
            weights = simplex_weights(rng, obs.losses.shape[1])
            loss = chebyshev(normalised(obs.losses), weights, self.rho)
            return Observations(
                x=obs.x,
                loss=loss,
                failed=obs.infeasible,
                running=obs.running,
                n_complete=len(loss),
                n_stopped=0,
            )
        finite = np.isfinite(obs.violation)
        if not finite.any():
            return None
        return Observations(
            x=obs.infeasible[finite],
            loss=obs.violation[finite],
            failed=obs.infeasible[~finite].reshape(-1, d),
            running=obs.running,
            n_complete=int(finite.sum()),
            n_stopped=0,
        )

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        return self._tpe.sample_one(ctx, name, param)
