"""Studies end to end on real storage: in-memory SQLite and SQLite files, no mocks."""

from __future__ import annotations

import math
import os
import socket
import time
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.exceptions import DuplicateStudyError, HypersearchError, TrialNotFoundError
from hypersearch.samplers import RandomSampler
from hypersearch.storage import SQLStorage

SPACE = {"x": hs.Float(0.0, 1.0), "n": hs.Int(1, 8)}


@pytest.fixture(params=["memory", "sqlite-file"])
def storage(request: pytest.FixtureRequest, tmp_path: Any) -> str | None:
    """Every behaviour holds for the in-memory backend and for a SQLite file."""
    return None if request.param == "memory" else f"sqlite:///{tmp_path / 'studies.db'}"


def make(storage: str | None, **kwargs: Any) -> hs.Study:
    kwargs.setdefault("space", SPACE)
    kwargs.setdefault("seed", 0)
    name = kwargs.pop("name", "study")
    return hs.create_study(name, storage=storage, **kwargs)


def url(tmp_path: Any, file: str = "studies.db") -> str:
    return f"sqlite:///{tmp_path / file}"


# create_study / load_study --------------------------------------------------------------
def test_create_study_by_name(storage: str | None) -> None:
    study = make(storage, name="digits", direction="maximize")
    assert study.name == "digits"
    assert study.direction == "maximize"
    assert study.metric == "value"
    assert dict(study.space) == SPACE
    assert study.trials == []


def test_in_memory_study_gets_a_generated_name() -> None:
    a = hs.create_study(space=SPACE)
    b = hs.create_study(space=SPACE)
    assert a.name.startswith("study-") and b.name.startswith("study-")
    assert a.name != b.name


def test_storage_needs_a_name(tmp_path: Any) -> None:
    with pytest.raises(hs.InvalidArgumentError, match="needs a name"):
        hs.create_study(space=SPACE, storage=url(tmp_path))


@pytest.mark.parametrize("name", ["", "   ", 3])
def test_bad_study_name(name: Any) -> None:
    with pytest.raises(hs.InvalidArgumentError, match="study name"):
        hs.create_study(name, space=SPACE)


def test_duplicate_study_without_load_if_exists(tmp_path: Any) -> None:
    make(url(tmp_path))
    with pytest.raises(DuplicateStudyError, match="load_if_exists=True") as info:
        make(url(tmp_path))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, HypersearchError)


def test_load_if_exists_resumes(tmp_path: Any) -> None:
    first = make(url(tmp_path))
    first.optimize(lambda t: t.params["x"], n_trials=3)
    again = make(url(tmp_path), load_if_exists=True)
    assert [t.number for t in again.trials] == [0, 1, 2]
    again.optimize(lambda t: t.params["x"], n_trials=2)
    assert [t.number for t in again.trials] == [0, 1, 2, 3, 4]
    assert all(t.state is hs.TrialState.COMPLETE for t in again.trials)


def test_load_if_exists_on_a_new_name_creates_it(tmp_path: Any) -> None:
    study = make(url(tmp_path), name="fresh", load_if_exists=True)
    assert study.trials == []
    assert hs.load_study("fresh", storage=url(tmp_path)).name == "fresh"


def test_resume_without_seed_keeps_the_stored_seed(tmp_path: Any) -> None:
    # The everyday resume: run the same script again; no seed means "keep the one you have".
    first = hs.create_study("s", space=SPACE, storage=url(tmp_path))
    again = hs.create_study("s", space=SPACE, storage=url(tmp_path), load_if_exists=True)
    assert again.sampler.seed == first.sampler.seed


def test_resume_proposes_what_an_uninterrupted_run_would(tmp_path: Any) -> None:
    def objective(t: hs.Trial) -> float:
        return t.params["x"]

    whole = hs.create_study(space=SPACE, sampler="random", seed=11)
    whole.optimize(objective, n_trials=6)
    part = hs.create_study("p", space=SPACE, sampler="random", seed=11, storage=url(tmp_path))
    part.optimize(objective, n_trials=3)
    resumed = hs.load_study("p", storage=url(tmp_path))
    resumed.optimize(objective, n_trials=3)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"space": {"x": hs.Float(0.0, 2.0), "n": hs.Int(1, 8)}},
            "space x: Float(0.0, 1.0) -> Float(0.0, 2.0)",
        ),
        ({"space": {"x": hs.Float(0.0, 1.0)}}, "space n: Int(1, 8) -> None"),
        ({"sampler": "random"}, "sampler: {'name': 'auto'} -> {'name': 'random'}"),
        ({"seed": 1}, "seed: 0 -> 1"),
        ({"scheduler": "median"}, "scheduler: None -> {'name': 'median'"),
    ],
    ids=["space-range", "space-removed", "sampler", "seed", "scheduler"],
)
def test_resume_with_other_settings_is_refused_with_a_diff(
    tmp_path: Any, change: dict[str, Any], expected: str
) -> None:
    make(url(tmp_path))
    with pytest.raises(hs.InvalidArgumentError) as info:
        make(url(tmp_path), load_if_exists=True, **change)
    message = str(info.value)
    assert "was created with other settings" in message
    assert expected in message
    assert "allow_changes=True" in message


def test_allow_changes_switches_and_stores_the_new_settings(tmp_path: Any) -> None:
    make(url(tmp_path)).optimize(lambda t: t.params["x"], n_trials=2)
    wider = {"x": hs.Float(0.0, 2.0), "n": hs.Int(1, 8)}
    study = make(url(tmp_path), space=wider, seed=5, load_if_exists=True, allow_changes=True)
    assert study.space["x"] == hs.Float(0.0, 2.0)
    assert len(study.trials) == 2
    # The new settings are now the stored ones: resuming with them needs no permission.
    make(url(tmp_path), space=wider, seed=5, load_if_exists=True)
    loaded = hs.load_study("study", storage=url(tmp_path))
    assert loaded.space["x"] == hs.Float(0.0, 2.0)
    assert loaded.sampler.seed == 5


@pytest.mark.parametrize(
    "change", [{"direction": "maximize"}, {"metric": "accuracy"}], ids=["direction", "metric"]
)
def test_resume_with_another_objective_is_refused_even_with_allow_changes(
    tmp_path: Any, change: dict[str, Any]
) -> None:
    make(url(tmp_path))
    for allow in (False, True):
        with pytest.raises(hs.InvalidArgumentError, match="Use a new study"):
            make(url(tmp_path), load_if_exists=True, allow_changes=allow, **change)


def test_load_missing_study_names_the_existing_ones(tmp_path: Any) -> None:
    make(url(tmp_path), name="alpha")
    make(url(tmp_path), name="beta")
    with pytest.raises(hs.StudyNotFoundError) as info:
        hs.load_study("gamma", storage=url(tmp_path))
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert "'gamma'" in message and "'alpha'" in message and "'beta'" in message
    assert not message.startswith('"')  # shown plainly, not quoted like a bare KeyError


def test_load_study_in_empty_storage_says_none(tmp_path: Any) -> None:
    SQLStorage(url(tmp_path)).close()  # an existing database without studies
    with pytest.raises(KeyError, match="Studies there: none"):
        hs.load_study("nope", storage=url(tmp_path))


def test_load_study_never_creates_a_database(tmp_path: Any) -> None:
    with pytest.raises(hs.StorageError, match="no database at"):
        hs.load_study("nope", storage=url(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_load_study_reuses_the_stored_sampler_scheduler_and_seed(tmp_path: Any) -> None:
    created = hs.create_study(
        "s",
        space=SPACE,
        direction="maximize",
        metric="acc",
        sampler="random",
        seed=7,
        scheduler=hs.schedulers.MedianStopping(warmup_steps=2, min_trials=3),
        storage=url(tmp_path),
    )
    loaded = hs.load_study("s", storage=url(tmp_path))
    assert isinstance(loaded.sampler, RandomSampler)
    assert loaded.sampler.seed == 7
    assert loaded.scheduler is not None
    assert loaded.scheduler.config() == created.scheduler.config()  # type: ignore[union-attr]
    assert (loaded.direction, loaded.metric) == ("maximize", "acc")
    assert loaded.space == created.space


def test_load_study_with_an_explicit_sampler_keeps_the_seed(tmp_path: Any) -> None:
    make(url(tmp_path), seed=3)
    loaded = hs.load_study("study", storage=url(tmp_path), sampler="random")
    assert isinstance(loaded.sampler, RandomSampler)
    assert loaded.sampler.seed == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"direction": "max"}, "direction must be 'minimize' or 'maximize'"),
        ({"direction": 1}, "direction"),
        ({"metric": ""}, "metric must be a non-empty name"),
        ({"metric": 3}, "metric"),
        ({"sampler": "bogus"}, "Unknown sampler 'bogus'"),
        ({"scheduler": "bogus"}, "Unknown scheduler 'bogus'"),
        ({"storage": 123}, "storage must be None, a URL string or a Storage"),
        ({"storage": "  "}, "storage must be a URL"),
    ],
)
def test_bad_arguments_are_invalid_argument_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(hs.InvalidArgumentError, match=match) as info:
        hs.create_study("s", space=SPACE, **kwargs)
    assert isinstance(info.value, ValueError)


def test_load_study_with_storage_of_wrong_type() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="storage must be"):
        hs.load_study("s", storage=123)  # type: ignore[arg-type]


def test_bad_space_is_invalid_space_error() -> None:
    with pytest.raises(hs.InvalidSpaceError, match=r"hs\.Choice"):
        hs.create_study(space={"opt": ["sgd", "adam"]})  # type: ignore[dict-item]


def test_storage_in_missing_folder_is_a_storage_error(tmp_path: Any) -> None:
    with pytest.raises(hs.StorageError, match="does not exist"):
        hs.create_study("s", storage=f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")


# ask / tell -----------------------------------------------------------------------------
def test_tell_with_a_value_completes(storage: str | None) -> None:
    study = make(storage)
    trial = study.ask()
    assert trial.number == 0
    assert set(trial.params) == {"x", "n"}
    record = study.tell(trial, 0.25)
    assert record.state is hs.TrialState.COMPLETE
    assert record.value == 0.25
    assert record.fail_reason is None
    assert study.get_trial(0).params == trial.params


def test_tell_by_trial_number() -> None:
    study = make(None)
    trial = study.ask()
    assert study.tell(trial.number, 1.5).value == 1.5


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (None, "returned None"),
        (math.nan, "returned NaN"),
        ("0.5", "'0.5', not a number"),
        (True, "True, not a number"),
        ([1.0], "list, not a number"),
    ],
    ids=["none", "nan", "string", "bool", "list"],
)
def test_tell_with_no_number_fails_with_the_reason(result: Any, reason: str) -> None:
    study = make(None)
    record = study.tell(study.ask(), result)
    assert record.state is hs.TrialState.FAILED
    assert record.value is None
    assert reason in (record.fail_reason or "")


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_tell_with_infinity_fails_and_stores_it_exactly(storage: str | None, value: float) -> None:
    study = make(storage)
    record = study.tell(study.ask(), value)
    assert record.state is hs.TrialState.FAILED
    assert record.value == value
    assert str(value) in (record.fail_reason or "")
    assert study.get_trial(0).value == value  # read back from storage


def test_tell_a_dict_with_the_metric(storage: str | None) -> None:
    study = make(storage, metric="acc", direction="maximize")
    record = study.tell(study.ask(), {"acc": 0.91, "loss": 0.3, "epochs": 7})
    assert record.state is hs.TrialState.COMPLETE
    assert record.value == 0.91
    assert dict(record.metrics) == {"loss": 0.3, "epochs": 7}


def test_tell_a_dict_without_the_metric_fails_listing_keys() -> None:
    study = make(None, metric="acc")
    record = study.tell(study.ask(), {"loss": 0.3, "val_acc": 0.9})
    assert record.state is hs.TrialState.FAILED
    reason = record.fail_reason or ""
    assert "'acc'" in reason
    assert "['loss', 'val_acc']" in reason
    assert dict(record.metrics) == {"loss": 0.3, "val_acc": 0.9}


def test_tell_twice_is_an_error() -> None:
    study = make(None)
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(hs.InvalidArgumentError, match="already told"):
        study.tell(trial, 2.0)
    with pytest.raises(hs.InvalidArgumentError, match="not running in this process"):
        study.tell(trial.number, 2.0)
    assert study.get_trial(0).value == 1.0


def test_tell_a_trial_of_another_study_is_an_error() -> None:
    a, b = make(None), make(None)
    with pytest.raises(hs.InvalidArgumentError, match="another study"):
        b.tell(a.ask(), 1.0)


def test_tell_stopped_keeps_the_last_finite_report(storage: str | None) -> None:
    study = make(storage)
    trial = study.ask()
    for v in (0.9, 0.5, 0.4, math.nan):
        trial.report(v)
    record = study.tell(trial, state="STOPPED")
    assert record.state is hs.TrialState.STOPPED
    assert record.value == 0.4
    assert list(record.intermediate) == [0, 1, 2, 3]
    assert math.isnan(record.intermediate[3])


def test_tell_stopped_without_reports_has_no_value() -> None:
    study = make(None)
    record = study.tell(study.ask(), state=hs.TrialState.STOPPED)
    assert record.state is hs.TrialState.STOPPED
    assert record.value is None


def test_tell_stopped_with_a_value_keeps_it() -> None:
    study = make(None)
    trial = study.ask()
    trial.report(0.9)
    assert study.tell(trial, 0.7, state="STOPPED").value == 0.7


def test_tell_failed(storage: str | None) -> None:
    study = make(storage)
    record = study.tell(study.ask(), state="FAILED", fail_reason="out of memory")
    assert record.state is hs.TrialState.FAILED
    assert record.fail_reason == "out of memory"
    default = study.tell(study.ask(), state="FAILED")
    assert default.fail_reason == "failed by tell()"


def test_tell_with_an_unfinished_state_is_refused() -> None:
    study = make(None)
    with pytest.raises(hs.InvalidArgumentError, match="COMPLETE, STOPPED or FAILED"):
        study.tell(study.ask(), 1.0, state="RUNNING")


# optimize -------------------------------------------------------------------------------
def test_optimize_runs_n_trials(storage: str | None) -> None:
    study = make(storage)
    study.optimize(lambda t: (t.params["x"] - 0.3) ** 2 + t.params["n"], n_trials=5)
    assert [t.number for t in study.trials] == [0, 1, 2, 3, 4]
    assert all(t.state is hs.TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        assert 0.0 <= t.params["x"] <= 1.0 and 1 <= t.params["n"] <= 8


def test_optimize_timeout_stops_starting_new_trials() -> None:
    study = make(None)

    def objective(t: hs.Trial) -> float:
        time.sleep(0.1)
        return t.params["x"]

    start = time.monotonic()
    study.optimize(objective, timeout=0.5)
    elapsed = time.monotonic() - start
    assert 2 <= len(study.trials) <= 6
    assert elapsed < 0.5 + 0.1 + 0.5  # at most the running trial finishes after the deadline
    assert all(t.state is hs.TrialState.COMPLETE for t in study.trials)


def test_optimize_with_n_trials_and_timeout_stops_at_the_first() -> None:
    study = make(None)
    study.optimize(lambda t: 1.0, n_trials=3, timeout=60)
    assert len(study.trials) == 3


def test_exceptions_fail_the_trial_and_the_study_goes_on(storage: str | None) -> None:
    study = make(storage)

    def objective(t: hs.Trial) -> float:
        if t.number == 1:
            raise ValueError("exploded at epoch 3")
        return t.params["x"]

    study.optimize(objective, n_trials=4)
    states = [t.state for t in study.trials]
    assert states == [hs.TrialState.COMPLETE, hs.TrialState.FAILED] + [hs.TrialState.COMPLETE] * 2
    failed = study.get_trial(1)
    assert failed.fail_reason == "ValueError: exploded at epoch 3"
    assert failed.traceback is not None
    assert "Traceback" in failed.traceback
    assert "exploded at epoch 3" in failed.traceback
    assert "objective" in failed.traceback


def test_too_many_failures_in_a_row() -> None:
    study = make(None)

    def objective(t: hs.Trial) -> float:
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(hs.TooManyFailuresError) as info:
        study.optimize(objective, n_trials=20, max_failures=3)
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    assert "3 trials in a row failed" in message
    assert "trial 2" in message
    assert "RuntimeError: CUDA out of memory" in message
    assert "max_failures" in message
    assert len(study.trials) == 3


def test_failures_not_in_a_row_do_not_stop_the_study() -> None:
    study = make(None)
    pattern = [True, True, False, True, True, False, True, True]

    def objective(t: hs.Trial) -> float:
        if pattern[t.number]:
            raise ValueError("flaky")
        return 1.0

    study.optimize(objective, n_trials=len(pattern), max_failures=3)
    assert len(study.trials) == len(pattern)


def test_max_failures_none_never_stops() -> None:
    study = make(None)

    def objective(t: hs.Trial) -> float:
        raise ValueError("always")

    study.optimize(objective, n_trials=12, max_failures=None)
    assert len(study.get_trials(["FAILED"])) == 12


def test_exceptions_outside_catch_propagate_and_fail_the_trial() -> None:
    study = make(None)

    def objective(t: hs.Trial) -> float:
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug"):
        study.optimize(objective, n_trials=3, catch=(ValueError,))
    record = study.get_trial(0)
    assert record.state is hs.TrialState.FAILED
    assert record.fail_reason == "uncaught exception"
    assert len(study.trials) == 1


def test_keyboard_interrupt_marks_the_trial_failed_and_re_raises() -> None:
    study = make(None)

    def objective(t: hs.Trial) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=3)
    record = study.get_trial(0)
    assert record.state is hs.TrialState.FAILED
    assert "interrupted" in (record.fail_reason or "")


def test_callbacks_receive_every_record() -> None:
    study = make(None)
    seen: list[tuple[hs.Study, hs.TrialRecord]] = []

    def objective(t: hs.Trial) -> float:
        if t.number == 2:
            raise ValueError("no")
        return t.params["x"]

    study.optimize(objective, n_trials=4, callbacks=[lambda s, r: seen.append((s, r))])
    assert [r.number for _, r in seen] == [0, 1, 2, 3]
    assert all(s is study for s, _ in seen)
    assert seen[2][1].state is hs.TrialState.FAILED
    assert all(isinstance(r, hs.TrialRecord) and r.state.is_finished for _, r in seen)


def test_trial_pruned_is_recorded_as_stopped(storage: str | None) -> None:
    study = make(storage)

    def objective(t: hs.Trial) -> float:
        t.report(0.8)
        t.report(0.6)
        raise hs.TrialPruned()

    study.optimize(objective, n_trials=2)
    for record in study.trials:
        assert record.state is hs.TrialState.STOPPED
        assert record.value == 0.6
        assert dict(record.intermediate) == {0: 0.8, 1: 0.6}
        assert record.fail_reason is None


def test_show_progress_writes_a_rich_bar_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    study = make(None, name="progress-demo")
    study.optimize(lambda t: t.params["x"], n_trials=3, show_progress=True)
    err = capsys.readouterr().err
    assert "progress-demo" in err
    assert "3/3" in err
    assert len(study.trials) == 3


def test_show_progress_on_a_study_with_history(capsys: pytest.CaptureFixture[str]) -> None:
    study = make(None)
    study.optimize(lambda t: t.params["x"], n_trials=2)
    study.optimize(lambda t: t.params["x"], n_trials=2, show_progress=True)
    assert "best value=" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_trials": 0}, "n_trials must be a positive integer"),
        ({"n_trials": -1}, "n_trials"),
        ({"n_trials": 2.5}, "n_trials"),
        ({"n_trials": True}, "n_trials"),
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": -1.0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"max_failures": 0}, "max_failures must be a positive integer"),
        ({"max_failures": 1.5}, "max_failures"),
        ({"n_trials": 1, "n_workers": 4}, "n_workers=4"),
    ],
)
def test_bad_optimize_arguments(kwargs: dict[str, Any], match: str) -> None:
    study = make(None)
    with pytest.raises(hs.InvalidArgumentError, match=match):
        study.optimize(lambda t: 1.0, **kwargs)
    assert study.trials == []


def test_objective_must_be_callable() -> None:
    study = make(None)
    with pytest.raises(hs.InvalidArgumentError, match="objective must be a function"):
        study.optimize("train.py", n_trials=1)  # type: ignore[arg-type]


# enqueue / add_trial --------------------------------------------------------------------
def test_enqueued_trials_run_first_with_their_params(storage: str | None) -> None:
    study = make(storage)
    study.optimize(lambda t: t.params["x"], n_trials=1)
    first = study.enqueue({"x": 0.25, "n": 3}, note="baseline from the paper", tags=["paper"])
    second = study.enqueue({"x": 0.75})  # partial: n is sampled
    assert (first, second) == (1, 2)
    waiting = study.get_trials(["WAITING"])
    assert [t.number for t in waiting] == [1, 2]
    seen: list[tuple[int, dict[str, Any], str]] = []

    def objective(t: hs.Trial) -> float:
        seen.append((t.number, t.params, t.source))
        return t.params["x"]

    study.optimize(objective, n_trials=3)
    assert seen[0] == (1, {"x": 0.25, "n": 3}, "enqueued")
    assert seen[1][0] == 2 and seen[1][1]["x"] == 0.75 and seen[1][2] == "enqueued"
    assert 1 <= seen[1][1]["n"] <= 8
    assert seen[2][0] == 3 and seen[2][2] == "sampler"
    one = study.get_trial(1)
    assert one.source == "enqueued"
    assert one.note == "baseline from the paper"
    assert one.tags == ("paper",)
    assert one.state is hs.TrialState.COMPLETE
    assert dict(one.params) == {"x": 0.25, "n": 3}
    assert study.get_trial(2).params["x"] == 0.75


def test_enqueued_define_by_run_value_is_used() -> None:
    study = make(None)
    study.enqueue({"x": 0.5, "n": 2, "layers": 3}, allow_new=True)  # no trial asked it yet
    study.optimize(lambda t: t.int("layers", 1, 4), n_trials=1)
    record = study.get_trial(0)
    assert record.params["layers"] == 3
    assert record.value == 3


def test_enqueued_define_by_run_value_outside_its_definition_fails_the_trial() -> None:
    study = make(None)
    study.enqueue({"x": 0.5, "n": 2, "layers": 9}, allow_new=True)
    study.optimize(lambda t: t.int("layers", 1, 4), n_trials=1, max_failures=None)
    record = study.get_trial(0)
    assert record.state is hs.TrialState.FAILED
    assert "layers" in (record.fail_reason or "")


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"x": 5.0}, "x"),
        ({"x": "0.5"}, "x"),
        ({"n": 2.5}, "n"),
        ({"n": 0}, "n"),
        ({"extra": [1, 2]}, "extra"),
    ],
)
def test_invalid_enqueued_params_name_the_param(params: dict[str, Any], name: str) -> None:
    study = make(None)
    with pytest.raises(hs.InvalidSpaceError, match=rf"\b{name}\b"):
        study.enqueue(params)
    assert study.trials == []


def test_enqueue_with_a_misspelled_name_is_a_clear_error(storage: str | None) -> None:
    """It was silently dropped: the trial ran with a sampled value instead."""
    study = make(storage)
    with pytest.raises(hs.InvalidSpaceError, match=r"'foo'.*known parameters.*'n', 'x'"):
        study.enqueue({"foo": 1})
    with pytest.raises(hs.InvalidSpaceError, match=r"'lr'.*allow_new=True"):
        study.enqueue({"x": 0.5, "lr": 0.1})
    assert study.trials == []
    study.optimize(lambda t: t.params["x"] + t.int("layers", 1, 4), n_trials=1)
    study.enqueue({"layers": 2})  # asked by a trial (define-by-run): known now
    study.enqueue({"depth": 3}, allow_new=True)  # asked only later: say so
    assert len(study.get_trials(["WAITING"])) == 2


def test_enqueue_on_a_study_without_a_space_takes_any_name() -> None:
    study = hs.create_study(seed=0)  # define-by-run only: nothing to check names against
    study.enqueue({"layers": 3})
    study.optimize(lambda t: t.int("layers", 1, 4), n_trials=1)
    assert study.get_trial(0).params["layers"] == 3
    with pytest.raises(hs.InvalidSpaceError, match=r"'layres'.*'layers'"):
        study.enqueue({"layres": 3})  # known names now: a typo is caught


def test_an_objective_returning_an_int_too_big_for_a_float_fails_its_trial(
    storage: str | None,
) -> None:
    """10**400 raised OverflowError out of optimize and left the trial RUNNING."""
    study = make(storage)
    study.optimize(lambda t: 10**400, n_trials=2, max_failures=None)
    trials = study.trials
    assert [t.state for t in trials] == [hs.TrialState.FAILED] * 2
    assert "too large" in (trials[0].fail_reason or "")
    with pytest.raises(hs.InvalidArgumentError, match="too large"):
        study.add_trial({"x": 0.5, "n": 2}, 10**400)


def test_enqueue_needs_a_dict() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="dict"):
        make(None).enqueue([("x", 0.5)])  # type: ignore[arg-type]


def test_add_trial_records_a_manual_trial(storage: str | None) -> None:
    study = make(storage)
    study.optimize(lambda t: 1.0 + t.params["x"], n_trials=3)
    number = study.add_trial(
        {"x": 0.1, "n": 4}, 0.05, note="ran it by hand", tags=["manual"], curve=[0.5, 0.2, 0.05]
    )
    assert number == 3
    record = study.get_trial(number)
    assert record.state is hs.TrialState.COMPLETE
    assert record.source == "manual"
    assert record.value == 0.05
    assert record.note == "ran it by hand"
    assert record.tags == ("manual",)
    assert dict(record.intermediate) == {0: 0.5, 1: 0.2, 2: 0.05}
    assert study.best_trial.number == number
    assert study.best_value == 0.05
    assert study.best_params == {"x": 0.1, "n": 4}
    assert study.top(2)[0].number == number


def test_add_trial_with_a_curve_mapping() -> None:
    study = make(None)
    n = study.add_trial({"x": 0.1, "n": 4}, 0.5, curve={0: 0.9, 5: 0.5})
    assert dict(study.get_trial(n).intermediate) == {0: 0.9, 5: 0.5}


def test_add_trial_checks_its_input() -> None:
    study = make(None)
    with pytest.raises(hs.InvalidSpaceError, match="Missing value"):
        study.add_trial({"x": 0.1}, 1.0)
    with pytest.raises(hs.InvalidSpaceError, match=r"\bn\b"):
        study.add_trial({"x": 0.1, "n": 100}, 1.0)
    with pytest.raises(hs.InvalidArgumentError, match="NaN"):
        study.add_trial({"x": 0.1, "n": 1}, math.nan)
    with pytest.raises(hs.InvalidArgumentError, match="None"):
        study.add_trial({"x": 0.1, "n": 1}, None)  # type: ignore[arg-type]
    assert study.trials == []


# best / top -------------------------------------------------------------------------------
def tell_all(study: hs.Study, values: list[Any]) -> None:
    for v in values:
        study.tell(study.ask(), v)


@pytest.mark.parametrize(
    ("direction", "best", "top3"),
    [("minimize", 1.0, [1.0, 2.0, 2.0]), ("maximize", 5.0, [5.0, 3.0, 2.0])],
)
def test_best_and_top(storage: str | None, direction: str, best: float, top3: list[float]) -> None:
    study = make(storage, direction=direction)
    tell_all(study, [3.0, 1.0, math.nan, 2.0, 5.0, 2.0, None])
    assert study.best_value == best
    assert study.best_trial.value == best
    assert study.best_params == dict(study.best_trial.params)
    top = study.top(3)
    assert [t.value for t in top] == top3
    ties = [t.number for t in study.top(10) if t.value == 2.0]
    assert ties == [3, 5]  # equal values: earlier trial first
    assert len(study.top(10)) == 5


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_nan_and_infinity_are_never_best(direction: str) -> None:
    study = make(None, direction=direction)
    tell_all(study, [math.nan, math.inf, -math.inf, 10.0])
    assert study.best_value == 10.0
    assert [t.value for t in study.top(5)] == [10.0]


def test_stopped_trials_do_not_rank() -> None:
    study = make(None)
    trial = study.ask()
    trial.report(0.001)
    study.tell(trial, state="STOPPED")
    study.tell(study.ask(), 1.0)
    assert study.best_value == 1.0


def test_best_without_completed_trials_is_a_value_error() -> None:
    study = make(None, name="empty")
    with pytest.raises(ValueError, match="no completed trial") as info:
        _ = study.best_trial
    assert isinstance(info.value, HypersearchError)
    assert "'empty'" in str(info.value)
    study.tell(study.ask(), math.nan)
    for attribute in ("best_trial", "best_value", "best_params"):
        with pytest.raises(ValueError):
            getattr(study, attribute)
    assert study.top(3) == []


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_top_needs_a_positive_integer(k: Any) -> None:
    with pytest.raises(hs.InvalidArgumentError, match="positive integer"):
        make(None).top(k)


# table / dataframe ------------------------------------------------------------------------
def filled_study(storage: str | None = None) -> hs.Study:
    study = make(storage, metric="acc", direction="maximize")

    def objective(t: hs.Trial) -> Any:
        if t.number == 2:
            raise ValueError("diverged")
        t.report(0.5)
        return {"acc": 0.5 + t.params["x"] / 10, "loss": 1.0 - t.params["x"]}

    study.optimize(objective, n_trials=3, max_failures=None)
    study.set_note(0, "first, with a comma")
    study.add_tags(0, "baseline", "gpu0")
    return study


def test_table_rows() -> None:
    study = filled_study()
    rows = study.table()
    assert [r["number"] for r in rows] == [0, 1, 2]
    first = rows[0]
    assert first["state"] == "COMPLETE"
    assert first["acc"] == study.get_trial(0).value
    assert first["params.x"] == study.get_trial(0).params["x"]
    assert first["params.n"] == study.get_trial(0).params["n"]
    assert first["metrics.loss"] == pytest.approx(1.0 - first["params.x"])
    assert first["steps"] == 1
    assert first["duration_s"] >= 0
    assert first["host"] == socket.gethostname()
    assert first["source"] == "sampler"
    assert first["note"] == "first, with a comma"
    assert first["tags"] == "baseline,gpu0"
    assert first["fail_reason"] is None
    assert rows[2]["state"] == "FAILED"
    assert rows[2]["acc"] is None
    assert rows[2]["fail_reason"] == "ValueError: diverged"


def test_trials_dataframe_columns() -> None:
    pd = pytest.importorskip("pandas")
    df = filled_study().trials_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 3
    for column in (
        "number",
        "state",
        "acc",
        "params.x",
        "params.n",
        "metrics.loss",
        "steps",
        "duration_s",
        "started",
        "finished",
        "host",
        "gpu",
        "source",
        "note",
        "tags",
        "fail_reason",
    ):
        assert column in df.columns
    assert list(df["state"]) == ["COMPLETE", "COMPLETE", "FAILED"]


def test_table_of_an_empty_study() -> None:
    assert make(None).table() == []


# annotations and cost ----------------------------------------------------------------------
def test_notes_tags_and_attrs_persist(tmp_path: Any) -> None:
    study = make(url(tmp_path))

    def objective(t: hs.Trial) -> float:
        t.set_note("lr looked too high")
        t.add_tag("sweep-1", "fp16")
        t.set_attr("n_params", 123_456)
        t.set_attr("arch", {"layers": [64, 32]})
        return t.params["x"]

    study.optimize(objective, n_trials=2)
    study.set_note(1, "rerun with seed 2 — «unicode», commas, too")
    study.add_tags(1, "keep", " spaced ")
    study.add_tags(1, "keep")  # no duplicates
    study.remove_tags(1, "fp16")
    loaded = hs.load_study("study", storage=url(tmp_path))
    zero, one = loaded.get_trial(0), loaded.get_trial(1)
    assert zero.note == "lr looked too high"
    assert zero.tags == ("sweep-1", "fp16")
    assert zero.attrs["n_params"] == 123_456
    assert zero.attrs["arch"] == {"layers": [64, 32]}
    assert one.note == "rerun with seed 2 — «unicode», commas, too"
    assert one.tags == ("sweep-1", "keep", "spaced")


def test_annotation_errors() -> None:
    study = make(None)
    study.tell(study.ask(), 1.0)
    with pytest.raises(hs.InvalidArgumentError, match="note is text"):
        study.set_note(0, 42)  # type: ignore[arg-type]
    with pytest.raises(hs.InvalidArgumentError, match="non-empty strings"):
        study.add_tags(0, "")
    with pytest.raises(hs.InvalidArgumentError, match="non-empty strings"):
        study.add_tags(0, 3)  # type: ignore[arg-type]
    with pytest.raises(TrialNotFoundError, match="No trial number 7") as info:
        study.set_note(7, "nope")
    assert isinstance(info.value, KeyError)
    with pytest.raises(KeyError):
        study.get_trial(7)


def test_records_carry_cost_and_provenance(storage: str | None) -> None:
    study = make(storage)

    def objective(t: hs.Trial) -> float:
        time.sleep(0.02)
        return t.params["x"]

    before = time.time()
    study.optimize(objective, n_trials=2)
    after = time.time()
    for record in study.trials:
        assert record.duration is not None and record.duration > 0
        assert record.host == socket.gethostname()
        assert record.pid == os.getpid()
        assert record.started_at is not None and record.finished_at is not None
        assert before - 5 <= record.started_at <= record.finished_at <= after + 5
        start, finish = record.datetime_start, record.datetime_finish
        assert start is not None and finish is not None
        assert start.tzinfo is not None and start < finish


def test_running_trial_has_no_duration() -> None:
    study = make(None)
    trial = study.ask()
    record = study.get_trial(trial.number)
    assert record.state is hs.TrialState.RUNNING
    assert record.duration is None and record.finished_at is None


def test_gpu_is_recorded_from_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    study = make(None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    study.optimize(lambda t: 1.0, n_trials=1)
    assert (study.get_trial(0).gpu or "").startswith("3")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    study.optimize(lambda t: 1.0, n_trials=1)
    if "torch" not in __import__("sys").modules:
        assert study.get_trial(1).gpu is None


def test_get_trials_filters_by_state() -> None:
    study = make(None)
    tell_all(study, [1.0, None, 2.0])
    study.enqueue({"x": 0.5})
    assert [t.number for t in study.get_trials(["COMPLETE"])] == [0, 2]
    assert [t.number for t in study.get_trials([hs.TrialState.FAILED])] == [1]
    assert [t.number for t in study.get_trials(["WAITING"])] == [3]
    assert len(study.trials) == 4


def test_repr_names_the_study() -> None:
    study = make(None, name="r")
    assert "Study(name='r'" in repr(study)
    assert "sqlite://" in study.storage_url


def test_a_sampler_object_without_a_seed_takes_the_study_seed_and_resumes(
    tmp_path: Any,
) -> None:
    """The common script: ``sampler=TPESampler()`` and ``seed=`` in create_study, run twice."""
    url = f"sqlite:///{tmp_path}/s.db"
    space = {"x": hs.Float(0, 1)}

    def make(**kwargs: Any) -> hs.Study:
        return hs.create_study("s", space=space, storage=url, load_if_exists=True, **kwargs)

    first = make(sampler=hs.samplers.TPESampler(n_startup=3), seed=3)
    assert first.sampler.seed == 3
    first.optimize(lambda t: t.params["x"], n_trials=2, show_progress=False)
    again = make(sampler=hs.samplers.TPESampler(n_startup=3), seed=3)
    assert again.sampler.seed == 3
    # without any seed, the object adopts the stored one instead of counting as drift
    unseeded = make(sampler=hs.samplers.TPESampler(n_startup=3))
    assert unseeded.sampler.seed == 3
    assert (
        hs.load_study("s", storage=url, sampler=hs.samplers.TPESampler(n_startup=3)).sampler.seed
        == 3
    )
    with pytest.raises(hs.InvalidArgumentError, match="seed=4 but seed=3"):
        make(sampler=hs.samplers.TPESampler(n_startup=3, seed=4), seed=3)
    with pytest.raises(hs.InvalidArgumentError, match="seed: 3 -> 5"):
        make(sampler=hs.samplers.TPESampler(n_startup=3, seed=5))
