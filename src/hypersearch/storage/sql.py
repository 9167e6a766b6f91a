"""SQL storage through SQLAlchemy Core: SQLite (embedded default, and in-memory) and PostgreSQL.

SQLite discipline from DESIGN.md: WAL journal, ``BEGIN IMMEDIATE`` for every write
transaction of more than one statement (a single-statement write is its own transaction and
takes the write lock before it reads), a busy timeout plus bounded jittered retry, and short
transactions that never run user code. Timestamps come from the database's clock, so leases
agree across machines.

A trial's own path (claim, history, parameters, finish) is one statement each in the usual
case, prepared once (``_HotStatements``): see bench/RESULTS-parallel.md.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import random
import re
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from hypersearch.exceptions import (
    DuplicateStudyError,
    InvalidArgumentError,
    SchemaVersionError,
    StaleTrialError,
    StorageError,
    StudyNotFoundError,
    TrialNotFoundError,
)
from hypersearch.objectives import Objective, pareto_front
from hypersearch.space import param_from_dict
from hypersearch.storage.base import ClaimedTrial, Storage, StudyRecord, StudySummary
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["SCHEMA_VERSION", "SQLStorage", "redact_url"]

#: Version of the tables below. Bump it with a migration in ``upgrade_schema``.
#: v2: several objectives and outcome constraints (JSON text columns, NULL for old rows).
SCHEMA_VERSION = 2

T = TypeVar("T")
_metadata = sa.MetaData()

meta_table = sa.Table(
    "hs_meta",
    _metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
studies_table = sa.Table(
    "hs_studies",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("metric", sa.String(255), nullable=False),
    sa.Column("space", sa.Text, nullable=True),
    sa.Column("config", sa.Text, nullable=False, default="{}"),
    sa.Column("created_at", sa.Double, nullable=True),
    # v2: [{"name", "direction"}, ...] and [{"metric", "op", "bound"} | {"function"}, ...]
    sa.Column("objectives", sa.Text, nullable=True),
    sa.Column("constraints", sa.Text, nullable=True),
)
trials_table = sa.Table(
    "hs_trials",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, sa.ForeignKey("hs_studies.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False, default="sampler"),
    sa.Column("params", sa.Text, nullable=False, default="{}"),
    sa.Column("distributions", sa.Text, nullable=False, default="{}"),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("metrics", sa.Text, nullable=False, default="{}"),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("attrs", sa.Text, nullable=False, default="{}"),
    sa.Column("fail_reason", sa.Text, nullable=True),
    sa.Column("traceback", sa.Text, nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("gpu", sa.String(255), nullable=True),
    sa.Column("token", sa.String(64), nullable=True),
    sa.Column("claim_key", sa.String(255), nullable=True),
    sa.Column("created_at", sa.Double, nullable=True),
    sa.Column("started_at", sa.Double, nullable=True),
    sa.Column("finished_at", sa.Double, nullable=True),
    sa.Column("heartbeat_at", sa.Double, nullable=True),
    # v2: every objective's value (a JSON list, multi-objective studies) and one violation
    # per constraint (a JSON list; <= 0 satisfied)
    sa.Column("objective_values", sa.Text, nullable=True),
    sa.Column("constraint_violations", sa.Text, nullable=True),
    sa.UniqueConstraint("study_id", "number", name="uq_trial_number"),
    sa.UniqueConstraint("study_id", "claim_key", name="uq_trial_claim_key"),
    sa.Index("ix_trials_study_state", "study_id", "state"),
)
reports_table = sa.Table(
    "hs_reports",
    _metadata,
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("hs_trials.id"), primary_key=True),
    sa.Column("step", sa.Integer, primary_key=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("at", sa.Double, nullable=True),
    # v2: every objective's value at this step (a JSON list; ``value`` keeps the first)
    sa.Column("objective_values", sa.Text, nullable=True),
)

_FINISHED = [s.value for s in TrialState if s.is_finished]


def _has_reports() -> sa.Label[bool]:
    """A column saying whether a trial row has any reports, so reading its learning curve
    (another statement) is skipped for the many trials that report nothing."""
    return (
        sa.exists()
        .where(reports_table.c.trial_id == trials_table.c.id)
        .correlate(trials_table)
        .label("has_reports")
    )


def _add_multi_objective_columns(conn: Connection) -> None:
    """v1 -> v2: the columns of several objectives and constraints, NULL in existing rows
    (which read as single-objective studies without constraints, as before)."""
    for table, column in (
        (studies_table, "objectives"),
        (studies_table, "constraints"),
        (trials_table, "objective_values"),
        (trials_table, "constraint_violations"),
        (reports_table, "objective_values"),
    ):
        conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column} TEXT"))


#: ``_MIGRATIONS[v](conn)`` turns schema v into v+1 inside the upgrade transaction.
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _add_multi_objective_columns}
_WRITE_RETRIES = 12
#: Error texts that mean the database connection went away (server restart, network).
_CONNECTION_LOST = (
    "connection",
    "server closed",
    "terminating",
    "starting up",
    "shutting down",
    "could not connect",
    "eof detected",
    "ssl syscall",
)
#: What to do about database errors no retry can mend, by a phrase of their message.
_REMEDIES = (
    ("disk is full", "Free space on the disk that holds it (results so far are kept)."),
    ("no space left", "Free space on the disk that holds it (results so far are kept)."),
    ("readonly database", "Make the file and its folder writable by this user."),
    ("read-only", "Make the database writable by this user."),
    ("permission denied", "Give this user access to the database (or its file and folder)."),
)
logger = logging.getLogger("hypersearch")


def _remedy(message: str) -> str:
    """What to do, as ``" Free space..."`` to append to a database error message we know
    the cure of, else ``""``."""
    text = message.lower()
    return next((f" {cure}" for phrase, cure in _REMEDIES if phrase in text), "")


def redact_url(url: str) -> str:
    """Hide the password of a database URL: ``postgresql://u:***@host/db``."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=_json_default, sort_keys=False)


def _json_default(obj: Any) -> Any:
    for cast in (float, str):
        try:
            return cast(obj)
        except (TypeError, ValueError):
            continue
    raise TypeError(f"{obj!r} is not JSON serialisable")


def _loads(text: str | None, default: Any) -> Any:
    return default if not text else json.loads(text)


def _nap_while_busy(raw: Any, busy_ms: int, call: Callable[[], T]) -> T:
    """``call()`` (a write on the SQLite connection ``raw``), waiting for another writer in
    naps of tens of microseconds at first. SQLite's own busy handler sleeps 1, 2, 5, 10...
    ms, far longer than our writes hold the lock, so with a few workers on one file most of
    their time went to sleeping; it still does the waiting after the first 0.5 s. ``call``
    must have had no effect when it fails as busy (true of BEGIN and of one statement)."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        nap = 50e-6
        deadline = time.monotonic() + 0.5
        while True:
            try:
                return call()
            except (sqlite3.OperationalError, OperationalError) as exc:
                text = str(exc).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    break
            time.sleep(nap * (0.5 + random.random()))
            nap = min(nap * 1.5, 0.002)
    finally:
        # an interrupt (Ctrl-C) inside ``call`` makes SQLAlchemy close the connection; then
        # there is nothing to restore, and the interrupt, not this, must reach the user
        with suppress(sqlite3.ProgrammingError):
            raw.execute(f"PRAGMA busy_timeout={busy_ms}")
    return call()  # other errors raise again here; a long wait uses the busy handler


def _merge_params(
    params_text: str | None,
    dists_text: str | None,
    params: Mapping[str, Any],
    distributions: Mapping[str, Mapping[str, Any]],
) -> tuple[str, str]:
    """Stored parameters and their definitions with new ones merged in, as stored text."""
    return (
        _dumps({**_loads(params_text, {}), **params}),
        _dumps({**_loads(dists_text, {}), **distributions}),
    )


def check_name(name: str, what: str) -> None:
    """Refuse a name no backend can keep as given: PostgreSQL text cannot hold NUL."""
    if isinstance(name, str) and "\x00" in name:
        raise InvalidArgumentError(
            f"A {what} cannot contain a NUL byte (\\x00), got {name!r}. Choose one without it."
        )


def _text(value: str | None) -> str | None:
    """Free text (a failure reason, a traceback, a note) as any backend can store it:
    PostgreSQL text cannot hold NUL, so NUL is written visibly as ``\\x00``. JSON columns
    need nothing: JSON escapes NUL itself."""
    return None if value is None else value.replace("\x00", "\\x00")


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _floats_text(values: Sequence[float] | None) -> str | None:
    """Several numbers as stored (a JSON list; NaN and infinities as JSON extensions)."""
    return None if values is None else json.dumps([float(v) for v in values])


def _floats(text: str | None) -> tuple[float, ...] | None:
    return None if not text else tuple(float(v) for v in json.loads(text))


def _objectives(row: Any) -> tuple[Objective, ...]:
    """A study row's objectives; rows of schema v1 have one, its metric and direction."""
    stored = _loads(row._mapping.get("objectives"), None)
    if not stored:
        return (Objective(row.metric, row.direction),)
    return tuple(Objective(o["name"], o["direction"]) for o in stored)


def summarise_studies(conn: Connection) -> list[StudySummary]:
    """Every study with its trial counts per state, best value and last activity, in four
    grouped queries (shared by the storage and the dashboard's read-only connection)."""
    t = trials_table
    studies = conn.execute(sa.select(studies_table).order_by(studies_table.c.id)).all()
    counts = conn.execute(
        sa.select(t.c.study_id, t.c.state, sa.func.count()).group_by(t.c.study_id, t.c.state)
    ).all()
    stats = conn.execute(
        sa.select(
            t.c.study_id,
            sa.func.max(sa.func.coalesce(t.c.finished_at, t.c.started_at, t.c.created_at)),
        ).group_by(t.c.study_id)
    ).all()
    best = conn.execute(
        sa.select(t.c.study_id, sa.func.min(t.c.value), sa.func.max(t.c.value))
        .where(t.c.state == TrialState.COMPLETE.value)
        .group_by(t.c.study_id)
    ).all()
    by_study: dict[int, dict[str, int]] = {}
    for sid, state, n in counts:
        by_study.setdefault(sid, {})[state] = int(n)
    last = {sid: at for sid, at in stats}
    extremes = {sid: (lo, hi) for sid, lo, hi in best}
    objectives = {s.id: _objectives(s) for s in studies}
    judged = {
        s.id
        for s in studies
        if len(objectives[s.id]) > 1 or _loads(s._mapping.get("constraints"), None)
    }
    results = _feasible_results(conn, judged, objectives)
    out = []
    for s in studies:
        lo, hi = extremes.get(s.id, (None, None))
        best_value, front_size = lo if s.direction == "minimize" else hi, None
        if s.id in judged:
            best_value, front_size = results.get(s.id, (None, 0))
        out.append(
            StudySummary(
                id=s.id,
                name=s.name,
                direction=s.direction,
                metric=s.metric,
                counts=by_study.get(s.id, {}),
                best_value=best_value,
                created_at=s.created_at,
                last_activity=last.get(s.id) or s.created_at,
                objectives=objectives[s.id],
                front_size=front_size,
            )
        )
    return out


def _feasible_results(
    conn: Connection, study_ids: set[int], objectives: Mapping[int, tuple[Objective, ...]]
) -> dict[int, tuple[float | None, int | None]]:
    """(best feasible value, None) of each constrained single-objective study and (None,
    size of the Pareto front) of each multi-objective one, by the rules of ``best_trials``."""
    if not study_ids:
        return {}
    t = trials_table
    rows = conn.execute(
        sa.select(
            t.c.study_id, t.c.number, t.c.value, t.c.objective_values, t.c.constraint_violations
        ).where(t.c.state == TrialState.COMPLETE.value, t.c.study_id.in_(sorted(study_ids)))
    ).all()
    by_study: dict[int, list[TrialRecord]] = {sid: [] for sid in study_ids}
    for row in rows:
        by_study[row.study_id].append(
            TrialRecord(
                number=row.number,
                state=TrialState.COMPLETE,
                params={},
                value=row.value,
                values=_floats(row.objective_values),
                constraint_violations=_floats(row.constraint_violations),
            )
        )
    out: dict[int, tuple[float | None, int | None]] = {}
    for sid, trials in by_study.items():
        objs = objectives[sid]
        if len(objs) > 1:
            out[sid] = (None, len(pareto_front(trials, [o.direction for o in objs])))
            continue
        feasible = [t.value for t in trials if t.feasible and t.has_value]
        pick = min if objs[0].direction == "minimize" else max
        out[sid] = (pick(feasible) if feasible else None, None)  # type: ignore[type-var]
    return out


class _HotStatements:
    """The statements every trial runs, built once per storage with bound parameters.

    Building a SQLAlchemy statement costs more Python time than running it on SQLite, so
    the per-trial path (claim, parameters, finish, history) reuses these instead."""

    def __init__(self, now: sa.ColumnElement[float], *, sqlite: bool) -> None:
        t = trials_table
        p = sa.bindparam
        running = {
            "state": TrialState.RUNNING.value,
            "token": p("v_token"),
            "host": p("v_host"),
            "pid": p("v_pid"),
            "gpu": p("v_gpu"),
            "started_at": now,
            "heartbeat_at": now,
        }
        waiting = t.alias("waiting")  # not correlated with the updated row
        oldest = (
            sa.select(waiting.c.id)
            .where(waiting.c.study_id == p("v_study"), waiting.c.state == TrialState.WAITING.value)
            .order_by(waiting.c.number)
            .limit(1)
        )
        if not sqlite:  # a WAITING row another worker is taking is skipped, not waited for
            oldest = oldest.with_for_update(skip_locked=True)
        #: the oldest WAITING trial made RUNNING, returned (no row when there is none)
        self.take = (
            t.update()
            .where(t.c.id == oldest.scalar_subquery(), t.c.state == TrialState.WAITING.value)
            .values(**running)
            .returning(*t.c)
        )
        other = t.alias("other")
        last = (
            sa.select(other.c.number)
            .where(other.c.study_id == p("v_study"))
            .order_by(other.c.number.desc())
            .limit(1)
            .scalar_subquery()
        )
        new = {
            "study_id": p("v_study", type_=sa.Integer),
            "number": sa.func.coalesce(last, -1) + 1,
            "created_at": now,
            "source": sa.literal("sampler", sa.String),
            "state": sa.literal(TrialState.RUNNING.value, sa.String),
            "token": p("v_token", type_=sa.String),
            "host": p("v_host", type_=sa.String),
            "pid": p("v_pid", type_=sa.Integer),
            "gpu": p("v_gpu", type_=sa.String),
            "started_at": now,
            "heartbeat_at": now,
        }
        # Two workers may compute the same number: the second insert waits for the first to
        # commit, then inserts nothing (and the claim tries again) instead of failing.
        dialect_insert = sqlite_insert if sqlite else postgresql_insert
        number_taken = [t.c.study_id, t.c.number]
        #: a new RUNNING trial numbered after the study's last one, returned (no row when
        #: another worker took that number first)
        self.insert = (
            dialect_insert(t)
            .values(**new)
            .on_conflict_do_nothing(index_elements=number_taken)
            .returning(*t.c)
        )
        queued = t.alias("queued")
        none_waiting = ~sa.exists().where(
            queued.c.study_id == p("v_study"), queued.c.state == TrialState.WAITING.value
        )
        #: the same, only when the study has no WAITING trial (which goes first): the usual
        #: claim in one statement
        self.insert_unless_waiting = (
            dialect_insert(t)
            .from_select(
                list(new), sa.select(*(v.label(k) for k, v in new.items())).where(none_waiting)
            )
            .on_conflict_do_nothing(index_elements=number_taken)
            .returning(*t.c)
        )
        #: the study's number-allocation lock (PostgreSQL; see ``_lock_numbers``)
        self.lock = (
            sa.select(studies_table.c.id)
            .where(studies_table.c.id == p("v_study"))
            .with_for_update()
        )
        owned = sa.and_(
            t.c.id == p("v_id"), t.c.token == p("v_token"), t.c.state == TrialState.RUNNING.value
        )
        #: parameters replaced, only while the lease and the stored parameters are unchanged
        self.set_params = (
            t.update()
            .where(owned, t.c.params == p("v_old_params"), t.c.distributions == p("v_old_dists"))
            .values(params=p("v_params"), distributions=p("v_dists"))
        )
        #: a trial still RUNNING under the token finished, returned
        self.finish = (
            t.update()
            .where(owned)
            .values(
                state=p("v_state"),
                value=p("v_value"),
                metrics=p("v_metrics"),
                fail_reason=p("v_reason"),
                traceback=p("v_traceback"),
                objective_values=p("v_objective_values"),
                constraint_violations=p("v_constraint_violations"),
                finished_at=now,
            )
            .returning(*t.c, _has_reports())
        )
        after = sa.select(t, _has_reports()).where(t.c.study_id == p("v_study"))
        #: trials numbered above ``v_after`` (and, with ``v_numbers``, those numbers too)
        self.after = after.where(t.c.number > p("v_after")).order_by(t.c.number)
        self.after_or = after.where(
            sa.or_(t.c.number > p("v_after"), t.c.number.in_(p("v_numbers", expanding=True)))
        ).order_by(t.c.number)


#: Every open storage, so that program exit closes them: closing the last connection to a
#: SQLite file writes the WAL back into the .db file, which then holds the whole study.
_OPEN: weakref.WeakSet[SQLStorage] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for storage in list(_OPEN):
        with suppress(Exception):
            storage.close()


def _retry_window(seconds: float | None) -> float:
    """How long a lost connection is retried: ``seconds``, else
    ``$HYPERSEARCH_CONNECTION_RETRY_S``, else two minutes."""
    if seconds is None:
        text = os.environ.get("HYPERSEARCH_CONNECTION_RETRY_S", "").strip()
        try:
            seconds = float(text) if text else 120.0
        except ValueError:
            raise InvalidArgumentError(
                f"HYPERSEARCH_CONNECTION_RETRY_S must be a number of seconds, got {text!r}."
            ) from None
    if not seconds >= 0:
        raise InvalidArgumentError(f"connection_retry_s must be >= 0 seconds, got {seconds!r}.")
    return float(seconds)


def normalise_url(url: str) -> str:
    """Accept plain file paths and ``postgresql://`` URLs; pick the drivers we ship with."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


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
        self._in_memory = url is None or url in ("sqlite://", "sqlite:///:memory:")
        raw = "sqlite://" if self._in_memory else normalise_url(str(url))
        self.url = redact_url(raw)
        self._raw_url = raw  # with the password: only handed to our own worker processes
        self._sqlite = raw.startswith("sqlite")
        # An in-memory database is one connection shared by every thread (the heartbeat, a
        # dashboard thread): transactions on it must take turns.
        self._memory_lock: AbstractContextManager[Any] = (
            threading.RLock() if self._in_memory else nullcontext()
        )
        self._busy_ms = int(busy_timeout_s * 1000)
        #: A SQLite file in a folder this user cannot write: opened read-only (immutable).
        self.read_only = False
        self._engine = self._make_engine(raw, busy_timeout_s)
        self._now = self._db_clock()
        self._hot = _HotStatements(self._now, sqlite=self._sqlite)
        # (params, distributions) as stored, of the trials this object claimed and has not
        # finished: lets a lease holder update them in one conditional statement.
        self._owned: dict[int, tuple[str, str]] = {}
        # A server that cannot be reached at all is an error at once (a wrong URL); once open,
        # a lost connection is retried with back-off for ``connection_retry_s`` seconds.
        retry_s = _retry_window(connection_retry_s)
        #: ``time.monotonic()`` when a lost connection last came back (see ``_retrying``).
        self.reconnected_at = -math.inf
        self._connection_lost = False
        self.connection_retry_s = 1.0
        self._open_schema(allow_older=upgrading)
        self.connection_retry_s = retry_s
        _OPEN.add(self)

    @property
    def in_memory(self) -> bool:
        """True for an in-memory database (``SQLStorage(None)``): it lives in this process
        only, so other processes cannot share it."""
        return self._in_memory

    @property
    def worker_url(self) -> str:
        """The URL with its password, to open this database from our own worker processes.
        Never print or log it: ``url`` is the redacted one, safe to show."""
        return self._raw_url

    # engine and transactions -------------------------------------------------------
    def _make_engine(self, raw: str, busy_timeout_s: float) -> Engine:
        try:
            if self._in_memory:
                engine = sa.create_engine(
                    "sqlite://",
                    poolclass=StaticPool,
                    connect_args={"check_same_thread": False},
                )
            elif self._sqlite:
                path = sa.engine.make_url(raw).database or ""
                folder = os.path.dirname(os.path.abspath(path))
                if not os.path.isdir(folder):
                    raise StorageError(
                        f"Cannot open {self.url}: folder {folder!r} does not exist. "
                        "Create it or choose another path."
                    )
                if os.path.exists(path) and not os.access(folder, os.W_OK):
                    engine = self._read_only_engine(path, busy_timeout_s)
                else:
                    engine = sa.create_engine(
                        raw, connect_args={"timeout": busy_timeout_s, "check_same_thread": False}
                    )
            else:
                backend = sa.engine.make_url(raw).get_backend_name()
                if backend != "postgresql":
                    raise StorageError(
                        f"Cannot open storage {self.url}: hypersearch keeps studies in SQLite "
                        f"or PostgreSQL, not {backend}. Use sqlite:///path/to/file.db or "
                        "postgresql://user:password@host/database."
                    )
                # No pool_pre_ping (a round trip per transaction): a dead pooled connection
                # fails its transaction, SQLAlchemy empties the pool, and ``_retrying`` runs
                # the transaction again on a fresh connection.
                engine = sa.create_engine(raw, pool_size=2, max_overflow=4)
        except StorageError:
            raise
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            hint = ""
            if isinstance(exc, ImportError) or "psycopg" in str(exc):
                hint = ' Install the driver: pip install "hypersearch[postgres]".'
            raise StorageError(f"Cannot open storage {self.url}: {exc}.{hint}") from None
        if self._sqlite:
            self._configure_sqlite(engine, busy_timeout_s)
        return engine

    def _read_only_engine(self, path: str, busy_timeout_s: float) -> Engine:
        """A database in a folder this user cannot write (a shared, read-only mount): SQLite
        cannot create the WAL's shared-memory file there, so open it as immutable; it is
        read as the .db file holds it (everything, once its writers have ended)."""
        self.read_only = True
        uri = f"{Path(path).absolute().as_uri()}?immutable=1"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, check_same_thread=False)

        return sa.create_engine("sqlite://", creator=connect)

    def _configure_sqlite(self, engine: Engine, busy_timeout_s: float) -> None:
        in_memory = self._in_memory or self.read_only

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        busy_ms = self._busy_ms

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # straight to the driver: this runs for every transaction
            options = conn.get_execution_options()
            if options.get("hs_autocommit"):
                return  # one statement on its own (see ``_write_one``)
            raw: Any = conn.connection.dbapi_connection
            try:
                if options.get("hs_write"):
                    _nap_while_busy(raw, busy_ms, lambda: raw.execute("BEGIN IMMEDIATE"))
                else:
                    raw.execute("BEGIN DEFERRED")
            except sqlite3.OperationalError as exc:  # as if SQLAlchemy had run it
                raise OperationalError("BEGIN", None, exc) from None

    def _db_clock(self) -> sa.ColumnElement[float]:
        if self._sqlite:
            return sa.literal_column("((julianday('now') - 2440587.5) * 86400.0)", sa.Double)
        return sa.literal_column("EXTRACT(EPOCH FROM clock_timestamp())", sa.Double)

    def _retrying(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one whole transaction), retrying a locked SQLite file a bounded number of
        times and a lost database connection (server restart, network) with jittered back-off
        for up to ``connection_retry_s`` seconds."""
        delay = 0.02
        attempt = 0
        started = time.monotonic()
        while True:
            attempt += 1
            try:
                result = fn()
            except sa.exc.DataError as exc:  # a value the database cannot hold: say which
                reason = " ".join(str(exc.orig or exc).split())
                raise StorageError(f"Storage {self.url} refused a value: {reason}.") from None
            except (OperationalError, sa.exc.InterfaceError, sa.exc.DBAPIError) as exc:
                invalidated = bool(getattr(exc, "connection_invalidated", False))
                if not isinstance(exc, OperationalError | sa.exc.InterfaceError) and not (
                    invalidated
                ):
                    raise
                text = str(exc).lower()
                lost = invalidated or any(s in text for s in _CONNECTION_LOST)
                locked = any(s in text for s in ("locked", "busy"))
                if lost:
                    self._connection_lost = True
                elapsed = time.monotonic() - started
                if lost and elapsed < self.connection_retry_s:
                    if attempt == 1 or attempt % 10 == 0:
                        logger.warning(
                            "Lost the connection to %s; retrying (%.0f s so far): %s",
                            self.url,
                            elapsed,
                            str(exc.orig or exc).strip().splitlines()[0],
                        )
                elif not locked or attempt >= _WRITE_RETRIES:
                    reason = " ".join(str(exc.orig or exc).split())  # one line
                    raise StorageError(
                        f"Storage {self.url} failed: {reason}.{_remedy(reason)}"
                    ) from None
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
                continue
            if self._connection_lost:  # back after an outage: leases may be stale, see
                self._connection_lost = False  # Study.reap_lost_trials
                self.reconnected_at = time.monotonic()
            return result

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            self._memory_lock,
            self._engine.connect().execution_options(hs_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            # getting a connection is retried like a write; the reads themselves are short
            with self._memory_lock:
                conn = self._retrying(self._engine.connect)
                with conn, conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StorageError(f"Cannot read {self.url}: {str(exc.orig or exc).strip()}") from None

    def _read_tx(self, fn: Callable[[Connection], T]) -> T:
        """A read transaction, retried as a whole when the connection is lost."""

        def attempt() -> T:
            if self._sqlite:
                with self._memory_lock, self._engine.connect() as conn, conn.begin():
                    return fn(conn)
            # PostgreSQL: no BEGIN / COMMIT round trips for a read (each statement sees
            # committed data; a trial row and its reports may be a moment apart, harmlessly)
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return fn(conn)

        try:
            return self._retrying(attempt)
        except OperationalError as exc:
            raise StorageError(f"Cannot read {self.url}: {str(exc.orig or exc).strip()}") from None

    def _write_tx(self, fn: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with self._write() as conn:
                return fn(conn)

        return self._retrying(attempt)

    def _write_one(self, fn: Callable[[Connection], T]) -> T:
        """A write that is a single statement (``fn`` runs one), in autocommit: on
        PostgreSQL one round trip instead of three (BEGIN, statement, COMMIT); on SQLite the
        write lock is held only while the statement runs, not across Python code between
        BEGIN and COMMIT (with more workers than cores, a worker preempted there stalled
        every other one). Retried like ``_write_tx``, so ``fn`` must be safe to repeat after
        a lost connection (our conditional updates are)."""
        if self._sqlite:

            def attempt() -> T:
                with (
                    self._memory_lock,
                    self._engine.connect().execution_options(hs_autocommit=True) as conn,
                ):
                    raw = conn.connection.dbapi_connection
                    return _nap_while_busy(raw, self._busy_ms, lambda: fn(conn))

        else:

            def attempt() -> T:
                with self._engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as conn:
                    return fn(conn)

        return self._retrying(attempt)

    # schema --------------------------------------------------------------------------
    def _open_schema(self, *, allow_older: bool = False) -> None:
        if self.read_only:
            self._check_version(allow_older)
            return

        def create(conn: Connection) -> None:
            existed = sa.inspect(conn).has_table(meta_table.name)
            _metadata.create_all(conn, checkfirst=True)
            row = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).first()
            if row is None and existed:  # tables without a version: do not guess one
                raise SchemaVersionError(
                    f"{self.url} has hypersearch tables but no schema version (its "
                    "'schema_version' row in hs_meta was deleted), so it cannot be read "
                    "safely. Restore the database from a backup, or put the row back with the "
                    f"version that wrote it (INSERT INTO hs_meta VALUES ('schema_version', "
                    f"'{SCHEMA_VERSION}') for this release)."
                )
            if row is None:
                conn.execute(
                    meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                )

        try:
            self._write_tx(create)
        except IntegrityError:  # another process created it at the same moment
            pass
        except StorageError:
            raise
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip()  # without SQLAlchemy's links
            raise StorageError(
                f"Cannot open storage {self.url}: {reason}. Is it a hypersearch database?"
            ) from None
        self._check_version(allow_older)

    def _check_version(self, allow_older: bool) -> None:
        try:
            version = self.schema_version()
        except (StorageError, SQLAlchemyError) as exc:
            raise StorageError(
                f"Cannot read {self.url}: {exc}. Is it a hypersearch database?"
            ) from None
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"Database schema is v{version} but this hypersearch reads v{SCHEMA_VERSION}. "
                "Upgrade hypersearch (pip install -U hypersearch)."
            )
        if version < SCHEMA_VERSION and not allow_older:
            raise SchemaVersionError(
                f"Database schema is v{version}, older than v{SCHEMA_VERSION}. Back it up, "
                f"then run: hypersearch upgrade --storage {self.url}"
            )

    def schema_version(self) -> int:
        with self._read() as conn:
            value = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar_one()
        return int(value)

    def upgrade_schema(self) -> tuple[int, int]:
        """Migrate the tables to ``SCHEMA_VERSION`` in one transaction; return the versions
        (before, after). Open the storage with ``SQLStorage(url, upgrading=True)`` first."""

        def migrate(conn: Connection) -> int:
            row = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar_one()
            version = int(row)
            while version < SCHEMA_VERSION:
                if version not in _MIGRATIONS:
                    raise SchemaVersionError(
                        f"No upgrade from schema v{version}: this database was not written by "
                        "a released hypersearch. Export what you need and start a new one."
                    )
                _MIGRATIONS[version](conn)
                version += 1
            conn.execute(
                meta_table.update()
                .where(meta_table.c.key == "schema_version")
                .values(value=str(version))
            )
            return int(row)

        before = self.schema_version()
        if before > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"Database schema is v{before} but this hypersearch reads v{SCHEMA_VERSION}. "
                "Upgrade hypersearch (pip install -U hypersearch)."
            )
        if before < SCHEMA_VERSION:
            before = self._write_tx(migrate)
        return before, SCHEMA_VERSION

    def close(self) -> None:
        """Release the connections; for a SQLite file, first write the WAL back into the
        .db file, so that file alone holds every study (a copy of it is complete). The
        storage stays usable: it reconnects on the next call."""
        path = sa.engine.make_url(self._raw_url).database if self._sqlite else None
        # (a file deleted meanwhile is not made again just to checkpoint it)
        if path and not self._in_memory and not self.read_only and os.path.exists(path):
            with suppress(Exception):
                raw = self._engine.raw_connection()
                try:
                    # other processes' writes may hold it up: wait briefly, never stall exit
                    raw.execute("PRAGMA busy_timeout=200")
                    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    raw.close()
        self._engine.dispose()

    # studies -------------------------------------------------------------------------
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
        stored_objectives = [
            {"name": o.name, "direction": o.direction}
            for o in (objectives or [Objective(metric, direction)])
        ]

        def insert(conn: Connection) -> int:
            exists = conn.execute(
                sa.select(studies_table.c.id).where(studies_table.c.name == name)
            ).first()
            if exists is not None:
                raise DuplicateStudyError(
                    f"A study named {name!r} already exists in {self.url}. Load it with "
                    "hs.load_study(...), pass load_if_exists=True, or choose another name."
                )
            result = conn.execute(
                studies_table.insert().values(
                    name=name,
                    direction=direction,
                    metric=metric,
                    space=None if space is None else _dumps(space),
                    config=_dumps(dict(config)),
                    created_at=self._now,
                    objectives=_dumps(stored_objectives),
                    constraints=None if constraints is None else _dumps(list(constraints)),
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

        try:
            self._write_tx(insert)
        except IntegrityError:
            raise DuplicateStudyError(f"A study named {name!r} already exists.") from None
        return self.get_study(name)

    def get_study(self, name: str) -> StudyRecord:
        check_name(name, "study name")
        with self._read() as conn:
            row = conn.execute(
                sa.select(studies_table).where(studies_table.c.name == name)
            ).first()
            if row is None:
                names = conn.execute(sa.select(studies_table.c.name)).scalars().all()
        if row is None:
            known = ", ".join(map(repr, names[:20])) or "none"
            raise StudyNotFoundError(
                f"No study named {name!r} in {self.url}. Studies there: {known}. "
                "Create it with hs.create_study(...)."
            )
        return StudyRecord(
            id=row.id,
            name=row.name,
            direction=row.direction,
            metric=row.metric,
            space=_loads(row.space, None),
            config=_loads(row.config, {}),
            created_at=row.created_at,
            objectives=_objectives(row),
            constraints=_loads(row.constraints, None),
        )

    def update_study(
        self, study_id: int, *, space: Mapping[str, Any] | None, config: Mapping[str, Any]
    ) -> None:
        def update(conn: Connection) -> None:
            conn.execute(
                studies_table.update()
                .where(studies_table.c.id == study_id)
                .values(space=None if space is None else _dumps(space), config=_dumps(config))
            )

        self._write_tx(update)

    def list_studies(self) -> list[StudySummary]:
        with self._read() as conn:
            return summarise_studies(conn)

    def delete_study(self, name: str) -> None:
        study = self.get_study(name)

        def delete(conn: Connection) -> None:
            ids = sa.select(trials_table.c.id).where(trials_table.c.study_id == study.id)
            conn.execute(reports_table.delete().where(reports_table.c.trial_id.in_(ids)))
            conn.execute(trials_table.delete().where(trials_table.c.study_id == study.id))
            conn.execute(studies_table.delete().where(studies_table.c.id == study.id))

        self._write_tx(delete)

    # trials: creation and claims -------------------------------------------------------
    def _lock_numbers(self, conn: Connection, study_id: int) -> None:
        """Take the study's number-allocation lock until commit (PostgreSQL only), for the
        rare inserts that compute a number in one statement and use it in another (enqueue,
        manual and retried trials): concurrent ones queue instead of colliding on the
        unique (study, number) constraint and retrying. It is a statement of its own, so
        the next one sees the previous holder's trials. SQLite runs one writer at a time.
        Claims compute the number inside their INSERT and need no lock."""
        if not self._sqlite:
            conn.execute(self._hot.lock, {"v_study": study_id})

    def _next_number(self, conn: Connection, study_id: int) -> int:
        self._lock_numbers(conn, study_id)
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
                        study_id=study_id, number=number, created_at=self._now, **values
                    )
                )
                return int(result.inserted_primary_key[0]), number  # type: ignore[index]

            try:
                return self._write_tx(insert)
            except IntegrityError:
                time.sleep(random.random() * 0.01)
        raise StorageError("Could not allocate a trial number after 50 attempts.")

    def enqueue_trial(
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
                "note": _text(note),
                "tags": _dumps(list(tags)),
                "attrs": _dumps(all_attrs),
            },
        )
        return number

    @staticmethod
    def _finished_values(record: TrialRecord) -> dict[str, Any]:
        """The columns of a trial that ran elsewhere, as ``add_finished_trial(s)`` insert it."""
        return {
            "state": record.state.value,
            "source": record.source,
            "params": _dumps(dict(record.params)),
            "distributions": _dumps({k: p.to_dict() for k, p in record.distributions.items()}),
            "value": record.value,
            "metrics": _dumps(dict(record.metrics)),
            "note": _text(record.note),
            "tags": _dumps(list(record.tags)),
            "attrs": _dumps(dict(record.attrs)),
            "fail_reason": _text(record.fail_reason),
            "host": record.host,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "objective_values": _floats_text(record.values),
            "constraint_violations": _floats_text(record.constraint_violations),
        }

    @staticmethod
    def _report_rows(trial_id: int, record: TrialRecord) -> list[dict[str, Any]]:
        """The learning curve of a trial that ran elsewhere, as ``hs_reports`` rows."""
        several = record.intermediate_values
        steps = sorted({*record.intermediate, *several})
        rows = []
        for s in steps:
            values = several.get(s)
            first = record.intermediate.get(s, values[0] if values else math.nan)
            rows.append(
                {
                    "trial_id": trial_id,
                    "step": int(s),
                    "value": _finite_or_none(first),
                    "objective_values": _floats_text(values),
                }
            )
        return rows

    def add_finished_trials(self, study_id: int, records: Sequence[TrialRecord]) -> list[int]:
        """Many trials that ran elsewhere (an import) in one transaction: all or none."""
        if not records:
            return []
        rows = [self._finished_values(r) for r in records]
        insert = (
            trials_table.insert()
            .values(study_id=study_id, created_at=self._now)
            .returning(trials_table.c.id, trials_table.c.number)
        )

        def add(conn: Connection) -> list[int]:
            first = self._next_number(conn, study_id)
            numbered = [{**row, "number": first + i} for i, row in enumerate(rows)]
            ids = {int(n): int(i) for i, n in conn.execute(insert, numbered)}
            reports = [
                row for i, r in enumerate(records) for row in self._report_rows(ids[first + i], r)
            ]
            if reports:
                conn.execute(reports_table.insert(), reports)
            return [first + i for i in range(len(rows))]

        for _ in range(50):
            try:
                return self._write_tx(add)
            except IntegrityError:  # another writer took one of the numbers: count again
                time.sleep(random.random() * 0.01)
        raise StorageError("Could not allocate trial numbers after 50 attempts.")

    def add_finished_trial(self, study_id: int, record: TrialRecord) -> int:
        trial_id, number = self._insert_with_number(study_id, self._finished_values(record))
        if record.intermediate or record.intermediate_values:

            def add_reports(conn: Connection) -> None:
                conn.execute(reports_table.insert(), self._report_rows(trial_id, record))

            self._write_tx(add_reports)
        return number

    def claim_trial(
        self, study_id: int, *, host: str, pid: int, gpu: str | None, take_waiting: bool = True
    ) -> ClaimedTrial:
        token = uuid.uuid4().hex
        args = {"v_study": study_id, "v_token": token, "v_host": host, "v_pid": pid, "v_gpu": gpu}

        def claim(conn: Connection) -> Any:
            # add a new trial unless one is WAITING, else take the oldest WAITING one (a new
            # one after all if another worker took it first). Each statement is atomic and
            # returns the row (a trial never RUNNING before has no reports) or writes
            # nothing, so they run on their own, each in one round trip, holding locks only
            # inside the database (see ``_write_one``). No row: another worker took the
            # number we computed; the next try sees it.
            if take_waiting:
                row = conn.execute(self._hot.insert_unless_waiting, args).first()
                if row is None:
                    row = conn.execute(self._hot.take, args).first()
                if row is not None:
                    return row
            return conn.execute(self._hot.insert, args).first()

        for attempt in range(200):
            try:
                row = self._write_one(claim)
            except IntegrityError:  # a constraint other than the number's
                row = None
            if row is None:
                if attempt >= 3:  # many workers at once: let the others through
                    time.sleep(random.random() * 0.002)
                continue
            self._owned[int(row.id)] = (row.params, row.distributions)
            return ClaimedTrial(record=self._record(row, {}), token=token)
        raise StorageError("Could not allocate a trial number after 200 attempts.")

    def set_claim_key(self, trial_id: int, token: str, key: str) -> bool:
        def update(conn: Connection) -> None:
            self._check_owner(conn, trial_id, token)
            conn.execute(
                trials_table.update().where(trials_table.c.id == trial_id).values(claim_key=key)
            )

        try:
            self._write_tx(update)
        except IntegrityError:
            return False
        return True

    def discard_trial(self, trial_id: int, token: str) -> None:
        def delete(conn: Connection) -> None:
            self._check_owner(conn, trial_id, token)
            conn.execute(reports_table.delete().where(reports_table.c.trial_id == trial_id))
            conn.execute(trials_table.delete().where(trials_table.c.id == trial_id))

        self._write_tx(delete)
        self._owned.pop(trial_id, None)

    # trials: writes under a lease ------------------------------------------------------
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
                f"Trial id {trial_id} is not in {self.url} any more (the study was deleted, "
                "or the server crashed before the trial's claim reached its disk); its result "
                "was not recorded. The worker carries on with the next trial."
            )
        if row.token != token or row.state != TrialState.RUNNING.value:
            why = row.fail_reason or row.state
            raise StaleTrialError(
                f"Trial {row.number} is no longer owned by this worker ({why}); its result "
                "was not recorded. The worker carries on with the next trial."
            )
        return row

    def set_trial_params(
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
            merged = _merge_params(row.params, row.distributions, params, distributions)
            conn.execute(
                trials_table.update()
                .where(trials_table.c.id == trial_id)
                .values(params=merged[0], distributions=merged[1])
            )
            return merged

        self._owned[trial_id] = self._write_tx(update)

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
        merged = _merge_params(known[0], known[1], params, distributions)
        args = {
            "v_id": trial_id,
            "v_token": token,
            "v_old_params": known[0],
            "v_old_dists": known[1],
            "v_params": merged[0],
            "v_dists": merged[1],
        }

        def update(conn: Connection) -> int:
            return conn.execute(self._hot.set_params, args).rowcount

        if self._write_one(update) != 1:
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
        stored = _finite_or_none(value)
        several = _floats_text(values)

        def write(conn: Connection) -> None:
            self._check_owner(conn, trial_id, token)
            updated = conn.execute(
                reports_table.update()
                .where(reports_table.c.trial_id == trial_id, reports_table.c.step == step)
                .values(value=stored, objective_values=several, at=self._now)
            )
            if updated.rowcount == 0:
                conn.execute(
                    reports_table.insert().values(
                        trial_id=trial_id,
                        step=step,
                        value=stored,
                        objective_values=several,
                        at=self._now,
                    )
                )
            conn.execute(
                trials_table.update()
                .where(trials_table.c.id == trial_id)
                .values(heartbeat_at=self._now)
            )

        self._write_tx(write)

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
                    .values(heartbeat_at=self._now)
                )

        self._write_tx(write)

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
        if not state.is_finished:
            raise ValueError(f"finish_trial needs a finished state, got {state}.")
        columns = {
            "state": state.value,
            "value": value,
            "metrics": _dumps(dict(metrics or {})),
            "fail_reason": _text(fail_reason),
            "traceback": _text(traceback),
            "objective_values": _floats_text(values),
            "constraint_violations": _floats_text(constraint_violations),
            "finished_at": self._now,
        }
        args = {"v_id": trial_id, "v_token": token}
        args.update({f"v_{k}": v for k, v in columns.items() if k != "finished_at"})
        args["v_reason"] = args.pop("v_fail_reason")

        def finish(conn: Connection) -> Any:
            # the usual case in one statement: still ours and RUNNING -> finished, returned
            return conn.execute(self._hot.finish, args).first()

        row = self._write_one(finish)
        if row is None:  # a repeated finish, or no longer ours: decide in a transaction
            try:
                self._write_tx(
                    lambda conn: self._finish_again(conn, trial_id, token, state, columns)
                )
            finally:
                self._owned.pop(trial_id, None)
            return None
        self._owned.pop(trial_id, None)
        if not row.has_reports:
            return self._record(row, {})
        return self._read_tx(lambda conn: self._rows_to_records(conn, [row])[0])

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
        dead = list(dead_pids)
        alive = list(alive_pids)
        t = trials_table

        def write(conn: Connection) -> list[int]:
            expired: sa.ColumnElement[bool] = (
                t.c.heartbeat_at < self._now - grace_seconds
                if math.isfinite(grace_seconds)
                else sa.false()
            )
            if alive:  # their owner runs on this host: an old lease means a lost connection
                expired = sa.and_(expired, sa.not_(sa.and_(t.c.host == host, t.c.pid.in_(alive))))
            if not self._sqlite and math.isfinite(grace_seconds):
                # a server (re)started less than a grace period ago cut every worker off:
                # their leases are old through no fault of theirs
                started = sa.literal_column(
                    "EXTRACT(EPOCH FROM pg_postmaster_start_time())", sa.Double
                )
                expired = sa.and_(expired, started < self._now - grace_seconds)
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
                    finished_at=self._now,
                    # revoke the lease, so a late FAILED finish is stale, not a "retry"
                    token=None,
                )
                .returning(t.c.id, t.c.number, t.c.params, t.c.attrs, t.c.note, t.c.tags)
            ).all()
            unstarted = [r.id for r in rows if not _loads(r.params, {})]
            if unstarted:
                # lost before it had parameters: free the point it reserved (e.g. a grid
                # point), or that point would never run
                conn.execute(t.update().where(t.c.id.in_(unstarted)).values(claim_key=None))
            for row in sorted(rows, key=lambda r: r.number) if max_retries > 0 else ():
                self._enqueue_retry(conn, study_id, row, max_retries)
            return sorted(int(r.number) for r in rows)

        for _ in range(50):
            try:
                return self._write_tx(write)
            except IntegrityError:  # a retry's number was taken by a concurrent insert
                time.sleep(random.random() * 0.01)
        raise StorageError("Could not allocate a trial number for a retry after 50 attempts.")

    def _enqueue_retry(self, conn: Connection, study_id: int, row: Any, max_retries: int) -> None:
        attrs = _loads(row.attrs, {})
        attempt = int(attrs.get("attempt", 0)) + 1
        if attempt > max_retries:
            return
        params = _loads(row.params, {})
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
                created_at=self._now,
                state=TrialState.WAITING.value,
                source="retry",
                params="{}",
                note=row.note or "",
                tags=row.tags or "[]",
                attrs=_dumps(new_attrs),
            )
        )
        conn.execute(
            trials_table.update()
            .where(trials_table.c.id == row.id)
            .values(attrs=_dumps({**attrs, "retried_by": number}))
        )

    def running_trials(self, study_id: int) -> list[tuple[int, str | None, int | None]]:
        t = trials_table

        def read(conn: Connection) -> list[Any]:
            return list(
                conn.execute(
                    sa.select(t.c.number, t.c.host, t.c.pid).where(
                        t.c.study_id == study_id, t.c.state == TrialState.RUNNING.value
                    )
                ).all()
            )

        return [(int(r.number), r.host, r.pid) for r in self._read_tx(read)]

    def trial_states(self, study_id: int) -> list[tuple[int, int, TrialState]]:
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

        return [(int(r.id), int(r.number), TrialState(r.state)) for r in self._read_tx(read)]

    def get_trials_after(
        self, study_id: int, after: int, numbers: Iterable[int] = ()
    ) -> list[TrialRecord]:
        """See ``Storage.get_trials_after``: one statement for the rows (and one for the
        reports, only when some of them have any)."""
        wanted = sorted(set(numbers))
        query = self._hot.after
        args: dict[str, Any] = {"v_study": study_id, "v_after": after}
        if len(wanted) > 500:  # no huge IN list: read from the smallest and filter here
            args["v_after"] = wanted[0] - 1
        elif wanted:
            query, args["v_numbers"] = self._hot.after_or, wanted
        keep = set(wanted)

        def read(conn: Connection) -> list[TrialRecord]:
            rows = [r for r in conn.execute(query, args) if r.number > after or r.number in keep]
            return self._rows_to_records(conn, rows)

        return self._read_tx(read)

    # trials: reads -----------------------------------------------------------------------
    def _rows_to_records(self, conn: Connection, rows: Sequence[Any]) -> list[TrialRecord]:
        """Records of trial rows, with their learning curves. Rows read with
        ``_has_reports()`` skip the reports query for trials that have none."""
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
                        several[trial_id][int(step)] = _floats(values)  # type: ignore[assignment]
        return [self._record(row, curves[row.id], several[row.id]) for row in rows]

    @staticmethod
    def _record(
        row: Any,
        curve: Mapping[int, float],
        several: Mapping[int, tuple[float, ...]] | None = None,
    ) -> TrialRecord:
        dists = _loads(row.distributions, {})
        state = TrialState(row.state)
        value = row.value
        return TrialRecord(
            id=int(row.id),
            number=int(row.number),
            state=state,
            params=_loads(row.params, {}),
            distributions={k: param_from_dict(v) for k, v in dists.items()},
            value=value,
            metrics=_loads(row.metrics, {}),
            intermediate=dict(curve),
            source=row.source,
            note=row.note or "",
            tags=tuple(_loads(row.tags, [])),
            attrs=_loads(row.attrs, {}),
            fail_reason=row.fail_reason,
            traceback=row.traceback,
            host=row.host,
            pid=row.pid,
            gpu=row.gpu,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            heartbeat_at=row.heartbeat_at,
            claim_key=row.claim_key,
            values=_floats(row.objective_values),
            constraint_violations=_floats(row.constraint_violations),
            intermediate_values=dict(several or {}),
        )

    def _trial_by_id(self, trial_id: int) -> TrialRecord:
        def read(conn: Connection) -> TrialRecord:
            rows = conn.execute(sa.select(trials_table).where(trials_table.c.id == trial_id)).all()
            return self._rows_to_records(conn, rows)[0]

        return self._read_tx(read)

    def get_trials(
        self, study_id: int, states: Sequence[TrialState] | None = None
    ) -> list[TrialRecord]:
        query = sa.select(trials_table, _has_reports()).where(trials_table.c.study_id == study_id)
        if states is not None:
            query = query.where(trials_table.c.state.in_([s.value for s in states]))

        def read(conn: Connection) -> list[TrialRecord]:
            rows = conn.execute(query.order_by(trials_table.c.number)).all()
            return self._rows_to_records(conn, rows)

        return self._read_tx(read)

    def get_trial(self, study_id: int, number: int) -> TrialRecord:
        def read(conn: Connection) -> list[TrialRecord]:
            rows = conn.execute(
                sa.select(trials_table, _has_reports()).where(
                    trials_table.c.study_id == study_id, trials_table.c.number == number
                )
            ).all()
            return self._rows_to_records(conn, rows)

        records = self._read_tx(read)
        if not records:
            raise TrialNotFoundError(f"No trial number {number} in this study.")
        return records[0]

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
        t = trials_table

        def write(conn: Connection) -> None:
            row = conn.execute(
                sa.select(t.c.id, t.c.tags, t.c.attrs).where(
                    t.c.study_id == study_id, t.c.number == number
                )
            ).first()
            if row is None:
                raise TrialNotFoundError(f"No trial number {number} in this study.")
            tags = [x for x in _loads(row.tags, []) if x not in remove_tags]
            tags += [x for x in add_tags if x not in tags]
            values: dict[str, Any] = {"tags": _dumps(tags)}
            if note is not None:
                values["note"] = _text(note)
            if attrs:
                values["attrs"] = _dumps({**_loads(row.attrs, {}), **attrs})
            conn.execute(t.update().where(t.c.id == row.id).values(**values))

        self._write_tx(write)
