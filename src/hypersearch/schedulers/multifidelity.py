"""The recommended early-stopping scheduler: ASHA's rungs, with new configurations proposed by
a model of every reported point (``CurveModel``: a GP over configuration and resource).

Only ``max_resource`` is needed. The first two full trainings are chosen by screening: every
configuration trains to one rung at about 8% of ``max_resource`` and the best of each
``ceil(max_resource / rung)`` screened trains in full (``screen_first``). Later configurations
climb a ladder of rungs: ``reduction_factor`` 3 and ``min_resource`` ``max_resource /
reduction_factor**2`` (at least 1), two rungs below full training, the first at about 11% of
it; without the screening start three rungs (``/ reduction_factor**3``, about 4%), which held
up against 2 and 4 rungs and a reduction factor of 2 or 4 there. The screening start and the
shorter ladder after it were adopted on the benchmark's development half by criteria stated
before their confirmation runs (bench/RESULTS-multifidelity.md).

Trials pause at rungs even when the objective saves no checkpoint: the paused trial ends as
STOPPED and a promotion retrains its configuration from step 0. On the development half this
beat the stopping form (``pause=False``) at every budget, although it repeats some training.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.samplers.base import trial_rng
from hypersearch.samplers.sobol import sobol_point
from hypersearch.schedulers.base import Decision, SchedulerContext, TrialPlan, Verdict
from hypersearch.schedulers.curves import lineage_curves, promoted_parents, value_at
from hypersearch.schedulers.hyperband import ASHA, promotion_key
from hypersearch.space import Space
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.schedulers.mf_model import Curve

__all__ = ["MultiFidelity", "derived_resources"]

#: Rungs below full training when only ``reduction_factor`` is given.
DEFAULT_RUNGS = 3
#: The same after the screening start, whose groups serve the smallest budgets (adopted on the
#: development half by a criterion stated before its confirmation run).
LADDER_RUNGS_AFTER_SCREENING = 2
#: ``reduction_factor`` when only ``min_resource`` is given.
DEFAULT_REDUCTION_FACTOR = 3
#: ``screening=True``: one rung at ``max_resource / SCREEN_DIVISOR`` unless given.
SCREEN_DIVISOR = 12
#: ``screen_first``'s default: the first two full trainings are chosen by screening.
SCREEN_FIRST = 2
#: ``trial.attrs["bracket"]`` of a screened trial while the ladder also runs, and the
#: early-stopping rate that stands for its one rung.
SCREEN = "screen"
SCREEN_RATE = -1
#: Initial design: ``INITIAL_PER_PARAM * parameters + INITIAL_EXTRA`` random configurations.
INITIAL_PER_PARAM = 1
INITIAL_EXTRA = 2
#: How the initial design is drawn: "random" (uniform draws) or "sobol" (under study: the
#: points of a seeded, scrambled Sobol sequence, which leave fewer gaps for so few points).
INITIAL_DESIGN = "random"
#: ``fast_track=True`` (under study): promote when the probability that the paused trial's
#: full-training value beats the best fully trained configuration's (both predicted) is at
#: least this (0.5: its posterior mean is lower) ...
FAST_TRACK_MIN_PI = 0.5
#: ... and only once the initial design has reported (False: as soon as the model fits).
FAST_TRACK_AFTER_INITIAL = True
#: Where new configurations maximise expected improvement: "full" (full training) or
#: "bohb" (under study, as MOBSTER's option: the highest rung, or full training, that at
#: least parameters + 1 configurations have reached).
ACQUISITION_LEVEL = "full"
#: At the last rung, at least this many of the trials there may go on to full training (ASHA's
#: quota is the top ``1/reduction_factor``, at least 1; more is under study).
TOP_RUNG_MIN_PROMOTED = 1
#: What a rung ranks its trials by: "at" (the value reported at the rung, as the model reads
#: a curve; an earlier, better report does not count), "value" (the best value so far at the
#: rung, as ASHA; the rule before 2026-12-05), "model" (under study: the model's predicted
#: full-training value, once a configuration has been fully trained) or "next" (under study:
#: the model's predicted value at the next rung, or full training after the last, once a
#: configuration has reached it: a shorter extrapolation than "model", as DyHPO looks one
#: step ahead). "at" was adopted on the
#: development half of the benchmark by a criterion stated before the run: paired gap
#: difference -0.02 / -0.04 / -0.02 at 1/5, 1/2, full (bench/RESULTS-multifidelity.md).
RUNG_RANK = "at"
#: Exploration switch (0: off, the default): at the ladder's last rung a trial of the top
#: ``1/reduction_factor`` goes on to full training (trains on, or is promoted) only while the
#: model gives it at least this probability of ending better than every fully trained one.
GATE_MIN_PI = 0.0
#: Score candidate configurations at the values they decode to and never propose one already
#: tried (under study; see ``CurveModel.propose``).
SNAP = False


def snapper(space: Space) -> Callable[[np.ndarray], np.ndarray]:
    """Unit-cube points -> the encodings of the configurations they decode to (an integer or a
    choice has one point per value), so equal configurations compare equal."""

    def snap(u: np.ndarray) -> np.ndarray:
        return np.array([space.encode(space.decode(row)) for row in u])

    return snap


def derived_resources(
    max_resource: int,
    min_resource: int | None = None,
    reduction_factor: int | None = None,
    *,
    screening: bool = False,
    rungs: int | None = None,
) -> tuple[int, int]:
    """``(min_resource, reduction_factor)``: the given ones, else 3 and
    ``round(max_resource / 3**rungs)`` (at least 1, below ``max_resource``; ``rungs`` default
    ``DEFAULT_RUNGS``). With ``screening``:
    the rung ``round(max_resource / 12)`` (at least 1) and the factor
    ``ceil(max_resource / min_resource)`` that leaves it the only rung."""
    if isinstance(max_resource, bool) or not isinstance(max_resource, int) or max_resource < 2:
        raise InvalidArgumentError(
            f"MultiFidelity: max_resource must be an integer >= 2 (the step a full training "
            f"reports last, e.g. the number of epochs), got {max_resource!r}."
        )
    if screening and (min_resource is None or reduction_factor is None):
        if min_resource is None:
            min_resource = min(max(1, round(max_resource / SCREEN_DIVISOR)), max_resource - 1)
        if reduction_factor is None and isinstance(min_resource, int) and min_resource > 0:
            reduction_factor = max(2, -(-max_resource // min_resource))  # rung * factor >= max
    eta = DEFAULT_REDUCTION_FACTOR if reduction_factor is None else reduction_factor
    n_rungs = DEFAULT_RUNGS if rungs is None else rungs  # read here: ablations patch it
    if (
        isinstance(min_resource, int)
        and not isinstance(min_resource, bool)
        and min_resource >= max_resource
    ):
        raise InvalidArgumentError(
            f"MultiFidelity: min_resource={min_resource} must be below max_resource="
            f"{max_resource} (the first rung comes before full training). Lower min_resource, "
            f"or leave it out to take max_resource / reduction_factor**{n_rungs}."
        )
    if min_resource is None:
        scale = eta**n_rungs if isinstance(eta, int) and eta >= 2 else 27
        min_resource = min(max(1, round(max_resource / scale)), max_resource - 1)
    return min_resource, eta


class MultiFidelity(ASHA):
    """ASHA whose new trials come from a model of all reported points, after a screening start.

    The first ``screen_first`` (default 2) full trainings go to the best of each group of
    ``ceil(max_resource / rung)`` configurations screened at one rung, ``round(max_resource /
    12)`` (at least 1): the rung's quota counts the trials already promoted, so nothing trains
    in full on the evidence of two or three others (``trial.attrs["bracket"] == "screen"``).
    Later configurations climb the ladder below; ``screen_first=0`` starts on the ladder.

    On the ladder it pauses trials at rungs and promotes the top ``1/reduction_factor`` of
    each rung as ``ASHA`` does. Either way a promotion continues from the paused trial's
    checkpoint when the objective saves one, else retrains the configuration from step 0;
    ``pause=False`` gives the stopping form instead (the best trials simply train on).
    Each new configuration maximises expected improvement at ``max_resource`` under a GP
    fitted on every curve so far, stopped and paused ones included. The first ``n_initial``
    configurations (default: parameters + 2) and ``random_fraction`` of the rest are uniform
    random draws. When several paused trials may be promoted, the one the model predicts to
    end best goes first.

    ``screening=True`` screens every configuration, not only the first groups: one rung at
    about 8% of ``max_resource`` (``round(max_resource / 12)``, unless ``min_resource`` is
    given), the best not yet promoted of every ``reduction_factor`` screened (default
    ``ceil(max_resource / min_resource)``, which leaves one rung) trains in full. On the
    benchmark's development half it was worse than the default at the full budget (rpart,
    whose early values mislead); it is kept for budgets of a few full trainings.

    ``fast_track=True`` (an option under study, off by default) also promotes, straight to
    full training past the rungs left, the paused trial whose predicted final value is best
    when that prediction beats every fully trained configuration's (or, before any is fully
    trained, once the initial design has reported).

    >>> hs.create_study(..., scheduler=hs.schedulers.MultiFidelity(max_resource=52))
    """

    name = "multifidelity"

    def __init__(
        self,
        *,
        max_resource: int,
        min_resource: int | None = None,
        reduction_factor: int | None = None,
        pause: bool | None = None,
        random_fraction: float = 0.1,
        n_initial: int | None = None,
        max_points: int = 150,
        fast_track: bool = False,
        screen_first: int | None = None,
        screening: bool = False,
        seed: int = 0,
    ) -> None:
        if not isinstance(screening, bool):
            raise InvalidArgumentError(
                f"MultiFidelity: screening must be True or False, got {screening!r}."
            )
        if screen_first is None:
            screen_first = SCREEN_FIRST
        if isinstance(screen_first, bool) or not isinstance(screen_first, int) or screen_first < 0:
            raise InvalidArgumentError(
                f"MultiFidelity: screen_first must be an integer >= 0 (how many full trainings "
                f"are chosen by screening before the rung ladder; 0: none), got {screen_first!r}."
            )
        self.screen_first = screen_first
        #: screened trials and the ladder side by side: the first ``screen_first`` full
        #: trainings are chosen by screening, later configurations climb the ladder
        self.mixed = not screening and screen_first > 0
        if self.mixed:
            self.screen_rung, self.screen_factor = derived_resources(max_resource, screening=True)
            lo, eta = derived_resources(max_resource, min_resource, reduction_factor,
                                        rungs=LADDER_RUNGS_AFTER_SCREENING)  # fmt: skip
        else:
            lo, eta = derived_resources(max_resource, min_resource, reduction_factor,
                                        screening=screening)  # fmt: skip
            self.screen_rung, self.screen_factor = lo, eta
        super().__init__(
            min_resource=lo, max_resource=max_resource, reduction_factor=eta, pause=pause
        )
        if not 0 <= random_fraction <= 1:
            raise InvalidArgumentError(
                f"MultiFidelity: random_fraction must be within [0, 1], got {random_fraction!r}."
            )
        if n_initial is not None and (isinstance(n_initial, bool) or n_initial < 1):
            raise InvalidArgumentError(
                f"MultiFidelity: n_initial must be an integer >= 1, got {n_initial!r}."
            )
        if max_points < 10:
            raise InvalidArgumentError(
                f"MultiFidelity: max_points must be >= 10, got {max_points!r}."
            )
        self.given_min_resource = min_resource
        self.given_reduction_factor = reduction_factor
        self.screening = screening
        self.random_fraction = float(random_fraction)
        self.n_initial = n_initial
        self.max_points = int(max_points)
        if not isinstance(fast_track, bool):
            raise InvalidArgumentError(
                f"MultiFidelity: fast_track must be True or False, got {fast_track!r}."
            )
        self.fast_track = fast_track
        self.seed = int(seed)
        from hypersearch.schedulers.mf_model import CurveModel  # SciPy: loaded on first use

        levels = self.rungs(max_resource) + ([self.screen_rung] if self.mixed else [])
        self.model = CurveModel(max_resource, levels, max_points=max_points)

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_resource": self.max_resource,
            "min_resource": self.given_min_resource,
            "reduction_factor": self.given_reduction_factor,
            "pause": self.pause,
            "random_fraction": self.random_fraction,
            "n_initial": self.n_initial,
            "max_points": self.max_points,
            **({"fast_track": True} if self.fast_track else {}),
            "screen_first": self.screen_first,
            **({"screening": True} if self.screening else {}),
            "seed": self.seed,
        }

    # history -> model inputs ----------------------------------------------------------------
    def curves(self, ctx: SchedulerContext) -> list[tuple[int, Curve]]:
        """(trial number, minimised curve) per configuration of ``ctx.trials``: a promotion
        and the paused trial it continues are one curve; a completed trial that never
        reported counts at ``max_resource``."""
        from hypersearch.schedulers.mf_model import Curve

        trials, space, loss = ctx.trials, ctx.space, ctx.direction.to_loss
        merged = lineage_curves(trials)
        parents = promoted_parents(trials)
        out = []
        for t in trials:
            if t.number in parents or t.state is TrialState.WAITING:
                continue
            if not all(k in t.params for k in space):
                continue
            values = dict(merged.get(t.number, t.intermediate))
            if not values and t.state is TrialState.COMPLETE and t.has_value:
                values = {int(self.max_resource): float(t.value)}  # type: ignore[arg-type]
            if not values:
                continue
            x = space.encode({k: t.params[k] for k in space})
            out.append((t.number, Curve(x, {s: loss(v) for s, v in values.items()})))
        return out

    # planning -------------------------------------------------------------------------------
    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        trials, space = ctx.trials, ctx.space
        new = sum(1 for t in trials if "promoted_from" not in t.attrs and t.number != number)
        n_initial = self.n_initial or INITIAL_PER_PARAM * len(space) + INITIAL_EXTRA
        if self.fast_track and len(space) and (new >= n_initial or not FAST_TRACK_AFTER_INITIAL):
            fast = self._fast_track(ctx)
            if fast is not None:
                return fast
        promotion = super().plan(number, ctx)
        if promotion is not None:
            return promotion
        screened = self.mixed and new < self.screen_first * self.screen_factor
        bracket = {"bracket": SCREEN} if screened else {}
        if not len(space):  # define-by-run objective: leave the parameters to the sampler
            return TrialPlan(attrs=bracket) if bracket else None
        rng = trial_rng(self.seed, number, self.name)
        if new < n_initial and INITIAL_DESIGN == "sobol":
            return TrialPlan(
                params=space.decode(sobol_point(len(space), new, self.seed)),
                attrs={"proposed_by": "sobol", **bracket},
            )
        explore = new < n_initial or rng.random() < self.random_fraction
        if not explore:
            history = self.curves(ctx)
            if self.model.fit([c for _, c in history], rng):
                observed = np.array([c.x for _, c in history])
                level = self._acquisition_level([c for _, c in history], len(space))
                x = self.model.propose(
                    observed, rng, resource=level, snap=snapper(space) if SNAP else None
                )
                return TrialPlan(params=space.decode(x), attrs={"proposed_by": "model", **bracket})
        return TrialPlan(
            params=space.decode(rng.random(len(space))),
            attrs={"proposed_by": "random", **bracket},
        )

    def _acquisition_level(self, curves: Sequence[Curve], n_params: int) -> int | None:
        """None (full training), or with ``ACQUISITION_LEVEL = "bohb"`` the highest rung that
        at least ``n_params + 1`` curves reached while full training has fewer."""
        if ACQUISITION_LEVEL != "bohb":
            return None
        top = int(self.max_resource)
        for level in [top, *reversed(self.rungs(top))]:
            if sum(1 for c in curves if c.values and max(c.values) >= level) >= n_params + 1:
                return None if level == top else level
        return None

    def _fast_track(self, ctx: SchedulerContext) -> TrialPlan | None:
        """A promotion straight to full training of the paused trial most likely to beat every
        fully trained configuration (``FAST_TRACK_MIN_PI``), or before any is fully trained the
        one predicted to end best; one at a time."""
        trials = ctx.trials
        if any(t.attrs.get("fast_track") and not t.state.is_finished for t in trials):
            return None
        history = dict(self.curves(ctx))
        waiting = [t for t in self._waiting_for_promotion(trials) if t.number in history]
        if not waiting or not self.model.fit(list(history.values()), trial_rng(self.seed, 0)):
            return None
        full = self._fully_trained(history)
        x = np.array([history[t.number].x for t in waiting])
        if full:
            pi = self.model.chance_to_beat(x, np.array(full))
            pick = int(np.argmax(pi))
            if pi[pick] < FAST_TRACK_MIN_PI:
                return None
        else:
            pick = int(np.argmin(self.model.predicted_final(x)))
        t = waiting[pick]
        attrs: dict[str, Any] = {
            "promoted_from": t.number,
            "promoted_at": int(t.attrs["paused_at"]),
            "fixed_params": dict(t.params),
            "fast_track": True,
        }
        ckpt = t.attrs.get("checkpoint")
        if ckpt and ckpt.get("step") is not None:
            attrs["resume_from"] = t.number
            attrs["start_step"] = int(ckpt["step"]) + 1
        else:  # nothing to continue from: retrain from scratch
            attrs["start_step"] = 0
        return TrialPlan(params=dict(t.params), attrs=attrs, claim=promotion_key(t.number))

    def decide(self, trial: TrialRecord, ctx: SchedulerContext) -> Decision | Verdict:
        """ASHA's rule, except that a fast-tracked promotion trains in full (and, with
        ``GATE_MIN_PI``, the gate at the last rung)."""
        if trial.attrs.get("fast_track"):
            self._check_bounds(trial, ctx.trials)
            return Decision.CONTINUE
        verdict = super().decide(trial, ctx)
        if verdict is not Decision.CONTINUE or GATE_MIN_PI <= 0:
            return verdict
        last, step = self._last_ladder_rung(trial, ctx.trials), trial.last_step
        if last is None or step is None or not self._pausing(trial, ctx.trials):
            return verdict
        earlier = [s for s in trial.intermediate if s < step]
        previous = max([*earlier, int(trial.attrs.get("promoted_at", -1))], default=-1)
        if not previous < last <= step or self._passes_gate([trial], ctx)[0]:
            return verdict  # not at the last rung now, or through the gate
        return self._pause_verdict(trial, ctx.trials, last)

    def _last_ladder_rung(self, trial: TrialRecord, trials: Sequence[TrialRecord]) -> int | None:
        """The last rung of the ladder the trial climbs (None: screened, or no rungs)."""
        max_resource = self.resolved_max(trials)
        if max_resource is None or self._screened(self._bracket_of(trial)):
            return None
        ladder = self.rungs(max_resource, self._rate_of(trial))
        return ladder[-1] if ladder else None

    def _passes_gate(self, trials: Sequence[TrialRecord], ctx: SchedulerContext) -> list[bool]:
        """Per trial: True when the model gives it at least ``GATE_MIN_PI`` probability of
        ending better than every fully trained configuration (or cannot tell)."""
        history = dict(self.curves(ctx))
        full = self._fully_trained(history)
        known = [t.number in history for t in trials]
        if not full or not any(known):
            return [True] * len(trials)
        if not self.model.fit(list(history.values()), trial_rng(self.seed, 0)):
            return [True] * len(trials)
        x = np.array([history[t.number].x for t in trials if t.number in history])
        pi = iter(self.model.chance_to_beat(x, np.array(full)).tolist())
        return [bool(next(pi) >= GATE_MIN_PI) if k else True for k in known]

    def _fully_trained(self, history: Mapping[int, Curve]) -> list[np.ndarray]:
        """The configurations (unit-cube points) of the curves that reached full training."""
        return [c.x for c in history.values() if max(c.values) >= int(self.max_resource)]

    def _pausing(self, trial: TrialRecord, trials: Sequence[TrialRecord]) -> bool:
        """Pause at rungs unless ``pause=False``: without checkpoints a paused trial ends as
        STOPPED and its promotion retrains the configuration from step 0."""
        return self.pause is not False

    def _value_at(self, curve: Mapping[int, Any], rung: int, ctx: SchedulerContext) -> Any:
        """ASHA's value at the rung (best so far), or with ``RUNG_RANK = "at"`` the value
        reported there."""
        if RUNG_RANK == "at":
            return value_at(curve, rung)
        return super()._value_at(curve, rung, ctx)

    def _rung_results(
        self,
        trials: Sequence[TrialRecord],
        curves: Mapping[int, Mapping[int, Any]],
        bracket: Any,
        rung: int,
        ctx: SchedulerContext,
    ) -> list[tuple[Any, TrialRecord]]:
        """ASHA's (value at the rung, trial) pairs; with ``RUNG_RANK = "model"`` the value is
        the predicted full-training one instead, once something is fully trained, with
        ``"next"`` the predicted value at the next rung (or full training), once something
        reached it."""
        results = super()._rung_results(trials, curves, bracket, rung, ctx)
        space = ctx.space
        if RUNG_RANK not in ("model", "next") or len(results) < 2 or not len(space):
            return results
        if not all(all(k in t.params for k in space) for _, t in results):
            return results
        history = [c for _, c in self.curves(ctx)]
        top = int(self.max_resource)
        level = top
        if RUNG_RANK == "next":
            level = min([r for r in self.rungs(top) if r > rung] or [top])
        if not any(max(c.values) >= level for c in history):
            return results
        if not self.model.fit(history, trial_rng(self.seed, 0)):
            return results
        x = np.array([space.encode({k: t.params[k] for k in space}) for _, t in results])
        pred = self.model.predict(x, level)[0].tolist()
        from_loss = ctx.direction.from_loss
        return [(from_loss(p), t) for p, (_, t) in zip(pred, results, strict=True)]

    # the screening bracket beside the ladder ---------------------------------------------
    def _screened(self, bracket: Any) -> bool:
        """Whether trials of ``bracket`` follow the screening plan."""
        return bracket == SCREEN if self.mixed else self.screening

    def _bracket_of(self, trial: TrialRecord) -> Any:
        return trial.attrs.get("bracket") if self.mixed else None

    def _rate_of_attrs(self, attrs: Mapping[str, Any]) -> int | None:
        if self.mixed and attrs.get("bracket") == SCREEN:
            return SCREEN_RATE
        return self.min_early_stopping_rate

    def rungs(self, max_resource: int, rate: int | None = None) -> list[int]:
        """ASHA's rungs; ``SCREEN_RATE``: the screening rung alone."""
        if rate == SCREEN_RATE:
            return [self.screen_rung] if self.screen_rung < max_resource else []
        return super().rungs(max_resource, rate)

    def _reduction_factor_of(self, bracket: Any) -> int:
        return self.screen_factor if self._screened(bracket) else self.reduction_factor

    def _counts_promoted(self, bracket: Any) -> bool:
        """The screening plan counts the trials already promoted, as synchronous successive
        halving does; the ladder keeps ASHA's rule."""
        return self._screened(bracket)

    def _quota(self, n: int, last_rung: bool, bracket: Any = None) -> int:
        """ASHA's quota; at the last rung at least ``TOP_RUNG_MIN_PROMOTED`` (of ``n``). The
        screening plan promotes the best of every ``reduction_factor`` screened, none before
        the first ``reduction_factor`` have been (no full training on the evidence of a
        few)."""
        if self._screened(bracket):
            return n // self._reduction_factor_of(bracket)
        k = super()._quota(n, last_rung, bracket)
        return max(k, min(n, TOP_RUNG_MIN_PROMOTED)) if last_rung else k

    def _promotion_order(
        self, candidates: Sequence[TrialRecord], ctx: SchedulerContext
    ) -> list[TrialRecord]:
        """Promotable paused trials, the one predicted to end best first (by rung value when
        the model cannot be fitted yet); with ``GATE_MIN_PI``, those at the last rung that fail
        the gate left out."""
        if GATE_MIN_PI > 0:
            trials = ctx.trials
            last = [t for t in candidates
                    if t.attrs.get("paused_at") == self._last_ladder_rung(t, trials)]  # fmt: skip
            passed = self._passes_gate(last, ctx)
            out = {t.number for t, ok in zip(last, passed, strict=True) if not ok}
            candidates = [t for t in candidates if t.number not in out]
        history = dict(self.curves(ctx))
        known = [t for t in candidates if t.number in history]
        if len(known) < 2 or not self.model.fit(list(history.values()), trial_rng(self.seed, 0)):
            return list(candidates)
        pred = self.model.predicted_final(np.array([history[t.number].x for t in known]))
        ranked = [t for _, t in sorted(zip(pred.tolist(), known, strict=True), key=_first)]
        return ranked + [t for t in candidates if t.number not in history]


def _first(pair: tuple[float, TrialRecord]) -> tuple[float, int]:
    value, t = pair
    return (value if math.isfinite(value) else math.inf, t.number)
