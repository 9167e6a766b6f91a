"""One error tree for hypersearch; every error is also the matching built-in type.

Catch ``HypersearchError`` for anything raised by the library, or the built-in base
(``ValueError``, ``RuntimeError``, ``KeyError``) when that is what the caller already handles.
"""

from __future__ import annotations


class HypersearchError(Exception):
    """Base class of every error hypersearch raises on purpose."""


class InvalidSpaceError(HypersearchError, ValueError):
    """A search-space definition or a parameter value breaks a rule of its type."""


class ParameterConflictError(InvalidSpaceError):
    """A define-by-run parameter was asked for with a different definition than before."""


class InvalidArgumentError(HypersearchError, ValueError):
    """An argument to a public function has a wrong type or value."""


class StorageError(HypersearchError, RuntimeError):
    """The storage cannot be opened, read or written."""


class SchemaVersionError(StorageError):
    """The database was written by a different hypersearch schema version."""


class StudyNotFoundError(HypersearchError, KeyError):
    """No study of that name exists in the storage."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly instead
        return str(self.args[0]) if self.args else ""


class DuplicateStudyError(HypersearchError, ValueError):
    """A study of that name already exists and the caller asked for a new one."""


class TrialNotFoundError(HypersearchError, KeyError):
    """No trial with that number exists in the study."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StaleTrialError(HypersearchError, RuntimeError):
    """A write for a trial that this worker no longer owns (it was reaped or already finished)."""


class TooManyFailuresError(HypersearchError, RuntimeError):
    """``optimize`` stopped because too many trials in a row failed."""


class SearchSpaceExhaustedError(HypersearchError, RuntimeError):
    """A finite sampler (grid) has no untried point left."""


class TrialPruned(HypersearchError):
    """Raise inside an objective to end the trial as STOPPED (e.g. after ``should_stop()``)."""
