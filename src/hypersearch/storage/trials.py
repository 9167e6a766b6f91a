"""The trial repository's writes: add trials (queued, imported, claimed), write under a
trial's lease (parameters, reports, heartbeats, the finish), reap lost trials, annotate.

A trial's own path (claim, parameters, finish) is one statement each in the usual case,
prepared once (``TrialStatements``): see bench/RESULTS-parallel.md.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hypersearch.exceptions import StaleTrialError, StorageError, TrialNotFoundError
from hypersearch.storage.base import ClaimedTrial
from hypersearch.storage.engine import Database
from hypersearch.storage.rows import (
    dumps,
    finished_trial_columns,
    finite_or_none,
    floats_to_text,
    loads,
    merge_params,
    record_from_row,
    report_rows,
    storable_text,
)
from hypersearch.storage.schema import reports_table, trials_table
from hypersearch.storage.statements import TrialStatements
from hypersearch.storage.trial_reads import records_from_rows
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["TrialRepository"]


class TrialRepository:
    """Writes to the trials in ``db``, one short transaction (often one statement) each.

    It remembers the parameters as stored of the trials it claimed and has not finished, so
    a lease holder updates them in one conditional statement."""

    def __init__(self, db: Database, statements: TrialStatements) -> None:
        self._db = db
        self._statements = statements
        # (params, distributions) as stored, of the trials this object claimed and has not
        # finished: lets a lease holder update them in one conditional statement.
        self._owned: dict[int, tuple[str, str]] = {}

    # numbers -----------------------------------------------------------------------------
    def _next_number(self, conn: Connection, study_id: int) -> int:
        """The study's next trial number, under its number-allocation lock until commit
        (PostgreSQL only), for the rare inserts that compute a number in one statement and use
        it in another (enqueue, manual and retried trials): concurrent ones queue instead of
        colliding on the unique (study, number) constraint and retrying. The lock is a
        statement of its own, so the next one sees the previous holder's trials. SQLite runs
        one writer at a time. Claims compute the number inside their INSERT and need no lock."""
        if not self._db.sqlite:
            conn.execute(self._statements.lock, {"v_study": study_id})
        current = conn.execute(
            sa.select(sa.func.max(trials_table.c.number)).where(
                trials_table.c.study_id == study_id
            )
        ).scalar()
        return 0 if current is None else int(current) + 1

    def _insert_with_number(self, study_id: int, values: dict[str, Any]) -> tuple[int, int]:
        """Insert a trial under the next free number; the unique constraint settles races."""
        for _ in range(50):

            def insert(conn: Connection) -> tuple[int, int]:
                number = self._next_number(conn, study_id)
                result = conn.execute(
                    trials_table.insert().values(
                        study_id=study_id, number=number, created_at=self._db.now, **values
                    )
                )
                return int(result.inserted_primary_key[0]), number  # type: ignore[index]

            try:
                return self._db.write_tx(insert)
            except IntegrityError:
                time.sleep(random.random() * 0.01)
        raise StorageError("Could not allocate a trial number after 50 attempts.")

    # adding trials -----------------------------------------------------------------------
    def enqueue(
        self,
        study_id: int,
        params: Mapping[str, Any],
        *,
        note: str = "",
        tags: Sequence[str] = (),
        attrs: Mapping[str, Any] | None = None,
    ) -> int:
        all_attrs = {**(attrs or {}), "fixed_params": dict(params)}
        _, number = self._insert_with_number(
            study_id,
            {
                "state": TrialState.WAITING.value,
                "source": "enqueued",
                "params": "{}",
                "note": storable_text(note),
                "tags": dumps(list(tags)),
                "attrs": dumps(all_attrs),
            },
        )
        return number

    def add_finished_many(self, study_id: int, records: Sequence[TrialRecord]) -> list[int]:
        """Many trials that ran elsewhere (an import) in one transaction: all or none."""
        if not records:
            return []
        rows = [finished_trial_columns(r) for r in records]
        insert = (
            trials_table.insert()
            .values(study_id=study_id, created_at=self._db.now)
            .returning(trials_table.c.id, trials_table.c.number)
        )

        def add(conn: Connection) -> list[int]:
            first = self._next_number(conn, study_id)
            numbered = [{**row, "number": first + i} for i, row in enumerate(rows)]
            ids = {int(n): int(i) for i, n in conn.execute(insert, numbered)}
            reports = [
                row for i, r in enumerate(records) for row in report_rows(ids[first + i], r)
            ]
            if reports:
                conn.execute(reports_table.insert(), reports)
            return [first + i for i in range(len(rows))]

        for _ in range(50):
            try:
                return self._db.write_tx(add)
            except IntegrityError:  # another writer took one of the numbers: count again
                time.sleep(random.random() * 0.01)
        raise StorageError("Could not allocate trial numbers after 50 attempts.")

    def add_finished(self, study_id: int, record: TrialRecord) -> int:
        trial_id, number = self._insert_with_number(study_id, finished_trial_columns(record))
        if record.intermediate or record.intermediate_values:

            def add_reports(conn: Connection) -> None:
                conn.execute(reports_table.insert(), report_rows(trial_id, record))

            self._db.write_tx(add_reports)
        return number

    def claim(
        self, study_id: int, *, host: str, pid: int, gpu: str | None, take_waiting: bool = True
    ) -> ClaimedTrial:
        token = uuid.uuid4().hex
        args = {"v_study": study_id, "v_token": token, "v_host": host, "v_pid": pid, "v_gpu": gpu}
        hot = self._statements

        def claim(conn: Connection) -> Any:
            # add a new trial unless one is WAITING, else take the oldest WAITING one (a new
            # one after all if another worker took it first). Each statement is atomic and
            # returns the row (a trial never RUNNING before has no reports) or writes
            # nothing, so they run on their own, each in one round trip, holding locks only
            # inside the database (see ``Database.write_one``). No row: another worker took
            # the number we computed; the next try sees it.
            if take_waiting:
                row = conn.execute(hot.insert_unless_waiting, args).first()
                if row is None:
                    row = conn.execute(hot.take, args).first()
                if row is not None:
                    return row
            return conn.execute(hot.insert, args).first()

        for attempt in range(200):
            try:
                row = self._db.write_one(claim)
            except IntegrityError:  # a constraint other than the number's
                row = None
            if row is None:
                if attempt >= 3:  # many workers at once: let the others through
                    time.sleep(random.random() * 0.002)
                continue
            self._owned[int(row.id)] = (row.params, row.distributions)
            return ClaimedTrial(record=record_from_row(row, {}), token=token)
        raise StorageError("Could not allocate a trial number after 200 attempts.")

    def set_claim_key(self, trial_id: int, token: str, key: str) -> bool:
        def update(conn: Connection) -> None:
            self._check_owner(conn, trial_id, token)
            conn.execute(
                trials_table.update().where(trials_table.c.id == trial_id).values(claim_key=key)
            )

        try:
            self._db.write_tx(update)
        except IntegrityError:
            return False
        return True

    def discard(self, trial_id: int, token: str) -> None:
        def delete(conn: Connection) -> None:
            self._check_owner(conn, trial_id, token)
            conn.execute(reports_table.delete().where(reports_table.c.trial_id == trial_id))
            conn.execute(trials_table.delete().where(trials_table.c.id == trial_id))

        self._db.write_tx(delete)
        self._owned.pop(trial_id, None)

    # writes under a lease ----------------------------------------------------------------
    def _check_owner(self, conn: Connection, trial_id: int, token: str) -> Any:
        """The trial's row if ``token`` holds its lease; else raise ``StaleTrialError``."""
        row = conn.execute(
            sa.select(
                trials_table.c.number,
                trials_table.c.state,
                trials_table.c.token,
                trials_table.c.params,
                trials_table.c.distributions,
                trials_table.c.fail_reason,
            ).where(trials_table.c.id == trial_id)
        ).first()
        if row is None:
            raise StaleTrialError(
                f"Trial id {trial_id} is not in {self._db.url} any more (the study was "
                "deleted, or the server crashed before the trial's claim reached its disk); "
                "its result was not recorded. The worker carries on with the next trial."
            )
        if row.token != token or row.state != TrialState.RUNNING.value:
            why = row.fail_reason or row.state
            raise StaleTrialError(
                f"Trial {row.number} is no longer owned by this worker ({why}); its result "
                "was not recorded. The worker carries on with the next trial."
            )
        return row

    def set_params(
        self,
        trial_id: int,
        token: str,
        params: Mapping[str, Any],
        distributions: Mapping[str, Mapping[str, Any]],
    ) -> None:
        known = self._owned.get(trial_id)
        if known is not None and self._set_known_params(
            trial_id, token, known, params, distributions
        ):
            return

        def update(conn: Connection) -> tuple[str, str]:
            row = self._check_owner(conn, trial_id, token)
            merged = merge_params(row.params, row.distributions, params, distributions)
            conn.execute(
                trials_table.update()
                .where(trials_table.c.id == trial_id)
                .values(params=merged[0], distributions=merged[1])
            )
            return merged

        self._owned[trial_id] = self._db.write_tx(update)

    def _set_known_params(
        self,
        trial_id: int,
        token: str,
        known: tuple[str, str],
        params: Mapping[str, Any],
        distributions: Mapping[str, Mapping[str, Any]],
    ) -> bool:
        """Merge into the parameters this object last stored for the trial, in one statement
        that only applies while the lease and those stored parameters are unchanged (a
        compare-and-set). False when it did not apply: the caller then reads and merges."""
        merged = merge_params(known[0], known[1], params, distributions)
        args = {
            "v_id": trial_id,
            "v_token": token,
            "v_old_params": known[0],
            "v_old_dists": known[1],
            "v_params": merged[0],
            "v_dists": merged[1],
        }

        def update(conn: Connection) -> int:
            return conn.execute(self._statements.set_params, args).rowcount

        if self._db.write_one(update) != 1:
            return False
        self._owned[trial_id] = merged
        return True

    def report(
        self,
        trial_id: int,
        token: str,
        step: int,
        value: float,
        values: Sequence[float] | None = None,
    ) -> None:
        stored = finite_or_none(value)
        several = floats_to_text(values)
        now = self._db.now

        def write(conn: Connection) -> None:
            self._check_owner(conn, trial_id, token)
            updated = conn.execute(
                reports_table.update()
                .where(reports_table.c.trial_id == trial_id, reports_table.c.step == step)
                .values(value=stored, objective_values=several, at=now)
            )
            if updated.rowcount == 0:
                conn.execute(
                    reports_table.insert().values(
                        trial_id=trial_id,
                        step=step,
                        value=stored,
                        objective_values=several,
                        at=now,
                    )
                )
            conn.execute(
                trials_table.update().where(trials_table.c.id == trial_id).values(heartbeat_at=now)
            )

        self._db.write_tx(write)

    def heartbeat(self, trial_ids: Iterable[int], token_by_id: Mapping[int, str]) -> None:
        ids = list(trial_ids)
        if not ids:
            return

        def write(conn: Connection) -> None:
            for trial_id in ids:
                conn.execute(
                    trials_table.update()
                    .where(
                        trials_table.c.id == trial_id,
                        trials_table.c.token == token_by_id[trial_id],
                        trials_table.c.state == TrialState.RUNNING.value,
                    )
                    .values(heartbeat_at=self._db.now)
                )

        self._db.write_tx(write)

    def finish(
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
        """See ``Storage.finish_trial``."""
        if not state.is_finished:
            raise ValueError(f"finish_trial needs a finished state, got {state}.")
        columns = {
            "state": state.value,
            "value": value,
            "metrics": dumps(dict(metrics or {})),
            "fail_reason": storable_text(fail_reason),
            "traceback": storable_text(traceback),
            "objective_values": floats_to_text(values),
            "constraint_violations": floats_to_text(constraint_violations),
            "finished_at": self._db.now,
        }
        args = {"v_id": trial_id, "v_token": token}
        args.update({f"v_{k}": v for k, v in columns.items() if k != "finished_at"})
        args["v_reason"] = args.pop("v_fail_reason")

        def finish(conn: Connection) -> Any:
            # the usual case in one statement: still ours and RUNNING -> finished, returned
            return conn.execute(self._statements.finish, args).first()

        row = self._db.write_one(finish)
        if row is None:  # a repeated finish, or no longer ours: decide in a transaction
            try:
                self._db.write_tx(
                    lambda conn: self._finish_again(conn, trial_id, token, state, columns)
                )
            finally:
                self._owned.pop(trial_id, None)
            return None
        self._owned.pop(trial_id, None)
        if not row.has_reports:
            return record_from_row(row, {})
        return self._db.read_tx(lambda conn: records_from_rows(conn, [row])[0])

    def _finish_again(
        self,
        conn: Connection,
        trial_id: int,
        token: str,
        state: TrialState,
        values: Mapping[str, Any],
    ) -> None:
        """A finish that did not find the trial RUNNING under ``token``: a no-op when the same
        finish was already committed (a retry), else ``StaleTrialError`` saying why."""
        row = conn.execute(
            sa.select(trials_table.c.state, trials_table.c.token).where(
                trials_table.c.id == trial_id
            )
        ).first()
        if row is not None and row.token == token and row.state == state.value:
            return  # the same finish was already committed: idempotent retry
        self._check_owner(conn, trial_id, token)  # raises, saying why
        conn.execute(trials_table.update().where(trials_table.c.id == trial_id).values(**values))

    # lost trials -------------------------------------------------------------------------
    def reap_stale(
        self,
        study_id: int,
        *,
        grace_seconds: float,
        host: str,
        dead_pids: Iterable[int] = (),
        alive_pids: Iterable[int] = (),
        max_retries: int = 0,
    ) -> list[int]:
        """See ``SQLStorage.reap_stale_trials``."""
        dead = list(dead_pids)
        alive = list(alive_pids)
        t = trials_table
        now = self._db.now

        def write(conn: Connection) -> list[int]:
            expired: sa.ColumnElement[bool] = (
                t.c.heartbeat_at < now - grace_seconds
                if math.isfinite(grace_seconds)
                else sa.false()
            )
            if alive:  # their owner runs on this host: an old lease means a lost connection
                expired = sa.and_(expired, sa.not_(sa.and_(t.c.host == host, t.c.pid.in_(alive))))
            if not self._db.sqlite and math.isfinite(grace_seconds):
                # a server (re)started less than a grace period ago cut every worker off:
                # their leases are old through no fault of theirs
                started = sa.literal_column(
                    "EXTRACT(EPOCH FROM pg_postmaster_start_time())", sa.Double
                )
                expired = sa.and_(expired, started < now - grace_seconds)
            lost = sa.and_(t.c.host == host, t.c.pid.in_(dead)) if dead else sa.false()
            where = sa.and_(
                t.c.study_id == study_id,
                t.c.state == TrialState.RUNNING.value,
                sa.or_(expired, lost),
            )
            # UPDATE ... RETURNING: with concurrent reapers, each trial is reaped (and
            # retried) by exactly one of them.
            rows = conn.execute(
                t.update()
                .where(where)
                .values(
                    state=TrialState.FAILED.value,
                    fail_reason="worker lost: no heartbeat (process killed or machine down)",
                    finished_at=now,
                    # revoke the lease, so a late FAILED finish is stale, not a "retry"
                    token=None,
                )
                .returning(t.c.id, t.c.number, t.c.params, t.c.attrs, t.c.note, t.c.tags)
            ).all()
            unstarted = [r.id for r in rows if not loads(r.params, {})]
            if unstarted:
                # lost before it had parameters: free the point it reserved (e.g. a grid
                # point), or that point would never run
                conn.execute(t.update().where(t.c.id.in_(unstarted)).values(claim_key=None))
            for row in sorted(rows, key=lambda r: r.number) if max_retries > 0 else ():
                self._enqueue_retry(conn, study_id, row, max_retries)
            return sorted(int(r.number) for r in rows)

        for _ in range(50):
            try:
                return self._db.write_tx(write)
            except IntegrityError:  # a retry's number was taken by a concurrent insert
                time.sleep(random.random() * 0.01)
        raise StorageError("Could not allocate a trial number for a retry after 50 attempts.")

    def _enqueue_retry(self, conn: Connection, study_id: int, row: Any, max_retries: int) -> None:
        attrs = loads(row.attrs, {})
        attempt = int(attrs.get("attempt", 0)) + 1
        if attempt > max_retries:
            return
        params = loads(row.params, {})
        fixed = {**attrs.get("fixed_params", {}), **params}
        number = self._next_number(conn, study_id)
        new_attrs = {
            k: v for k, v in attrs.items() if k not in ("fixed_params", "retried_by", "attempt")
        }
        new_attrs.update(fixed_params=fixed, retry_of=int(row.number), attempt=attempt)
        conn.execute(
            trials_table.insert().values(
                study_id=study_id,
                number=number,
                created_at=self._db.now,
                state=TrialState.WAITING.value,
                source="retry",
                params="{}",
                note=row.note or "",
                tags=row.tags or "[]",
                attrs=dumps(new_attrs),
            )
        )
        conn.execute(
            trials_table.update()
            .where(trials_table.c.id == row.id)
            .values(attrs=dumps({**attrs, "retried_by": number}))
        )

    # annotations -------------------------------------------------------------------------
    def annotate(
        self,
        study_id: int,
        number: int,
        *,
        note: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        """Set the note, add and remove tags, merge attrs of a trial in any state."""
        t = trials_table

        def write(conn: Connection) -> None:
            row = conn.execute(
                sa.select(t.c.id, t.c.tags, t.c.attrs).where(
                    t.c.study_id == study_id, t.c.number == number
                )
            ).first()
            if row is None:
                raise TrialNotFoundError(f"No trial number {number} in this study.")
            tags = [x for x in loads(row.tags, []) if x not in remove_tags]
            tags += [x for x in add_tags if x not in tags]
            values: dict[str, Any] = {"tags": dumps(tags)}
            if note is not None:
                values["note"] = storable_text(note)
            if attrs:
                values["attrs"] = dumps({**loads(row.attrs, {}), **attrs})
            conn.execute(t.update().where(t.c.id == row.id).values(**values))

        self._db.write_tx(write)
