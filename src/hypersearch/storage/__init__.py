"""Storage backends. ``get_storage`` turns what users pass into a backend."""

from __future__ import annotations

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.storage.base import ClaimedTrial, Storage, StudyRecord, StudySummary
from hypersearch.storage.sql import SCHEMA_VERSION, SQLStorage, redact_url

__all__ = [
    "SCHEMA_VERSION",
    "ClaimedTrial",
    "SQLStorage",
    "Storage",
    "StudyRecord",
    "StudySummary",
    "get_storage",
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
