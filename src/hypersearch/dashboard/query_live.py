"""Live updates: what changed in a study since a client's ``Cursor``, with work proportional
to the change (primary-key ranges and index lookups, never a full scan)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hypersearch.dashboard.query_common import (
    _ROW_COLUMNS,
    LIVE_STATES,
    Cursor,
    QueryBase,
    R,
    T,
    _row_dict,
    json_number,
)


class LiveQueries(QueryBase):
    """The reads behind the dashboard's live updates."""

    def cursor(self, study_id: int) -> Cursor:
        """The cursor of "everything up to now", for a client that just loaded the page."""
        with self._conn() as conn:
            max_id = conn.execute(
                sa.select(sa.func.max(T.c.id)).where(T.c.study_id == study_id)
            ).scalar()
            live_ids = list(
                conn.execute(
                    sa.select(T.c.id).where(T.c.study_id == study_id, T.c.state.in_(LIVE_STATES))
                ).scalars()
            )
            steps = self._last_steps(conn, live_ids)
        return Cursor(int(max_id or 0), {i: steps.get(i, -1) for i in live_ids})

    def changes(self, study_id: int, cursor: Cursor, *, limit: int = 1_000) -> dict[str, Any]:
        """What changed since ``cursor``: new trials, trials that were or are live (with their
        current row), and the report points after each live trial's last known step. At most
        ``limit`` new trials (oldest first); ``more`` is true when more wait after them.

        Work is proportional to the change: new trials come from a primary-key range
        (``id > max_id``), live ones from the (study, state) index and the ids in the cursor,
        reports from the (trial, step) primary key after the known step.
        """
        with self._conn() as conn:
            new_rows, more = self._new_rows(conn, study_id, cursor.max_id, limit)
            live_rows = conn.execute(
                sa.select(*_ROW_COLUMNS).where(
                    T.c.study_id == study_id, T.c.state.in_(LIVE_STATES), T.c.id <= cursor.max_id
                )
            ).all()
            seen = {r.id for r in new_rows} | {r.id for r in live_rows}
            gone_live = [i for i in cursor.live if i not in seen]
            was_live_rows = (
                conn.execute(
                    sa.select(*_ROW_COLUMNS).where(T.c.study_id == study_id, T.c.id.in_(gone_live))
                ).all()
                if gone_live
                else []
            )
            rows = [*new_rows, *live_rows, *was_live_rows]
            known = {r.id: cursor.live.get(r.id, -1) for r in rows}
            points: dict[int, list[list[Any]]] = {}
            for trial_id, after in known.items():
                # a live trial unchanged since the cursor costs one index probe
                pts = conn.execute(
                    sa.select(R.c.step, R.c.value)
                    .where(R.c.trial_id == trial_id, R.c.step > after)
                    .order_by(R.c.step)
                ).all()
                if pts:
                    points[trial_id] = [[s, json_number(v)] for s, v in pts]
        last_step = {i: (points[i][-1][0] if i in points else known[i]) for i in known}
        changed = [
            r
            for r in rows
            if r.id not in cursor.live or r.id in points or r.state not in LIVE_STATES
        ]
        new_cursor = Cursor(
            max(cursor.max_id, max((r.id for r in new_rows), default=0)),
            {r.id: last_step[r.id] for r in rows if r.state in LIVE_STATES},
        )
        by_id = {r.id: r.number for r in rows}
        return {
            "cursor": new_cursor.encode(),
            "trials": [_row_dict(r, last_step.get(r.id)) for r in changed],
            "reports": {str(by_id[i]): pts for i, pts in points.items()},
            "more": more,
        }

    @staticmethod
    def _new_rows(
        conn: sa.Connection, study_id: int, after_id: int, limit: int
    ) -> tuple[list[Any], bool]:
        """The study's first ``limit`` trials with an id above ``after_id``, and whether more
        follow. Read by id alone, in batches, so SQLite walks the primary key from
        ``after_id`` (a study_id condition would make it walk every trial of the study in
        the (study, state) index); other studies' trials in between are skipped."""
        rows: list[Any] = []
        while True:
            batch = conn.execute(
                sa.select(*_ROW_COLUMNS, T.c.study_id)
                .where(T.c.id > after_id)
                .order_by(T.c.id)
                .limit(limit + 1)
            ).all()
            rows += [r for r in batch if r.study_id == study_id]
            if len(rows) > limit:
                return rows[:limit], True
            if len(batch) <= limit:
                return rows, False
            after_id = batch[-1].id
