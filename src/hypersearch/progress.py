"""Console output: a Rich progress bar with the best value so far, for ``optimize`` in a
terminal, and the library's log lines on stderr for the command-line tools."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["log_to_stderr", "study_progress"]


@contextmanager
def log_to_stderr(level: int = logging.INFO) -> Iterator[None]:
    """Show hypersearch's log lines (a trial per line, lost connections, reaped trials) on
    stderr while a command runs; the library alone stays silent unless the user logs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("hypersearch")
    log.addHandler(handler)
    previous = log.level
    if previous == logging.NOTSET:
        log.setLevel(level)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


def _fmt(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.6g}"


@contextmanager
def study_progress(
    study: Study, n_trials: int | None, console: Console | None = None
) -> Iterator[Callable[[TrialRecord], None]]:
    """Yield an ``update(record)`` that advances the bar and shows the best value so far."""
    try:
        best: float | None = study.best_value
    except ValueError:
        best = None
    minimize = study.direction == "minimize"
    counts = {s: 0 for s in TrialState}
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console or Console(stderr=True),
        transient=False,
    )

    def status() -> str:
        return (
            f"best {study.metric}={_fmt(best)}  done {counts[TrialState.COMPLETE]}"
            f"  stopped {counts[TrialState.STOPPED]}  failed {counts[TrialState.FAILED]}"
        )

    with progress:
        task = progress.add_task(study.name, total=n_trials, status=status())

        def update(record: TrialRecord) -> None:
            nonlocal best
            counts[record.state] += 1
            if record.state is TrialState.COMPLETE and record.has_value:
                value = float(record.value)  # type: ignore[arg-type]
                if best is None or (value < best if minimize else value > best):
                    best = value
            progress.update(task, advance=1, status=status())

        yield update
