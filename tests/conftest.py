"""Shared fixtures: a throwaway PostgreSQL cluster for the whole session.

The cluster is real (initdb + pg_ctl from the Debian ``postgresql`` package, or wherever
``initdb`` is on PATH), listens on a free localhost port, lives in a temporary folder and is
stopped at the end. PostgreSQL refuses to run as root, so as root it runs as the unprivileged
user ``hstest`` (created on first use). Without the binaries the PostgreSQL tests are skipped,
except under CI (``CI=true``), where that is an error.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_USER = "hstest"


def _pg_bindir() -> str | None:
    found = shutil.which("initdb")
    if found:
        return str(Path(found).parent)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return str(Path(candidates[0]).parent) if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throwaway cluster; ``url(db)`` gives a SQLAlchemy URL for a database."""

    bindir: str
    datadir: str
    port: int
    prefix: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [*self.prefix, f"{self.bindir}/pg_ctl", "-D", self.datadir, *args]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self, *, durable: bool = False) -> None:
        """Start the server; fast and forgetful unless ``durable`` (an acknowledged commit
        survives the server being killed, as with PostgreSQL's defaults)."""
        commit = "on" if durable else "off"
        opts = (
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 "
            f"-c fsync=off -c synchronous_commit={commit} -c full_page_writes=off "
            "-c max_connections=200"
        )
        self.pg_ctl("-o", opts, "-l", f"{self.datadir}/server.log", "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "stop", check=False)

    def restart(self, *, durable: bool = False) -> None:
        self.stop("fast")
        self.start(durable=durable)

    def kill_9(self) -> None:
        """Crash the server: SIGKILL to the postmaster and its server processes at once."""
        pid = int(Path(self.datadir, "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for victim in [pid, *map(int, children)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(map(_pid_alive, [pid, *map(int, children)])) and time.monotonic() < deadline:
            time.sleep(0.05)
        # a dead postmaster nobody reaped still "exists": its lock file would stop a restart
        Path(self.datadir, "postmaster.pid").unlink(missing_ok=True)

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        conninfo = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _ensure_user() -> list[str]:
    """The command prefix that runs PostgreSQL binaries as an unprivileged user."""
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", PG_USER], capture_output=True).returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )
    return ["runuser", "-u", PG_USER, "--"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _pg_bindir()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        bindir = None
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL (initdb) or psycopg is missing; .ci/run installs both.")
        pytest.skip("PostgreSQL binaries (initdb) or psycopg not installed")
    prefix = _ensure_user()
    datadir = tempfile.mkdtemp(prefix="hs-pg-")
    if prefix:
        shutil.chown(datadir, PG_USER)
    subprocess.run(
        [*prefix, f"{bindir}/initdb", "-D", datadir, "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PostgresServer(bindir=bindir, datadir=datadir, port=_free_port(), prefix=prefix)
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's cluster."""
    deadline = time.monotonic() + 30
    while True:  # a test may have restarted the server a moment ago
        try:
            return postgres_server.url(postgres_server.create_database())
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(autouse=True)
def _signal_handlers_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with Python's own Ctrl-C and SIGTERM handlers, and one that leaves
    them changed is named in a warning. A suite started in the background (``cmd &`` in a
    non-interactive shell, nohup) inherits SIGINT *ignored*, and Python then installs no
    KeyboardInterrupt handler: the Ctrl-C tests would see no interrupt at all."""
    defaults = (
        ("SIGINT", signal.SIGINT, signal.default_int_handler),
        ("SIGTERM", signal.SIGTERM, signal.SIG_DFL),
    )
    for _, signum, default in defaults:
        signal.signal(signum, default)
    yield
    changed = {
        name: handler
        for name, signum, default in defaults
        if (handler := signal.getsignal(signum)) is not default
    }
    if changed:
        for _, signum, default in defaults:
            signal.signal(signum, default)
        warnings.warn(
            f"{request.node.nodeid} left signal handlers changed: {changed}; restored.",
            stacklevel=1,
        )
