"""Storage: the conformance suite on every backend, plus what only SQL files can show
(schema versions, unreadable files, WAL, redacted URLs)."""

from __future__ import annotations

import re
import sqlite3
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


# ----------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:s3cret@db.example:5432/hs", "postgresql://bob:***@db.example:5432/hs"),
        ("postgresql+psycopg://bob:p%40ss:w0rd@host/hs", "postgresql+psycopg://bob:***@host/hs"),
        ("postgresql://bob@host/hs", "postgresql://bob@host/hs"),
        ("postgresql://host/hs", "postgresql://host/hs"),
        ("sqlite:///tmp/study.db", "sqlite:///tmp/study.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_redact_url_hides_passwords(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_passwords_never_appear_in_storage_errors() -> None:
    # Either the driver is missing or nothing listens on port 1: both must hide the password.
    with pytest.raises(StorageError) as info:
        SQLStorage("postgresql://bob:topsecret@127.0.0.1:1/hs", busy_timeout_s=1)
    assert "topsecret" not in str(info.value)
    assert "bob:***@" in str(info.value)
