"""The trials table: one page filtered, sorted and cut in SQL, and the whole table as CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hypersearch.dashboard.query_common import (
    _ROW_COLUMNS,
    MAX_PAGE,
    QueryBase,
    S,
    T,
    _loads,
    _numbers,
    _row_dict,
    _satisfied,
)
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.trial import TrialState

#: Trial numbers one table request may filter on (the parallel-coordinates plot shows 1,000).
MAX_NUMBERS = 2_000
#: Columns of the trials table that may be sorted on (besides ``param:<name>``;
#: ``objective:<i>`` sorts a multi-objective study's table by its i-th objective, from 0).
SORTS = ("number", "state", "value", "duration", "started", "finished")


class TrialTableQueries(QueryBase):
    """The trials table's page and CSV reads."""

    def _param_expr(self, name: str) -> sa.ColumnElement[Any]:
        if self._sqlite:
            return sa.func.json_extract(T.c.params, "$." + json.dumps(name))
        return sa.cast(T.c.params, sa.JSON)[name].as_string()

    def _objective_expr(self, index: int) -> sa.ColumnElement[Any]:
        if self._sqlite:  # SQLite before 3.42 refuses the Infinity token: such rows sort last
            valid = sa.func.json_valid(T.c.objective_values) == 1
            return sa.case((valid, sa.func.json_extract(T.c.objective_values, f"$[{index}]")))
        return sa.cast(T.c.objective_values, sa.JSON)[index].as_float()

    def trials_page(
        self,
        study_id: int,
        *,
        offset: int = 0,
        limit: int = 50,
        sort: str = "number",
        descending: bool = False,
        states: Sequence[str] = (),
        tag: str | None = None,
        search: str | None = None,
        numbers: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """One page of the trials table, filtered, sorted and cut in SQL (``numbers``: only
        these trials, e.g. those inside the parallel-coordinates ranges)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidArgumentError(f"limit must be 1..{MAX_PAGE}, got {limit}.")
        if offset < 0:
            raise InvalidArgumentError(f"offset must be >= 0, got {offset}.")
        bad = [s for s in states if s not in TrialState.__members__]
        if bad:
            raise InvalidArgumentError(
                f"state must be one of {', '.join(TrialState.__members__)}, got {bad[0]!r}."
            )
        where = [T.c.study_id == study_id]
        if states:
            where.append(T.c.state.in_(list(states)))
        if tag:
            where.append(T.c.tags.like(f"%{_like_escape(json.dumps(tag))}%", escape="\\"))
        if search:
            where.append(T.c.note.ilike(f"%{_like_escape(search)}%", escape="\\"))
        if numbers is not None:
            if len(numbers) > MAX_NUMBERS:
                raise InvalidArgumentError(
                    f"numbers may name at most {MAX_NUMBERS} trials, got {len(numbers)}."
                )
            where.append(T.c.number.in_(list(numbers)))
        key: sa.ColumnElement[Any]
        if sort.startswith("param:") and len(sort) > 6:
            key = self._param_expr(sort[6:])
        elif sort.startswith("objective:") and sort[10:].isdigit():
            key = self._objective_expr(int(sort[10:]))
        elif sort == "value":
            key = T.c.value
        elif sort == "state":
            key = T.c.state
        elif sort == "duration":
            key = T.c.finished_at - T.c.started_at
        elif sort == "started":
            key = T.c.started_at
        elif sort == "finished":
            key = T.c.finished_at
        elif sort == "number":
            key = T.c.number
        else:
            raise InvalidArgumentError(
                f"sort must be one of {', '.join(SORTS)}, param:<name> or objective:<index>, "
                f"got {sort!r}."
            )
        direction = key.desc() if descending else key.asc()
        order = [key.is_(None), direction, T.c.number.desc() if descending else T.c.number]
        with self._conn() as conn:
            total = conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one()
            if sort == "value" and self._constrained(conn, study_id):
                rows = self._feasible_first(conn, where, descending, offset, limit)
            else:
                rows = conn.execute(
                    sa.select(*_ROW_COLUMNS)
                    .where(*where)
                    .order_by(*order)
                    .offset(offset)
                    .limit(limit)
                ).all()
            last_steps = self._last_steps(conn, [r.id for r in rows])
        return {
            "total": int(total),
            "offset": offset,
            "limit": limit,
            "trials": [_row_dict(r, last_steps.get(r.id)) for r in rows],
        }

    @staticmethod
    def _constrained(conn: sa.Connection, study_id: int) -> bool:
        found = conn.execute(sa.select(S.c.constraints).where(S.c.id == study_id)).scalar()
        return bool(_loads(found, None))

    @staticmethod
    def _feasible_first(
        conn: sa.Connection, where: list[Any], descending: bool, offset: int, limit: int
    ) -> list[Any]:
        """A page sorted by value on a constrained study: feasible trials first (the best
        first, as ``Study.best_trial`` and ``hypersearch trials``), then those that break a
        constraint, then trials without a value, in either order. Ranked in Python: whether a
        trial is feasible is in its stored list of violations."""
        ranked = conn.execute(
            sa.select(T.c.number, T.c.value, T.c.constraint_violations).where(*where)
        ).all()
        sign = -1.0 if descending else 1.0

        def rank(row: Any) -> tuple[int, int, float, float]:
            n, value, violations = row
            if value is None or math.isnan(value):
                return (1, 0, 0.0, sign * n)
            broken = not _satisfied(_numbers(violations) or [])
            return (0, int(broken), sign * value, sign * n)

        page = [row[0] for row in sorted(ranked, key=rank)[offset : offset + limit]]
        rows = conn.execute(sa.select(*_ROW_COLUMNS).where(*where, T.c.number.in_(page))).all()
        position = {n: i for i, n in enumerate(page)}
        return sorted(rows, key=lambda r: position[r.number])

    def trials_csv(
        self,
        study_id: int,
        params: Sequence[str],
        objectives: Sequence[str] = (),
        **filters: Any,
    ) -> Iterator[str]:
        """The trials table as CSV lines (every page, with the table's filters and sort):
        number, state, value, one column per objective and ``feasible`` when ``objectives``
        names several, one per parameter, times, notes and tags. Text cells that a
        spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) get a leading ``'``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        several = [*objectives, "feasible"] if len(objectives) > 1 else []
        head = ["number", "state", "value", *several, *params]
        head += ["duration_s", "started_at", "finished_at"]
        writer.writerow([*head, "last_step", "tags", "note", "fail_reason"])
        yield flush()
        offset = 0
        while True:
            page = self.trials_page(study_id, offset=offset, limit=MAX_PAGE, **filters)
            for r in page["trials"]:
                writer.writerow(
                    [
                        r["number"],
                        r["state"],
                        _csv_cell(r["value"]),
                        *(_objective_cells(r, len(objectives)) if several else ()),
                        *(_csv_cell(r["params"].get(p)) for p in params),
                        _csv_cell(r["duration"]),
                        _csv_cell(r["started_at"]),
                        _csv_cell(r["finished_at"]),
                        _csv_cell(r["last_step"]),
                        _csv_cell(" ".join(r["tags"])),
                        _csv_cell(r["note"]),
                        _csv_cell(r["fail_reason"]),
                    ]
                )
            yield flush()
            offset += MAX_PAGE
            if offset >= page["total"]:
                return


def _objective_cells(row: Mapping[str, Any], m: int) -> list[Any]:
    """A row's objective values and whether it satisfies the constraints, as CSV cells."""
    values = row["values"] or [None] * m
    feasible = "" if row["values"] is None else str(row["feasible"] is not False).lower()
    return [*(_csv_cell(v) for v in values), feasible]


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if value in ("Infinity", "-Infinity", "NaN"):  # json_number's spelling of ±inf and NaN
        return {"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}[value]
    if isinstance(value, str):
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
