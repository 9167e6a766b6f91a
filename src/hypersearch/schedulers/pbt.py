"""Population Based Training (Jaderberg et al., 2017), as segments of trials.

A population of ``population_size`` lineages trains in parallel. Each trial trains one segment
of ``interval`` reports, saves a checkpoint and pauses (STOPPED, decision "pause"). The next
trial of the lineage continues from a checkpoint (``trial.start_step``,
``trial.load_checkpoint()``): its own lineage's, or — when the lineage ranks in the worst
``quantile`` at that step — a top lineage's (exploit), with that lineage's hyperparameters
perturbed or resampled (explore). The segment that reaches ``max_resource`` completes; its
``attrs["schedule"]`` holds the whole hyperparameter schedule ``[[start_step, params], ...]``
that produced it.

The objective follows one pattern:

>>> def objective(trial):
...     state = trial.load_checkpoint()            # None for a fresh lineage
...     model = make_model(); model.load(state)
...     for step in range(trial.start_step, 20):
...         acc = train_one_epoch(model, lr=trial.params["lr"])
...         trial.report(acc, step=step)
...         trial.save_checkpoint(model.state())
...         if trial.should_stop():
...             break
...     return acc

Saving once, after the loop, works as well: a paused trial must have saved by the time it
returns (else it fails with a ``CheckpointError`` saying so).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hypersearch.exceptions import InvalidArgumentError, SearchSpaceExhaustedError
from hypersearch.samplers.base import trial_rng
from hypersearch.schedulers.base import Decision, Scheduler, SchedulerContext, TrialPlan
from hypersearch.space import Choice, Float, Int, Space
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["PBT", "schedule_of"]


def schedule_of(trial: TrialRecord) -> list[list[Any]]:
    """The hyperparameter schedule that produced ``trial``: ``[[start_step, params], ...]``."""
    stored = trial.attrs.get("schedule")
    if stored:
        return [list(x) for x in stored]
    return [[int(trial.attrs.get("start_step", 0)), dict(trial.params)]]


class PBT(Scheduler):
    """Population Based Training. ``hyperparams`` names the parameters to explore (default:
    all of the study's space).

    >>> hs.schedulers.PBT(population_size=8, interval=4, max_resource=20)
    """

    name = "pbt"
    requires_checkpoints = True

    def __init__(
        self,
        *,
        population_size: int = 8,
        interval: int = 4,
        max_resource: int = 20,
        quantile: float = 0.25,
        perturb: tuple[float, float] = (0.8, 1.2),
        resample_probability: float = 0.25,
        hyperparams: Sequence[str] | None = None,
        seed: int = 0,
    ) -> None:
        for label, v, low in (
            ("population_size", population_size, 2),
            ("interval", interval, 1),
            ("max_resource", max_resource, 1),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise InvalidArgumentError(f"PBT: {label} >= {low} must hold, got {v!r}.")
        if interval >= max_resource:
            raise InvalidArgumentError(
                f"PBT: interval={interval} must be below max_resource={max_resource}, or no "
                "trial would ever exploit another."
            )
        if not 0 < quantile <= 0.5:
            raise InvalidArgumentError(f"PBT: 0 < quantile <= 0.5 must hold, got {quantile!r}.")
        if not 0 <= resample_probability <= 1:
            raise InvalidArgumentError(
                f"PBT: 0 <= resample_probability <= 1 must hold, got {resample_probability!r}."
            )
        self.population_size = population_size
        self.interval = interval
        self.max_resource = max_resource
        self.quantile = float(quantile)
        self.perturb = (float(perturb[0]), float(perturb[1]))
        self.resample_probability = float(resample_probability)
        self.hyperparams = None if hyperparams is None else list(hyperparams)
        self.seed = int(seed)

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "population_size": self.population_size,
            "interval": self.interval,
            "max_resource": self.max_resource,
            "quantile": self.quantile,
            "perturb": list(self.perturb),
            "resample_probability": self.resample_probability,
            "hyperparams": self.hyperparams,
            "seed": self.seed,
        }

    # decisions ---------------------------------------------------------------------------
    def reacts_to(self, step: int, previous: int | None, attrs: Mapping[str, Any]) -> bool:
        start = int(attrs.get("start_step", 0))
        return "pbt" in attrs and step - start + 1 >= self.interval

    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        return self.decide(trial, ctx) is not Decision.CONTINUE

    def decide(self, trial: TrialRecord, ctx: SchedulerContext) -> Decision:
        step = trial.last_step
        if step is None or "pbt" not in trial.attrs:
            return Decision.CONTINUE
        start = int(trial.attrs.get("start_step", 0))
        done = len([s for s in trial.intermediate if s >= start])
        if done < self.interval or step + 1 >= self.max_resource:
            return Decision.CONTINUE
        # The objective may save after each report or once, after its loop: whether it saved
        # is checked when the paused trial ends (Study._finish), not here.
        return Decision.PAUSE

    # lineages ------------------------------------------------------------------------------
    @staticmethod
    def _segments(trials: Sequence[TrialRecord]) -> dict[int, list[TrialRecord]]:
        lineages: dict[int, list[TrialRecord]] = {}
        for t in trials:
            info = t.attrs.get("pbt")
            if info is None or t.state is TrialState.WAITING:
                continue
            lineages.setdefault(int(info["lineage"]), []).append(t)
        for segs in lineages.values():
            segs.sort(key=lambda t: (int(t.attrs.get("start_step", 0)), t.number))
        return lineages

    @staticmethod
    def _value_at(t: TrialRecord, step: int) -> float | None:
        v = t.intermediate.get(step)
        return None if v is None or math.isnan(v) else v

    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        lineages = self._segments(ctx.trials)
        alive = {k: s for k, s in lineages.items() if s[-1].state is not TrialState.FAILED}
        if len(alive) < self.population_size:
            return TrialPlan(attrs={"pbt": {"lineage": number, "generation": 0}, "start_step": 0})
        ready = [
            segs[-1]
            for segs in alive.values()
            if segs[-1].state is TrialState.STOPPED and segs[-1].last_step is not None
        ]
        if not ready:
            raise SearchSpaceExhaustedError(
                "PBT: every lineage has completed or is running; nothing left to schedule."
            )
        me = min(ready, key=lambda t: (t.last_step, t.number))
        step = int(me.last_step)  # type: ignore[arg-type]
        lineage = int(me.attrs["pbt"]["lineage"])
        loss = ctx.direction.to_loss
        peers: list[tuple[float, TrialRecord]] = []
        for segs in lineages.values():
            for s in segs:
                v = self._value_at(s, step)
                if v is not None and s.last_step == step and s.attrs.get("checkpoint"):
                    peers.append((v, s))
        peers.sort(key=lambda p: (loss(p[0]), p[1].number))
        rng = trial_rng(self.seed, number, "pbt")
        n_cut = max(1, math.floor(len(peers) * self.quantile))
        bottom = {s.number for _, s in peers[-n_cut:]} if len(peers) >= 2 else set()
        top = [s for _, s in peers[:n_cut]]
        generation = int(me.attrs["pbt"].get("generation", 0)) + 1
        if me.number in bottom and top:
            donor = top[int(rng.integers(len(top)))]
            params = self._explore(dict(donor.params), ctx.space, rng)
            schedule = [*schedule_of(donor), [step + 1, params]]
            info: dict[str, Any] = {
                "lineage": lineage,
                "generation": generation,
                "exploited": donor.number,
            }
            source = donor
        else:
            params = dict(me.params)
            schedule = schedule_of(me)
            info = {"lineage": lineage, "generation": generation, "exploited": None}
            source = me
        return TrialPlan(
            params=params,
            attrs={
                "pbt": info,
                "start_step": step + 1,
                "resume_from": source.number,
                "schedule": schedule,
            },
        )

    def _explore(self, params: dict[str, Any], space: Space, rng: Any) -> dict[str, Any]:
        names = self.hyperparams if self.hyperparams is not None else list(space)
        out = dict(params)
        for name in names:
            if name not in space or name not in params:
                continue
            p = space[name]
            if rng.random() < self.resample_probability:
                out[name] = p.decode(float(rng.random()))
                continue
            if isinstance(p, Choice):
                continue
            factor = self.perturb[int(rng.integers(2))]
            if not isinstance(p, Float | Int):
                continue
            if getattr(p, "scale", "linear") == "log1m":  # momentum-like: perturb 1 - x
                value = 1.0 - (1.0 - params[name]) * factor
            else:
                value = params[name] * factor
            try:
                out[name] = p.validate(_clip(p, value), name)
            except Exception:
                out[name] = params[name]
        return out

    def needed_checkpoints(self, trials: Sequence[TrialRecord]) -> set[int]:
        lineages = self._segments(trials)
        need: set[int] = set()
        horizon: list[int] = []
        for segs in lineages.values():
            last = segs[-1]
            if last.state is TrialState.FAILED:
                continue
            if last.state is TrialState.COMPLETE:
                need.add(last.number)  # the lineage's final model
                continue
            if last.state is TrialState.STOPPED and last.last_step is not None:
                need.add(last.number)  # the lineage continues from here
                horizon.append(int(last.last_step))
            else:  # running: its future decisions come after its start
                horizon.append(int(last.attrs.get("start_step", 0)))
        if not horizon:
            return need
        low = min(horizon)
        for segs in lineages.values():
            for s in segs:  # possible donors for lineages still behind
                if s.state is TrialState.STOPPED and (s.last_step or 0) >= low:
                    need.add(s.number)
        return need


def _clip(p: Any, value: Any) -> Any:
    low, high = getattr(p, "low", None), getattr(p, "high", None)
    if low is None or high is None:
        return value
    value = min(max(value, low), high)
    return int(round(value)) if isinstance(p, Int) else float(value)
