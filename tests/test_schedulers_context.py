"""The scheduler hooks' context: SchedulerContext, Verdict, consult / plan_trial, and the v1
hook shape (the whole study passed in), which still runs with a DeprecationWarning."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.schedulers import (
    ASHA,
    Decision,
    MedianStopping,
    Scheduler,
    SchedulerContext,
    TrialPlan,
    Verdict,
    consult,
    plan_trial,
)
from hypersearch.space import Space


def record(number: int, curve: Sequence[float], **kw: Any) -> hs.TrialRecord:
    kw.setdefault("state", hs.TrialState.RUNNING)
    return hs.TrialRecord(
        id=number, number=number, params={}, intermediate=dict(enumerate(curve)), **kw
    )


def context(trials: Sequence[hs.TrialRecord], *directions: str) -> SchedulerContext:
    return SchedulerContext(trials=trials, space=Space({}), directions=directions or ("minimize",))


def test_the_context_offers_its_directions_as_direction_values() -> None:
    ctx = context([], "maximize")
    assert ctx.direction is hs.Direction.MAXIMIZE and ctx.directions == ("maximize",)
    several = context([], "minimize", "maximize")
    with pytest.raises(hs.InvalidArgumentError, match=r"2 objectives.*ctx\.directions"):
        several.direction  # noqa: B018
    with pytest.raises(hs.InvalidArgumentError, match="'minimize' or 'maximize'"):
        context([], "up")


def test_a_context_is_not_a_study_and_says_what_to_do_instead() -> None:
    with pytest.raises(AttributeError, match=r"Verdict\(decision, attrs="):
        context([]).set_attrs  # type: ignore[attr-defined]  # noqa: B018


def test_consult_wraps_a_decision_and_passes_a_verdict_through() -> None:
    others = [record(n, [0.1, 0.1]) for n in range(10, 15)]
    me = record(1, [0.9, 0.9])
    ctx = context([me, *others])
    assert consult(MedianStopping(min_trials=3), me, ctx) == Verdict(Decision.STOP)
    # ASHA pausing at rung 1 (max_resource=9, rungs 1 and 3) annotates the trial it pauses
    asha = ASHA(min_resource=1, max_resource=9, pause=True)
    finished = [record(n, [0.1, 0.1], state=hs.TrialState.COMPLETE) for n in range(10, 13)]
    verdict = consult(asha, record(1, [0.9, 0.9]), context([record(1, [0.9, 0.9]), *finished]))
    assert verdict == Verdict(Decision.STOP, {"paused_at": 1})  # no checkpoint: stopped


def test_consult_and_plan_trial_refuse_what_is_not_a_decision_or_a_plan() -> None:
    class Odd(Scheduler):
        def should_stop(self, trial: hs.TrialRecord, ctx: SchedulerContext) -> bool:
            return False

        def decide(self, trial: hs.TrialRecord, ctx: SchedulerContext) -> Any:
            return "maybe"

        def plan(self, number: int, ctx: SchedulerContext) -> Any:
            return {"x": 1}

    with pytest.raises(TypeError, match=r"Odd\.decide returned 'maybe'.*Verdict"):
        consult(Odd(), record(1, [1.0]), context([]))
    with pytest.raises(TypeError, match=r"Odd\.plan returned .*TrialPlan"):
        plan_trial(Odd(), 1, context([]))


class Halver(Scheduler):
    """A v1-style scheduler: hooks take (trial, trials, study) and read study.direction."""

    name = "halver"

    def should_stop(self, trial: hs.TrialRecord, trials: Any, study: Any) -> bool:
        last = trial.intermediate[max(trial.intermediate)]
        return last > 0.5 if study.direction == "minimize" else last < 0.5

    def plan(self, number: int, trials: Sequence[hs.TrialRecord], study: Any) -> TrialPlan:
        return TrialPlan(attrs={"seen": len(trials), "space": sorted(study.space)})


def test_a_v1_scheduler_still_runs_with_a_deprecation_warning_saying_how_to_update() -> None:
    rule = Halver()
    ctx = context([record(0, [0.2])])
    with pytest.warns(DeprecationWarning, match=r"Halver\.should_stop.*should_stop\(self, "):
        assert consult(rule, record(1, [0.9]), ctx) == Verdict(Decision.STOP)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per class and hook
        assert consult(rule, record(1, [0.4]), ctx) == Verdict(Decision.CONTINUE)
    with pytest.warns(DeprecationWarning, match=r"Halver\.plan\(self, number, trials, study\)"):
        assert plan_trial(rule, 2, ctx) == TrialPlan(attrs={"seen": 1, "space": []})


def test_a_v1_hook_is_told_by_its_study_parameter_even_with_a_default() -> None:
    class Optional(Scheduler):
        def should_stop(self, trial: hs.TrialRecord, trials: Any, study: Any = None) -> bool:
            return study.direction == "maximize" and len(trials) == 1

    with pytest.warns(DeprecationWarning, match=r"Optional\.should_stop"):
        verdict = consult(Optional(), record(1, [1.0]), context([record(0, [1.0])], "maximize"))
    assert verdict.decision is Decision.STOP


def test_a_v1_scheduler_decides_in_a_study() -> None:
    class Median1(Scheduler):  # a fresh class: its warnings have not been given yet
        def should_stop(self, trial: hs.TrialRecord, trials: Any, study: Any) -> bool:
            return MedianStopping(min_trials=2).should_stop(trial, trials, study)

    study = hs.create_study(space={"q": hs.Float(0, 1)}, direction="maximize", scheduler=Median1())
    qualities = iter([0.9, 0.8, 0.1, 0.95])

    def objective(trial: hs.Trial) -> float:
        q = next(qualities)
        for step in range(3):
            trial.report(q, step=step)
            if trial.should_stop():
                break
        return q

    with pytest.warns(DeprecationWarning, match="v1 scheduler hook shape"):
        study.optimize(objective, n_trials=4)
    states = [t.state for t in study.trials]
    assert states == [hs.TrialState.COMPLETE] * 2 + [hs.TrialState.STOPPED, hs.TrialState.COMPLETE]
    assert sorted(study.trials[2].intermediate) == [0]  # stopped at its first report


def test_a_v2_hook_answers_a_v1_call_and_writes_its_annotations_through_the_study() -> None:
    study = hs.create_study(space={"q": hs.Float(0, 1)})
    asha = ASHA(min_resource=1, max_resource=9, pause=True)
    done = []
    for q in (0.1, 0.2, 0.3):
        t = study.ask()
        t.report(q, step=0)
        t.report(q, step=1)
        study.tell(t, q)
        done.append(study.get_trial(t.number))
    slow = study.ask()
    slow.report(0.9, step=0)
    slow.report(0.9, step=1)
    me = study.get_trial(slow.number)
    with pytest.warns(DeprecationWarning, match=r"ASHA\(\)\.decide\(trial, trials, study\)") as w:
        decision = asha.decide(me, [*done, me], study)
    assert w[0].filename == __file__  # the warning points at the caller
    assert decision is Decision.STOP
    assert study.get_trial(slow.number).attrs["paused_at"] == 1


# the docs' and the example's custom scheduler ---------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def test_the_documented_custom_scheduler_runs_in_a_study_without_warnings() -> None:
    text = (ROOT / "docs" / "schedulers.md").read_text()
    section = text[text.index("## Writing a scheduler") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {"hs": hs}
    exec(code.group(1), namespace)  # the docs' class, as a user would paste it
    rule = namespace["BehindBest"](margin=0.1)
    study = hs.create_study(space={"q": hs.Float(0, 1)}, direction="maximize", scheduler=rule)
    qualities = iter([0.9, 0.5, 0.85])

    def objective(trial: hs.Trial) -> float:
        q = next(qualities)
        for step in range(3):
            trial.report(q, step=step)
            if trial.should_stop():
                break
        return q

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        study.optimize(objective, n_trials=3)
    assert [t.state for t in study.trials] == [
        hs.TrialState.COMPLETE,
        hs.TrialState.STOPPED,
        hs.TrialState.COMPLETE,
    ]
    assert study.trials[1].attrs["stopped_by"] == "behind-best"  # the Verdict's attrs, written


def test_the_custom_scheduler_example_runs(tmp_path: Path) -> None:
    script = ROOT / "examples" / "custom_scheduler.py"
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", str(script), "--trials", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "trials tagged stopped_by='behind-best'" in proc.stdout
    modelled = re.search(r"proposed by the rung model: (\d+)", proc.stdout)
    assert modelled is not None and int(modelled.group(1)) > 0


# every built-in scheduler speaks the context shape ---------------------------------------------
def _replayed(params: dict[str, Any]) -> list[float]:
    """A falling loss whose level depends on q (curves do not cross)."""
    return [(1.0 - params["q"]) + 0.5 / (s + 1) for s in range(9)]


@pytest.mark.parametrize("name", hs.schedulers.scheduler_names())
def test_every_built_in_scheduler_runs_on_the_context_alone(name: str) -> None:
    from hypersearch.execution.simulated import SimulatedExecutor

    options: dict[str, Any] = {"name": name}
    if name in ("multifidelity", "sha", "asha", "hyperband", "bohb", "mo_asha"):
        options["max_resource"] = 9
    if name == "pbt":
        options.update(population_size=3, interval=3, max_resource=9)
    scheduler = hs.schedulers.make_scheduler(options)
    study = hs.create_study(
        space={"q": hs.Float(0, 1), "z": hs.Float(0, 1)}, sampler="random", seed=0,
        scheduler=scheduler,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no v1 hook or v1 call inside
        SimulatedExecutor(_replayed, max_steps=9, first_step=0, checkpoints=True).run(
            study, n_trials=15
        )
    assert all(t.state.is_finished for t in study.trials)
    if name in ("sha", "asha", "hyperband", "bohb", "multifidelity", "mo_asha", "pbt"):
        assert any(t.state is hs.TrialState.STOPPED for t in study.trials)  # it decided
