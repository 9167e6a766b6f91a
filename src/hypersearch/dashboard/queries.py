"""Read-only queries behind the dashboard and the HTML report.

The dashboard never writes through this module: it has its own engine, opened read-only
(SQLite ``mode=ro`` plus ``PRAGMA query_only``; PostgreSQL ``default_transaction_read_only``),
so a dashboard can never lock or corrupt a running study. Every query is bounded: pages of the
trials table are sorted and cut in SQL, and live updates (``changes``) touch only the trials
that are new or still running, through primary-key and (study, state) index lookups.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError, StorageError
from hypersearch.storage.engine import normalise_url, redact_url
from hypersearch.storage.schema import (
    SCHEMA_VERSION,
    meta_table,
    reports_table,
    studies_table,
    trials_table,
)
from hypersearch.storage.summaries import summarise_studies
from hypersearch.trial import TrialState

__all__ = ["Cursor", "DashboardData", "json_number"]

T = trials_table
R = reports_table
S = studies_table

#: States whose rows can still change (and gain reports) without a new trial id.
LIVE_STATES = (TrialState.RUNNING.value, TrialState.WAITING.value)
FINISHED_STATES = tuple(s.value for s in TrialState if s.is_finished)
MAX_PAGE = 500
MAX_CURVES = 500
#: Trial numbers one table request may filter on (the parallel-coordinates plot shows 1,000).
MAX_NUMBERS = 2_000
#: Columns of the trials table that may be sorted on (besides ``param:<name>``).
SORTS = ("number", "state", "value", "duration", "started", "finished")
#: ``objective:<i>`` sorts a multi-objective study's table by its i-th objective (from 0).
_ROW_COLUMNS = (
    T.c.id,
    T.c.number,
    T.c.state,
    T.c.source,
    T.c.value,
    T.c.params,
    T.c.note,
    T.c.tags,
    T.c.fail_reason,
    T.c.host,
    T.c.gpu,
    T.c.created_at,
    T.c.started_at,
    T.c.finished_at,
    T.c.objective_values,
    T.c.constraint_violations,
)


def json_number(value: float | None) -> float | str | None:
    """A float as JSON can carry it: ±inf and NaN become the strings JavaScript's Number reads."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _clean_json(obj: Any) -> Any:
    """Make a stored JSON value safe for strict JSON (NaN and ±inf as strings)."""
    if isinstance(obj, float):
        return json_number(obj)
    if isinstance(obj, Mapping):
        return {str(k): _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_json(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Cursor:
    """Where a client's view of a study stands: the highest trial id it has seen, and for each
    trial that could still change (RUNNING or WAITING) the last report step it has.

    Encoded in URLs as ``"<max_id>"`` or ``"<max_id>.<id>:<step>,<id>:<step>"`` (step -1 when
    the trial has no report yet).
    """

    max_id: int
    live: Mapping[int, int]

    def encode(self) -> str:
        if not self.live:
            return str(self.max_id)
        pairs = ",".join(f"{i}:{s}" for i, s in sorted(self.live.items()))
        return f"{self.max_id}.{pairs}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            head, _, rest = text.partition(".")
            live: dict[int, int] = {}
            for pair in filter(None, rest.split(",")):
                trial_id, _, step = pair.partition(":")
                live[int(trial_id)] = int(step)
            cursor = cls(max_id=int(head), live=live)
        except ValueError:
            raise InvalidArgumentError(
                f"cursor must look like '120' or '120.7:3,9:-1', got {text[:80]!r}."
            ) from None
        if len(live) > 10_000:
            raise InvalidArgumentError("cursor names more than 10,000 live trials.")
        return cursor


def _read_only_engine(url: str) -> tuple[Engine, bool]:
    normal = normalise_url(url)
    if normal.startswith("sqlite"):
        database = sa.engine.make_url(normal).database or ""
        if not database or database == ":memory:":
            raise StorageError("the dashboard needs a database file or server, not :memory:.")
        path = Path(database).absolute()
        if not path.exists():
            raise StorageError(f"no database at {path}; run a study first or pass --storage")
        uri = f"{path.as_uri()}?mode=ro"

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA query_only=1")
            conn.execute("PRAGMA busy_timeout=10000")
            return conn

        # QueuePool, not the SingletonThreadPool SQLAlchemy picks for "sqlite://": that one
        # closes connections other threads still use once more threads than its size ask,
        # which crashes the process (seen under load with uvicorn's thread pool).
        engine = sa.create_engine(
            "sqlite://", creator=connect, poolclass=QueuePool, pool_size=4, max_overflow=12
        )
        return engine, True
    try:
        engine = sa.create_engine(
            normal,
            pool_pre_ping=True,
            pool_size=2,
            max_overflow=4,
            connect_args={"options": "-c default_transaction_read_only=on"},
        )
    except (sa.exc.SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(f"Cannot open storage {redact_url(url)}: {exc}") from None
    return engine, False


class DashboardData:
    """Read-only access to studies and trials, shaped for the dashboard's JSON API.

    >>> data = DashboardData.open("sqlite:///hypersearch.db")
    >>> data.list_studies()[0]["name"]
    """

    def __init__(self, engine: Engine, *, sqlite: bool) -> None:
        self._engine = engine
        self._sqlite = sqlite

    @classmethod
    def open(cls, url: str) -> DashboardData:
        engine, sqlite = _read_only_engine(url)
        data = cls(engine, sqlite=sqlite)
        try:
            with engine.connect() as conn:
                conn.execute(sa.select(S.c.id).limit(1)).all()
                version = conn.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                ).scalar()
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).strip()
            raise StorageError(
                f"Cannot read {redact_url(url)}: {reason}. Is it a hypersearch database?"
            ) from None
        if version is not None and int(version) < SCHEMA_VERSION:  # the dashboard only reads
            engine.dispose()
            raise StorageError(
                f"{redact_url(url)} has database schema v{version}, older than "
                f"v{SCHEMA_VERSION}; the dashboard reads it once upgraded. Back it up, then "
                f"run: hypersearch upgrade --storage {redact_url(url)}"
            )
        return data

    def close(self) -> None:
        self._engine.dispose()

    def _conn(self) -> Any:
        return self._engine.connect()

    # studies -----------------------------------------------------------------------------
    def list_studies(self) -> list[dict[str, Any]]:
        with self._conn() as conn:
            summaries = summarise_studies(conn)
        return [
            {
                "id": s.id,
                "name": s.name,
                "direction": s.direction,
                "metric": s.metric,
                "objectives": [
                    {"name": o.name, "direction": o.direction} for o in (s.objectives or ())
                ],
                "counts": dict(s.counts),
                "n_trials": s.n_trials,
                "state": "running" if s.counts.get("RUNNING") else "idle",
                "best_value": json_number(s.best_value),
                "front_size": s.front_size,
                "created_at": s.created_at,
                "last_activity": s.last_activity,
            }
            for s in summaries
        ]

    def study(self, study_id: int) -> dict[str, Any] | None:
        """The study's identity, configuration, counts per state and best trial."""
        with self._conn() as conn:
            row = conn.execute(sa.select(S).where(S.c.id == study_id)).first()
            if row is None:
                return None
            counts = {
                state: int(n)
                for state, n in conn.execute(
                    sa.select(T.c.state, sa.func.count())
                    .where(T.c.study_id == study_id)
                    .group_by(T.c.state)
                )
            }
            order = T.c.value.asc() if row.direction == Direction.MINIMIZE else T.c.value.desc()
            ranked = conn.execute(
                sa.select(T.c.number, T.c.value, T.c.constraint_violations)
                .where(
                    T.c.study_id == study_id,
                    T.c.state == TrialState.COMPLETE.value,
                    T.c.value.is_not(None),
                )
                .order_by(order, T.c.number)
                .limit(None if row.constraints else 1)
            )
            # with constraints the best is the best feasible trial (as Study.best_trial)
            best = next((r for r in ranked if _satisfied(_numbers(r[2]) or [])), None)
        space = _loads(row.space, None)
        stored = _loads(row.objectives, None) or [{"name": row.metric, "direction": row.direction}]
        return {
            "id": row.id,
            "name": row.name,
            "direction": row.direction,
            "metric": row.metric,
            "space": _clean_json(space),
            "config": _clean_json(_loads(row.config, {})),
            "created_at": row.created_at,
            "objectives": [{"name": o["name"], "direction": o["direction"]} for o in stored],
            "constraints": _clean_json(_loads(row.constraints, None)),
            "counts": counts,
            "n_trials": sum(counts.values()),
            "best": None
            if best is None
            else {"number": best.number, "value": json_number(best.value)},
        }

    def study_exists(self, study_id: int) -> bool:
        with self._conn() as conn:
            return conn.execute(sa.select(S.c.id).where(S.c.id == study_id)).first() is not None

    # trials table ---------------------------------------------------------------------------
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

    @staticmethod
    def _last_steps(conn: Any, ids: Sequence[int]) -> dict[int, int]:
        if not ids:
            return {}
        return {
            int(i): int(s)
            for i, s in conn.execute(
                sa.select(R.c.trial_id, sa.func.max(R.c.step))
                .where(R.c.trial_id.in_(list(ids)))
                .group_by(R.c.trial_id)
            )
        }

    # plots ------------------------------------------------------------------------------------
    def points_json(self, study_id: int, *, with_params: bool = True) -> str:
        """Every trial as JSON columns ``{numbers, states, values, params: [{...}, ...]}``: the
        data of the history, parallel-coordinates and slice plots (the history needs no
        ``params``, a sixth of the size). One indexed scan, no reports.

        On SQLite the database writes the JSON itself (its JSON functions are C; parsing
        50,000 parameter objects in Python takes seconds). ±inf values become the strings
        ``"Infinity"`` / ``"-Infinity"`` as everywhere in the API.
        """
        where = T.c.study_id == study_id
        if self._sqlite:
            inner = (
                sa.select(T.c.number, T.c.state, T.c.value, T.c.params)
                .where(where)
                .order_by(T.c.number)
                .subquery()
            )
            query = sa.select(
                sa.func.json_object(
                    "numbers",
                    sa.func.json_group_array(inner.c.number),
                    "states",
                    sa.func.json_group_array(inner.c.state),
                    "values",
                    sa.func.json_group_array(
                        sa.case(  # SQLite writes ±inf as Inf, which is not JSON
                            (inner.c.value > 1.7e308, "Infinity"),
                            (inner.c.value < -1.7e308, "-Infinity"),
                            else_=inner.c.value,
                        )
                    ),
                    *(
                        ("params", sa.func.json_group_array(sa.func.json(inner.c.params)))
                        if with_params
                        else ()
                    ),
                )
            )
            try:
                with self._conn() as conn:
                    return str(conn.execute(query).scalar_one())
            except sa.exc.OperationalError:  # e.g. a NaN some writer put in params: not JSON
                pass
        points = self._points(study_id)
        if not with_params:
            del points["params"]
        return json.dumps(points, separators=(",", ":"), allow_nan=False)

    def points(self, study_id: int, *, with_params: bool = True) -> dict[str, Any]:
        """``points_json`` as Python objects (NaN and ±inf as strings)."""
        if self._sqlite:
            loaded = json.loads(self.points_json(study_id, with_params=with_params))
            return {k: _clean_json(v) for k, v in loaded.items()}
        points = self._points(study_id)
        if not with_params:
            del points["params"]
        return points

    def objective_points(
        self, study_id: int
    ) -> tuple[list[int], list[list[Any]], list[bool], list[list[Any] | None]]:
        """The COMPLETE trials with every objective's value: numbers, values, whether each is
        feasible and its constraint violations (the Pareto and hypervolume charts)."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.objective_values, T.c.constraint_violations)
                .where(
                    T.c.study_id == study_id,
                    T.c.state == TrialState.COMPLETE.value,
                    T.c.objective_values.is_not(None),
                )
                .order_by(T.c.number)
            ).all()
        numbers, values, feasible, violations = [], [], [], []
        for n, given, violated in rows:
            numbers.append(int(n))
            values.append(_numbers(given) or [])
            found = _numbers(violated)
            violations.append(found)
            feasible.append(found is None or _satisfied(found))
        return numbers, values, feasible, violations

    def infeasible_numbers(self, study_id: int) -> list[int]:
        """The numbers of the COMPLETE trials that break a constraint (the history's ×)."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.constraint_violations).where(
                    T.c.study_id == study_id,
                    T.c.state == TrialState.COMPLETE.value,
                    T.c.constraint_violations.is_not(None),
                )
            ).all()
        return sorted(int(n) for n, found in rows if not _satisfied(_numbers(found) or []))

    def fail_reasons(self, study_id: int) -> dict[int, str]:
        """``{number: reason}`` of the FAILED trials (the history's hover texts)."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.fail_reason).where(
                    T.c.study_id == study_id, T.c.state == TrialState.FAILED.value
                )
            ).all()
        return {int(n): str(r) for n, r in rows if r}

    def states_and_values(
        self, study_id: int, numbers: Sequence[int]
    ) -> tuple[dict[int, str], dict[int, float | str | None]]:
        """The state and value of each of ``numbers`` (the learning curves' colours)."""
        states: dict[int, str] = {}
        values: dict[int, float | str | None] = {}
        with self._conn() as conn:
            for start in range(0, len(numbers), 500):
                chunk = list(numbers[start : start + 500])
                for n, state, value in conn.execute(
                    sa.select(T.c.number, T.c.state, T.c.value).where(
                        T.c.study_id == study_id, T.c.number.in_(chunk)
                    )
                ):
                    states[int(n)] = str(state)
                    values[int(n)] = json_number(value)
        return states, values

    def _points(self, study_id: int) -> dict[str, Any]:
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.state, T.c.value, T.c.params)
                .where(T.c.study_id == study_id)
                .order_by(T.c.number)
            ).all()
        return {
            "numbers": [r.number for r in rows],
            "states": [r.state for r in rows],
            "values": [json_number(r.value) for r in rows],
            "params": [_clean_json(_loads(r.params, {})) for r in rows],
        }

    def signature(self, study_id: int) -> tuple[Any, ...]:
        """Changes whenever a trial is added, deleted or changes state: a cache key for
        ``points`` and importance (two small index-only queries)."""
        with self._conn() as conn:
            max_id = conn.execute(sa.select(sa.func.max(T.c.id)).where(T.c.study_id == study_id))
            top = max_id.scalar()
            counts = conn.execute(
                sa.select(T.c.state, sa.func.count())
                .where(T.c.study_id == study_id)
                .group_by(T.c.state)
                .order_by(T.c.state)
            ).all()
        return (top, tuple((s, int(n)) for s, n in counts))

    def default_curve_numbers(self, study_id: int, direction: str, k: int = 60) -> list[int]:
        """The trials whose curves the study page shows first: the ``k`` best finished ones,
        every running one, and the ``k`` most recent."""
        order = T.c.value.asc() if direction == Direction.MINIMIZE else T.c.value.desc()
        with self._conn() as conn:
            best = conn.execute(
                sa.select(T.c.number)
                .where(
                    T.c.study_id == study_id,
                    T.c.state.in_(FINISHED_STATES),
                    T.c.value.is_not(None),
                )
                .order_by(order)
                .limit(k)
            ).scalars()
            numbers = list(best)
            numbers += conn.execute(
                sa.select(T.c.number).where(T.c.study_id == study_id, T.c.state.in_(LIVE_STATES))
            ).scalars()
            numbers += conn.execute(
                sa.select(T.c.number)
                .where(T.c.study_id == study_id)
                .order_by(T.c.number.desc())
                .limit(k)
            ).scalars()
        return sorted(set(numbers))[:MAX_CURVES]

    def curves(self, study_id: int, numbers: Iterable[int]) -> dict[str, list[list[Any]]]:
        """Learning curves ``{number: [[step, value], ...]}`` of at most MAX_CURVES trials."""
        wanted = sorted(set(numbers))
        if len(wanted) > MAX_CURVES:
            raise InvalidArgumentError(f"ask for at most {MAX_CURVES} curves at once.")
        if not wanted:
            return {}
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, R.c.step, R.c.value)
                .join(R, R.c.trial_id == T.c.id)
                .where(T.c.study_id == study_id, T.c.number.in_(wanted))
                .order_by(T.c.number, R.c.step)
            ).all()
        out: dict[str, list[list[Any]]] = {}
        for number, step, value in rows:
            out.setdefault(str(number), []).append([step, json_number(value)])
        return out

    # one trial --------------------------------------------------------------------------------
    def trial(self, study_id: int, number: int) -> dict[str, Any] | None:
        with self._conn() as conn:
            row = conn.execute(
                sa.select(T).where(T.c.study_id == study_id, T.c.number == number)
            ).first()
            if row is None:
                return None
            curve = conn.execute(
                sa.select(R.c.step, R.c.value).where(R.c.trial_id == row.id).order_by(R.c.step)
            ).all()
        out = _row_dict(row, curve[-1].step if curve else None)
        out.update(
            {
                "distributions": _clean_json(_loads(row.distributions, {})),
                "metrics": _clean_json(_loads(row.metrics, {})),
                "attrs": _clean_json(_loads(row.attrs, {})),
                "traceback": row.traceback,
                "pid": row.pid,
                "heartbeat_at": row.heartbeat_at,
                "claim_key": row.claim_key,
                "curve": [[s, json_number(v)] for s, v in curve],
            }
        )
        return out

    def finished_values_numbered(
        self, study_id: int, *, limit: int
    ) -> tuple[list[int], list[float], list[dict[str, Any]]]:
        """Numbers, finite values and parameters of the COMPLETE trials (an evenly spaced
        sample of at most ``limit``), for the analysis charts; a multi-objective study's first
        objective."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, T.c.params, T.c.value, T.c.objective_values)
                .where(
                    T.c.study_id == study_id,
                    T.c.state == TrialState.COMPLETE.value,
                    sa.or_(T.c.value.is_not(None), T.c.objective_values.is_not(None)),
                )
                .order_by(T.c.number)
            ).all()
        if len(rows) > limit:
            stride = len(rows) / limit
            rows = [rows[int(i * stride)] for i in range(limit)]
        numbers: list[int] = []
        values: list[float] = []
        params: list[dict[str, Any]] = []
        for r in rows:
            value = r.value if r.value is not None else _first(r.objective_values)
            if value is not None and math.isfinite(value):
                numbers.append(r.number)
                values.append(float(value))
                params.append(_loads(r.params, {}))
        return numbers, values, params

    def last_steps_of_finished(self, study_id: int) -> dict[int, int]:
        """``{number: last reported step}`` of the COMPLETE and STOPPED trials that reported."""
        done = (TrialState.COMPLETE.value, TrialState.STOPPED.value)
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.number, sa.func.max(R.c.step))
                .join(R, R.c.trial_id == T.c.id)
                .where(T.c.study_id == study_id, T.c.state.in_(done))
                .group_by(T.c.number)
            ).all()
        return {int(n): int(s) for n, s in rows if s is not None}

    def values_at_step(
        self, study_id: int, numbers: Sequence[int], step: int
    ) -> dict[int, tuple[float, dict[str, Any]]]:
        """``{number: (value, params)}``: each trial's last finite report at or before ``step``."""
        out: dict[int, tuple[float, dict[str, Any]]] = {}
        with self._conn() as conn:
            for start in range(0, len(numbers), 500):
                chunk = list(numbers[start : start + 500])
                trials = {
                    r.id: (r.number, r.params)
                    for r in conn.execute(
                        sa.select(T.c.id, T.c.number, T.c.params).where(
                            T.c.study_id == study_id, T.c.number.in_(chunk)
                        )
                    )
                }
                last: dict[int, float] = {}
                for trial_id, value in conn.execute(
                    sa.select(R.c.trial_id, R.c.value)
                    .where(R.c.trial_id.in_(list(trials)), R.c.step <= step)
                    .order_by(R.c.trial_id, R.c.step)
                ):
                    if value is not None and math.isfinite(value):
                        last[trial_id] = float(value)
                for trial_id, value in last.items():
                    number, params = trials[trial_id]
                    out[number] = (value, _loads(params, {}))
        return out

    def param_definitions(self, study_id: int, space: Mapping[str, Any] | None) -> dict[str, Any]:
        """Every parameter's definition: the study's space, then the define-by-run parameters
        of its 200 latest trials (so the table has every column before any chart loads)."""
        with self._conn() as conn:
            rows = conn.execute(
                sa.select(T.c.distributions)
                .where(T.c.study_id == study_id)
                .order_by(T.c.id.desc())
                .limit(200)
            ).scalars()
            found: dict[str, Any] = {}
            for text in rows:
                for name, definition in _loads(text, {}).items():
                    found.setdefault(str(name), definition)
        declared = dict(space or {})
        extra = {k: found[k] for k in sorted(found) if k not in declared}
        return _clean_json({**declared, **extra})

    # live updates ---------------------------------------------------------------------------
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


def _first(text: str | None) -> float | None:
    """The first of a stored list of objective values."""
    found = json.loads(text) if text else None
    return float(found[0]) if found else None


def _numbers(text: str | None) -> list[Any] | None:
    """A stored JSON list of numbers (NaN and infinities as JSON extensions) for the API."""
    if not text:
        return None
    return [json_number(float(v)) for v in json.loads(text)]


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


def _satisfied(violations: Sequence[Any]) -> bool:
    """Every constraint satisfied (a violation <= 0; NaN or infinity as a string: not)."""
    return all(isinstance(v, int | float) and v <= 0 for v in violations)


def _row_dict(row: Any, last_step: int | None) -> dict[str, Any]:
    violations = _numbers(row.constraint_violations)
    duration = None
    if row.started_at is not None and row.finished_at is not None:
        duration = max(0.0, row.finished_at - row.started_at)
    return {
        "number": row.number,
        "state": row.state,
        "source": row.source,
        "value": json_number(row.value),
        "values": _numbers(row.objective_values),
        "constraint_violations": violations,
        "feasible": None if violations is None else _satisfied(violations),
        "params": _clean_json(_loads(row.params, {})),
        "note": row.note or "",
        "tags": [str(t) for t in _loads(row.tags, [])],
        "fail_reason": row.fail_reason,
        "host": row.host,
        "gpu": row.gpu,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "duration": duration,
        "last_step": last_step,
    }
