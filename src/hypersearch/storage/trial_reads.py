"""Reading trials back: full records with their learning curves, and the narrow reads
(states, running trials) that polls and liveness checks need."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hypersearch.exceptions import TrialNotFoundError
from hypersearch.storage.engine import Database
from hypersearch.storage.rows import floats_from_text, record_from_row
from hypersearch.storage.schema import has_reports, reports_table, trials_table
from hypersearch.storage.statements import TrialStatements
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["TrialReader", "records_from_rows"]


def records_from_rows(conn: Connection, rows: Sequence[Any]) -> list[TrialRecord]:
    """Records of trial rows, with their learning curves. Rows read with ``has_reports()``
    skip the reports query for trials that have none."""
    curves: dict[int, dict[int, float]] = {row.id: {} for row in rows}
    several: dict[int, dict[int, tuple[float, ...]]] = {row.id: {} for row in rows}
    r = reports_table
    ids = [row.id for row in rows if row._mapping.get("has_reports", True)]
    if ids:
        for chunk_start in range(0, len(ids), 5000):
            chunk = ids[chunk_start : chunk_start + 5000]
            for trial_id, step, value, values in conn.execute(
                sa.select(r.c.trial_id, r.c.step, r.c.value, r.c.objective_values)
                .where(r.c.trial_id.in_(chunk))
                .order_by(r.c.trial_id, r.c.step)
            ):
                curves[trial_id][int(step)] = math.nan if value is None else float(value)
                if values:
                    several[trial_id][int(step)] = floats_from_text(values)  # type: ignore[assignment]
    return [record_from_row(row, curves[row.id], several[row.id]) for row in rows]


class TrialReader:
    """Read transactions on the trials in ``db``."""

    def __init__(self, db: Database, statements: TrialStatements) -> None:
        self._db = db
        self._statements = statements

    def running(self, study_id: int) -> list[tuple[int, str | None, int | None]]:
        """``(number, host, pid)`` of every RUNNING trial, for liveness checks."""
        t = trials_table

        def read(conn: Connection) -> list[Any]:
            return list(
                conn.execute(
                    sa.select(t.c.number, t.c.host, t.c.pid).where(
                        t.c.study_id == study_id, t.c.state == TrialState.RUNNING.value
                    )
                ).all()
            )

        return [(int(r.number), r.host, r.pid) for r in self._db.read_tx(read)]

    def states(self, study_id: int) -> list[tuple[int, int, TrialState]]:
        """``(id, number, state)`` of every trial: a narrow read, so callers can fetch in full
        only the trials they have not seen finished (finished records do not change)."""
        t = trials_table

        def read(conn: Connection) -> list[Any]:
            return list(
                conn.execute(
                    sa.select(t.c.id, t.c.number, t.c.state)
                    .where(t.c.study_id == study_id)
                    .order_by(t.c.number)
                ).all()
            )

        return [(int(r.id), int(r.number), TrialState(r.state)) for r in self._db.read_tx(read)]

    def after(self, study_id: int, after: int, numbers: Iterable[int] = ()) -> list[TrialRecord]:
        """See ``Storage.get_trials_after``: one statement for the rows (and one for the
        reports, only when some of them have any)."""
        wanted = sorted(set(numbers))
        query = self._statements.after
        args: dict[str, Any] = {"v_study": study_id, "v_after": after}
        if len(wanted) > 500:  # no huge IN list: read from the smallest and filter here
            args["v_after"] = wanted[0] - 1
        elif wanted:
            query, args["v_numbers"] = self._statements.after_or, wanted
        keep = set(wanted)

        def read(conn: Connection) -> list[TrialRecord]:
            rows = [r for r in conn.execute(query, args) if r.number > after or r.number in keep]
            return records_from_rows(conn, rows)

        return self._db.read_tx(read)

    def all(self, study_id: int, states: Sequence[TrialState] | None = None) -> list[TrialRecord]:
        """The study's trials (in ``states``, when given), by number."""
        query = sa.select(trials_table, has_reports()).where(trials_table.c.study_id == study_id)
        if states is not None:
            query = query.where(trials_table.c.state.in_([s.value for s in states]))

        def read(conn: Connection) -> list[TrialRecord]:
            rows = conn.execute(query.order_by(trials_table.c.number)).all()
            return records_from_rows(conn, rows)

        return self._db.read_tx(read)

    def one(self, study_id: int, number: int) -> TrialRecord:
        def read(conn: Connection) -> list[TrialRecord]:
            rows = conn.execute(
                sa.select(trials_table, has_reports()).where(
                    trials_table.c.study_id == study_id, trials_table.c.number == number
                )
            ).all()
            return records_from_rows(conn, rows)

        records = self._db.read_tx(read)
        if not records:
            raise TrialNotFoundError(f"No trial number {number} in this study.")
        return records[0]
