"""Storage: the conformance suite on every backend, plus what only SQL files can show
(schema versions, unreadable files, WAL, redacted URLs)."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch.exceptions import InvalidArgumentError, SchemaVersionError, StorageError
from hypersearch.storage import SCHEMA_VERSION, SQLStorage, Storage, get_storage, redact_url
from hypersearch.testing.storage_suite import *  # noqa: F403
from hypersearch.trial import TrialState

# ----------------------------------------------------------------------------- backends
# PostgreSQL runs on a throwaway cluster the tests start (tests/conftest.py), a fresh
# database per test.
BACKENDS = ["memory", "sqlite-file", "postgresql"]


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "memory":
        backend = SQLStorage(None)
    elif request.param == "postgresql":
        backend = SQLStorage(request.getfixturevalue("postgres_url"))
    else:
        backend = SQLStorage(f"sqlite:///{tmp_path / 'suite.db'}")
    yield backend
    backend.close()


# ----------------------------------------------------------------------------- SQLite files


def _set_schema_version(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hs_meta SET value = ? WHERE key = 'schema_version'", (str(version),))


def test_schema_version_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    SQLStorage(str(path)).close()
    assert SQLStorage(str(path)).schema_version() == SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT key, value FROM hs_meta").fetchall()
    assert ("schema_version", str(SCHEMA_VERSION)) in rows
    assert SQLStorage(None).schema_version() == SCHEMA_VERSION


def test_file_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    SQLStorage(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    storage = SQLStorage(str(path))
    storage.create_study("s", direction="minimize", metric="value", space={}, config={})
    storage.close()
    _set_schema_version(path, 99)
    with pytest.raises(SchemaVersionError) as info:
        SQLStorage(f"sqlite:///{path}")
    message = str(info.value)
    assert "v99" in message and f"v{SCHEMA_VERSION}" in message
    assert "Upgrade hypersearch" in message
    assert isinstance(info.value, StorageError) and isinstance(info.value, RuntimeError)
    with pytest.raises(SchemaVersionError, match="Upgrade hypersearch"):
        hs.load_study("s", storage=f"sqlite:///{path}")
    # refusing did not touch the file
    with sqlite3.connect(path) as conn:
        value = conn.execute("SELECT value FROM hs_meta WHERE key='schema_version'").fetchone()
    assert value == ("99",)


def test_an_older_schema_asks_for_the_upgrade_command(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SQLStorage(str(path)).close()
    _set_schema_version(path, 0)
    with pytest.raises(SchemaVersionError, match="hypersearch upgrade"):
        SQLStorage(str(path))


def test_a_deleted_schema_version_is_refused(tmp_path: Path) -> None:
    """A database whose version row is gone was silently accepted (and stamped as current)."""
    path = tmp_path / "noversion.db"
    storage = SQLStorage(str(path))
    storage.create_study("s", direction="minimize", metric="value", space={}, config={})
    storage.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM hs_meta WHERE key = 'schema_version'")
    with pytest.raises(SchemaVersionError, match=r"no schema version.*hs_meta"):
        SQLStorage(str(path))
    with sqlite3.connect(path) as conn:  # refusing did not write one
        assert conn.execute("SELECT count(*) FROM hs_meta").fetchone() == (0,)


def test_missing_folder_is_a_clear_storage_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(StorageError) as info:
        SQLStorage(f"sqlite:///{missing / 'study.db'}")
    message = str(info.value)
    assert "does not exist" in message and str(missing) in message
    assert not missing.exists()  # nothing created on the way
    with pytest.raises(StorageError, match="does not exist"):
        hs.create_study("s", space={"x": hs.Float(0, 1)}, storage=str(missing / "study.db"))


def test_a_text_file_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    text = "these are my notes, not a database\n" * 50
    path.write_text(text)
    with pytest.raises(StorageError) as info:
        SQLStorage(f"sqlite:///{path}")
    message = str(info.value)
    assert "not a database" in message and str(path) in message
    assert "sqlalche.me" not in message  # our message, not the driver's background link
    assert path.read_text() == text  # the user's file is left as it was
    with pytest.raises(StorageError, match="not a database"):
        hs.load_study("s", storage=str(path))


def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=re.escape(str(tmp_path))):
        SQLStorage(f"sqlite:///{tmp_path}")


def test_data_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reopen.db'}"
    first = SQLStorage(url)
    study = first.create_study("s", direction="maximize", metric="acc", space={}, config={})
    c = first.claim_trial(study.id, host="h", pid=1, gpu="0")
    first.report(c.record.id, c.token, 0, 0.5)
    first.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=float("inf"))
    first.close()
    second = SQLStorage(url)
    (trial,) = second.get_trials(second.get_study("s").id)
    assert (trial.state, trial.value, dict(trial.intermediate)) == (
        TrialState.COMPLETE,
        float("inf"),
        {0: 0.5},
    )
    assert trial.gpu == "0"
    second.close()


def test_in_memory_storages_are_independent() -> None:
    a, b = SQLStorage(None), SQLStorage(None)
    a.create_study("s", direction="minimize", metric="value", space={}, config={})
    assert b.list_studies() == []
    assert a.url == b.url == "sqlite://"


def test_worker_url_keeps_what_url_redacts(tmp_path: Path) -> None:
    memory = SQLStorage(None)
    assert memory.in_memory and memory.worker_url == "sqlite://"
    path = tmp_path / "w.db"
    on_disk = SQLStorage(str(path))
    assert not on_disk.in_memory and on_disk.worker_url == f"sqlite:///{path}"
    assert SQLStorage(on_disk.worker_url).url == on_disk.url  # a worker opens the same file


def test_get_storage() -> None:
    assert isinstance(get_storage(None), SQLStorage)
    backend = SQLStorage(None)
    assert get_storage(backend) is backend
    for bad in ("", "   "):
        with pytest.raises(InvalidArgumentError, match="URL"):
            get_storage(bad)
    with pytest.raises(InvalidArgumentError, match="int"):
        get_storage(3)  # type: ignore[arg-type]


def test_plain_paths_and_sqlite_urls_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "same.db"
    SQLStorage(str(path)).create_study("s", direction="minimize", metric="v", space={}, config={})
    assert SQLStorage(f"sqlite:///{path}").get_study("s").metric == "v"


def test_other_databases_are_refused_with_the_supported_urls() -> None:
    for url in ("mysql://bob:s3cret@host/hs", "oracle://host/hs"):
        with pytest.raises(StorageError, match="SQLite or PostgreSQL") as caught:
            SQLStorage(url)
        assert "s3cret" not in str(caught.value) and "sqlite:///" in str(caught.value)


# ----------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:s3cret@db.example:5432/hs", "postgresql://bob:***@db.example:5432/hs"),
        ("postgresql+psycopg://bob:p%40ss:w0rd@host/hs", "postgresql+psycopg://bob:***@host/hs"),
        ("postgresql://bob:p@ss@host/hs", "postgresql://bob:***@host/hs"),  # raw @: all hidden
        ("postgresql://bob@host/hs", "postgresql://bob@host/hs"),
        ("postgresql://host/hs", "postgresql://host/hs"),
        ("sqlite:///tmp/study.db", "sqlite:///tmp/study.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_redact_url_hides_passwords(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_storage_url_is_safe_to_print() -> None:
    """``Storage.url`` (``Study.storage_url``, which the CLIs print as it is) never holds the
    password; no connection is made before the first query."""
    from hypersearch.storage.engine import Database

    url = Database("postgresql://bob:s3cret@127.0.0.1:1/db").url
    assert url.endswith("bob:***@127.0.0.1:1/db") and "s3cret" not in url


def test_a_raw_at_sign_in_a_password_is_refused_without_showing_it() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="%40") as info:
        get_storage("postgresql://bob:p@ss@127.0.0.1:1/db")
    assert "ss@" not in str(info.value) and "bob:***@127.0.0.1:1/db" in str(info.value)


def test_passwords_never_appear_in_storage_errors() -> None:
    # Either the driver is missing or nothing listens on port 1: both must hide the password.
    with pytest.raises(StorageError) as info:
        SQLStorage("postgresql://bob:topsecret@127.0.0.1:1/hs", busy_timeout_s=1)
    assert "topsecret" not in str(info.value)
    assert "bob:***@" in str(info.value)


# ----------------------------------------------------------------------------- fast paths
# The per-trial path reads and writes as little as it can (bench/RESULTS-parallel.md); these
# pin down that it still means the same thing as the long way round.


def _new_study(storage: Storage, name: str = "fast") -> int:
    record = storage.create_study(name, direction="minimize", metric="v", space={}, config={})
    return record.id


def _claim_one(storage: Storage, study_id: int) -> hs.storage.ClaimedTrial:
    return storage.claim_trial(study_id, host="h", pid=1, gpu=None)


def test_get_trials_after_reads_the_trials_above_and_the_numbers_asked(
    storage: Storage,
) -> None:
    sid = _new_study(storage)
    claimed = [_claim_one(storage, sid) for _ in range(6)]
    for c in claimed[:4]:
        storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=1.0)
    storage.report(claimed[4].record.id, claimed[4].token, 0, 0.5)
    got = storage.get_trials_after(sid, 3, [1])
    assert [t.number for t in got] == [1, 4, 5]
    assert got[1].intermediate == {0: 0.5}
    assert [t.number for t in storage.get_trials_after(sid, -1)] == list(range(6))
    # the interface's default (built on get_trials) means the same
    default = Storage.get_trials_after(storage, sid, 3, [1])
    assert default == got


def test_trial_states_default_matches_the_backend(storage: Storage) -> None:
    sid = _new_study(storage)
    c = _claim_one(storage, sid)
    storage.finish_trial(c.record.id, c.token, TrialState.FAILED, fail_reason="x")
    _claim_one(storage, sid)
    states = storage.trial_states(sid)
    assert states == Storage.trial_states(storage, sid)
    assert [s for _, _, s in states] == [TrialState.FAILED, TrialState.RUNNING]


def test_finish_returns_the_record_and_a_repeat_returns_none(storage: Storage) -> None:
    sid = _new_study(storage)
    c = _claim_one(storage, sid)
    storage.report(c.record.id, c.token, 3, 0.25)
    record = storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=2.0)
    assert record == storage.get_trial(sid, 0)
    assert record is not None and record.intermediate == {3: 0.25} and record.value == 2.0
    again = storage.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=2.0)
    assert again is None


def test_set_params_merges_what_another_storage_object_wrote(tmp_path: Path) -> None:
    """The claiming object updates parameters in one conditional statement from what it
    last stored; when someone else changed them it falls back to read-and-merge."""
    url = f"sqlite:///{tmp_path / 'two.db'}"
    first, second = SQLStorage(url), SQLStorage(url)
    sid = _new_study(first)
    c = _claim_one(first, sid)
    first.set_trial_params(c.record.id, c.token, {"a": 1}, {})
    second.set_trial_params(c.record.id, c.token, {"b": 2}, {})
    first.set_trial_params(c.record.id, c.token, {"c": 3}, {})
    assert dict(first.get_trial(sid, 0).params) == {"a": 1, "b": 2, "c": 3}
    first.close()
    second.close()


def test_history_cache_sees_a_reused_number(tmp_path: Path) -> None:
    """A RUNNING trial that is discarded frees its number for the next trial; a study's
    copy of the history that saw the first one must pick up the second."""
    url = f"sqlite:///{tmp_path / 'reuse.db'}"
    space = {"x": hs.Float(0.0, 1.0)}
    mine = hs.create_study("reuse", space=space, storage=url, sampler="random", seed=0)
    other = SQLStorage(url)
    sid = other.get_study("reuse").id
    done = _claim_one(other, sid)
    other.finish_trial(done.record.id, done.token, TrialState.COMPLETE, value=1.0)
    gone = _claim_one(other, sid)
    assert [t.number for t in mine._read_history()] == [0, 1]
    other.discard_trial(gone.record.id, gone.token)
    reused = _claim_one(other, sid)
    assert reused.record.number == 1
    later = _claim_one(other, sid)
    other.finish_trial(later.record.id, later.token, TrialState.COMPLETE, value=3.0)
    history = mine._read_history()
    assert [(t.number, t.state) for t in history] == [
        (t.number, t.state) for t in other.get_trials(sid)
    ]
    assert [t.number for t in history] == [0, 1, 2]
    other.finish_trial(reused.record.id, reused.token, TrialState.COMPLETE, value=2.0)
    assert [t.value for t in mine._read_history()] == [1.0, 2.0, 3.0]
    other.close()


def test_a_sampled_trial_costs_four_statements(tmp_path: Path) -> None:
    """Claim (one INSERT ... RETURNING), history (one SELECT of what changed), parameters
    (one conditional UPDATE), finish (one UPDATE ... RETURNING): the budget behind the
    throughput target in bench/RESULTS-parallel.md."""
    import sqlalchemy as sa

    study = hs.create_study(
        "count",
        space={"x": hs.Float(0.0, 1.0)},
        storage=f"sqlite:///{tmp_path / 'count.db'}",
        sampler="random",
        seed=0,
    )
    study.optimize(lambda t: t.params["x"], n_trials=3, show_progress=False)  # first reap
    statements: list[str] = []
    engine = study.storage._engine  # type: ignore[attr-defined]
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    study.optimize(lambda t: t.params["x"], n_trials=20, show_progress=False)
    assert len(statements) <= 4 * 20, statements[:8]
    assert len(study.trials) == 23


@pytest.mark.parametrize("held_s", [0.2, 0.9])
def test_writes_wait_for_another_writer(tmp_path: Path, held_s: float) -> None:
    """A writer that finds the file locked waits in short naps, then (after 0.5 s) in
    SQLite's busy handler: both while claiming and while finishing."""
    import threading

    path = tmp_path / "busy.db"
    storage = SQLStorage(f"sqlite:///{path}")
    sid = _new_study(storage)
    first = _claim_one(storage, sid)

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(held_s)
        releasing.append(time.monotonic())
        other.execute("COMMIT")
        other.close()

    for write in (
        lambda: storage.finish_trial(first.record.id, first.token, TrialState.COMPLETE, value=1.0),
        lambda: _claim_one(storage, sid),
        lambda: storage.enqueue_trial(sid, {"x": 1}),
    ):
        locked = threading.Event()
        releasing: list[float] = []
        holder = threading.Thread(target=hold)
        holder.start()
        locked.wait()
        write()
        # it succeeded only once the lock was let go (timed against the holder's clock
        # reading, not this thread's, which a busy machine may wake late)
        finished = time.monotonic()
        holder.join()
        assert releasing and finished >= releasing[0]
    assert [t.state for t in storage.get_trials(sid)] == [
        TrialState.COMPLETE,
        TrialState.RUNNING,
        TrialState.WAITING,
    ]
    storage.close()


def test_history_cache_resyncs_a_number_reused_below_the_last_finished(
    tmp_path: Path,
) -> None:
    """The one case the incremental read cannot see by itself: a trial appearing under a
    number below the last finished one (a claim that computed its number before a
    discard). The periodic narrow resync finds it."""
    url = f"sqlite:///{tmp_path / 'resync.db'}"
    mine = hs.create_study(
        "resync", space={"x": hs.Float(0.0, 1.0)}, storage=url, sampler="random", seed=0
    )
    other = SQLStorage(url)
    sid = other.get_study("resync").id
    claimed = [_claim_one(other, sid) for _ in range(3)]
    for c in (claimed[0], claimed[2]):
        other.finish_trial(c.record.id, c.token, TrialState.COMPLETE, value=1.0)
    assert [t.number for t in mine._read_history()] == [0, 1, 2]
    other.discard_trial(claimed[1].record.id, claimed[1].token)
    assert [t.number for t in mine._read_history()] == [0, 2]
    with sqlite3.connect(tmp_path / "resync.db") as conn:  # the late claim, by hand
        conn.execute(
            "INSERT INTO hs_trials (study_id, number, state, source, params, distributions,"
            " metrics, note, tags, attrs) VALUES (?, 1, 'RUNNING', 'sampler', '{}', '{}',"
            " '{}', '', '[]', '{}')",
            (sid,),
        )
    assert [t.number for t in mine._read_history()] == [0, 2]  # not seen yet
    mine._known.resync_s = 0.0
    assert [t.number for t in mine._read_history()] == [0, 1, 2]
    other.close()


# ------------------------------------------------------------------ the .db file alone (issue 16)

WRITER = """
import sys
import hypersearch as hs

study = hs.create_study("kept", space={"x": hs.Float(0, 1)}, storage=sys.argv[1], seed=0)
study.optimize(lambda t: t.params["x"], n_trials=5, show_progress=False)
study.set_note(0, "written last")
"""


def _write_study_in_a_process(db: Path) -> None:
    """A program that runs a study and ends without closing anything, as scripts do."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", WRITER, f"sqlite:///{db}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_db_file_alone_holds_the_study_after_the_program_ends(tmp_path: Path) -> None:
    """The data stayed in `-wal`; a copy of the .db alone was "not a hypersearch database"."""
    db = tmp_path / "run" / "hypersearch.db"
    db.parent.mkdir()
    _write_study_in_a_process(db)
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy" / "hypersearch.db"
    copy.parent.mkdir()
    copy.write_bytes(db.read_bytes())  # the .db only, as an e-mail attachment would be
    study = hs.load_study("kept", storage=f"sqlite:///{copy}")
    assert len(study.get_trials(["COMPLETE"])) == 5
    assert study.get_trial(0).note == "written last"


def test_closing_a_study_writes_everything_into_the_db_file(tmp_path: Path) -> None:
    db = tmp_path / "closed.db"
    with hs.create_study("c", space={"x": hs.Float(0, 1)}, storage=str(db), seed=0) as study:
        study.optimize(lambda t: t.params["x"], n_trials=3, show_progress=False)
        assert Path(f"{db}-wal").exists()  # (WAL mode while open)
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(f"{db.as_uri()}?immutable=1", uri=True) as conn:  # ignores any WAL
        assert conn.execute("SELECT count(*) FROM hs_trials").fetchone() == (3,)
    study.close()  # twice is harmless


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot write to: a tmpfs remounted read-only as root (root
    ignores file modes), else a folder with mode 0555."""
    import os
    import subprocess

    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        yield folder
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _make_read_only(folder: Path) -> None:
    import os
    import subprocess

    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    assert not os.access(folder, os.W_OK)


def test_a_database_in_a_read_only_folder_can_be_listed_and_read(
    read_only_folder: Path,
) -> None:
    db = read_only_folder / "shared.db"
    _write_study_in_a_process(db)
    _make_read_only(read_only_folder)
    from hypersearch.cli import main

    assert main(["studies", "--storage", f"sqlite:///{db}"]) == 0
    study = hs.load_study("kept", storage=str(db))
    assert len(study.trials) == 5 and study.best_value < 1
    with pytest.raises(StorageError, match="writable"):
        study.set_note(1, "cannot be written here")
