"""KerasTuner's tuner classes: ``RandomSearch``, ``BayesianOptimization``, ``GridSearch``,
``Hyperband`` — a ``Tuner`` with a strategy each."""

from __future__ import annotations

import math
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.keras.hyperparameters import HyperParameters
from hypersearch.keras.tuner import Tuner

__all__ = ["BayesianOptimization", "GridSearch", "Hyperband", "RandomSearch"]


class RandomSearch(Tuner):
    """KerasTuner's ``RandomSearch``: uniform random sampling."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("strategy", "random")
        super().__init__(
            hypermodel, objective, max_trials, seed=seed, hyperparameters=hyperparameters, **kwargs
        )


class BayesianOptimization(Tuner):
    """KerasTuner's ``BayesianOptimization``: the Gaussian-process sampler (TPE when the GP
    is not available). ``num_initial_points`` random trials come first; ``alpha`` and
    ``beta`` (KerasTuner's GP noise and UCB weight) are accepted but not used: the GP
    sampler fits its own noise and uses expected improvement."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("strategy", "bayes")
        super().__init__(
            hypermodel, objective, max_trials, seed=seed, hyperparameters=hyperparameters, **kwargs
        )
        if num_initial_points is not None and self.sampler_name == "gp":
            self.sampler_options["n_startup"] = int(num_initial_points)


class GridSearch(Tuner):
    """KerasTuner's ``GridSearch``: every combination of the space once (found by building
    the model once with defaults). A ``Float`` without ``step`` gets ``n_points`` values
    (default 5) on its own scale; ``max_trials=None`` runs the whole grid."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        n_points: int = 5,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("strategy", "grid")
        super().__init__(
            hypermodel, objective, max_trials, seed=seed, hyperparameters=hyperparameters, **kwargs
        )
        self.sampler_options.setdefault("n_points", n_points)
        self._grid: dict[str, Any] | None = None

    def _study_space(self) -> dict[str, Any] | None:
        if self._grid is None:
            self._grid = {d.name: d.param() for d in self._discover_space() if d.kind != "Fixed"}
        return self._grid or None

    def _trial_budget(self) -> int | None:
        from hypersearch.samplers.grid import GridSampler
        from hypersearch.space import Space

        space = self._study_space()
        size = GridSampler(n_points=self.sampler_options["n_points"]).size(Space(space or {}))
        return size if self.max_trials is None else min(self.max_trials, size)


class Hyperband(Tuner):
    """KerasTuner's ``Hyperband``: random candidates, the Hyperband scheduler on epochs with
    rungs at ``max_epochs / factor**k`` epochs (``search``'s ``epochs`` is set to
    ``max_epochs``, as in KerasTuner). It runs ``hyperband_iterations`` times the trials of one
    Hyperband iteration."""

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        **kwargs: Any,
    ) -> None:
        from hypersearch import schedulers

        if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 2:
            raise InvalidArgumentError(f"max_epochs must be an integer >= 2, got {max_epochs!r}.")
        kwargs.setdefault("strategy", "random")
        kwargs.setdefault(
            "scheduler",
            schedulers.Hyperband(min_resource=1, max_resource=max_epochs, reduction_factor=factor),
        )
        budget = hyperband_iterations * _hyperband_trials(max_epochs, factor)
        super().__init__(
            hypermodel,
            objective,
            kwargs.pop("max_trials", budget),
            seed=seed,
            hyperparameters=hyperparameters,
            **kwargs,
        )
        self.max_epochs = max_epochs
        self.factor = factor
        self.hyperband_iterations = hyperband_iterations

    def _epochs(self, fit_kwargs: dict[str, Any]) -> int:
        fit_kwargs["epochs"] = self.max_epochs
        return self.max_epochs


def _hyperband_trials(max_epochs: int, factor: int) -> int:
    """Candidates one Hyperband iteration starts (all brackets), as in Li et al. (2018)."""
    s_max = 0
    while factor ** (s_max + 1) <= max_epochs:
        s_max += 1
    return sum(math.ceil((s_max + 1) / (s + 1) * factor**s) for s in range(s_max + 1))
