"""PostgreSQL specifics on a real throwaway cluster: race-free claims from many connections,
a lost connection retried with back-off, and a clear error for a server that is not there."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.exceptions import StorageError
from hypersearch.storage import SQLStorage
from hypersearch.trial import TrialState


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        hs.create_study(
            "x", space={"x": hs.Float(0, 1)}, storage="postgresql://bob:s3cret@127.0.0.1:1/db"
        )
    message = str(info.value)
    assert "bob:***@127.0.0.1:1/db" in message and "s3cret" not in message
    assert "refused" in message.lower()
    assert time.monotonic() - started < 30


def test_enqueued_trials_are_claimed_once_across_connections(postgres_url: str) -> None:
    first = SQLStorage(postgres_url)
    study = first.create_study("q", direction="minimize", metric="value", space={}, config={})
    for i in range(40):
        first.enqueue_trial(study.id, {"i": i})
    claimed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        storage = SQLStorage(postgres_url)
        while True:
            c = storage.claim_trial(study.id, host="h", pid=1, gpu=None)
            if c.record.source != "enqueued":
                storage.discard_trial(c.record.id, c.token)
                break
            with lock:
                claimed.append(c.record.attrs["fixed_params"]["i"])
        storage.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(claimed) == list(range(40))
    first.close()


def test_a_lost_connection_is_retried(postgres_server: Any, postgres_url: str) -> None:
    storage = SQLStorage(postgres_url, connection_retry_s=60)
    study = storage.create_study("c", direction="minimize", metric="value", space={}, config={})
    c = storage.claim_trial(study.id, host="h", pid=1, gpu=None)
    postgres_server.stop("fast")  # drops every pooled connection
    restart = threading.Timer(1.5, postgres_server.start)
    restart.start()
    try:
        storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=1.0)
        assert storage.get_trial(study.id, c.record.number).value == 1.0
    finally:
        restart.join()
        storage.close()


# ------------------------------------------------------------------ NUL bytes (issue 16)


def test_a_nul_byte_in_user_text_is_stored_safely(postgres_url: str) -> None:
    """PostgreSQL text cannot hold NUL: an exception message, a note or a metric name with
    one raised a raw psycopg.DataError (with an SQL dump) and left the trial RUNNING."""
    study = hs.create_study("nul", space={"x": hs.Float(0, 1)}, storage=postgres_url, seed=0)

    def objective(trial: hs.Trial) -> float:
        if trial.number == 0:
            raise ValueError("bad byte \x00 in the data file")
        trial.set_note("note with \x00 inside")
        trial.add_tag("tag\x00")
        trial.set_attr("a\x00", "v\x00")
        return {"value": trial.params["x"], "m\x00": 1.0}  # type: ignore[return-value]

    study.optimize(objective, n_trials=2, max_failures=None, show_progress=False)
    failed, done = study.trials
    assert failed.state is TrialState.FAILED and done.state is TrialState.COMPLETE
    assert failed.fail_reason == "ValueError: bad byte \\x00 in the data file"
    assert "\x00" not in (failed.traceback or "") and "\\x00" in (failed.traceback or "")
    assert done.note == "note with \\x00 inside"  # free text: NUL written visibly
    assert done.tags == ("tag\x00",)  # JSON columns keep it exactly (JSON escapes it)
    assert done.attrs["a\x00"] == "v\x00" and done.metrics == {"m\x00": 1.0}
    with pytest.raises(hs.InvalidArgumentError, match=r"study name.*NUL"):
        hs.create_study("bad\x00name", storage=postgres_url)
    with pytest.raises(hs.InvalidArgumentError, match=r"metric.*NUL"):
        hs.create_study("ok", metric="loss\x00", storage=postgres_url)
    with pytest.raises(hs.InvalidArgumentError, match=r"study name.*NUL"):
        hs.load_study("bad\x00name", storage=postgres_url)
