"""Finding trials whose worker is gone (a dead process on this host, or a lease older than the
grace period on any host) and marking them FAILED, or enqueueing them again (``max_retries``)."""

from __future__ import annotations

import logging
import math
import os
import time

from hypersearch.lease import HOST, pid_alive, pid_running
from hypersearch.storage import Storage

__all__ = ["reap_lost_trials"]

logger = logging.getLogger("hypersearch")


def reap_lost_trials(
    storage: Storage, study_id: int, *, grace_period: float, max_retries: int
) -> list[int]:
    """Mark FAILED the study's RUNNING trials whose worker is gone; their numbers."""
    here = {
        pid
        for _, host, pid in storage.running_trials(study_id)
        if host == HOST and pid is not None
    }
    others = here - {os.getpid()}
    dead = [pid for pid in others if not pid_alive(pid)]
    # Another live, running process on this host is not reaped by lease age: its
    # heartbeats may be old only because the database was unreachable (a frozen one
    # still is). This process's own trials are: one it gave up on has no heartbeat.
    alive = [pid for pid in others if pid_running(pid)]
    grace = grace_period
    since = time.monotonic() - getattr(storage, "reconnected_at", -math.inf)
    if since < grace:
        # back from an outage less than a grace period ago: every lease is old, and
        # their workers (on other hosts too) have not had the time to renew them
        grace = math.inf
    retries = {"max_retries": max_retries} if max_retries else {}
    reaped = storage.reap_stale_trials(
        study_id,
        grace_seconds=grace,
        host=HOST,
        dead_pids=dead,
        alive_pids=alive,
        **retries,
    )
    if reaped:
        logger.warning("Marked lost trial(s) %s as FAILED (worker gone).", reaped)
    return reaped
