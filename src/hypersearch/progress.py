"""Console output while a study runs: on a terminal a Rich progress bar with the best value so
far; in a log file, a pipe or CI, one plain line per finished trial (a bar there would be
redrawn into one squashed line). Also the library's log lines on stderr for the commands."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column

from hypersearch.direction import Direction
from hypersearch.objectives import front_candidates
from hypersearch.tables import format_number
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["log_to_stderr", "study_progress", "trial_line"]

#: A failure reason in a progress line is cut here (the full one is in the trial's record).
REASON_WIDTH = 120


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


class _Tally:
    """What the progress output shows: trials finished per state and the best value so far."""

    def __init__(self, study: Study) -> None:
        self.direction = Direction.parse(study.direction)
        self.metric = study.metric
        self.best: float | None = None
        self.best_number: int | None = None
        #: Several objectives: their names, and the front's trials (number -> values)
        self.names = [o.name for o in study.objectives] if study.is_multi_objective else []
        self.directions = study.directions
        self.front: dict[int, tuple[float, ...]] = {}
        if self.names:
            self.front = {t.number: tuple(t.values or ()) for t in study.best_trials}
        else:
            try:
                best = study.best_trial
            except ValueError:
                pass
            else:
                self.best, self.best_number = best.value, best.number
        self.counts = {s: 0 for s in TrialState}
        self.done = 0

    def add(self, record: TrialRecord) -> None:
        self.done += 1
        self.counts[record.state] += 1
        if self.names:
            if front_candidates([record], len(self.names)):
                from hypersearch.pareto import as_losses, pareto_mask

                points = {**self.front, record.number: tuple(record.values or ())}
                numbers = list(points)
                keep = pareto_mask(as_losses([points[n] for n in numbers], self.directions))
                self.front = {n: points[n] for n, k in zip(numbers, keep, strict=True) if k}
            return
        if record.state is TrialState.COMPLETE and record.has_value and record.feasible:
            value = float(record.value)  # type: ignore[arg-type]
            best = self.best
            if best is None or self.direction.better(value, best):
                self.best, self.best_number = value, record.number

    def best_text(self, *, named: bool = False) -> str:
        """``best 0.9622 (trial 3)``; ``named``: ``best val_accuracy=0.9622 (trial 3)``."""
        if self.names:
            return f"Pareto front {len(self.front)} trial{'' if len(self.front) == 1 else 's'}"
        label = f"best {self.metric}=" if named else "best "
        if self.best is None:
            return f"{label}-"
        return f"{label}{format_number(self.best)} (trial {self.best_number})"

    def others(self) -> str:
        """``· 2 stopped · 1 failed``, only for the states that happened."""
        parts = [
            f"{self.counts[s]} {s.value.lower()}"
            for s in (TrialState.STOPPED, TrialState.FAILED)
            if self.counts[s]
        ]
        return "".join(f" · {p}" for p in parts)


def trial_line(record: TrialRecord, metric: str | Sequence[str], *, params: bool = True) -> str:
    """One finished trial in a line: number, state, result, duration and (with ``params``)
    its parameters.

    >>> trial_line(record, "val_accuracy")
    'trial 3 COMPLETE val_accuracy=0.9622 in 2.1s; lr=0.0145 units=384 optimizer=adam'
    """
    parts = [f"trial {record.number} {record.state.value}"]
    step = record.last_step
    if record.state is TrialState.STOPPED and step is not None:
        parts.append(f"at step {step}")
    if not isinstance(metric, str):  # several objectives: every value, by name
        if record.values is not None:
            parts += [
                f"{n}={format_number(v)}" for n, v in zip(metric, record.values, strict=False)
            ]
        metric = metric[0]
    if record.has_value:
        parts.append(f"{metric}={format_number(record.value)}")
    elif record.values is None and step is not None and record.state is not TrialState.FAILED:
        parts.append(f"{metric}={format_number(record.intermediate[step])} (last report)")
    if record.constraint_violations is not None and not record.feasible:
        parts.append("(infeasible)")
    if record.duration is not None:
        parts.append(f"in {record.duration:.1f}s")
    line = " ".join(parts)
    if record.state is TrialState.FAILED and record.fail_reason:
        reason = " ".join(record.fail_reason.split())
        if len(reason) > REASON_WIDTH:
            reason = reason[: REASON_WIDTH - 1] + "…"
        line += f": {reason}"
    shown = " ".join(f"{k}={format_number(v)}" for k, v in record.params.items())
    return f"{line}; {shown}" if params and shown else line


@contextmanager
def study_progress(
    study: Study, n_trials: int | None, console: Console | None = None
) -> Iterator[Callable[[TrialRecord], None]]:
    """Yield an ``update(record)`` to call once per finished trial: it advances the bar on a
    terminal (Jupyter included), or prints one line per trial anywhere else."""
    console = console or Console(stderr=True)
    tally = _Tally(study)
    if (console.is_terminal and not console.is_dumb_terminal) or console.is_jupyter:
        with _bar(study, n_trials, console, tally) as update:
            yield update
        return
    yield _lines(study.name, n_trials, console.file, tally)


@contextmanager
def _bar(
    study: Study, n_trials: int | None, console: Console, tally: _Tally
) -> Iterator[Callable[[TrialRecord], None]]:
    """The bar takes the room the text leaves; the text never pushes it off an 80-column line."""
    progress = Progress(
        TextColumn("[bold]{task.description}", table_column=Column(no_wrap=True, max_width=24)),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}", table_column=Column(no_wrap=True)),
        console=console,
        transient=False,
        expand=True,
    )

    def status() -> str:
        return f"{tally.best_text()}{tally.others()}"

    with progress:
        task = progress.add_task(study.name, total=n_trials, status=status())

        def update(record: TrialRecord) -> None:
            tally.add(record)
            progress.update(task, advance=1, status=status())

        yield update


def _lines(
    name: str, n_trials: int | None, out: IO[str], tally: _Tally
) -> Callable[[TrialRecord], None]:
    """``[digits 4/30] trial 3 COMPLETE val_accuracy=0.9622 in 2.1s; best val_accuracy=0.9622
    (trial 3); lr=0.0145 ...``, flushed at once: ``tail -f`` on a log shows each trial.
    """

    def update(record: TrialRecord) -> None:
        tally.add(record)
        count = f"{tally.done}/{n_trials}" if n_trials else str(tally.done)
        metric = tally.names or tally.metric
        line = f"[{name} {count}] {trial_line(record, metric, params=False)}"
        line += f"; {tally.best_text(named=True)}"
        if record.params:
            line += "; " + " ".join(f"{k}={format_number(v)}" for k, v in record.params.items())
        print(line, file=out, flush=True)

    return update
