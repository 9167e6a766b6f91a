"""Successive halving, ASHA and Hyperband on a resource axis (whatever ``step`` counts:
epochs, batches, samples).

Rungs sit at ``min_resource * reduction_factor**k`` (below ``max_resource``). When a trial first
reports a step at or past a rung, it goes on only if its best value so far is among the top
``1/reduction_factor`` of the trials of its bracket that reached that rung (the first trial at a
rung always goes on). This is the asynchronous, stopping form of successive halving (ASHA, as in
Ray Tune and Optuna): no worker ever waits for a rung to fill, and a promoted trial simply
trains on, so nothing is retrained from scratch. Stopped trials are STOPPED, curves kept.

Hyperband runs several such brackets at once, each starting its first rung at a different
resource (aggressive to none), and gives each new trial a bracket in proportion to the number
of trials Hyperband's schedule puts in that bracket.

New configurations come from the study's sampler, or with ``sampler=`` from a sampler trained
on the best-informed rung (BOHB's model, ``rung_sampler.RungSampler``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.samplers.base import Sampler
from hypersearch.schedulers.base import (
    Decision,
    Scheduler,
    SchedulerContext,
    TrialPlan,
    Verdict,
    decision_of,
)
from hypersearch.schedulers.curves import (
    curve_value,
    lineage_curves,
    promoted_parents,
    rung_value,
)
from hypersearch.schedulers.rung_sampler import Ladder, RungSampler
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["ASHA", "Hyperband", "SuccessiveHalving", "curve_value", "lineage_curves", "rung_value"]

logger = logging.getLogger("hypersearch")


_PROMOTE = "promote:"


def promotion_key(number: int) -> str:
    """The claim key of promoting paused trial ``number``: one trial of the study holds it."""
    return f"{_PROMOTE}{number}"


def _claimed_promotions(trials: Sequence[TrialRecord]) -> set[int]:
    """Paused trials that one of ``trials`` holds the promotion claim of."""
    return {
        int(t.claim_key.removeprefix(_PROMOTE))
        for t in trials
        if t.claim_key is not None and t.claim_key.startswith(_PROMOTE)
    }


def _promoted_or_claimed(trials: Sequence[TrialRecord]) -> set[int]:
    """Paused trials a later trial continues, or has claimed to continue (its attrs not
    written yet)."""
    return promoted_parents(trials) | _claimed_promotions(trials)


def _check_resources(owner: str, min_resource: int, max_resource: int | str, eta: int) -> None:
    if isinstance(min_resource, bool) or not isinstance(min_resource, int) or min_resource < 0:
        raise InvalidArgumentError(
            f"{owner}: min_resource must be an integer >= 0, got {min_resource!r}."
        )
    if max_resource != "auto" and (
        isinstance(max_resource, bool)
        or not isinstance(max_resource, int)
        or max_resource <= min_resource
    ):
        raise InvalidArgumentError(
            f"{owner}: max_resource must be 'auto' or an integer > min_resource={min_resource}, "
            f"got {max_resource!r}."
        )
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise InvalidArgumentError(
            f"{owner}: reduction_factor must be an integer >= 2, got {eta!r}."
        )


class ASHA(Scheduler):
    """Asynchronous successive halving.

    ``min_early_stopping_rate`` s puts the first rung at ``min_resource * reduction_factor**s``.
    ``max_resource="auto"`` takes the last step of the first completed trial (until then
    nothing is stopped).

    ``pause`` chooses what happens to a trial at a rung that is not (yet) among the best:
    ``False`` stops it (the stopping form: the best trials simply train on); ``True`` pauses it
    (STOPPED, curve and checkpoint kept) and a later trial continues it from its checkpoint
    once it ranks in the top ``1/reduction_factor`` of its rung (promotion, ASHA as in Li et
    al. 2020); ``None`` (default) pauses when the objective saves checkpoints. A promotion is
    a new trial with the same parameters, ``attrs["promoted_from"]`` and, when the paused trial
    left a checkpoint, ``resume_from`` and ``start_step`` set; without a checkpoint it retrains
    from step 0.

    ``sampler``: new configurations come from this sampler trained on the best-informed rung
    (a ``RungSampler``, or a bare ``Sampler`` wrapped in one), with ``attrs["model_rung"]``;
    ``None`` (default) leaves them to the study's sampler.

    >>> hs.create_study(..., scheduler=hs.schedulers.ASHA(min_resource=1, max_resource=27))
    """

    name = "asha"

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
        pause: bool | None = None,
        sampler: Sampler | RungSampler | Mapping[str, Any] | None = None,
    ) -> None:
        _check_resources(type(self).__name__, min_resource, max_resource, reduction_factor)
        if min_early_stopping_rate < 0:
            raise InvalidArgumentError(
                f"{type(self).__name__}: min_early_stopping_rate >= 0 must hold, got "
                f"{min_early_stopping_rate!r}."
            )
        if pause not in (None, True, False):
            raise InvalidArgumentError(
                f"{type(self).__name__}: pause must be None (when the objective saves "
                f"checkpoints), True or False, got {pause!r}."
            )
        self.min_resource = min_resource
        self.max_resource = max_resource
        self.reduction_factor = reduction_factor
        self.min_early_stopping_rate = min_early_stopping_rate
        self.pause = pause
        self.rung_sampler = (
            None if sampler is None else RungSampler.of(sampler, owner=type(self).__name__)
        )
        self._max: int | None = None if max_resource == "auto" else int(max_resource)
        self._warned: set[str] = set()

    def config(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "min_resource": self.min_resource,
            "max_resource": self.max_resource,
            "reduction_factor": self.reduction_factor,
            "min_early_stopping_rate": self.min_early_stopping_rate,
            "pause": self.pause,
        }
        if self.rung_sampler is not None:
            out["sampler"] = self.rung_sampler.config()
        return out

    # resources -------------------------------------------------------------------------
    def resolved_max(self, trials: Sequence[TrialRecord]) -> int | None:
        """``max_resource``, or with "auto" the last step of the first completed trial."""
        if self._max is None:
            done = [t for t in trials if t.state is TrialState.COMPLETE and t.last_step]
            if done:
                first = min(done, key=lambda t: t.number)
                self._max = max(int(first.last_step or 0), self.min_resource + 1)
        return self._max

    def rungs(self, max_resource: int, rate: int | None = None) -> list[int]:
        """The rung resources of a bracket with early-stopping rate ``rate``."""
        rate = self.min_early_stopping_rate if rate is None else rate
        base = max(self.min_resource, 1)
        out = []
        r = base * self.reduction_factor**rate
        while r < max_resource:
            out.append(int(r))
            r *= self.reduction_factor
        return out

    def ladder(self, max_resource: int) -> Ladder:
        """The resources a rung sampler models at, and where each trial is first selected."""

        def first_rung(trial: TrialRecord) -> int:
            rate = self._rate_of(trial)
            first = self.rungs(max_resource, rate)[:1] if rate is not None else []
            return first[0] if first else max_resource

        levels = sorted({max_resource, *self.rungs(max_resource, 0)})
        return Ladder(max_resource, levels, first_rung)

    def _bracket_of(self, trial: TrialRecord) -> Any:
        return None

    def _reduction_factor_of(self, bracket: Any) -> int:
        """The reduction factor of ``bracket``'s rungs (the same for every bracket here)."""
        return self.reduction_factor

    def _counts_promoted(self, bracket: Any) -> bool:
        """Pause mode: whether a rung's quota counts the trials that already went on past it,
        so at most ``quota`` of its trials ever go on (synchronous successive halving's
        count), rather than every trial that ranks in the top ``1/reduction_factor`` when it
        arrives (ASHA's rule, under which each new best goes on). ASHA: never."""
        return False

    def _rate_of(self, trial: TrialRecord) -> int | None:
        """The early-stopping rate of the trial's bracket (its attributes decide it)."""
        return self._rate_of_attrs(trial.attrs)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    def _check_bounds(self, trial: TrialRecord, trials: Sequence[TrialRecord]) -> None:
        if self.max_resource == "auto" or trial.last_step is None:
            return
        if trial.last_step > int(self.max_resource):
            self._warn_once(
                "over",
                f"{type(self).__name__}: trial {trial.number} reports step {trial.last_step} "
                f"beyond max_resource={self.max_resource}; set max_resource to the number of "
                "steps the objective trains, or rungs will be misplaced.",
            )

    def _check_under(self, trials: Sequence[TrialRecord]) -> None:
        if self.max_resource == "auto" or "under" in self._warned:
            return
        short = [
            t.last_step
            for t in trials
            if t.state is TrialState.COMPLETE
            and t.last_step is not None
            and t.last_step < int(self.max_resource) - 1
            and t.source == "sampler"
            and "promoted_from" not in t.attrs
        ]
        if len(short) >= 3:
            self._warn_once(
                "under",
                f"{type(self).__name__}: completed trials end at step {max(short)} but "
                f"max_resource={self.max_resource}: the top rungs are never reached. Set "
                f"max_resource={max(short) + 1} (or 'auto').",
            )

    def _check_unreported(self, trials: Sequence[TrialRecord]) -> None:
        if "unreported" in self._warned:
            return
        silent = [
            t.number
            for t in trials
            if t.state is TrialState.COMPLETE and not t.intermediate and t.source == "sampler"
        ]
        if silent:
            self._warn_once(
                "unreported",
                f"{type(self).__name__}: trial {silent[0]} completed without calling "
                "trial.report(value, step=...), so it could be neither stopped nor paused "
                "and trained in full. Report the validation value after every epoch and "
                "check trial.should_stop().",
            )

    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        """A promotion (pause mode) if a paused trial ranks high enough now; else a new trial:
        its attributes (Hyperband's bracket) and, with a rung sampler, its parameters."""
        self._check_under(ctx.trials)
        self._check_unreported(ctx.trials)
        promotion = self._promotion(ctx)
        if promotion is not None:
            return promotion
        max_resource = self.resolved_max(ctx.trials)
        if max_resource is None:
            return None
        attrs = self._new_trial_attrs(max_resource, ctx)
        if self.rung_sampler is not None:
            return self.rung_sampler.propose(number, ctx, self.ladder(max_resource), attrs)
        return TrialPlan(attrs=attrs) if attrs else None

    def _new_trial_attrs(self, max_resource: int, ctx: SchedulerContext) -> dict[str, Any]:
        """Attributes of a new (not promoted) trial; Hyperband's bracket."""
        return {}

    # what a rung compares: each lineage's best value (MultiObjectiveASHA: every objective's)
    def _curves(self, trials: Sequence[TrialRecord]) -> Mapping[int, Mapping[int, Any]]:
        """Each trial's curve, with the curves of the trials it continues in front."""
        return lineage_curves(trials)

    def _own_curve(self, trial: TrialRecord) -> Mapping[int, Any]:
        """What the trial itself reported, step -> value."""
        return trial.intermediate

    def _value_at(self, curve: Mapping[int, Any], rung: int, ctx: SchedulerContext) -> Any:
        """The curve's value at ``rung`` (None: not reached, or nothing finite yet)."""
        return curve_value(curve, rung, ctx.direction is Direction.MINIMIZE)

    def _rank_keys(self, values: Sequence[Any], ctx: SchedulerContext) -> list[Any]:
        """One sort key per value: lower ranks better, equal values tie."""
        loss = ctx.direction.to_loss
        return [loss(v) for v in values]

    def _rung_results(
        self,
        trials: Sequence[TrialRecord],
        curves: Mapping[int, Mapping[int, Any]],
        bracket: Any,
        rung: int,
        ctx: SchedulerContext,
    ) -> list[tuple[Any, TrialRecord]]:
        """(value at ``rung``, trial) for each lineage of ``bracket`` that reached it, counted
        once: by the trial during whose segment the lineage crossed the rung."""
        out = []
        for t in trials:
            if t.state is TrialState.WAITING or self._bracket_of(t) != bracket:
                continue
            if rung <= int(t.attrs.get("promoted_at", -1)):
                continue  # the trial it continues counts at this rung
            curve = curves.get(t.number) or self._own_curve(t)
            reached = [s for s in curve if s >= rung]
            if not reached or min(reached) not in self._own_curve(t):
                continue
            v = self._value_at(curve, rung, ctx)
            if v is not None:
                out.append((v, t))
        return out

    def _pausing(self, trial: TrialRecord, trials: Sequence[TrialRecord]) -> bool:
        if self.pause is not None:
            return self.pause
        return "checkpoint" in trial.attrs or any("checkpoint" in t.attrs for t in trials)

    # decision ---------------------------------------------------------------------------
    def reacts_to(self, step: int, previous: int | None, attrs: Mapping[str, Any]) -> bool:
        if self._max is None:
            return True  # "auto" not resolved yet
        rate = self._rate_of_attrs(attrs)
        if rate is None:
            return False
        prev = -1 if previous is None else previous
        if step > self._max and self.max_resource != "auto":
            return True  # let the bounds check warn
        return any(prev < r <= step for r in self.rungs(self._max, rate))

    def _rate_of_attrs(self, attrs: Mapping[str, Any]) -> int | None:
        return self.min_early_stopping_rate

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        return decision_of(self.decide(trial, ctx)) is not Decision.CONTINUE

    def decide(self, trial: TrialRecord, ctx: SchedulerContext) -> Decision | Verdict:
        """CONTINUE, STOP, or at a rung where the trial is not (yet) among the best in pause
        mode, PAUSE with ``paused_at`` (the rung) to annotate it with."""
        trials = ctx.trials
        step = trial.last_step
        if step is None:
            return Decision.CONTINUE
        self._check_bounds(trial, trials)
        max_resource = self.resolved_max(trials)
        rate = self._rate_of(trial)
        if max_resource is None or rate is None:
            return Decision.CONTINUE
        curves = self._curves(trials)
        mine_curve = curves.get(trial.number) or self._own_curve(trial)
        earlier = [s for s in mine_curve if s < step]
        previous = max(earlier) if earlier else -1
        done = int(trial.attrs.get("promoted_at", -1))  # rungs the continued trial passed
        crossed = [r for r in self.rungs(max_resource, rate) if max(previous, done) < r <= step]
        if not crossed:
            return Decision.CONTINUE
        if len(crossed) > 1 or step > 2 * crossed[-1]:  # judged far from the rung
            self._warn_once(
                "jump",
                f"{type(self).__name__}: trial {trial.number} jumped from step {previous} to "
                f"{step}, past rungs {crossed}; it is judged at rung {crossed[-1]} only. Report "
                "after every epoch (trial.report(value, step=epoch)), or choose min_resource "
                "and reduction_factor so that rungs fall on steps the objective reports.",
            )
        rung = crossed[-1]
        mine = self._value_at(mine_curve, rung, ctx)
        if mine is None:
            return Decision.CONTINUE  # only NaN so far: no evidence
        results = self._rung_results(trials, curves, self._bracket_of(trial), rung, ctx)
        if not any(t.id == trial.id for _, t in results):
            results.append((mine, trial))
        keys = self._rank_keys([v for v, _ in results], ctx)
        my_key = next(keys[i] for i, (_, t) in enumerate(results) if t.id == trial.id)
        better = sum(1 for k in keys if k < my_key)  # trials strictly ahead; ties do not count
        n = len(results)
        bracket = self._bracket_of(trial)
        if not self._pausing(trial, trials):
            return (
                Decision.STOP
                if better >= max(1, n // self._reduction_factor_of(bracket))
                else (Decision.CONTINUE)
            )
        quota = self._quota(n, rung == self.rungs(max_resource, rate)[-1], bracket)
        if self._counts_promoted(bracket):  # the quota counts those that went on already
            gone = self._gone_on(results, rung, curves, trials) - {trial.number}
            quota -= len(gone)
            better = sum(1 for k, (_, t) in zip(keys, results, strict=True)
                         if k < my_key and t.number not in gone)  # fmt: skip
        if better < quota:
            return Decision.CONTINUE  # promotable now: train on rather than pause and resume
        return self._pause_verdict(trial, trials, rung)

    @staticmethod
    def _pause_verdict(trial: TrialRecord, trials: Sequence[TrialRecord], rung: int) -> Verdict:
        """PAUSE at ``rung``, which promises a checkpoint to continue from; an objective that
        saves none (pause=True forced) has its trial stopped, and a promotion retrains it
        from step 0."""
        saves = "checkpoint" in trial.attrs or any("checkpoint" in t.attrs for t in trials)
        return Verdict(Decision.PAUSE if saves else Decision.STOP, {"paused_at": rung})

    # promotions (pause mode) ------------------------------------------------------------
    def _promotion(self, ctx: SchedulerContext) -> TrialPlan | None:
        """The best paused trial at the highest rung that ranks in the top
        ``1/reduction_factor`` of its rung and was not promoted yet, continued by a new trial."""
        trials = ctx.trials
        candidates = self._waiting_for_promotion(trials)
        if not candidates:
            return None
        curves = self._curves(trials)
        groups: dict[tuple[Any, int], list[TrialRecord]] = {}
        for t in candidates:
            groups.setdefault((self._bracket_of(t), int(t.attrs["paused_at"])), []).append(t)
        promotable: list[tuple[tuple[Any, ...], TrialRecord, int]] = []
        max_resource = self.resolved_max(trials)
        for (bracket, rung), waiting in groups.items():
            results = self._rung_results(trials, curves, bracket, rung, ctx)
            keys = self._rank_keys([v for v, _ in results], ctx)
            ranked = sorted(range(len(results)), key=lambda i: (keys[i], results[i][1].number))
            rate = self._rate_of(waiting[0])
            ladder = [] if max_resource is None or rate is None else self.rungs(max_resource, rate)
            k = self._quota(len(ranked), bool(ladder) and rung == ladder[-1], bracket)
            if self._counts_promoted(bracket):
                gone = self._gone_on(results, rung, curves, trials)
                ranked = [i for i in ranked if results[i][1].number not in gone]
                k -= len(gone)
            top = {results[i][1].number: keys[i] for i in ranked[: max(k, 0)]}
            for t in waiting:
                if t.number in top:
                    promotable.append(((-rung, top[t.number], t.number), t, rung))
        if not promotable:
            return None
        promotable.sort(key=lambda p: p[0])
        rung_of = {t.number: rung for _, t, rung in promotable}
        order = self._promotion_order([t for _, t, _ in promotable], ctx)
        if not order:
            return None
        t = order[0]
        rung = rung_of[t.number]
        ckpt = t.attrs.get("checkpoint")
        attrs: dict[str, Any] = {
            "promoted_from": t.number,
            "promoted_at": rung,
            "fixed_params": dict(t.params),
        }
        if self._bracket_of(t) is not None:
            attrs["bracket"] = self._bracket_of(t)
        if ckpt and ckpt.get("step") is not None:
            attrs["resume_from"] = t.number
            attrs["start_step"] = int(ckpt["step"]) + 1
        else:  # nothing to continue from: retrain from scratch
            attrs["start_step"] = 0
        return TrialPlan(params=dict(t.params), attrs=attrs, claim=promotion_key(t.number))

    def _promotion_order(
        self, candidates: Sequence[TrialRecord], ctx: SchedulerContext
    ) -> list[TrialRecord]:
        """Promotable paused trials in the order to promote them: as given (highest rung,
        then best value at it)."""
        return list(candidates)

    @staticmethod
    def _gone_on(
        results: Sequence[tuple[Any, TrialRecord]],
        rung: int,
        curves: Mapping[int, Mapping[int, Any]],
        trials: Sequence[TrialRecord],
    ) -> set[int]:
        """The trials of a rung's ``results`` that went on past it: trained on, or promoted
        (claimed by a promotion that may not have reported yet)."""
        promoted = _promoted_or_claimed(trials)
        out = set()
        for _, t in results:
            curve = curves.get(t.number) or t.intermediate
            if t.number in promoted or (curve and max(curve) > rung):
                out.add(t.number)
        return out

    def _quota(self, n: int, last_rung: bool, bracket: Any = None) -> int:
        """How many of the ``n`` trials at a rung of ``bracket`` may go on (pause mode): the
        top ``1/reduction_factor``; at a bracket's last rung at least the best one, so the
        first fully trained results do not wait for that rung to fill (it sees the fewest)."""
        k = n // self._reduction_factor_of(bracket)
        return max(1, k) if last_rung else k

    @staticmethod
    def _waiting_for_promotion(trials: Sequence[TrialRecord]) -> list[TrialRecord]:
        promoted = _promoted_or_claimed(trials)
        return [
            t
            for t in trials
            if t.state is TrialState.STOPPED
            and t.attrs.get("paused_at") is not None
            and t.number not in promoted
        ]

    def needed_checkpoints(self, trials: Sequence[TrialRecord]) -> set[int]:
        """Paused trials not promoted yet (any of them may still be: the rung fills up), and
        those a starting trial has just claimed to continue (before its ``resume_from`` is
        written, clean-up in another worker must not take the checkpoint from under it)."""
        starting = [t for t in trials if not t.state.is_finished]
        waiting = {t.number for t in self._waiting_for_promotion(trials)}
        return waiting | _claimed_promotions(starting)


class SuccessiveHalving(ASHA):
    """Successive halving with one bracket; the asynchronous form (see ``ASHA``)."""

    name = "sha"


class Hyperband(ASHA):
    """Hyperband: brackets of asynchronous successive halving with first rungs at
    ``min_resource * reduction_factor**s`` for s = 0 .. s_max; new trials fill the brackets
    in Hyperband's order — ``n_s`` trials for bracket 0 (the most aggressive), then bracket 1,
    ... then again — with the bracket in ``trial.attrs["bracket"]``. ``pause`` and ``sampler``
    as for ``ASHA``; ``Hyperband(sampler=DensityRatioSampler())`` is BOHB.

    >>> hs.schedulers.Hyperband(min_resource=1, max_resource=27, reduction_factor=3)
    """

    name = "hyperband"

    def __init__(
        self,
        *,
        min_resource: int = 1,
        max_resource: int | str = "auto",
        reduction_factor: int = 3,
        pause: bool | None = None,
        sampler: Sampler | RungSampler | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            min_resource=min_resource,
            max_resource=max_resource,
            reduction_factor=reduction_factor,
            pause=pause,
            sampler=sampler,
        )

    def config(self) -> dict[str, Any]:
        out = super().config()
        out.pop("min_early_stopping_rate")
        return out

    def brackets(self, max_resource: int) -> list[tuple[int, int]]:
        """``(s, n_s)``: early-stopping rate and Hyperband's number of trials, per bracket."""
        base = max(self.min_resource, 1)
        s_max = max(0, math.floor(math.log(max_resource / base, self.reduction_factor) + 1e-9))
        out = []
        for s in range(s_max + 1):
            halvings = s_max - s
            n = math.ceil((s_max + 1) / (halvings + 1) * self.reduction_factor**halvings)
            out.append((s, n))
        return out

    def bracket_for(self, index: int, max_resource: int) -> int:
        """The bracket of the ``index``-th new trial (promotions not counted)."""
        order = [s for s, n in self.brackets(max_resource) for _ in range(n)]
        return order[index % len(order)]

    def _new_trial_attrs(self, max_resource: int, ctx: SchedulerContext) -> dict[str, Any]:
        index = sum(1 for t in ctx.trials if "promoted_from" not in t.attrs)
        return {"bracket": self.bracket_for(index, max_resource)}

    def _bracket_of(self, trial: TrialRecord) -> Any:
        return trial.attrs.get("bracket")

    def _rate_of_attrs(self, attrs: Mapping[str, Any]) -> int | None:
        bracket = attrs.get("bracket")
        return None if bracket is None else int(bracket)
