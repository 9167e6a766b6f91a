"""Leases: where this worker runs, whether another worker is alive, and the heartbeat that
keeps this worker's running trials from being reaped."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from contextlib import suppress

from hypersearch.storage import Storage

__all__ = ["HOST", "Heartbeat", "current_gpu", "pid_alive", "pid_running"]

logger = logging.getLogger("hypersearch")

#: This machine's name, recorded with every trial it runs.
HOST = socket.gethostname()


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists on this machine (a zombie counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_running(pid: int) -> bool:
    """True when process ``pid`` on this machine is alive and can run: not a zombie, not
    stopped (SIGSTOP, a frozen container). Its trials are then not reaped by lease age,
    whatever a database outage did to their heartbeats."""
    if not pid_alive(pid):
        return False
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 (one read, closed at once)
    except OSError:
        return True  # no /proc (macOS): alive is all we know
    state = stat.rsplit(")", 1)[-1].split()[0]  # after "(command name)", which may hold ")"
    return state not in ("T", "t", "Z", "X")


def current_gpu() -> str | None:
    """The GPU(s) this process trains on: CUDA_VISIBLE_DEVICES, plus the device name when
    PyTorch is already imported (we never import it ourselves)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    name = None
    torch = sys.modules.get("torch")
    if torch is not None:
        with suppress(Exception):
            if torch.cuda.is_available():
                name = torch.cuda.get_device_name(torch.cuda.current_device())
    if visible in (None, "") and name is None:
        return None
    if visible in (None, ""):
        return name
    return f"{visible}: {name}" if name else visible


class Heartbeat:
    """Refreshes the lease of every trial this process runs, from a daemon thread that lives
    only while there is a trial to refresh (a study dropped between trials leaves no thread
    holding its storage open). ``interval=None`` refreshes nothing (a simulated run on a fake
    clock, whose trials no one reaps)."""

    def __init__(self, storage: Storage, interval: float | None) -> None:
        self._storage = storage
        self._interval = interval
        self._tokens: dict[int, str] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, trial_id: int, token: str) -> None:
        with self._lock:
            self._tokens[trial_id] = token
            if self._interval is None:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="hypersearch-heartbeat", daemon=True
                )
                self._thread.start()

    def remove(self, trial_id: int) -> None:
        with self._lock:
            self._tokens.pop(trial_id, None)

    def owns(self, trial_id: int) -> bool:
        with self._lock:
            return trial_id in self._tokens

    def _run(self) -> None:
        while not self._wake.wait(self._interval):
            with self._lock:
                tokens = dict(self._tokens)
                if not tokens:  # decided under the lock: add() then starts a new thread
                    self._thread = None
                    return
            try:
                self._storage.heartbeat(tokens, tokens)
            except Exception as exc:  # a missed beat is retried; never kill the worker
                logger.warning("heartbeat failed (will retry): %s", exc)
