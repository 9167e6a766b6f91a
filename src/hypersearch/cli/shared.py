"""What the ``hypersearch`` subcommands share: limits, errors, opening storage, text made
safe for a terminal, ranking trials and picking table columns."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TextIO

from rich.console import Console

from hypersearch.direction import Direction
from hypersearch.exceptions import HypersearchError
from hypersearch.objectives import Constraints, Objective, best_ranked, front_ranks
from hypersearch.storage import SQLStorage, StudyRecord, StudySummary, open_existing_storage
from hypersearch.tables import Column, format_number, terminal_width
from hypersearch.trial import TrialRecord, TrialState

#: Column order of the per-state counts in ``hypersearch studies``.
STATE_COLUMNS = (
    TrialState.COMPLETE,
    TrialState.STOPPED,
    TrialState.FAILED,
    TrialState.RUNNING,
    TrialState.WAITING,
)
NOTE_WIDTH = 60  # a note is cut here even in a pipe; on a terminal, at the line's end
REASON_WIDTH = 80  # a failure reason is cut here even in a pipe (the traceback has it all)
VALUE_WIDTH = 40  # a text parameter value (a choice) longer than this is cut
COLUMNS_HINT = "pick columns with --columns, or widen the terminal"

#: A subcommand: most take the opened storage; standalone ones (run, lr-find, import) a URL.
Handler = Callable[[argparse.Namespace, Any], int]


class CommandError(HypersearchError, RuntimeError):
    """A command could not do what was asked (refused deletion, unwritable file, ...)."""


# storage -------------------------------------------------------------------------------
def open_storage(url: str, *, upgrading: bool = False) -> SQLStorage:
    """Open existing storage; a SQLite file that does not exist is an error, never created."""
    return open_existing_storage(url, upgrading=upgrading)


# formatting ----------------------------------------------------------------------------
def _console(file: TextIO | None = None) -> Console:
    """A console that prints user text literally: no markup, emoji codes or highlighting."""
    out = file if file is not None else sys.stdout
    width = terminal_width(out) or 200  # a traceback in a pipe is not folded to 80 columns
    return Console(file=out, markup=False, emoji=False, highlight=False, width=width)


def _clean(text: object, limit: int | None = None, *, multiline: bool = False) -> str:
    """User text made safe for a terminal: control characters escaped (no ANSI injection),
    newlines shown as ``⏎`` unless ``multiline``, cut to ``limit`` characters."""
    out = []
    for ch in str(text):
        if ch.isprintable() or (multiline and ch in "\n\t"):
            out.append(ch)
        elif ch == "\n":
            out.append("⏎")
        elif ch == "\t":
            out.append(" ")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    cleaned = "".join(out)
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned


def _fmt_param(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return _clean(value, VALUE_WIDTH)


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _fmt_time(epoch: float | None) -> str:
    """Local time, to the minute."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ranking -------------------------------------------------------------------------------
def ranked(trials: Iterable[TrialRecord], direction: str | Sequence[str]) -> list[TrialRecord]:
    """Feasible completed trials with a value, best first (ties: earlier trial first). With
    several directions: by non-dominated rank (the Pareto front first), then by the first
    objective within a rank."""
    if not isinstance(direction, str):
        if len(direction) > 1:
            ranks = front_ranks(list(trials), direction)
            loss = Direction.parse(direction[0]).to_loss
            ranks.sort(key=lambda tr: (tr[1], loss(tr[0].values[0]), tr[0].number))  # type: ignore[index]
            return [t for t, _ in ranks]
        direction = direction[0]
    return best_ranked(list(trials), direction)


def best_first(trials: Sequence[TrialRecord], direction: str | Sequence[str]) -> list[TrialRecord]:
    """Completed trials by value in the study's direction(s), then all others by number."""
    top = ranked(trials, direction)
    shown = {t.number for t in top}
    return top + sorted((t for t in trials if t.number not in shown), key=lambda t: t.number)


def _objectives(study: StudyRecord | StudySummary) -> tuple[Objective, ...]:
    return tuple(study.objectives) or (Objective(study.metric, study.direction),)


def _goal(study: StudyRecord) -> str:
    """``val_accuracy (maximize)``, or each objective so for several; with constraints."""
    text = ", ".join(f"{_clean(o.name)} ({o.direction})" for o in _objectives(study))
    constraints = _constraints(study)
    if constraints is not None:
        text += f"; subject to {_clean(constraints.describe())}"
    return text


def _constraints(study: StudyRecord) -> Constraints | None:
    return Constraints.from_stored(study.constraints, None)


def _objective_columns(study: StudyRecord, shown: Sequence[TrialRecord]) -> list[Column]:
    """The result column(s) of a trials table: the metric, or one per objective; with
    constraints, whether each trial is feasible."""
    objectives = _objectives(study)
    if len(objectives) == 1:
        cells = tuple(format_number(t.value) for t in shown)
        cols = [Column(_clean(study.metric), cells, align="right", priority=1)]
    else:
        cols = [
            Column(
                _clean(o.name),
                tuple(
                    format_number(t.values[i]) if t.values and i < len(t.values) else "-"
                    for t in shown
                ),
                align="right",
                priority=1,
            )
            for i, o in enumerate(objectives)
        ]
    if study.constraints:
        feasible = tuple(
            "-" if t.constraint_violations is None else ("yes" if t.feasible else "no")
            for t in shown
        )
        cols.append(Column("feasible", feasible, priority=3))
    return cols


def _shown_params(trial: TrialRecord) -> Mapping[str, Any]:
    """A trial's parameters; for a WAITING enqueued trial, the ones it was queued with."""
    if trial.state is TrialState.WAITING and not trial.params:
        fixed = trial.attrs.get("fixed_params")
        return fixed if isinstance(fixed, Mapping) else {}
    return trial.params


def _param_names(study: StudyRecord, params: Iterable[Mapping[str, Any]]) -> list[str]:
    """The study's declared parameters in order, then define-by-run ones as first seen."""
    names = list(study.space or {})
    for p in params:
        names.extend(k for k in p if k not in names)
    return names


# commands ------------------------------------------------------------------------------
def _choose(
    columns: list[Column], chosen: Sequence[str] | None, aliases: Mapping[str, str], what: str
) -> list[Column]:
    """The columns named in ``--columns`` (case-insensitive; the first column always leads),
    shown even when empty; without ``--columns``, all of them."""
    if not chosen:
        return columns
    by_name = {c.name.lower(): c for c in columns}
    by_name.update({a: by_name[n] for a, n in aliases.items() if n in by_name})
    picked: list[Column] = []
    for name in chosen:
        col = by_name.get(name.lower())
        if col is None:
            names = ", ".join(c.name for c in columns)
            raise CommandError(
                f"unknown column {name!r} for {what}; choose from: {names} "
                "(comma-separated, e.g. --columns '#,value,lr,note')"
            )
        if col not in picked:
            picked.append(col)
    lead = columns[0]
    ordered = ([] if lead in picked else [lead]) + picked
    return [replace(c, keep=True) for c in ordered]


def _quote(name: str) -> str:
    """A study name as it would be typed in a shell."""
    return shlex.quote(_clean(name))
