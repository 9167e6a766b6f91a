"""``SQLStorage``: the ``Storage`` backend for SQLite (embedded default, and in-memory) and
PostgreSQL, through SQLAlchemy Core. It composes one job per module:

- ``engine``: the database's engine, SQLite settings, transactions, retries when locked or
  disconnected;
- ``schema`` and ``migrations``: the tables, their version, ``hypersearch upgrade``;
- ``studies`` and ``summaries``: the study repository and the study list;
- ``trials``, ``trial_reads`` and ``statements``: the trial repository (claims, writes under
  a lease, reaping) and its reads, on statements prepared once;
- ``rows``: values as stored and back.
"""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from hypersearch.objectives import Objective
from hypersearch.storage.base import ClaimedTrial, Storage, StudyRecord, StudySummary
from hypersearch.storage.engine import Database, redact_url, retry_window
from hypersearch.storage.engine import normalise_url as normalise_url
from hypersearch.storage.migrations import open_schema, schema_version, upgrade_schema
from hypersearch.storage.rows import check_name as check_name
from hypersearch.storage.schema import SCHEMA_VERSION
from hypersearch.storage.schema import meta_table as meta_table
from hypersearch.storage.schema import reports_table as reports_table
from hypersearch.storage.schema import studies_table as studies_table
from hypersearch.storage.schema import trials_table as trials_table
from hypersearch.storage.statements import TrialStatements
from hypersearch.storage.studies import StudyRepository
from hypersearch.storage.summaries import summarise_studies as summarise_studies
from hypersearch.storage.trial_reads import TrialReader
from hypersearch.storage.trials import TrialRepository
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["SCHEMA_VERSION", "SQLStorage", "redact_url"]

# The ``x as x`` names above were imported from this module before it was split; they keep
# working here.


class SQLStorage(Storage):
    """Studies and trials in a SQL database. ``SQLStorage("sqlite:///study.db")``.

    ``SQLStorage(None)`` keeps everything in an in-memory SQLite database: the same code path
    and rules as a file, gone when the process ends.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        busy_timeout_s: float = 30.0,
        upgrading: bool = False,
        connection_retry_s: float | None = None,
    ) -> None:
        self._db = Database(url, busy_timeout_s=busy_timeout_s)
        self.url = self._db.url
        self._engine = self._db.engine  # tests count the statements it runs
        statements = TrialStatements(self._db.now, sqlite=self._db.sqlite)
        self._studies = StudyRepository(self._db)
        self._trials = TrialRepository(self._db, statements)
        self._reader = TrialReader(self._db, statements)
        # A server that cannot be reached at all is an error at once (a wrong URL); once open,
        # a lost connection is retried with back-off for ``connection_retry_s`` seconds.
        retry_s = retry_window(connection_retry_s)
        open_schema(self._db, allow_older=upgrading)
        self._db.connection_retry_s = retry_s
        _OPEN.add(self)

    # the database --------------------------------------------------------------------------
    @property
    def in_memory(self) -> bool:
        """True for an in-memory database (``SQLStorage(None)``): it lives in this process
        only, so other processes cannot share it."""
        return self._db.in_memory

    @property
    def worker_url(self) -> str:
        """The URL with its password, to open this database from our own worker processes.
        Never print or log it: ``url`` is the redacted one, safe to show."""
        return self._db.worker_url

    @property
    def read_only(self) -> bool:
        """True for a SQLite file in a folder this user cannot write: opened read-only."""
        return self._db.read_only

    @property
    def reconnected_at(self) -> float:
        """``time.monotonic()`` when a lost connection last came back (``-inf``: never lost);
        leases may have expired meanwhile (see ``Study.reap_lost_trials``)."""
        return self._db.reconnected_at

    @property
    def connection_retry_s(self) -> float:
        """How long a lost connection is retried before a call fails, in seconds."""
        return self._db.connection_retry_s

    @connection_retry_s.setter
    def connection_retry_s(self, seconds: float) -> None:
        self._db.connection_retry_s = retry_window(seconds)

    def schema_version(self) -> int:
        return schema_version(self._db)

    def upgrade_schema(self) -> tuple[int, int]:
        """Migrate the tables to ``SCHEMA_VERSION`` in one transaction; return the versions
        (before, after). Open the storage with ``SQLStorage(url, upgrading=True)`` first."""
        return upgrade_schema(self._db)

    def close(self) -> None:
        """Release the connections; for a SQLite file, first write the WAL back into the
        .db file, so that file alone holds every study (a copy of it is complete). The
        storage stays usable: it reconnects on the next call."""
        self._db.close()

    # studies -------------------------------------------------------------------------------
    def create_study(
        self,
        name: str,
        *,
        direction: str,
        metric: str,
        space: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        objectives: Sequence[Objective] = (),
        constraints: Sequence[Mapping[str, Any]] | None = None,
    ) -> StudyRecord:
        return self._studies.create(
            name,
            direction=direction,
            metric=metric,
            space=space,
            config=config,
            objectives=objectives,
            constraints=constraints,
        )

    def get_study(self, name: str) -> StudyRecord:
        return self._studies.get(name)

    def update_study(
        self, study_id: int, *, space: Mapping[str, Any] | None, config: Mapping[str, Any]
    ) -> None:
        self._studies.update(study_id, space=space, config=config)

    def list_studies(self) -> list[StudySummary]:
        return self._studies.summaries()

    def delete_study(self, name: str) -> None:
        self._studies.delete(name)

    # trials: adding and claiming -----------------------------------------------------------
    def enqueue_trial(
        self,
        study_id: int,
        params: Mapping[str, Any],
        *,
        note: str = "",
        tags: Sequence[str] = (),
        attrs: Mapping[str, Any] | None = None,
    ) -> int:
        return self._trials.enqueue(study_id, params, note=note, tags=tags, attrs=attrs)

    def add_finished_trials(self, study_id: int, records: Sequence[TrialRecord]) -> list[int]:
        """Many trials that ran elsewhere (an import) in one transaction: all or none."""
        return self._trials.add_finished_many(study_id, records)

    def add_finished_trial(self, study_id: int, record: TrialRecord) -> int:
        return self._trials.add_finished(study_id, record)

    def claim_trial(
        self, study_id: int, *, host: str, pid: int, gpu: str | None, take_waiting: bool = True
    ) -> ClaimedTrial:
        return self._trials.claim(study_id, host=host, pid=pid, gpu=gpu, take_waiting=take_waiting)

    def set_claim_key(self, trial_id: int, token: str, key: str) -> bool:
        return self._trials.set_claim_key(trial_id, token, key)

    def discard_trial(self, trial_id: int, token: str) -> None:
        self._trials.discard(trial_id, token)

    # trials: writes under a lease ----------------------------------------------------------
    def set_trial_params(
        self,
        trial_id: int,
        token: str,
        params: Mapping[str, Any],
        distributions: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self._trials.set_params(trial_id, token, params, distributions)

    def report(
        self,
        trial_id: int,
        token: str,
        step: int,
        value: float,
        values: Sequence[float] | None = None,
    ) -> None:
        self._trials.report(trial_id, token, step, value, values)

    def heartbeat(self, trial_ids: Iterable[int], token_by_id: Mapping[int, str]) -> None:
        self._trials.heartbeat(trial_ids, token_by_id)

    def finish_trial(
        self,
        trial_id: int,
        token: str,
        state: TrialState,
        *,
        value: float | None = None,
        metrics: Mapping[str, Any] | None = None,
        fail_reason: str | None = None,
        traceback: str | None = None,
        values: Sequence[float] | None = None,
        constraint_violations: Sequence[float] | None = None,
    ) -> TrialRecord | None:
        return self._trials.finish(
            trial_id,
            token,
            state,
            value=value,
            metrics=metrics,
            fail_reason=fail_reason,
            traceback=traceback,
            values=values,
            constraint_violations=constraint_violations,
        )

    def reap_stale_trials(
        self,
        study_id: int,
        *,
        grace_seconds: float,
        host: str,
        dead_pids: Iterable[int] = (),
        alive_pids: Iterable[int] = (),
        max_retries: int = 0,
    ) -> list[int]:
        """See ``Storage.reap_stale_trials``. With ``max_retries``, each reaped trial that was
        not already retried that often is enqueued again with the same parameters, in the
        same transaction: the new trial's attrs say ``retry_of`` (the original's number) and
        ``attempt``; the original's attrs get ``retried_by``."""
        return self._trials.reap_stale(
            study_id,
            grace_seconds=grace_seconds,
            host=host,
            dead_pids=dead_pids,
            alive_pids=alive_pids,
            max_retries=max_retries,
        )

    def update_trial_annotations(
        self,
        study_id: int,
        number: int,
        *,
        note: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        self._trials.annotate(
            study_id, number, note=note, add_tags=add_tags, remove_tags=remove_tags, attrs=attrs
        )

    # trials: reads -------------------------------------------------------------------------
    def running_trials(self, study_id: int) -> list[tuple[int, str | None, int | None]]:
        return self._reader.running(study_id)

    def trial_states(self, study_id: int) -> list[tuple[int, int, TrialState]]:
        """``(id, number, state)`` of every trial: a narrow read, so callers can fetch in full
        only the trials they have not seen finished (finished records do not change)."""
        return self._reader.states(study_id)

    def get_trials_after(
        self, study_id: int, after: int, numbers: Iterable[int] = ()
    ) -> list[TrialRecord]:
        """See ``Storage.get_trials_after``: one statement for the rows (and one for the
        reports, only when some of them have any)."""
        return self._reader.after(study_id, after, numbers)

    def get_trials(
        self, study_id: int, states: Sequence[TrialState] | None = None
    ) -> list[TrialRecord]:
        return self._reader.all(study_id, states)

    def get_trial(self, study_id: int, number: int) -> TrialRecord:
        return self._reader.one(study_id, number)


#: Every open storage, so that program exit closes them: closing the last connection to a
#: SQLite file writes the WAL back into the .db file, which then holds the whole study.
_OPEN: weakref.WeakSet[SQLStorage] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for storage in list(_OPEN):
        with suppress(Exception):
            storage.close()
