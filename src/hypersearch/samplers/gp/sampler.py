"""Bayesian optimisation with a Gaussian process and log expected improvement."""

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
    observations,
    to_loss,
    trial_rng,
)
from hypersearch.samplers.gp.acquisition import log_ei, log_ei_with_grad
from hypersearch.samplers.gp.candidates import (
    FeasibilityModel,
    InputLayout,
    feasibility_model,
    maximise_acquisition,
)
from hypersearch.samplers.gp.model import GaussianProcess, fit_gp
from hypersearch.samplers.sobol import SobolSampler
from hypersearch.space import Param, Space
from hypersearch.trial import TrialState

__all__ = ["GPSampler", "standardised_losses"]

logger = logging.getLogger("hypersearch")

#: Trials without improvement before Sobol points are interleaved (the safeguard; see
#: docs/samplers.md). Off by default: on the development half of the sampler suite it cost
#: more (mean score at 50 trials 75.5 with 5, 77.4 with 10) than it saved (85.0 without).
EXPLORE_AFTER = 0
#: The plateau safeguard (on by default): when at least half of the last ``PLATEAU_WINDOW``
#: results tie exactly with the best value, the model is re-sampling a flat region that
#: tells it nothing new, so the next trial is a Sobol point (see docs/samplers.md).
PLATEAU_WINDOW = 8
#: Finished results before the plateau safeguard can act; None: ``2 * plateau_window``.
PLATEAU_AFTER: int | None = None
#: Known-level avoidance (an option, off: on the development half it cost 0.5 points of mean
#: score at 100 trials; docs/samplers.md): a value worse than the best that has come back
#: this many times marks a flat level; a candidate whose nearest tried point (kernel metric)
#: holds such a level is skipped for the next-best one.
LEVEL_REPEATS = 0
#: With ``level_window=w`` the repeats are counted among the last ``w`` finished results
#: only (the model is returning to the level now); 0 counts the whole history.
LEVEL_WINDOW = 0


def _stalled(ctx: SamplingContext, patience: int) -> bool:
    """True when none of the last ``patience`` finished trials (by number) beat the best
    value before them."""
    values = [
        to_loss(float(t.value), ctx.direction)
        for t in sorted(ctx.trials, key=lambda t: t.number)
        if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    if len(values) <= patience:
        return False
    return min(values[-patience:]) >= min(values[:-patience])


def _on_plateau(ctx: SamplingContext, window: int, after: int | None = None) -> bool:
    """True when at least half of the last ``window`` finished trials (by number) have
    exactly the best value so far, and at least ``after`` trials have finished (default
    ``2 * window``): a quantised or flat objective whose plateau the model keeps re-sampling
    (continuous objectives practically never tie)."""
    values = np.array(
        [
            to_loss(float(t.value), ctx.direction)
            for t in sorted(ctx.trials, key=lambda t: t.number)
            if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
        ]
    )
    if window < 2 or len(values) < max(window, 2 * window if after is None else after):
        return False
    ties = np.isclose(values[-window:], values.min(), rtol=1e-9, atol=0.0)
    return int(ties.sum()) * 2 >= window


def _recent_levels(ctx: SamplingContext, repeats: int, window: int) -> np.ndarray | None:
    """Values worse than the best that came back ``repeats`` times among the last
    ``window`` finished results (by trial number); None when ``window`` is 0 (the whole
    history counts, in ``propose``)."""
    if not repeats or not window:
        return None
    values = np.array(
        [
            to_loss(float(t.value), ctx.direction)
            for t in sorted(ctx.trials, key=lambda t: t.number)
            if t.state is TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
        ]
    )
    if not len(values):
        return np.zeros(0)
    recent, counts = np.unique(values[-window:], return_counts=True)
    return np.asarray(recent[(counts >= repeats) & (recent > values.min())])


def _transform(loss: np.ndarray) -> tuple[np.ndarray, int]:
    """Standardised losses, with the bad tail squashed, and how many values were squashed.

    Values beyond ``q75 + 3 IQR`` (a diverged run at 1e6, or 1e300) grow only
    logarithmically, so they cannot flatten the model of the good region; the good tail is
    left linear, where the model must be precise. Should the values still overflow (a loss
    of -1e300), their normal scores by rank are used instead."""
    y = np.asarray(loss, dtype=float)
    q25, q75 = np.percentile(y, [25, 75])
    spread = q75 - q25
    if not (spread > 0 and math.isfinite(spread)):
        # Over half the values tie: any positive scale works, the log squash bounds the rest.
        spread = 1e-3 * (abs(float(np.median(y))) + 1e-9)
    cut = q75 + 3.0 * spread
    over = y > cut
    if over.any():
        y = y.copy()
        y[over] = cut + spread * np.log1p((y[over] - cut) / spread)
    with np.errstate(all="ignore"):
        centred = y - y.mean()
        sd = float(np.sqrt(np.mean(centred * centred)))
    if not (math.isfinite(sd) and np.all(np.isfinite(centred))):
        from scipy.special import ndtri
        from scipy.stats import rankdata

        return np.asarray(ndtri((rankdata(loss) - 0.5) / len(y))), int(over.sum())
    return centred / (sd if sd > 0 else 1.0), int(over.sum())


def standardised_losses(loss: np.ndarray) -> tuple[np.ndarray, int]:
    """What the GP is fitted on: the losses standardised with the bad tail squashed, and
    how many were squashed (public for samplers that fit one GP per objective)."""
    return _transform(loss)


class GPSampler(Sampler):
    """Gaussian-process Bayesian optimisation (Matérn-5/2 ARD, log-EI) after a Sobol design.

    - Values are standardised with outliers squashed; non-finite ones are never used.
    - ``plateau_window=8`` (on by default; 0 turns it off): when half of the last 8 results
      tie exactly with the best value, the model is stuck on a plateau of a quantised
      objective (a cross-validation accuracy, a tree depth) and the next trial is a Sobol
      point; the model resumes as soon as the results differ again. It acts from
      ``plateau_after`` finished trials on (default ``2 * plateau_window``).
    - ``level_repeats=k`` (off by default; ``level_window=w`` counts only the last ``w``
      results): a value worse than the best that came back ``k`` times is a known flat
      level (a wide plateau, a box corner), and candidates whose nearest tried point holds
      it are skipped for the next-best acquisition point; see docs/samplers.md.
    - ``explore_after=k`` (off by default): once ``k`` trials in a row have not improved
      the best value, every other trial is a Sobol point until one does, a safeguard for a
      model that misleads (plateaus, noise it takes for signal); see docs/samplers.md.
    - The incumbent for EI is the best posterior mean at a tried point, not the best raw
      value: one lucky evaluation of a noisy objective does not stop the search improving.
    - Integer, stepped and power-of-two parameters are snapped to their values inside the
      acquisition search; choices use a categorical (Hamming) kernel dimension each.
    - Failed trials train a feasibility model whose log-probability is added to log-EI, so
      regions that crash (out of memory at large widths) are avoided.
    - Running trials are fantasised at their posterior mean (never better than the best), so
      parallel workers get distinct points.
    - Stopped trials count with a loss imputed from their learning curve.
    - A space of only choices falls back to TPE (with a log message); define-by-run
      parameters use univariate TPE.

    >>> hs.create_study(space=space, sampler=hs.samplers.GPSampler(seed=0))
    """

    name = "gp"

    def __init__(
        self,
        *,
        n_startup: int | None = None,
        max_points: int = 250,
        explore_after: int = EXPLORE_AFTER,
        plateau_window: int = PLATEAU_WINDOW,
        plateau_after: int | None = PLATEAU_AFTER,
        level_repeats: int = LEVEL_REPEATS,
        level_window: int = LEVEL_WINDOW,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.n_startup = None if n_startup is None else int(n_startup)
        self.max_points = int(max_points)
        if int(explore_after) < 0:
            raise InvalidArgumentError(
                f"GPSampler: explore_after must be 0 (off, the default) or a number of trials, "
                f"got {explore_after}; e.g. explore_after=5 alternates Sobol points and model "
                "proposals after 5 trials without improvement."
            )
        self.explore_after = int(explore_after)
        if int(plateau_window) < 0 or int(plateau_window) == 1:
            raise InvalidArgumentError(
                f"GPSampler: plateau_window must be 0 (off) or a number of trials >= 2, got "
                f"{plateau_window}; the default {PLATEAU_WINDOW} explores when half of the last "
                f"{PLATEAU_WINDOW} results tie with the best value."
            )
        self.plateau_window = int(plateau_window)
        if plateau_after is not None and int(plateau_after) < 2:
            raise InvalidArgumentError(
                f"GPSampler: plateau_after must be None (twice plateau_window) or a number of "
                f"finished trials >= 2, got {plateau_after}; e.g. 8 lets the plateau safeguard "
                "act from the 9th trial on."
            )
        self.plateau_after = None if plateau_after is None else int(plateau_after)
        if int(level_repeats) < 0 or int(level_repeats) == 1:
            raise InvalidArgumentError(
                f"GPSampler: level_repeats must be 0 (off) or a count >= 2, got "
                f"{level_repeats}; e.g. 3 skips candidates next to a worse value seen 3 times."
            )
        self.level_repeats = int(level_repeats)
        if int(level_window) < 0:
            raise InvalidArgumentError(
                f"GPSampler: level_window must be 0 (the whole history) or a number of recent "
                f"trials, got {level_window}; e.g. 8 counts repeats among the last 8 results."
            )
        self.level_window = int(level_window)
        self._said: set[str] = set()
        self._sobol = SobolSampler(seed=self.seed)
        self._cache = EncodingCache()
        self._layouts: tuple[Space, InputLayout] | None = None
        self._warned = False
        from hypersearch.samplers.tpe import TPESampler

        self._tpe = TPESampler(seed=self.seed)

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "name": self.name,
            "n_startup": self.n_startup,
            "max_points": self.max_points,
        }
        if self.explore_after != EXPLORE_AFTER:  # stored studies without it resume unchanged
            config["explore_after"] = self.explore_after
        if self.plateau_window != PLATEAU_WINDOW:
            config["plateau_window"] = self.plateau_window
        if self.plateau_after != PLATEAU_AFTER:
            config["plateau_after"] = self.plateau_after
        if self.level_repeats != LEVEL_REPEATS:
            config["level_repeats"] = self.level_repeats
        if self.level_window != LEVEL_WINDOW:
            config["level_window"] = self.level_window
        return config

    def _say(self, key: str, message: str, *args: Any) -> None:
        """Log ``message`` once per sampler: behaviour changed, and why."""
        if key not in self._said:
            self._said.add(key)
            logger.info(message, *args)

    def describe(self) -> str:
        return (
            "gp sampler: Gaussian process (Matérn-5/2 ARD) with log expected improvement after "
            "a Sobol design; failures are modelled as infeasible"
        )

    def startup_trials(self, space: Space) -> int:
        """Sobol points before the model takes over: ``d + 1``, between 5 and 10."""
        if self.n_startup is not None:
            return self.n_startup
        return min(max(len(space) + 1, 5), 10)

    def _layout(self, space: Space) -> InputLayout:
        if self._layouts is None or self._layouts[0] != space:
            self._layouts = (space, InputLayout(space))
        return self._layouts[1]

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        if not len(ctx.space):
            return {}
        layout = self._layout(ctx.space)
        if layout.only_categorical:
            if not self._warned:
                logger.info(
                    "gp sampler: every parameter is a choice, where a GP has nothing to "
                    "interpolate; using TPE for this space instead."
                )
                self._warned = True
            return self._tpe.sample(ctx)
        obs = observations(ctx, ctx.space, self._cache)
        startup = max(self.startup_trials(ctx.space), 2)
        if len(obs.loss) < startup:
            if not len(obs.loss) and len(obs.failed) >= startup:
                self._say(
                    "all-failed",
                    "gp sampler: all %d trials so far failed; Sobol points until one succeeds "
                    "(check the objective if this goes on).",
                    len(obs.failed),
                )
            return self._sobol.sample(ctx)
        if np.ptp(obs.loss) == 0:
            self._say(
                "flat",
                "gp sampler: every trial so far has the same value (%g), so a model has "
                "nothing to rank; Sobol points until values differ.",
                float(obs.loss[0]),
            )
            return self._sobol.sample(ctx)
        if self.plateau_window and _on_plateau(ctx, self.plateau_window, self.plateau_after):
            self._say(
                "plateau",
                "gp sampler: half of the last %d results tie exactly with the best value (a "
                "plateau the model keeps re-sampling); Sobol points while that lasts.",
                self.plateau_window,
            )
            return self._sobol.sample(ctx)
        if self.explore_after and ctx.number % 2 and _stalled(ctx, self.explore_after):
            self._say(
                "explore",
                "gp sampler: %d trials without a better value; every other trial is a Sobol "
                "point until one improves (the model may be misled).",
                self.explore_after,
            )
            return self._sobol.sample(ctx)
        levels = _recent_levels(ctx, self.level_repeats, self.level_window)
        u = self.propose(ctx.space, obs, trial_rng(self.seed, ctx.number, "gp"), levels=levels)
        return ctx.space.decode(u)

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        return self._tpe.sample_one(ctx, name, param)

    # the model ---------------------------------------------------------------------
    def _subset(self, obs: Observations, rng: np.random.Generator) -> np.ndarray:
        """Indices of at most ``max_points`` observations: the best quarter, and an even
        spread of the rest (keeps an ask fast at thousands of trials)."""
        n = len(obs.loss)
        if n <= self.max_points:
            return np.arange(n)
        order = np.argsort(obs.loss, kind="stable")
        n_best = self.max_points // 4
        rest = np.sort(order[n_best:])
        pick = rng.choice(len(rest), size=self.max_points - n_best, replace=False)
        return np.concatenate([order[:n_best], rest[np.sort(pick)]])

    def propose(
        self,
        space: Space,
        obs: Observations,
        rng: np.random.Generator,
        *,
        levels: np.ndarray | None = None,
    ) -> np.ndarray:
        """One point of the unit cube maximising log-EI (times feasibility) under the GP;
        ``levels``: known flat values to keep away from (default: from ``level_repeats``)."""
        layout = self._layout(space)
        keep = self._subset(obs, rng)
        x, loss = obs.x[keep], obs.loss[keep]
        xc, xk = layout.features(x)
        y, n_squashed = _transform(loss)
        if n_squashed:
            self._say(
                "squash",
                "gp sampler: %d value(s) far above the rest (worst %g) are compressed "
                "logarithmically so they do not flatten the model of the good region.",
                n_squashed,
                float(np.max(loss)),
            )
        gp = fit_gp(xc, xk, y, rng, restarts=1 if len(y) < 60 else 0)
        # Noisy-EI incumbent: the best posterior mean at a tried point (not a lucky draw).
        best = float(min(gp.predict(xc, xk)[0].min(), y.max()))
        feas = feasibility_model(gp.lengthscales, obs.x, obs.failed, layout)
        if len(obs.failed):  # failures look like the worst value seen: EI avoids them
            fc, fk = layout.features(obs.failed)
            gp = gp.condition_on(fc, fk, np.full(len(fc), float(y.max())))
        if len(obs.running):  # fantasies at the posterior mean, never better than the best
            rc, rk = layout.features(obs.running)
            mean, _ = gp.predict(rc, rk)
            gp = gp.condition_on(rc, rk, np.maximum(mean, best))

        score = _Acquisition(gp, best, feas)
        seen_c, seen_k = layout.features(np.vstack([obs.x, obs.running, obs.failed]))
        cc, ck = maximise_acquisition(
            score, layout, rng, xc[np.argsort(y)[:5]], xk[np.argsort(y)[:5]]
        )
        skip = self._on_known_level(gp, layout, obs, cc, ck, levels)
        fallback = None
        for i in range(len(cc)):  # the best candidate not tried yet
            same = np.all(np.isclose(seen_c, cc[i]), axis=1) & np.all(seen_k == ck[i], axis=1)
            if same.any():
                continue
            if skip[i]:
                fallback = i if fallback is None else fallback
                continue
            return layout.unit(cc[i : i + 1], ck[i : i + 1])[0]
        if fallback is not None:
            return layout.unit(cc[fallback : fallback + 1], ck[fallback : fallback + 1])[0]
        return rng.random(layout.d)

    def _on_known_level(
        self,
        gp: GaussianProcess,
        layout: InputLayout,
        obs: Observations,
        cc: np.ndarray,
        ck: np.ndarray,
        levels: np.ndarray | None = None,
    ) -> np.ndarray:
        """Which candidates lie on a known flat level: their nearest tried point (in the
        kernel's metric) holds a value worse than the best that has come back
        ``level_repeats`` times (a plateau or corner the model keeps re-sampling)."""
        skip = np.zeros(len(cc), dtype=bool)
        if not self.level_repeats or not len(obs.loss):
            return skip
        if levels is None:
            values, counts = np.unique(obs.loss, return_counts=True)
            levels = values[(counts >= self.level_repeats) & (values > values[0])]
        if len(levels):
            oc, ok = layout.features(obs.x)
            nearest = np.argmin(gp.distances(cc, ck, oc, ok), axis=1)
            skip = np.isin(obs.loss[nearest], levels)
        return skip


class _Acquisition:
    """log-EI under the GP plus log P(feasible), for candidate arrays (continuous
    coordinates, category codes); ``with_grad`` adds the gradient in the continuous ones."""

    def __init__(self, gp: GaussianProcess, best: float, feas: FeasibilityModel | None) -> None:
        self.gp, self.best, self.feas = gp, best, feas

    def __call__(self, cc: np.ndarray, ck: np.ndarray) -> np.ndarray:
        mean, var = self.gp.predict(cc, ck)
        a = log_ei(mean, var, self.best)
        return a if self.feas is None else a + self.feas(cc, ck)

    def with_grad(self, cc: np.ndarray, ck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, g = log_ei_with_grad(*self.gp.predict_with_grad(cc, ck), self.best)
        if self.feas is not None:
            fa, fg = self.feas.with_grad(cc, ck)
            a, g = a + fa, g + fg
        return a, g
