"""Storage backends. ``get_storage`` turns what users pass into a backend."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from hypersearch.exceptions import InvalidArgumentError, StorageError
from hypersearch.storage.base import ClaimedTrial, Storage, StudyRecord, StudySummary
from hypersearch.storage.engine import normalise_url, redact_url
from hypersearch.storage.schema import SCHEMA_VERSION
from hypersearch.storage.sql import SQLStorage

__all__ = [
    "SCHEMA_VERSION",
    "ClaimedTrial",
    "SQLStorage",
    "Storage",
    "StudyRecord",
    "StudySummary",
    "get_storage",
    "open_existing_storage",
    "redact_url",
]


def get_storage(storage: str | Storage | None) -> Storage:
    """``None`` -> in memory; ``"sqlite:///file.db"``, ``"file.db"`` or ``"postgresql://..."``
    -> SQL; a ``Storage`` object is used as it is."""
    if storage is None or isinstance(storage, Storage):
        return storage if storage is not None else SQLStorage(None)
    if isinstance(storage, str):
        if not storage.strip():
            raise InvalidArgumentError("storage must be a URL such as 'sqlite:///study.db'.")
        return SQLStorage(storage)
    raise InvalidArgumentError(
        f"storage must be None, a URL string or a Storage, got {type(storage).__name__}."
    )


def open_existing_storage(url: str, *, upgrading: bool = False) -> SQLStorage:
    """Open existing storage; a SQLite file that does not exist is an error, never created."""
    normal = normalise_url(url)
    if normal.startswith("sqlite"):
        try:
            database = sa.engine.make_url(normal).database
        except (sa.exc.ArgumentError, ValueError):
            raise StorageError(
                f"{redact_url(url)!r} is not a storage URL; pass --storage "
                "sqlite:///path/to/file.db or postgresql://user@host/db."
            ) from None
        if database and database != ":memory:":
            _check_sqlite_file(database)
    return SQLStorage(url, upgrading=upgrading)


def _check_sqlite_file(database: str) -> None:
    """Refuse a missing file (never create one) or a file that is not a hypersearch database
    (never add our tables to someone else's), looking through a read-only connection."""
    path = Path(database).absolute()
    if not path.exists():
        raise StorageError(f"no database at {path}; run a study first or pass --storage")
    # in a folder this user cannot write, WAL's shared-memory file cannot be made: immutable
    mode = "mode=ro" if os.access(path.parent, os.W_OK) else "immutable=1"
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?{mode}", uri=True, timeout=10)
        try:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hs_meta'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read {path} as a SQLite database: {exc}") from None
    if found is None:
        raise StorageError(
            f"{path} is not a hypersearch database (it has no hs_meta table); "
            "pass the --storage your study was created with"
        )
