"""Storage conformance suite: the rules of DESIGN.md ("Data and storage rules") as tests.

Every backend must pass it. A test module defines a ``storage`` fixture that yields a fresh,
empty backend (parametrise it to cover several) and imports the tests::

    @pytest.fixture(params=["memory", "sqlite-file"])
    def storage(request, tmp_path): ...

    from hypersearch.testing.storage_suite import *  # noqa: F403

The tests only use the ``Storage`` interface, so PostgreSQL (or any new backend) is covered
by adding one parameter to the fixture. Needs pytest.
"""

from __future__ import annotations

import math
import time

import pytest

from hypersearch.exceptions import (
    DuplicateStudyError,
    StaleTrialError,
    StudyNotFoundError,
    TrialNotFoundError,
)
from hypersearch.objectives import Objective
from hypersearch.space import Float, Int
from hypersearch.storage.base import ClaimedTrial, Storage, StudyRecord
from hypersearch.trial import TrialRecord, TrialState

HOST = "suite-host"
SPACE = {"x": Float(0.0, 1.0).to_dict(), "n": Int(1, 8).to_dict()}
CONFIG = {"sampler": {"name": "random"}, "seed": 0, "scheduler": None}


# --------------------------------------------------------------------------- helpers


def _study(storage: Storage, name: str = "s", direction: str = "minimize") -> StudyRecord:
    return storage.create_study(
        name, direction=direction, metric="value", space=SPACE, config=CONFIG
    )


def _claim(
    storage: Storage,
    study: StudyRecord,
    *,
    pid: int = 1000,
    host: str = HOST,
    take_waiting: bool = True,
) -> ClaimedTrial:
    return storage.claim_trial(study.id, host=host, pid=pid, gpu=None, take_waiting=take_waiting)


def _complete(storage: Storage, study: StudyRecord, value: float) -> ClaimedTrial:
    c = _claim(storage, study)
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=value)
    return c


def _get(storage: Storage, study: StudyRecord, claimed: ClaimedTrial) -> TrialRecord:
    return storage.get_trial(study.id, claimed.record.number)


def _tick() -> None:
    """Let the database clock move on (its resolution is about a millisecond)."""
    time.sleep(0.02)


# --------------------------------------------------------------------------- studies


def test_create_and_get_study(storage: Storage) -> None:
    created = _study(storage, "digits", "maximize")
    got = storage.get_study("digits")
    assert got == created
    assert (got.name, got.direction, got.metric) == ("digits", "maximize", "value")
    assert dict(got.space or {}) == SPACE
    assert dict(got.config) == CONFIG
    assert got.created_at is not None and abs(got.created_at - time.time()) < 300


def test_duplicate_study_name_is_refused(storage: Storage) -> None:
    _study(storage, "dup")
    with pytest.raises(DuplicateStudyError, match="dup"):
        _study(storage, "dup")
    assert [s.name for s in storage.list_studies()] == ["dup"]


def test_unknown_study_lists_existing_names(storage: Storage) -> None:
    with pytest.raises(StudyNotFoundError, match="none"):
        storage.get_study("ghost")
    _study(storage, "alpha")
    _study(storage, "beta")
    with pytest.raises(StudyNotFoundError) as info:
        storage.get_study("ghost")
    message = str(info.value)
    assert "'ghost'" in message and "'alpha'" in message and "'beta'" in message
    assert isinstance(info.value, KeyError)  # one error tree, also the built-in type


def test_update_study(storage: Storage) -> None:
    study = _study(storage)
    storage.update_study(study.id, space={"y": Float(0.0, 2.0).to_dict()}, config={"seed": 3})
    got = storage.get_study("s")
    assert dict(got.space or {}) == {"y": Float(0.0, 2.0).to_dict()}
    assert dict(got.config) == {"seed": 3}


def test_list_studies_counts_best_and_last_activity(storage: Storage) -> None:
    low = _study(storage, "low", "minimize")
    high = _study(storage, "high", "maximize")
    empty = _study(storage, "empty")
    for v in (3.0, 1.0, 2.0):
        _complete(storage, low, v)
        _complete(storage, high, v)
    failed = _claim(storage, low)
    storage.finish_trial(failed.record.id, failed.token, TrialState.FAILED, fail_reason="boom")
    _claim(storage, low)  # still running
    storage.enqueue_trial(low.id, {"x": 0.5})
    _tick()

    summaries = {s.name: s for s in storage.list_studies()}
    assert [s.name for s in storage.list_studies()] == ["low", "high", "empty"]
    s_low, s_high, s_empty = summaries["low"], summaries["high"], summaries["empty"]
    assert dict(s_low.counts) == {"COMPLETE": 3, "FAILED": 1, "RUNNING": 1, "WAITING": 1}
    assert s_low.n_trials == 6
    assert dict(s_high.counts) == {"COMPLETE": 3}
    assert s_low.best_value == 1.0  # minimize: the smallest COMPLETE value
    assert s_high.best_value == 3.0  # maximize: the largest
    assert s_empty.best_value is None and dict(s_empty.counts) == {} and s_empty.n_trials == 0
    assert s_empty.last_activity == s_empty.created_at
    assert s_low.last_activity is not None and s_low.created_at is not None
    assert s_low.last_activity >= s_low.created_at
    assert s_high.direction == "maximize" and s_high.metric == "value"

    # activity moves last_activity forward
    before = s_empty.last_activity
    _tick()
    _complete(storage, empty, 5.0)
    after = {s.name: s for s in storage.list_studies()}["empty"]
    assert after.last_activity is not None and before is not None
    assert after.last_activity > before
    assert after.best_value == 5.0


def test_best_value_ignores_failed_and_stopped(storage: Storage) -> None:
    study = _study(storage)
    _complete(storage, study, 2.0)
    for state in (TrialState.FAILED, TrialState.STOPPED):
        c = _claim(storage, study)
        storage.finish_trial(c.record.id, c.token, state, value=-100.0)
    (summary,) = storage.list_studies()
    assert summary.best_value == 2.0


def test_delete_study(storage: Storage) -> None:
    keep = _study(storage, "keep")
    gone = _study(storage, "gone")
    c = _claim(storage, gone)
    storage.report(c.record.id, c.token, 0, 1.0)
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=1.0)
    storage.enqueue_trial(gone.id, {"x": 0.1})
    _complete(storage, keep, 7.0)

    storage.delete_study("gone")
    with pytest.raises(StudyNotFoundError):
        storage.get_study("gone")
    assert [s.name for s in storage.list_studies()] == ["keep"]
    assert storage.get_trials(gone.id) == []
    assert [t.value for t in storage.get_trials(keep.id)] == [7.0]
    with pytest.raises(StudyNotFoundError):
        storage.delete_study("gone")
    # the name is free again, and the new study starts from trial 0
    again = _study(storage, "gone")
    assert _claim(storage, again).record.number == 0


# --------------------------------------------------------------------------- claims


def test_claim_numbers_are_sequential_and_unique(storage: Storage) -> None:
    study = _study(storage)
    claims = [_claim(storage, study, pid=4000 + i) for i in range(6)]
    assert [c.record.number for c in claims] == [0, 1, 2, 3, 4, 5]
    assert len({c.token for c in claims}) == 6
    assert len({c.record.id for c in claims}) == 6
    for i, c in enumerate(claims):
        r = c.record
        assert r.state is TrialState.RUNNING
        assert (r.host, r.pid, r.source) == (HOST, 4000 + i, "sampler")
        assert r.started_at is not None and r.heartbeat_at is not None
    assert [t.number for t in storage.get_trials(study.id)] == [0, 1, 2, 3, 4, 5]


def test_trial_numbers_are_per_study(storage: Storage) -> None:
    a, b = _study(storage, "a"), _study(storage, "b")
    assert [_claim(storage, a).record.number for _ in range(3)] == [0, 1, 2]
    assert [_claim(storage, b).record.number for _ in range(2)] == [0, 1]
    storage.enqueue_trial(b.id, {"x": 0.5})
    assert _claim(storage, a).record.number == 3
    assert _claim(storage, b).record.number == 2  # the enqueued one


def test_waiting_trials_are_claimed_first_in_number_order_once(storage: Storage) -> None:
    study = _study(storage)
    _complete(storage, study, 1.0)  # number 0
    queued = [
        storage.enqueue_trial(study.id, {"x": x}, note=f"n{x}", tags=["manual"], attrs={"k": x})
        for x in (0.1, 0.2, 0.3)
    ]
    assert queued == [1, 2, 3]
    waiting = storage.get_trials(study.id, [TrialState.WAITING])
    assert [t.number for t in waiting] == [1, 2, 3]
    assert all(t.source == "enqueued" for t in waiting)

    # take_waiting=False leaves the queue alone
    fresh = _claim(storage, study, take_waiting=False)
    assert fresh.record.number == 4 and fresh.record.source == "sampler"

    taken = [_claim(storage, study) for _ in range(3)]
    assert [c.record.number for c in taken] == [1, 2, 3]
    for c, x in zip(taken, (0.1, 0.2, 0.3), strict=True):
        assert c.record.state is TrialState.RUNNING
        assert c.record.attrs["fixed_params"] == {"x": x}
        assert c.record.attrs["k"] == x
        assert c.record.note == f"n{x}" and c.record.tags == ("manual",)
    assert storage.get_trials(study.id, [TrialState.WAITING]) == []
    # the queue is empty: the next claim is a new trial, not a second run of an enqueued one
    assert _claim(storage, study).record.number == 5
    assert sorted(t.number for t in storage.get_trials(study.id)) == [0, 1, 2, 3, 4, 5]


def test_set_claim_key_refuses_a_key_another_trial_holds(storage: Storage) -> None:
    study = _study(storage)
    t0, t1 = _claim(storage, study), _claim(storage, study)
    assert storage.set_claim_key(t0.record.id, t0.token, "grid:0") is True
    assert storage.set_claim_key(t1.record.id, t1.token, "grid:0") is False
    assert storage.set_claim_key(t1.record.id, t1.token, "grid:1") is True
    assert _get(storage, study, t0).claim_key == "grid:0"
    assert _get(storage, study, t1).claim_key == "grid:1"
    # the refusal left t1 usable
    storage.report(t1.record.id, t1.token, 0, 0.5)
    # keys are per study
    other = _study(storage, "other")
    o0 = _claim(storage, other)
    assert storage.set_claim_key(o0.record.id, o0.token, "grid:0") is True
    # a finished trial keeps its key, so the point is not proposed again
    storage.finish_trial(t0.record.id, t0.token, TrialState.COMPLETE, value=1.0)
    t2 = _claim(storage, study)
    assert storage.set_claim_key(t2.record.id, t2.token, "grid:0") is False


def test_writes_need_the_lease_token(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    rid = c.record.id
    with pytest.raises(StaleTrialError):
        storage.set_claim_key(rid, "not-the-token", "k")
    with pytest.raises(StaleTrialError):
        storage.report(rid, "not-the-token", 0, 1.0)
    with pytest.raises(StaleTrialError):
        storage.set_trial_params(rid, "not-the-token", {"x": 0.5}, {"x": SPACE["x"]})
    with pytest.raises(StaleTrialError):
        storage.discard_trial(rid, "not-the-token")
    record = _get(storage, study, c)
    assert record.state is TrialState.RUNNING and record.intermediate == {}
    assert record.claim_key is None and dict(record.params) == {}


def test_set_trial_params_merges(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.set_trial_params(c.record.id, c.token, {"x": 0.25}, {"x": SPACE["x"]})
    storage.set_trial_params(c.record.id, c.token, {"n": 3}, {"n": SPACE["n"]})
    record = _get(storage, study, c)
    assert dict(record.params) == {"x": 0.25, "n": 3}
    assert record.distributions["x"] == Float(0.0, 1.0)
    assert record.distributions["n"] == Int(1, 8)


def test_discard_trial(storage: Storage) -> None:
    study = _study(storage)
    keep = _claim(storage, study)
    gone = _claim(storage, study)
    storage.report(gone.record.id, gone.token, 0, 1.0)
    storage.discard_trial(gone.record.id, gone.token)
    assert [t.number for t in storage.get_trials(study.id)] == [keep.record.number]
    with pytest.raises(TrialNotFoundError):
        storage.get_trial(study.id, gone.record.number)
    with pytest.raises(StaleTrialError):  # a discarded trial takes no more writes
        storage.report(gone.record.id, gone.token, 1, 1.0)
    with pytest.raises(StaleTrialError):
        storage.finish_trial(gone.record.id, gone.token, TrialState.COMPLETE, value=1.0)
    # a finished trial cannot be discarded
    storage.finish_trial(keep.record.id, keep.token, TrialState.COMPLETE, value=1.0)
    with pytest.raises(StaleTrialError):
        storage.discard_trial(keep.record.id, keep.token)
    assert _get(storage, study, keep).state is TrialState.COMPLETE


# --------------------------------------------------------------------------- reports


def test_report_upserts_per_step(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.report(c.record.id, c.token, 0, 1.0)
    storage.report(c.record.id, c.token, 1, 2.0)
    storage.report(c.record.id, c.token, 5, 3.0)
    storage.report(c.record.id, c.token, 0, 0.5)  # the same step again: replaced
    assert dict(_get(storage, study, c).intermediate) == {0: 0.5, 1: 2.0, 5: 3.0}
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=3.0)
    assert dict(_get(storage, study, c).intermediate) == {0: 0.5, 1: 2.0, 5: 3.0}


def test_non_finite_reports_are_kept(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.report(c.record.id, c.token, 0, math.nan)
    storage.report(c.record.id, c.token, 1, math.inf)
    storage.report(c.record.id, c.token, 2, -math.inf)
    storage.report(c.record.id, c.token, 3, 1e308)
    storage.report(c.record.id, c.token, 4, -0.0)
    curve = dict(_get(storage, study, c).intermediate)
    assert sorted(curve) == [0, 1, 2, 3, 4]
    assert math.isnan(curve[0])
    assert curve[1] == math.inf and curve[2] == -math.inf
    assert curve[3] == 1e308 and curve[4] == 0.0
    # NaN can be replaced by a real value later, and a value by NaN
    storage.report(c.record.id, c.token, 0, 0.25)
    storage.report(c.record.id, c.token, 3, math.nan)
    curve = dict(_get(storage, study, c).intermediate)
    assert curve[0] == 0.25 and math.isnan(curve[3])


def test_report_refreshes_the_lease(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    before = c.record.heartbeat_at
    _tick()
    storage.report(c.record.id, c.token, 0, 1.0)
    after = _get(storage, study, c).heartbeat_at
    assert before is not None and after is not None and after > before


# --------------------------------------------------------------------------- finish


def test_finish_records_the_result(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.finish_trial(
        c.record.id, c.token, TrialState.COMPLETE, value=0.75, metrics={"loss": 0.1, "ep": 3}
    )
    r = _get(storage, study, c)
    assert r.state is TrialState.COMPLETE and r.value == 0.75
    assert dict(r.metrics) == {"loss": 0.1, "ep": 3}
    assert r.finished_at is not None and r.started_at is not None
    assert r.duration is not None and r.duration >= 0
    assert r.fail_reason is None


def test_finish_failed_keeps_reason_and_traceback(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.finish_trial(
        c.record.id, c.token, TrialState.FAILED, fail_reason="ValueError: bad", traceback="tb..."
    )
    r = _get(storage, study, c)
    assert r.state is TrialState.FAILED and r.value is None
    assert (r.fail_reason, r.traceback) == ("ValueError: bad", "tb...")


def test_finish_with_the_same_token_twice_is_a_no_op(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=1.5)
    first = _get(storage, study, c)
    # a retry after a commit the writer never heard about
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=1.5)
    assert _get(storage, study, c) == first
    assert first.state is TrialState.COMPLETE and first.value == 1.5
    # but a different outcome is not a retry: the trial is no longer running
    with pytest.raises(StaleTrialError):
        storage.finish_trial(c.record.id, c.token, TrialState.FAILED, fail_reason="x")
    assert _get(storage, study, c) == first


def test_finish_with_a_wrong_token_is_stale(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    with pytest.raises(StaleTrialError):
        storage.finish_trial(c.record.id, "0" * 32, TrialState.COMPLETE, value=1.0)
    assert _get(storage, study, c).state is TrialState.RUNNING
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=2.0)
    assert _get(storage, study, c).value == 2.0


@pytest.mark.parametrize(
    "late_state", [TrialState.COMPLETE, TrialState.STOPPED, TrialState.FAILED]
)
def test_finish_after_reaping_is_stale(storage: Storage, late_state: TrialState) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    _tick()
    assert storage.reap_stale_trials(study.id, grace_seconds=0.0, host=HOST) == [0]
    reaped = _get(storage, study, c)
    with pytest.raises(StaleTrialError, match="no longer owned"):
        storage.finish_trial(c.record.id, c.token, late_state, value=1.0, fail_reason="late")
    with pytest.raises(StaleTrialError):
        storage.report(c.record.id, c.token, 0, 1.0)
    after = _get(storage, study, c)
    assert after == reaped
    assert after.state is TrialState.FAILED and "worker lost" in (after.fail_reason or "")


def test_finish_needs_a_finished_state(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    for state in (TrialState.RUNNING, TrialState.WAITING):
        with pytest.raises(ValueError):
            storage.finish_trial(c.record.id, c.token, state)
    assert _get(storage, study, c).state is TrialState.RUNNING


@pytest.mark.parametrize("value", [math.inf, -math.inf, 1e-310, -1.7976931348623157e308])
def test_extreme_final_values_are_stored_exactly(storage: Storage, value: float) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=value)
    assert _get(storage, study, c).value == value


# --------------------------------------------------------------------------- leases


def test_heartbeat_refreshes_heartbeat_at(storage: Storage) -> None:
    study = _study(storage)
    a, b, done = _claim(storage, study), _claim(storage, study), _claim(storage, study)
    storage.finish_trial(done.record.id, done.token, TrialState.COMPLETE, value=1.0)
    done_beat = _get(storage, study, done).heartbeat_at
    _tick()
    storage.heartbeat(
        [a.record.id, b.record.id, done.record.id],
        {a.record.id: a.token, b.record.id: "wrong", done.record.id: done.token},
    )
    assert (_get(storage, study, a).heartbeat_at or 0) > (a.record.heartbeat_at or 0)
    # a wrong token or a finished trial is not refreshed (and raises nothing)
    assert _get(storage, study, b).heartbeat_at == b.record.heartbeat_at
    assert _get(storage, study, done).heartbeat_at == done_beat
    storage.heartbeat([], {})  # nothing to do


def test_reap_with_zero_grace_fails_running_trials(storage: Storage) -> None:
    study = _study(storage)
    other = _study(storage, "other")
    done = _complete(storage, study, 1.0)
    r1, r2 = _claim(storage, study), _claim(storage, study)
    storage.report(r1.record.id, r1.token, 0, 0.5)
    storage.enqueue_trial(study.id, {"x": 0.5})
    elsewhere = _claim(storage, other)
    _tick()

    assert storage.reap_stale_trials(study.id, grace_seconds=3600.0, host=HOST) == []
    reaped = storage.reap_stale_trials(study.id, grace_seconds=0.0, host=HOST)
    assert sorted(reaped) == [r1.record.number, r2.record.number]
    for c in (r1, r2):
        r = _get(storage, study, c)
        assert r.state is TrialState.FAILED
        assert r.fail_reason and "worker lost" in r.fail_reason
        assert r.finished_at is not None
    assert dict(_get(storage, study, r1).intermediate) == {0: 0.5}  # the curve is kept
    assert _get(storage, study, done).state is TrialState.COMPLETE
    assert [t.number for t in storage.get_trials(study.id, [TrialState.WAITING])] == [3]
    assert _get(storage, other, elsewhere).state is TrialState.RUNNING  # other study untouched
    assert storage.reap_stale_trials(study.id, grace_seconds=0.0, host=HOST) == []


def test_reap_dead_pids_on_this_host(storage: Storage) -> None:
    study = _study(storage)
    dead = _claim(storage, study, pid=111)
    alive = _claim(storage, study, pid=222)
    same_pid_other_host = _claim(storage, study, pid=111, host="other-host")
    reaped = storage.reap_stale_trials(study.id, grace_seconds=3600.0, host=HOST, dead_pids=[111])
    assert reaped == [dead.record.number]  # at once: no waiting for the grace period
    r = _get(storage, study, dead)
    assert r.state is TrialState.FAILED and "worker lost" in (r.fail_reason or "")
    assert _get(storage, study, alive).state is TrialState.RUNNING
    assert _get(storage, study, same_pid_other_host).state is TrialState.RUNNING
    assert storage.reap_stale_trials(study.id, grace_seconds=3600.0, host=HOST, dead_pids=[]) == []


def test_running_trials_lists_host_and_pid(storage: Storage) -> None:
    study = _study(storage)
    _complete(storage, study, 1.0)
    _claim(storage, study, pid=7, host="h1")
    _claim(storage, study, pid=8, host="h2")
    storage.enqueue_trial(study.id, {"x": 0.5})
    assert sorted(storage.running_trials(study.id)) == [(1, "h1", 7), (2, "h2", 8)]


# --------------------------------------------------------------------------- reads, manual trials


def test_get_trials_filters_by_state(storage: Storage) -> None:
    study = _study(storage)
    _complete(storage, study, 1.0)
    _claim(storage, study)
    f = _claim(storage, study)
    storage.finish_trial(f.record.id, f.token, TrialState.FAILED, fail_reason="x")
    by_state = {s: [t.number for t in storage.get_trials(study.id, [s])] for s in TrialState}
    assert by_state[TrialState.COMPLETE] == [0]
    assert by_state[TrialState.RUNNING] == [1]
    assert by_state[TrialState.FAILED] == [2]
    assert by_state[TrialState.WAITING] == by_state[TrialState.STOPPED] == []
    both = storage.get_trials(study.id, [TrialState.FAILED, TrialState.COMPLETE])
    assert [t.number for t in both] == [0, 2]
    with pytest.raises(TrialNotFoundError, match="99"):
        storage.get_trial(study.id, 99)


def test_add_finished_trial(storage: Storage) -> None:
    study = _study(storage)
    _complete(storage, study, 1.0)
    record = TrialRecord(
        number=-1,
        state=TrialState.COMPLETE,
        params={"x": 0.5, "n": 2},
        distributions={"x": Float(0.0, 1.0), "n": Int(1, 8)},
        value=-math.inf,
        metrics={"acc": 0.9},
        source="manual",
        note="by hand",
        tags=("paper",),
        intermediate={0: 0.1, 1: math.nan, 2: math.inf},
    )
    number = storage.add_finished_trial(study.id, record)
    assert number == 1
    got = storage.get_trial(study.id, number)
    assert got.state is TrialState.COMPLETE and got.value == -math.inf
    assert dict(got.params) == {"x": 0.5, "n": 2}
    assert got.distributions == {"x": Float(0.0, 1.0), "n": Int(1, 8)}
    assert (got.source, got.note, got.tags) == ("manual", "by hand", ("paper",))
    assert dict(got.metrics) == {"acc": 0.9}
    curve = dict(got.intermediate)
    assert curve[0] == 0.1 and math.isnan(curve[1]) and curve[2] == math.inf
    assert _claim(storage, study).record.number == 2


# --------------------------------------------------------------------------- annotations


def test_annotations(storage: Storage) -> None:
    study = _study(storage)
    c = _complete(storage, study, 1.0)
    n = c.record.number
    storage.update_trial_annotations(
        study.id, n, note="looks good", add_tags=["a", "b"], attrs={"size": 10, "arch": "mlp"}
    )
    r = storage.get_trial(study.id, n)
    assert (r.note, r.tags) == ("looks good", ("a", "b"))
    assert dict(r.attrs) == {"size": 10, "arch": "mlp"}

    storage.update_trial_annotations(
        study.id, n, add_tags=["b", "c"], remove_tags=["a"], attrs={"size": 20, "extra": [1, 2]}
    )
    r = storage.get_trial(study.id, n)
    assert r.note == "looks good"  # note=None leaves it
    assert r.tags == ("b", "c")  # no duplicates, order kept
    assert dict(r.attrs) == {"size": 20, "arch": "mlp", "extra": [1, 2]}  # merged
    assert r.state is TrialState.COMPLETE and r.value == 1.0  # the result is untouched

    storage.update_trial_annotations(study.id, n, note="")
    assert storage.get_trial(study.id, n).note == ""
    with pytest.raises(TrialNotFoundError):
        storage.update_trial_annotations(study.id, 42, note="x")


def test_annotations_on_a_running_trial_do_not_break_its_lease(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.update_trial_annotations(study.id, c.record.number, note="n", add_tags=["t"])
    storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=1.0)
    r = _get(storage, study, c)
    assert (r.state, r.note, r.tags) == (TrialState.COMPLETE, "n", ("t",))


def test_url_never_shows_a_password(storage: Storage) -> None:
    assert isinstance(storage.url, str) and storage.url
    assert ":secret@" not in storage.url


# --------------------------------------------------------------------------- several objectives


def test_objectives_and_constraints_are_stored_with_the_study(storage: Storage) -> None:
    objectives = (Objective("acc", "maximize"), Objective("ms", "minimize"))
    bounds = [{"metric": "mem", "op": "<=", "bound": 16.0}]
    storage.create_study(
        "mo",
        direction="maximize",
        metric="acc",
        space=SPACE,
        config=CONFIG,
        objectives=objectives,
        constraints=bounds,
    )
    got = storage.get_study("mo")
    assert got.objectives == objectives and list(got.constraints or []) == bounds
    (summary,) = storage.list_studies()
    assert summary.objectives == objectives
    plain = _study(storage, "one", direction="maximize")  # one objective, no constraints
    assert plain.objectives == (Objective("value", "maximize"),) and plain.constraints is None


def test_every_objective_of_a_result_and_a_curve_is_kept(storage: Storage) -> None:
    study = _study(storage)
    c = _claim(storage, study)
    storage.report(c.record.id, c.token, 0, 0.5, values=(0.5, 12.0))
    storage.report(c.record.id, c.token, 1, 0.7, values=(0.7, math.nan))
    storage.report(c.record.id, c.token, 1, 0.75, values=(0.75, 11.0))  # replaced
    storage.finish_trial(
        c.record.id,
        c.token,
        TrialState.COMPLETE,
        metrics={"mem": 3.0},
        values=(0.75, 11.0),
        constraint_violations=(-13.0, 0.5),
    )
    r = _get(storage, study, c)
    assert r.value is None and r.values == (0.75, 11.0)
    assert r.constraint_violations == (-13.0, 0.5) and not r.feasible
    assert dict(r.intermediate_values) == {0: (0.5, 12.0), 1: (0.75, 11.0)}
    assert dict(r.intermediate) == {0: 0.5, 1: 0.75}
    # a trial that ran elsewhere keeps them too, one at a time or many at once
    manual = TrialRecord(
        number=-1,
        state=TrialState.COMPLETE,
        params={"x": 0.5, "n": 2},
        values=(0.9, 10.0),
        constraint_violations=(-1.0,),
        intermediate={0: 0.9},
        intermediate_values={0: (0.9, 10.0)},
    )
    one = storage.add_finished_trial(study.id, manual)
    many = storage.add_finished_trials(study.id, [manual, manual])
    for number in (one, *many):
        again = storage.get_trial(study.id, number)
        assert again.values == (0.9, 10.0) and again.constraint_violations == (-1.0,)
        assert dict(again.intermediate_values) == {0: (0.9, 10.0)}


#: Every test above, so ``from hypersearch.testing.storage_suite import *`` collects them all.
__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
