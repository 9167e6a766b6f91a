"""Read-only queries behind the dashboard and the HTML report.

The dashboard never writes through this module: it has its own engine, opened read-only
(SQLite ``mode=ro`` plus ``PRAGMA query_only``; PostgreSQL ``default_transaction_read_only``),
so a dashboard can never lock or corrupt a running study. Every query is bounded: pages of the
trials table are sorted and cut in SQL, and live updates (``changes``) touch only the trials
that are new or still running, through primary-key and (study, state) index lookups.

``DashboardData`` gathers the query groups: the trials table (``query_trials``), chart data
(``query_plots``), analysis (``query_analysis``) and live updates (``query_live``), over the
shared row shape and ``Cursor`` of ``query_common``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from hypersearch.dashboard.query_analysis import AnalysisQueries
from hypersearch.dashboard.query_common import MAX_CURVES as MAX_CURVES
from hypersearch.dashboard.query_common import MAX_PAGE as MAX_PAGE
from hypersearch.dashboard.query_common import (
    Cursor,
    R,
    S,
    T,
    _clean_json,
    _loads,
    _numbers,
    _row_dict,
    _satisfied,
    json_number,
)
from hypersearch.dashboard.query_live import LiveQueries
from hypersearch.dashboard.query_plots import PlotQueries
from hypersearch.dashboard.query_trials import TrialTableQueries
from hypersearch.direction import Direction
from hypersearch.exceptions import StorageError
from hypersearch.storage.engine import normalise_url, redact_url
from hypersearch.storage.schema import SCHEMA_VERSION, meta_table
from hypersearch.storage.summaries import summarise_studies
from hypersearch.trial import TrialState

__all__ = ["Cursor", "DashboardData", "json_number"]


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


class DashboardData(TrialTableQueries, PlotQueries, AnalysisQueries, LiveQueries):
    """Read-only access to studies and trials, shaped for the dashboard's JSON API.

    >>> data = DashboardData.open("sqlite:///hypersearch.db")
    >>> data.list_studies()[0]["name"]
    """

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
