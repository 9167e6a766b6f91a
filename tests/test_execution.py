"""The executor seam: ``RunOptions`` checked once, the one run/stop policy every executor
applies, a user-written ``Executor`` reached through ``Study.optimize``, the study's public
spec, and the simulated executor as a peer that leaves the study it was given alone."""

from __future__ import annotations

import dataclasses
import pickle
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.exceptions import InvalidArgumentError, TooManyFailuresError
from hypersearch.execution import Executor, RunOptions, choose_executor, run_policy
from hypersearch.execution.base import RunPolicy
from hypersearch.execution.inprocess import InProcessExecutor
from hypersearch.execution.local import ProcessExecutor
from hypersearch.execution.simulated import SimulatedExecutor
from hypersearch.study import Study, StudySpec
from hypersearch.trial import TrialRecord, TrialState

SPACE = {"x": hs.Float(0.0, 1.0)}


def _study(storage: str | None = None) -> Study:
    return hs.create_study("exec", space=SPACE, storage=storage, sampler="random", seed=0)


def _record(number: int, state: TrialState, reason: str | None = None) -> TrialRecord:
    return TrialRecord(number=number, state=state, params={}, fail_reason=reason)


# ------------------------------------------------------------------------------ RunOptions


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_trials": 0}, "n_trials must be a positive integer or None, got 0"),
        ({"max_failures": True}, "max_failures must be a positive integer or None, got True"),
        ({"timeout": -1}, "timeout must be a positive number of seconds, got -1"),
        ({"n_workers": 0}, "n_workers must be a positive integer, got 0"),
        ({"max_retries": -1}, "max_retries must be an integer >= 0, got -1"),
    ],
)
def test_run_options_refuse_bad_values_naming_them(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        RunOptions(**kwargs)


def test_run_options_are_frozen_and_normalised() -> None:
    options = RunOptions(n_workers=3, deterministic=True, callbacks=[print], gpus=[0, "1"])
    assert options.callbacks == (print,) and options.gpus == (0, "1")
    assert options.deterministic_lag == 3
    assert RunOptions().deterministic_lag is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.n_trials = 5  # type: ignore[misc]


# -------------------------------------------------------------------------------- policy


def test_policy_stops_after_the_budget_and_counts_retries_once() -> None:
    policy = RunPolicy(_study(), RunOptions(n_trials=2))
    assert policy.may_start()
    policy.started()
    policy.started()
    assert not policy.may_start()
    policy.retried()  # a lost trial re-run in its ticket's place
    assert policy.may_start()


def test_policy_deadline() -> None:
    policy = RunPolicy(_study(), RunOptions(timeout=0.05))
    assert policy.may_start()
    time.sleep(0.06)
    assert not policy.may_start()


def test_policy_failures_in_a_row_give_one_message_and_call_back_each_trial() -> None:
    seen: list[int] = []
    shown: list[int] = []
    options = RunOptions(max_failures=2, callbacks=(lambda s, r: seen.append(r.number),))
    policy = RunPolicy(_study(), options, progress=lambda r: shown.append(r.number))
    assert policy.finished(_record(0, TrialState.FAILED, "ValueError: a")) is None
    assert policy.finished(_record(1, TrialState.COMPLETE)) is None  # the streak restarts
    assert policy.finished(_record(2, TrialState.FAILED, "ValueError: b")) is None
    error = policy.finished(_record(3, TrialState.FAILED, "ValueError: c"))
    assert isinstance(error, TooManyFailuresError)
    assert str(error) == (
        "2 trials in a row failed; the last one (trial 3): ValueError: c. Fix the objective "
        "(see its traceback with `hypersearch trials exec --state FAILED`) or raise "
        "max_failures."
    )
    assert seen == shown == [0, 1, 2, 3]
    assert not policy.may_start()
    # a worker that died before it had a trial counts as a failure too, without a record
    lost = RunPolicy(_study(), RunOptions(max_failures=1))
    assert "a worker died before it started a trial" in str(lost.finished(None))


def test_progress_is_shown_on_a_terminal_only_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    study = _study()
    study.optimize(lambda t: t.params["x"], n_trials=2)  # stderr is not a terminal here
    assert capsys.readouterr().err == ""
    study.optimize(lambda t: t.params["x"], n_trials=2, show_progress=True)
    assert "exec" in capsys.readouterr().err


# ------------------------------------------------------------------------ the interface


class CountingExecutor(Executor):
    """A user-written executor: trials in this process, by the shared policy."""

    def __init__(self) -> None:
        self.options: RunOptions | None = None

    def run(self, study: Study, objective: Callable[..., Any], options: RunOptions) -> None:
        self.options = options
        with run_policy(study, options) as policy:
            while policy.may_start():
                trial = study.ask()
                policy.started()
                error = policy.finished(study.run_trial(objective, trial, options.catch))
                if error is not None:
                    raise error


def test_optimize_hands_a_user_executor_the_options_whole() -> None:
    study = _study()
    executor = CountingExecutor()
    calls: list[int] = []
    study.optimize(
        lambda t: t.params["x"],
        n_trials=3,
        executor=executor,
        max_failures=None,
        callbacks=[lambda s, r: calls.append(r.number)],
    )
    assert executor.options == RunOptions(
        n_trials=3,
        max_failures=None,
        callbacks=executor.options.callbacks,  # type: ignore[union-attr]
    )
    assert calls == [0, 1, 2] and len(study.trials) == 3

    def broken(trial: hs.Trial) -> float:
        raise ValueError("broken objective")

    with pytest.raises(TooManyFailuresError, match="broken objective"):
        study.optimize(broken, n_trials=10, executor=CountingExecutor(), max_failures=2)
    assert len(study.trials) == 5


def test_executor_names() -> None:
    assert isinstance(choose_executor("local", RunOptions()), InProcessExecutor)
    assert isinstance(choose_executor("local", RunOptions(n_workers=2)), ProcessExecutor)
    assert isinstance(choose_executor("processes", RunOptions()), ProcessExecutor)
    with pytest.raises(InvalidArgumentError, match=r"executor must be one of 'local', .*'dask'"):
        choose_executor("dask", RunOptions())


def test_executors_reach_no_private_part_of_the_study_or_storage() -> None:
    root = Path(hs.__file__).parent / "execution"
    reaches = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(root.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\b(study|storage)\._", line)
    ]
    assert reaches == []


# ----------------------------------------------------------------------------- the spec


def test_spec_opens_the_same_study_elsewhere(tmp_path: Path) -> None:
    study = _study(f"sqlite:///{tmp_path / 's.db'}")
    study.grace_period = 5.0
    study.optimize(lambda t: t.params["x"], n_trials=2)
    spec = study.to_spec()
    assert isinstance(spec, StudySpec)
    other = pickle.loads(pickle.dumps(spec)).open()  # as a worker process gets it
    assert (other.name, other.id, other.grace_period) == (study.name, study.id, 5.0)
    assert [t.params for t in other.trials] == [t.params for t in study.trials]
    other.optimize(lambda t: t.params["x"], n_trials=1)
    assert len(study.trials) == 3
    other.close()


# ------------------------------------------------------------------------ simulated peer


def test_simulated_executor_is_a_peer_and_leaves_the_study_alone() -> None:
    study = hs.create_study(
        "sim", space=SPACE, sampler="random", seed=0, scheduler=hs.schedulers.ASHA(max_resource=9)
    )
    storage, grace = study.storage, study.grace_period
    sim = SimulatedExecutor(lambda p: [p["x"] / (i + 1) for i in range(9)], max_steps=9)
    finished: list[int] = []
    study.optimize(
        None,  # type: ignore[arg-type]  # the curve plays the objective
        n_trials=6,
        executor=sim,
        callbacks=[lambda s, r: finished.append(r.number)],
    )
    assert study.storage is storage and study.grace_period == grace
    assert sorted(finished) == list(range(6))
    assert len(study.trials) == 6 and all(t.state.is_finished for t in study.trials)
    with pytest.raises(InvalidArgumentError, match="pass None as the objective"):
        sim.run(study, lambda t: 0.0)


class _Oracle(list):  # type: ignore[type-arg]
    """A curve that refuses to be pickled, as a lazy curve holding live models may be."""

    def __reduce__(self) -> Any:
        raise AssertionError("the replayed curve went into a checkpoint")


def test_simulated_curve_checkpoints_hold_only_the_step() -> None:
    """With ``curve`` a checkpoint holds the step reached, never the curve object (a lazy
    curve may hold a whole oracle: pickling it at every step filled a RAM disk)."""
    study = hs.create_study(
        "sim-ckpt", space=SPACE, sampler="random", seed=0,
        scheduler=hs.schedulers.ASHA(min_resource=1, max_resource=9, pause=True),
    )  # fmt: skip
    sim = SimulatedExecutor(
        lambda p: _Oracle(p["x"] / (i + 1) for i in range(9)),
        max_steps=9,
        first_step=1,
        checkpoints=True,
    )
    sim.run(study, n_trials=20)
    from hypersearch import checkpoints

    assert any(t.attrs.get("resume_from") is not None for t in study.trials)  # promotions ran
    kept = [t for t in study.trials if t.attrs.get("checkpoint")]
    assert kept  # the best trials' checkpoints stay
    for t in kept:
        assert checkpoints.load(study, t) == {"step": t.attrs["checkpoint"]["step"]}
