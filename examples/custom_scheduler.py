"""A scheduler of your own, and BOHB's model on ASHA, on a synthetic learning curve.

``BehindBest`` stops a trial more than ``margin`` behind the best completed trial at the same
step and tags it; it reads only the ``SchedulerContext`` it is handed (the trials, the
space, the direction) and returns a ``Verdict`` that the study writes. The second study runs
ASHA whose new configurations come from a TPE sampler trained on the best-informed rung
(``ASHA(sampler=...)``, BOHB's model). The objective replays a curve, so this runs in seconds.

    python examples/custom_scheduler.py
    python examples/custom_scheduler.py --trials 80
"""

from __future__ import annotations

import argparse
import math

import hypersearch as hs
from hypersearch.schedulers import ASHA, Decision, Scheduler, SchedulerContext, Verdict

EPOCHS = 27
SPACE = {"lr": hs.Float(1e-4, 1.0, log=True), "width": hs.Int(8, 256, log=True)}


class BehindBest(Scheduler):
    """Stop a trial more than ``margin`` behind the best completed trial at the same step."""

    name = "behind-best"

    def __init__(self, margin: float) -> None:
        self.margin = margin

    def should_stop(self, trial: hs.TrialRecord, ctx: SchedulerContext) -> bool:
        step = trial.last_step
        if step is None:
            return False
        done = [t for t in ctx.trials if t.state is hs.TrialState.COMPLETE]
        seen = [t.intermediate[step] for t in done if step in t.intermediate]
        if not seen:
            return False
        loss = ctx.direction.to_loss  # minimise-equivalent values
        return loss(trial.intermediate[step]) > min(loss(v) for v in seen) + self.margin

    def decide(self, trial: hs.TrialRecord, ctx: SchedulerContext) -> Decision | Verdict:
        if self.should_stop(trial, ctx):
            return Verdict(Decision.STOP, attrs={"stopped_by": self.name})
        return Decision.CONTINUE

    def config(self) -> dict[str, float | str]:
        return {"name": self.name, "margin": self.margin}


def objective(trial: hs.Trial) -> float:
    """Validation error of a pretend network: best near lr=0.03 and a wide layer."""
    lr, width = trial.params["lr"], trial.params["width"]
    floor = 0.05 + 0.08 * (math.log10(lr) + 1.5) ** 2 + 0.3 / math.sqrt(width)
    error = 1.0
    for epoch in range(EPOCHS):
        error = floor + (1.0 - floor) * math.exp(-(epoch + 1) * min(lr * 20, 1.0) / 3)
        trial.report(error, step=epoch)
        if trial.should_stop():
            break
    return error


def run(name: str, scheduler: Scheduler, trials: int) -> hs.Study:
    study = hs.create_study(name, space=SPACE, scheduler=scheduler, sampler="random", seed=0)
    study.optimize(objective, n_trials=trials, show_progress=False)
    epochs = sum(len(t.intermediate) for t in study.trials)
    stopped = sum(t.state is hs.TrialState.STOPPED for t in study.trials)
    print(
        f"{name:>12}: best error {study.best_value:.4f}  stopped {stopped}/{len(study.trials)}  "
        f"epochs trained {epochs} of {len(study.trials) * EPOCHS}"
    )
    return study


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args(argv)
    custom = run("behind-best", BehindBest(margin=0.15), args.trials)
    tagged = sum(t.attrs.get("stopped_by") == "behind-best" for t in custom.trials)
    print(f"{'':>12}  trials tagged stopped_by='behind-best': {tagged}")
    model = ASHA(max_resource=EPOCHS, sampler=hs.samplers.TPESampler(seed=0))
    asha = run("asha+tpe", model, args.trials)
    modelled = sum(t.attrs.get("model_rung") is not None for t in asha.trials)
    print(f"{'':>12}  configurations proposed by the rung model: {modelled}")


if __name__ == "__main__":
    main()
