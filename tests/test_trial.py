"""The live trial handle: define-by-run parameters, learning curves, annotations."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

import hypersearch as hs
from hypersearch.trial import Trial, TrialHost, TrialLease

SPACE = {"x": hs.Float(0.0, 1.0)}


def make(**kwargs: Any) -> hs.Study:
    kwargs.setdefault("space", SPACE)
    kwargs.setdefault("seed", 0)
    return hs.create_study(**kwargs)


# define-by-run ----------------------------------------------------------------------------
def test_define_by_run_values_are_valid_and_stored() -> None:
    study = make()
    for _ in range(8):
        trial = study.ask()
        lr = trial.float("lr", 1e-5, 1e-1, log=True)
        momentum = trial.float("momentum", 0.5, 0.999, scale="log1m")
        dropout = trial.float("dropout", 0.0, 0.5, step=0.1)
        units = trial.int("units", 32, 512, step=32)
        batch = trial.int("batch_size", 8, 256, scale="pow2")
        layers = trial.int("layers", 1, 4)
        optimizer = trial.choice("optimizer", ["sgd", "adam"])
        flag = trial.bool("batch_norm")
        assert isinstance(lr, float) and 1e-5 <= lr <= 1e-1
        assert 0.5 <= momentum <= 0.999
        assert any(math.isclose(dropout, k / 10) for k in range(6))
        assert isinstance(units, int) and units % 32 == 0 and 32 <= units <= 512
        assert batch in (8, 16, 32, 64, 128, 256)
        assert layers in (1, 2, 3, 4)
        assert optimizer in ("sgd", "adam")
        assert isinstance(flag, bool)
        study.tell(trial, lr)
        record = study.get_trial(trial.number)
        expected = {
            "lr": lr,
            "momentum": momentum,
            "dropout": dropout,
            "units": units,
            "batch_size": batch,
            "layers": layers,
            "optimizer": optimizer,
            "batch_norm": flag,
        }
        assert {k: record.params[k] for k in expected} == expected
        assert record.distributions["lr"] == hs.Float(1e-5, 1e-1, log=True)
        assert record.distributions["units"] == hs.Int(32, 512, step=32)
        assert record.distributions["optimizer"] == hs.Choice(["sgd", "adam"])
        assert record.distributions["batch_norm"] == hs.Bool()
        assert record.distributions["x"] == hs.Float(0.0, 1.0)
        assert trial.params == dict(record.params)


def test_asking_again_returns_the_same_value() -> None:
    study = make()
    trial = study.ask()
    first = trial.float("lr", 1e-4, 1e-1, log=True)
    assert trial.float("lr", 1e-4, 1e-1, log=True) == first
    assert trial.params["lr"] == first
    assert trial.distributions["lr"] == hs.Float(1e-4, 1e-1, log=True)


def test_define_by_run_is_reproducible_for_a_seed() -> None:
    def draws(seed: int) -> list[tuple[float, int, str]]:
        study = make(seed=seed)
        out = []
        for _ in range(4):
            t = study.ask()
            out.append(
                (
                    t.float("lr", 1e-5, 1e-1, log=True),
                    t.int("k", 1, 100),
                    t.choice("act", ["relu", "gelu", "tanh"]),
                )
            )
            study.tell(t, 0.0)
        return out

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_define_by_run_only_study() -> None:
    study = hs.create_study(seed=0)
    study.optimize(lambda t: (t.float("a", -1.0, 1.0) - 0.2) ** 2, n_trials=3)
    assert all(set(t.params) == {"a"} for t in study.trials)
    assert study.best_params.keys() == {"a"}


def test_conflicting_definition_in_the_same_trial() -> None:
    study = make()
    trial = study.ask()
    trial.int("layers", 1, 4)
    with pytest.raises(hs.ParameterConflictError) as info:
        trial.int("layers", 1, 8)
    message = str(info.value)
    assert "'layers'" in message and "Int(1, 4)" in message and "Int(1, 8)" in message
    assert isinstance(info.value, hs.InvalidSpaceError) and isinstance(info.value, ValueError)


def test_conflicting_kind_in_the_same_trial() -> None:
    trial = make().ask()
    trial.float("width", 1.0, 10.0)
    with pytest.raises(hs.ParameterConflictError, match=r"Float\(1.0, 10.0\).*Int\(1, 10\)"):
        trial.int("width", 1, 10)


def test_conflicting_definition_in_a_later_trial() -> None:
    study = make()
    study.optimize(lambda t: t.int("layers", 1, 4), n_trials=2)

    def changed(t: hs.Trial) -> float:
        return t.int("layers", 1, 8)

    study.optimize(changed, n_trials=1, max_failures=None)
    record = study.get_trial(2)
    assert record.state is hs.TrialState.FAILED
    assert "ParameterConflictError" in (record.fail_reason or "")
    assert "Int(1, 4)" in (record.fail_reason or "") and "Int(1, 8)" in (record.fail_reason or "")
    trial = study.ask()
    with pytest.raises(hs.ParameterConflictError, match="earlier in this study"):
        trial.int("layers", 1, 8)


def test_conflict_is_found_after_reloading_the_study(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'dbr.db'}"
    hs.create_study("s", space=SPACE, storage=url, seed=0).optimize(
        lambda t: t.choice("act", ["relu", "gelu"]) == "relu", n_trials=1
    )
    trial = hs.load_study("s", storage=url).ask()
    with pytest.raises(hs.ParameterConflictError, match=r"\['relu', 'gelu'\].*\['relu', 'tanh'\]"):
        trial.choice("act", ["relu", "tanh"])
    assert trial.choice("act", ["relu", "gelu"]) in ("relu", "gelu")


def test_declared_param_asked_define_by_run() -> None:
    study = make()
    trial = study.ask()
    declared = trial.params["x"]
    assert trial.float("x", 0.0, 1.0) == declared
    with pytest.raises(hs.ParameterConflictError, match=r"Float\(0.0, 1.0\).*Float\(0.0, 2.0\)"):
        trial.float("x", 0.0, 2.0)
    assert study.tell(trial, declared).params["x"] == declared


def test_suggest_checks_its_arguments() -> None:
    trial = make().ask()
    with pytest.raises(hs.InvalidArgumentError, match="non-empty string"):
        trial.suggest("", hs.Bool())
    with pytest.raises(hs.InvalidArgumentError, match=r"needs an hs\.Float/Int/Choice/Bool"):
        trial.suggest("lr", (0.0, 1.0))  # type: ignore[arg-type]
    with pytest.raises(hs.InvalidSpaceError, match="low <= high"):
        trial.float("lr", 1.0, 0.0)
    with pytest.raises(hs.InvalidSpaceError):
        trial.choice("opt", [])
    assert trial.suggest("opt", hs.Choice(["a", "b"])) in ("a", "b")


# report -----------------------------------------------------------------------------------
def test_report_steps_default_to_0_1_2() -> None:
    study = make()
    trial = study.ask()
    for v in (0.5, 0.6, 0.7):
        trial.report(v)
    record = study.get_trial(trial.number)
    assert dict(record.intermediate) == {0: 0.5, 1: 0.6, 2: 0.7}
    assert record.last_step == 2


def test_report_explicit_steps() -> None:
    study = make()
    trial = study.ask()
    trial.report(0.1, step=10)
    trial.report(0.2, step=100)
    trial.report(0.3)  # continues after the largest step seen
    trial.report(0.05, step=10)  # a repeated step overwrites
    trial.report(0.4, step=0)
    assert dict(study.get_trial(trial.number).intermediate) == {
        0: 0.4,
        10: 0.05,
        100: 0.2,
        101: 0.3,
    }


def test_report_stores_nan_and_infinity() -> None:
    study = make()
    trial = study.ask()
    for v in (0.5, math.nan, math.inf, -math.inf):
        trial.report(v)
    curve = study.get_trial(trial.number).intermediate
    assert curve[0] == 0.5
    assert math.isnan(curve[1])
    assert curve[2] == math.inf and curve[3] == -math.inf


def test_report_accepts_numpy_scalars() -> None:
    study = make()
    trial = study.ask()
    trial.report(np.float32(0.25))
    trial.report(np.int64(3))
    trial.report(1)
    assert dict(study.get_trial(trial.number).intermediate) == {0: 0.25, 1: 3.0, 2: 1.0}


@pytest.mark.parametrize("value", ["abc", "0.5", None, [0.5], True, b"1", {"acc": 0.5}])
def test_report_needs_a_number(value: Any) -> None:
    study = make()
    trial = study.ask()
    with pytest.raises(hs.InvalidArgumentError, match="report\\(\\) needs a number"):
        trial.report(value)
    assert study.get_trial(trial.number).intermediate == {}


@pytest.mark.parametrize("step", [-1, 1.5, "3", True])
def test_report_needs_a_non_negative_integer_step(step: Any) -> None:
    trial = make().ask()
    with pytest.raises(hs.InvalidArgumentError, match=r"step=.*integer >= 0"):
        trial.report(0.5, step=step)


def test_report_after_tell_is_refused_with_a_stale_error() -> None:
    study = make()
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(hs.StaleTrialError, match="no longer owned"):
        trial.report(0.5)


def test_should_stop_is_false_without_a_scheduler() -> None:
    trial = make().ask()
    trial.report(1e9)
    assert trial.should_stop() is False


def test_trial_stop_ends_the_trial_as_stopped() -> None:
    study = make()

    def objective(t: hs.Trial) -> float:
        t.report(0.4)
        t.stop()
        raise AssertionError("unreachable")

    study.optimize(objective, n_trials=1)
    record = study.get_trial(0)
    assert record.state is hs.TrialState.STOPPED
    assert record.value == 0.4


# annotations from inside the objective ------------------------------------------------------
def test_trial_annotations(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    study = hs.create_study("s", space=SPACE, storage=url, seed=0)
    trial = study.ask()
    trial.set_note("diverged after warm-up")
    trial.add_tag("lr-sweep")
    trial.add_tag("a", "b")
    trial.set_attr("model_size", 1.5e6)
    trial.set_attr("layers", [64, 32])
    study.tell(trial, 0.3)
    record = hs.load_study("s", storage=url).get_trial(trial.number)
    assert record.note == "diverged after warm-up"
    assert record.tags == ("lr-sweep", "a", "b")
    assert record.attrs["model_size"] == 1.5e6
    assert record.attrs["layers"] == [64, 32]


def test_trial_repr_and_study() -> None:
    study = make()
    trial = study.ask()
    assert trial.study is study
    assert repr(trial).startswith("Trial(number=0, params={'x': ")
    assert trial.source == "sampler"


def test_trial_state_helpers() -> None:
    assert [s.is_finished for s in hs.TrialState] == [False, False, True, True, True]
    assert str(hs.TrialState.COMPLETE) == "COMPLETE"
    assert hs.TrialState("STOPPED") is hs.TrialState.STOPPED


def test_record_has_value() -> None:
    record = hs.TrialRecord(number=0, state=hs.TrialState.COMPLETE, params={}, value=math.nan)
    assert not record.has_value
    assert hs.TrialRecord(number=0, state=hs.TrialState.COMPLETE, params={}, value=-1.0).has_value
    assert not hs.TrialRecord(number=0, state=hs.TrialState.FAILED, params={}).has_value
    assert record.duration is None and record.last_step is None


# the seam between a trial and its study -------------------------------------------------------
#: Trial's public names: what objectives use, plus ``lease`` (for the study and executors).
#: Adding one is a decision: update this set and the docs.
TRIAL_API = {
    "add_tag",
    "attrs",
    "bool",
    "choice",
    "decision",
    "distributions",
    "float",
    "int",
    "lease",
    "load_checkpoint",
    "number",
    "params",
    "report",
    "resume_from",
    "save_checkpoint",
    "set_attr",
    "set_note",
    "should_stop",
    "source",
    "start_step",
    "stop",
    "study",
    "suggest",
}


def test_the_trial_api_is_pinned() -> None:
    trial = make().ask()
    assert {n for n in dir(trial) if not n.startswith("_")} == TRIAL_API


def test_the_lease_is_the_claim_the_study_writes_with() -> None:
    study = make()
    trial = study.ask()
    lease = trial.lease
    assert isinstance(lease, TrialLease)
    assert lease.id == study.get_trial(trial.number).id and lease.token
    with pytest.raises(dataclasses.FrozenInstanceError):
        lease.token = "another"  # type: ignore[misc]
    study.tell(trial, 0.5)
    with pytest.raises(hs.InvalidArgumentError, match="already told"):
        study.tell(trial, 0.5)


class NotebookHost:
    """A complete TrialHost that keeps everything in dictionaries: a trial needs nothing
    else of a study (sampling is the space's midpoint, the 'scheduler' stops at step 2)."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.curve: dict[int, float] = {}
        self.checkpoints: dict[int, Any] = {}
        self.attrs: dict[str, Any] = {}
        self.notes: list[str] = []

    @property
    def study(self) -> Any:
        return None

    def check_definition(self, name: str, param: hs.space.Param) -> None:
        return None

    def sample(self, trial: Trial, name: str, param: hs.space.Param) -> Any:
        assert isinstance(param, hs.Float)
        return (param.low + param.high) / 2

    def record_param(self, trial: Trial, name: str, value: Any, param: hs.space.Param) -> None:
        self.params[name] = value

    def parse_report(self, value: Any) -> tuple[float, tuple[float, ...] | None]:
        return float(value), None

    def report(
        self,
        trial: Trial,
        value: float,
        step: int,
        values: tuple[float, ...] | None,
        previous_step: int | None,
    ) -> str | None:
        self.curve[step] = value
        return "stop" if step >= 2 else "continue"

    def save_checkpoint(self, number: int, obj: Any, step: int | None) -> Any:
        self.checkpoints[number] = obj
        return {"step": step}

    def load_checkpoint(self, number: int) -> Any:
        return self.checkpoints[number]

    def set_attrs(self, number: int, attrs: Mapping[str, Any]) -> None:
        self.attrs.update(attrs)

    def set_note(self, number: int, note: str) -> None:
        self.notes.append(note)

    def add_tags(self, number: int, *tags: str) -> None:
        self.notes.extend(tags)


def test_a_trial_asks_its_study_only_through_its_host() -> None:
    host = NotebookHost()
    checked: TrialHost = host  # the protocol, checked by mypy
    trial = Trial(checked, hs.TrialRecord(number=7, state=hs.TrialState.RUNNING, params={}), "t")
    assert trial.float("lr", 0.0, 0.2) == pytest.approx(0.1)  # the midpoint (exact in binary)
    for step in range(5):
        trial.report(1.0 / (step + 1))
        if trial.should_stop():
            break
    trial.save_checkpoint({"w": 1})
    trial.set_note("by hand")
    assert host.params == {"lr": trial.params["lr"]}
    assert host.curve == {0: 1.0, 1: 0.5, 2: pytest.approx(1 / 3)}
    assert trial.decision == "stop"
    assert trial.load_checkpoint() == {"w": 1}
    assert host.attrs == {"checkpoint": {"step": 2}} and host.notes == ["by hand"]
    assert trial.lease == TrialLease(-1, "t")
