"""One database's engine and transactions: URLs, SQLite settings, locks and retries.

SQLite discipline from DESIGN.md: WAL journal, ``BEGIN IMMEDIATE`` for every write
transaction of more than one statement (a single-statement write is its own transaction and
takes the write lock before it reads), a busy timeout plus bounded jittered retry, and short
transactions that never run user code. Timestamps come from the database's clock, so leases
agree across machines.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from hypersearch.exceptions import InvalidArgumentError, StorageError

__all__ = [
    "WRITE_RETRIES",
    "Database",
    "nap_while_busy",
    "normalise_url",
    "redact_url",
    "retry_window",
    "url_userinfo",
]

T = TypeVar("T")

#: How many times a write that finds a SQLite file locked is tried before it fails.
WRITE_RETRIES = 12
#: Error texts that mean the database connection went away (server restart, network).
CONNECTION_LOST = (
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
REMEDIES = (
    ("disk is full", "Free space on the disk that holds it (results so far are kept)."),
    ("no space left", "Free space on the disk that holds it (results so far are kept)."),
    ("readonly database", "Make the file and its folder writable by this user."),
    ("read-only", "Make the database writable by this user."),
    ("permission denied", "Give this user access to the database (or its file and folder)."),
)
logger = logging.getLogger("hypersearch")


def remedy(message: str) -> str:
    """What to do, as ``" Free space..."`` to append to a database error message we know
    the cure of, else ``""``."""
    text = message.lower()
    return next((f" {cure}" for phrase, cure in REMEDIES if phrase in text), "")


def redact_url(url: str) -> str:
    """Hide the password of a database URL: ``postgresql://u:***@host/db``. Up to the last
    ``@``: a password typed with a raw ``@`` (not ``%40``) is hidden whole, never in part."""
    return re.sub(r"(://[^:/@]*:).*@", r"\1***@", url)


def url_userinfo(url: str) -> str | None:
    """The ``user:password`` part of a URL (before the host's last ``@``), or None."""
    if "://" not in url:
        return None
    netloc = url.split("://", 1)[1].split("/", 1)[0]
    return netloc.rsplit("@", 1)[0] if "@" in netloc else None


def normalise_url(url: str) -> str:
    """Accept plain file paths and ``postgresql://`` URLs; pick the drivers we ship with."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if "@" in (url_userinfo(url) or ""):
        # drivers would read the rest of the password as the host name and print it
        raise InvalidArgumentError(
            f"Storage URL {redact_url(url)!r} has a raw '@' in its user name or password; "
            "write each '@' there as %40 (and a ':' as %3A)."
        )
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def retry_window(seconds: float | None) -> float:
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


def nap_while_busy(raw: Any, busy_ms: int, call: Callable[[], T]) -> T:
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


class KeptOpenConnection(sqlite3.Connection):
    """The one connection of an in-memory database, which is gone when it closes.
    SQLAlchemy closes a connection it invalidates (Ctrl-C in the middle of a statement does
    that) and opens another, empty one, so here ``close`` keeps it open and the next
    "connection" is the same one; the garbage collector closes it with the storage."""

    def close(self) -> None:
        """Keep the database: a no-op (see the class)."""


class Database:
    """The engine of one SQLite file, in-memory SQLite database or PostgreSQL server, and
    the short transactions every storage call runs in, retried when locked or disconnected.

    ``Database(None)`` is an in-memory SQLite database: one connection shared by every thread.
    """

    def __init__(self, url: str | None, *, busy_timeout_s: float = 30.0) -> None:
        self.in_memory = url is None or url in ("sqlite://", "sqlite:///:memory:")
        raw = "sqlite://" if self.in_memory else normalise_url(str(url))
        #: The URL with any password replaced by ``***``, safe to print.
        self.url = redact_url(raw)
        #: The URL with its password: only handed to our own worker processes.
        self.worker_url = raw
        self.sqlite = raw.startswith("sqlite")
        # An in-memory database is one connection shared by every thread (the heartbeat, a
        # dashboard thread): transactions on it must take turns.
        self._memory_lock: AbstractContextManager[Any] = (
            threading.RLock() if self.in_memory else nullcontext()
        )
        self._busy_ms = int(busy_timeout_s * 1000)
        #: A SQLite file in a folder this user cannot write: opened read-only (immutable).
        self.read_only = False
        self.engine = self._make_engine(raw, busy_timeout_s)
        #: The database's clock, in seconds since the epoch, as a SQL expression.
        self.now = self._db_clock()
        #: ``time.monotonic()`` when a lost connection last came back (see ``_retrying``).
        self.reconnected_at = -math.inf
        self._connection_lost = False
        #: How long a lost connection is retried. Short until the owner has opened the schema:
        #: a server that cannot be reached at all is an error at once (a wrong URL).
        self.connection_retry_s = 1.0

    # engine ------------------------------------------------------------------------------
    def _make_engine(self, raw: str, busy_timeout_s: float) -> Engine:
        try:
            if self.in_memory:
                # the database lives exactly as long as its one connection, so it is one that
                # SQLAlchemy cannot close (see ``KeptOpenConnection``)
                shared = sqlite3.connect(
                    ":memory:", factory=KeptOpenConnection, check_same_thread=False
                )
                engine = sa.create_engine(
                    "sqlite://", poolclass=StaticPool, creator=lambda: shared
                )
            elif self.sqlite:
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
        if self.sqlite:
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
        in_memory = self.in_memory or self.read_only

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
                return  # one statement on its own (see ``write_one``)
            raw: Any = conn.connection.dbapi_connection
            try:
                if options.get("hs_write"):
                    nap_while_busy(raw, busy_ms, lambda: raw.execute("BEGIN IMMEDIATE"))
                else:
                    raw.execute("BEGIN DEFERRED")
            except sqlite3.OperationalError as exc:  # as if SQLAlchemy had run it
                raise OperationalError("BEGIN", None, exc) from None
            except BaseException:  # Ctrl-C just after BEGIN: leave no transaction open
                with suppress(Exception):
                    raw.rollback()
                raise

        @sa.event.listens_for(engine, "handle_error")
        def _on_interrupt(context: sa.engine.ExceptionContext) -> None:
            # Ctrl-C in the middle of a statement: SQLAlchemy closes the connection, but
            # SQLite keeps one whose statement is still live (the traceback holds its cursor)
            # open, transaction and write lock included, until that cursor is freed, so the
            # write that records the interrupted trial waited on this very process.
            if isinstance(context.original_exception, Exception):
                return
            with suppress(Exception):
                if context.cursor is not None:
                    context.cursor.close()
            with suppress(Exception):
                conn = context.connection
                raw = conn.connection.dbapi_connection if conn is not None else None
                if raw is not None:
                    raw.rollback()
            if self.in_memory:  # its one connection is the database: keep using it
                context.is_disconnect = False

    def _db_clock(self) -> sa.ColumnElement[float]:
        if self.sqlite:
            return sa.literal_column("((julianday('now') - 2440587.5) * 86400.0)", sa.Double)
        return sa.literal_column("EXTRACT(EPOCH FROM clock_timestamp())", sa.Double)

    # retries -----------------------------------------------------------------------------
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
            except AssertionError as exc:
                # Ctrl-C inside SQLAlchemy's commit bookkeeping surfaces as its assertion;
                # it is still Ctrl-C, and a study must stop on it, not fail one trial
                if isinstance(exc.__context__, KeyboardInterrupt):
                    raise exc.__context__ from None
                raise
            except (OperationalError, sa.exc.InterfaceError, sa.exc.DBAPIError) as exc:
                invalidated = bool(getattr(exc, "connection_invalidated", False))
                if not isinstance(exc, OperationalError | sa.exc.InterfaceError) and not (
                    invalidated
                ):
                    raise
                text = str(exc).lower()
                lost = invalidated or any(s in text for s in CONNECTION_LOST)
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
                elif not locked or attempt >= WRITE_RETRIES:
                    reason = " ".join(str(exc.orig or exc).split())  # one line
                    raise StorageError(
                        f"Storage {self.url} failed: {reason}.{remedy(reason)}"
                    ) from None
                else:  # another writer held the file for the whole busy timeout
                    logger.debug("%s is locked (try %d of %d); retrying", self.url, attempt,
                                 WRITE_RETRIES)  # fmt: skip
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
                continue
            if self._connection_lost:  # back after an outage: leases may be stale, see
                self._connection_lost = False  # Study.reap_lost_trials
                self.reconnected_at = time.monotonic()
            return result

    # transactions ------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction; getting its connection is retried, the reads are not."""
        try:
            # getting a connection is retried like a write; the reads themselves are short
            with self._memory_lock:
                conn = self._retrying(self.engine.connect)
                with conn, conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StorageError(f"Cannot read {self.url}: {str(exc.orig or exc).strip()}") from None

    def read_tx(self, fn: Callable[[Connection], T]) -> T:
        """A read transaction, retried as a whole when the connection is lost."""

        def attempt() -> T:
            if self.sqlite:
                with self._memory_lock, self.engine.connect() as conn, conn.begin():
                    return fn(conn)
            # PostgreSQL: no BEGIN / COMMIT round trips for a read (each statement sees
            # committed data; a trial row and its reports may be a moment apart, harmlessly)
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return fn(conn)

        try:
            return self._retrying(attempt)
        except OperationalError as exc:
            raise StorageError(f"Cannot read {self.url}: {str(exc.orig or exc).strip()}") from None

    def write_tx(self, fn: Callable[[Connection], T]) -> T:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite), retried as a whole."""

        def attempt() -> T:
            # not a generator-based context manager: Ctrl-C between its yield and the caller's
            # block left the generator, with its open transaction and SQLite's write lock,
            # alive in the traceback, and recording the interrupted trial then waited on it
            with (
                self._memory_lock,
                self.engine.connect().execution_options(hs_write=True) as conn,
                conn.begin(),
            ):
                return fn(conn)

        return self._retrying(attempt)

    def write_one(self, fn: Callable[[Connection], T]) -> T:
        """A write that is a single statement (``fn`` runs one), in autocommit: on
        PostgreSQL one round trip instead of three (BEGIN, statement, COMMIT); on SQLite the
        write lock is held only while the statement runs, not across Python code between
        BEGIN and COMMIT (with more workers than cores, a worker preempted there stalled
        every other one). Retried like ``write_tx``, so ``fn`` must be safe to repeat after
        a lost connection (our conditional updates are)."""
        if self.sqlite:

            def attempt() -> T:
                with (
                    self._memory_lock,
                    self.engine.connect().execution_options(hs_autocommit=True) as conn,
                ):
                    raw = conn.connection.dbapi_connection
                    return nap_while_busy(raw, self._busy_ms, lambda: fn(conn))

        else:

            def attempt() -> T:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    return fn(conn)

        return self._retrying(attempt)

    def close(self) -> None:
        """Release the connections; for a SQLite file, first write the WAL back into the
        .db file, so that file alone holds every study (a copy of it is complete). The
        database stays usable: it reconnects on the next call."""
        path = sa.engine.make_url(self.worker_url).database if self.sqlite else None
        # (a file deleted meanwhile is not made again just to checkpoint it)
        if path and not self.in_memory and not self.read_only and os.path.exists(path):
            with suppress(Exception):
                raw = self.engine.raw_connection()
                try:
                    # other processes' writes may hold it up: wait briefly, never stall exit
                    raw.execute("PRAGMA busy_timeout=200")
                    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    raw.close()
        self.engine.dispose()
