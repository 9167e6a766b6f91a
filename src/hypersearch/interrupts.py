"""Ctrl-C and SIGTERM while a study runs: SIGTERM ends a run as Ctrl-C does, and both are held
while a trial's claim or result is written, so an interrupt never leaves a half-made write.

Shared by the study's ask/tell kernel and the executors; main thread only (where Python runs
signal handlers), a no-op elsewhere.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["interrupts_held", "sigterm_as_interrupt"]


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while optimizing (main thread only), so both end cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def interrupts_held() -> Iterator[Callable[[], None]]:
    """Hold Ctrl-C and SIGTERM while a trial's claim or result is written, then deliver them:
    an interrupt in the middle would leave a trial RUNNING (or a finished result unsaved)
    until the heartbeat grace ran out. Yields ``release``, to deliver them earlier, at a
    point that knows how to undo the work. Main thread only, where Python runs handlers."""
    held: list[int] = []
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                previous[signum] = signal.signal(signum, lambda s, f: held.append(s))

    def release() -> None:
        while previous:
            signum, handler = previous.popitem()
            signal.signal(signum, handler)
        for signum in dict.fromkeys(held):
            signal.raise_signal(signum)  # now handled as it would have been
        held.clear()

    try:
        yield release
    finally:
        release()
