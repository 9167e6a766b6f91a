"""The ``hypersearch`` command: inspect, export, annotate, delete and upgrade stored studies.

    $ hypersearch studies
    $ hypersearch trials digits --state FAILED        # with each failure's traceback
    $ hypersearch best digits > best_params.json
    $ hypersearch export digits -o digits.csv

Every command reads ``--storage URL`` (default: ``$HYPERSEARCH_STORAGE``, else
``sqlite:///hypersearch.db`` in the current folder) and never creates a missing database.
Errors are one line, ``error: ...``, with exit code 1; passwords in URLs are never printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from hypersearch import __version__
from hypersearch.cli_common import (
    DEFAULT_STORAGE,
    ENV_STORAGE,
    program_name,
    scrub,
    storage_url,
)
from hypersearch.direction import Direction
from hypersearch.exceptions import HypersearchError, TrialNotFoundError
from hypersearch.export import write_csv, write_json
from hypersearch.objectives import (
    Constraints,
    Objective,
    best_ranked,
    front_ranks,
    pareto_front,
)
from hypersearch.storage import SQLStorage, StudyRecord, StudySummary, open_existing_storage
from hypersearch.tables import Column, fit_table, format_number, print_table, terminal_width
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["CommandError", "build_parser", "main", "open_storage", "program_name"]

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


def _json_safe(value: Any) -> Any:
    """Strict-JSON version of a value: non-finite floats become "inf", "-inf", "nan"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


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


def cmd_studies(args: argparse.Namespace, storage: SQLStorage) -> int:
    summaries = storage.list_studies()
    console = _console()
    if not summaries:
        console.print(f"No studies in {storage.url} yet; create one with hs.create_study(...).")
        return 0

    def counts(state: TrialState) -> tuple[str, ...]:  # 0 is blank, so empty states drop out
        return tuple(str(s.counts.get(state.value, 0) or "") for s in summaries)

    objectives = [_objectives(s) for s in summaries]
    columns = [
        Column("study", tuple(_clean(s.name) for s in summaries), priority=0),
        Column(
            "direction",
            tuple(", ".join(o.direction for o in objs) for objs in objectives),
            priority=40,
        ),
        Column(
            "metric",
            tuple(_clean(", ".join(o.name for o in objs)) for objs in objectives),
            cut=True,
            priority=30,
        ),
        *(
            Column(state.value.lower(), counts(state), align="right", priority=20)
            for state in STATE_COLUMNS
        ),
        Column(
            "best",
            tuple(
                format_number(s.best_value) if s.front_size is None else f"front of {s.front_size}"
                for s in summaries
            ),
            "right",
            priority=1,
        ),
        Column("last activity", tuple(_fmt_time(s.last_activity) for s in summaries), priority=50),
    ]
    shown = _choose(columns, args.columns, {"name": "study"}, "hypersearch studies")
    table = fit_table(
        shown,
        terminal_width(sys.stdout),
        title=f"Studies in {storage.url}",
        hidden_hint=COLUMNS_HINT,
    )
    print_table(table)
    return 0


def _trial_columns(
    study: StudyRecord, shown: Sequence[TrialRecord], failed_only: bool
) -> list[Column]:
    """Every column ``hypersearch trials`` can show, in order, with its hiding priority; the
    state is second and the source fourth from the end."""
    values = {t.number: _shown_params(t) for t in shown}
    params = _param_names(study, values.values())
    cols = [
        Column("#", tuple(str(t.number) for t in shown), align="right", priority=0),
        Column("state", tuple(t.state.value for t in shown), priority=2),
        *_objective_columns(study, shown),
    ]
    for i, name in enumerate(params):
        cells = tuple(
            _fmt_param(values[t.number][name]) if name in values[t.number] else "" for t in shown
        )
        cols.append(Column(_clean(name), cells, align="right", priority=10 + i))
    reason_priority = 5 if failed_only else 50
    notes = tuple(_clean(t.note) for t in shown)
    tags = tuple(_clean(", ".join(t.tags)) for t in shown)
    cols += [
        Column("duration", tuple(_fmt_duration(t.duration) for t in shown), "right", priority=70),
        Column("source", tuple(t.source for t in shown), priority=80),
        Column("note", notes, cut=True, priority=60, max_width=NOTE_WIDTH),
        Column("tags", tags, cut=True, priority=90, max_width=NOTE_WIDTH),
        Column(
            "fail reason",
            tuple(_clean(t.fail_reason or "") for t in shown),
            cut=True,
            priority=reason_priority,
            max_width=REASON_WIDTH,
        ),
    ]
    return cols


def cmd_trials(args: argparse.Namespace, storage: SQLStorage) -> int:
    study = storage.get_study(args.study)
    states: list[TrialState] | None = list(dict.fromkeys(args.state)) if args.state else None
    trials = storage.get_trials(study.id, states)
    if args.sort == "best":
        ordered = best_first(trials, [o.direction for o in _objectives(study)])
    else:
        ordered = sorted(trials, key=lambda t: t.number)
    shown = ordered[: args.limit] if args.limit else ordered
    console = _console()
    which = "" if states is None else " " + "/".join(s.value for s in states)
    if not shown:
        console.print(Text(f"No{which} trials in study {_clean(study.name)}."))
        return 0
    count = f"{len(shown)} of {len(trials)}" if len(shown) < len(trials) else str(len(shown))
    noun = "trial" if len(trials) == 1 else "trials"
    title = f"{_clean(study.name)}: {count}{which} {noun}, {_goal(study)}"
    columns = _trial_columns(study, shown, failed_only=states == [TrialState.FAILED])
    if args.columns:
        aliases = {"value": study.metric.lower(), "number": "#", "fail_reason": "fail reason"}
        columns = _choose(columns, args.columns, aliases, f"study {study.name!r}")
    elif len(shown) > 1:  # a state or source shared by every row is said once, in the title
        same = [c for c in (columns[1], columns[-4]) if len(set(c.cells)) == 1]
        told = [c for c in same if not (c is columns[1] and states and len(states) == 1)]
        if told:  # (a single --state is in the title already)
            title += "; every trial: " + ", ".join(f"{c.name} {c.cells[0]}" for c in told)
        columns = [c for c in columns if c not in same]
    table = fit_table(columns, terminal_width(sys.stdout), title=title, hidden_hint=COLUMNS_HINT)
    print_table(table)
    if states is not None and TrialState.FAILED in states:
        _print_tracebacks(console, [t for t in shown if t.state is TrialState.FAILED])
    return 0


def _print_tracebacks(console: Console, failed: Sequence[TrialRecord]) -> None:
    for t in failed:
        console.print(Rule(Text(f"trial {t.number}: {_clean(t.fail_reason or 'failed', 120)}")))
        if t.traceback:
            console.print(Text(_clean(t.traceback.rstrip(), multiline=True)))
        else:
            console.print("(no traceback recorded)")


def cmd_best(args: argparse.Namespace, storage: SQLStorage) -> int:
    study = storage.get_study(args.study)
    objectives = _objectives(study)
    complete = storage.get_trials(study.id, [TrialState.COMPLETE])
    if len(objectives) > 1:
        return _print_front(args, study, objectives, complete)
    top = ranked(complete, study.direction)
    if not top:
        from hypersearch.study import NoCompletedTrialsError

        feasible = "feasible " if study.constraints and any(t.has_value for t in complete) else ""
        raise NoCompletedTrialsError(
            f"study {study.name!r} has no {feasible}completed trial with a value yet; see its "
            f"trials with: {program_name(sys.argv[0])} trials {_quote(study.name)}"
        )
    best = top[0]
    data: Any = dict(best.params)
    if args.full:
        data = {"number": best.number, "value": best.value, "params": data}
    print(json.dumps(_json_safe(data), indent=2, ensure_ascii=False, allow_nan=False, default=str))
    return 0


def _print_front(
    args: argparse.Namespace,
    study: StudyRecord,
    objectives: Sequence[Objective],
    complete: Sequence[TrialRecord],
) -> int:
    """``hypersearch best`` of a study with several objectives: its Pareto front, as a
    table (best first by the first objective), or as JSON with ``--json``."""
    front = ranked(
        pareto_front(complete, [o.direction for o in objectives]),
        [o.direction for o in objectives],
    )
    if args.json:
        data = [
            {
                "number": t.number,
                "values": dict(zip((o.name for o in objectives), t.values or (), strict=True)),
                "params": dict(t.params),
            }
            for t in front
        ]
        print(json.dumps(_json_safe(data), indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    console = _console()
    if not front:
        feasible = " feasible" if study.constraints and complete else ""
        console.print(
            Text(
                f"Study {_clean(study.name)} has no{feasible} completed trial with every "
                f"objective yet; see its trials with: {program_name(sys.argv[0])} trials "
                f"{_quote(study.name)}"
            )
        )
        return 1
    values = {t.number: _shown_params(t) for t in front}
    cols = [
        Column("#", tuple(str(t.number) for t in front), align="right", priority=0),
        *_objective_columns(study, front),
    ]
    cols = [c for c in cols if c.name != "feasible"]  # the front is feasible by definition
    for i, name in enumerate(_param_names(study, values.values())):
        cells = tuple(
            _fmt_param(values[t.number][name]) if name in values[t.number] else "" for t in front
        )
        cols.append(Column(_clean(name), cells, align="right", priority=10 + i))
    cols.append(
        Column(
            "note",
            tuple(_clean(t.note) for t in front),
            cut=True,
            priority=60,
            max_width=NOTE_WIDTH,
        )
    )
    n_done = len(complete)
    title = (
        f"{_clean(study.name)}: Pareto front, {_plural(len(front), 'trial')} of "
        f"{n_done} completed; {_goal(study)}"
    )
    print_table(fit_table(cols, terminal_width(sys.stdout), title=title, hidden_hint=COLUMNS_HINT))
    return 0


def _export_format(output: str, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    if output == "-":
        return "csv"
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix in ("csv", "json"):
        return suffix
    raise CommandError(
        f"cannot tell the export format from {output!r}; name the file .csv or .json, "
        "or pass --format csv|json"
    )


def cmd_export(args: argparse.Namespace, storage: SQLStorage) -> int:
    fmt = _export_format(args.output, args.format)
    study = storage.get_study(args.study)
    trials = storage.get_trials(study.id)
    writer = write_csv if fmt == "csv" else write_json
    objectives = _objectives(study)
    constraints = _constraints(study)
    columns: dict[str, Any] = {
        "objectives": [o.name for o in objectives] if len(objectives) > 1 else None,
        "constraints": None if constraints is None else constraints.labels(),
    }
    if args.output == "-":
        writer(trials, sys.stdout, study.metric, **columns)
        sys.stdout.flush()
        return 0
    try:
        writer(trials, args.output, study.metric, **columns)
    except OSError as exc:
        raise CommandError(
            f"cannot write {args.output}: {exc.strerror or exc}; check the folder exists "
            "and is writable, or choose another path with -o"
        ) from None
    print(
        f"Exported {_plural(len(trials), 'trial')} of study {_clean(study.name)} "
        f"to {args.output} ({fmt}).",
        file=sys.stderr,
    )
    return 0


def _confirm(prompt: str) -> bool:
    print(prompt, end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def cmd_delete(args: argparse.Namespace, storage: SQLStorage) -> int:
    study = storage.get_study(args.study)
    summary = next((s for s in storage.list_studies() if s.name == study.name), None)
    n = summary.n_trials if summary is not None else 0
    running = summary.counts.get(TrialState.RUNNING.value, 0) if summary is not None else 0
    what = f"study {_clean(study.name)} with {_plural(n, 'trial')}"
    if running:
        what += f" ({running} still running)"
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError(
                f"refusing to delete {what} without confirmation; pass --yes to delete it"
            )
        if not _confirm(f"Delete {what}? [y/N] "):
            print(f"Kept study {_clean(study.name)}.", file=sys.stderr)
            return 1
    storage.delete_study(study.name)
    print(f"Deleted {what}.")
    return 0


def _annotate(study: StudyRecord, number: int, storage: SQLStorage, **changes: Any) -> TrialRecord:
    try:
        storage.update_trial_annotations(study.id, number, **changes)
        return storage.get_trial(study.id, number)
    except TrialNotFoundError:
        raise TrialNotFoundError(
            f"no trial number {number} in study {study.name!r}; list them with: "
            f"{program_name(sys.argv[0])} trials {_quote(study.name)} --sort number"
        ) from None


def cmd_note(args: argparse.Namespace, storage: SQLStorage) -> int:
    study = storage.get_study(args.study)
    _annotate(study, args.number, storage, note=args.text)
    done = "note set" if args.text else "note cleared"
    print(f"Trial {args.number} of study {_clean(study.name)}: {done}.")
    return 0


def cmd_tag(args: argparse.Namespace, storage: SQLStorage) -> int:
    tags = [t.strip() for t in args.tags]
    if not all(tags):
        raise CommandError("tags must be non-empty text; remove the empty tag and try again")
    study = storage.get_study(args.study)
    if args.remove:
        record = _annotate(study, args.number, storage, remove_tags=tags)
    else:
        record = _annotate(study, args.number, storage, add_tags=tags)
    now = ", ".join(record.tags) or "(none)"
    print(f"Trial {args.number} of study {_clean(study.name)}: tags {_clean(now)}.")
    return 0


def cmd_upgrade(args: argparse.Namespace, storage: SQLStorage) -> int:
    before, after = storage.upgrade_schema()
    if before == after:
        print(f"Storage {storage.url}: schema v{after} is current; nothing to upgrade.")
    else:
        print(f"Storage {storage.url}: upgraded schema v{before} -> v{after}.")
    return 0


def _dashboard_module(name: str) -> Any:
    """Import a dashboard module lazily, so ``hypersearch --version`` stays fast."""
    import importlib

    try:
        return importlib.import_module(f"hypersearch.dashboard.{name}")
    except ImportError as exc:
        raise CommandError(
            f"the dashboard needs {exc.name or 'its dependencies'}: "
            'pip install "hypersearch[dashboard]"'
        ) from None


def cmd_dashboard(args: argparse.Namespace, storage: SQLStorage) -> int:
    server = _dashboard_module("server")
    server.serve(
        storage_url(args.storage),
        host=args.host,
        port=args.port,
        allow_edit=args.allow_edit,
        storage=storage,
        token=args.token,
        allowed_hosts=args.allowed_host,
    )
    return 0


def cmd_report(args: argparse.Namespace, storage: SQLStorage) -> int:
    report = _dashboard_module("report")
    queries = _dashboard_module("queries")
    data = queries.DashboardData.open(storage_url(args.storage))
    try:
        path = report.write_report(data, args.study, args.output)
    finally:
        data.close()
    size = path.stat().st_size / 1e6
    print(f"Wrote {path} ({size:.1f} MB): one self-contained HTML file, opens offline.")
    return 0


def cmd_worker(args: argparse.Namespace, storage: SQLStorage) -> int:
    from hypersearch.execution.worker import run_worker
    from hypersearch.integrations.trackers import tracker_from_spec
    from hypersearch.progress import log_to_stderr

    trackers = [tracker_from_spec(spec) for spec in args.log_to]
    with log_to_stderr(logging.WARNING):  # lost connections, reaped trials, failures
        summary = run_worker(
            args.study,
            storage,
            args.objective,
            n_trials=args.n_trials,
            timeout=args.timeout,
            max_retries=args.max_retries,
            callbacks=trackers,
            constraints=args.constraints,
        )
    print(summary)
    return 0


def _quote(name: str) -> str:
    """A study name as it would be typed in a shell."""
    return shlex.quote(_clean(name))


# parser --------------------------------------------------------------------------------
def _state(text: str) -> TrialState:
    try:
        return TrialState(text.strip().upper())
    except ValueError:
        names = ", ".join(s.value for s in TrialState)
        raise argparse.ArgumentTypeError(
            f"unknown state {text!r}; choose from {names} (put STUDY before --state)"
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number >= 1, got {text!r}")
    return value


COLUMNS_HELP = (
    "the columns to show, comma-separated, in this order (e.g. '#,value,lr,note'); "
    "default: every column with something in it that fits the terminal"
)


def _column_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"needs column names separated by commas, got {text!r}")
    return names


def _trial_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a trial number is a whole number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hypersearch",
        description="Inspect, export and manage hypersearch studies kept in storage.",
        epilog=f"The storage defaults to ${ENV_STORAGE}, else {DEFAULT_STORAGE}.",
    )
    parser.add_argument("--version", action="version", version=f"hypersearch {__version__}")
    storage_help = (
        f"database URL: sqlite:///file.db or postgresql://user@host/db "
        f"(default: ${ENV_STORAGE}, else {DEFAULT_STORAGE})"
    )
    parser.add_argument("--storage", metavar="URL", default=None, help=storage_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--storage", metavar="URL", default=argparse.SUPPRESS, help=storage_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(handler=handler, upgrading=False)
        return p

    p = command("studies", cmd_studies, "list the studies with trial counts and best values")
    p.add_argument("--columns", type=_column_list, metavar="LIST", help=COLUMNS_HELP)

    p = command("trials", cmd_trials, "show a study's trials, best first")
    p.add_argument("study", metavar="STUDY")
    p.add_argument(
        "--state",
        type=_state,
        nargs="+",
        action="extend",
        metavar="STATE",
        help="only these states (COMPLETE, STOPPED, FAILED, RUNNING, WAITING); "
        "FAILED also prints each failure's traceback",
    )
    p.add_argument("--limit", type=_positive, metavar="N", help="show at most N trials")
    p.add_argument(
        "--sort",
        choices=("best", "number"),
        default="best",
        help="best: completed trials by value, then the others by number (default); "
        "number: in the order they started",
    )
    p.add_argument("--columns", type=_column_list, metavar="LIST", help=COLUMNS_HELP)

    p = command(
        "best",
        cmd_best,
        "print the best trial's parameters as JSON (several objectives: the Pareto front)",
    )
    p.add_argument("study", metavar="STUDY")
    p.add_argument("--full", action="store_true", help="print number, value and params")
    p.add_argument(
        "--json",
        action="store_true",
        help="several objectives: the Pareto front as JSON (number, values, params)",
    )

    p = command("export", cmd_export, "write every trial of a study to CSV or JSON")
    p.add_argument("study", metavar="STUDY")
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="file to write, or - for stdout"
    )
    p.add_argument(
        "--format",
        choices=("csv", "json"),
        help="default: from the file's suffix (csv for stdout)",
    )

    p = command("delete", cmd_delete, "delete a study and all its trials")
    p.add_argument("study", metavar="STUDY")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    p = command("note", cmd_note, "set the note of a trial (an empty TEXT clears it)")
    p.add_argument("study", metavar="STUDY")
    p.add_argument("number", type=_trial_number, metavar="NUMBER")
    p.add_argument("text", metavar="TEXT")

    p = command("tag", cmd_tag, "add tags to a trial (or remove them with --remove)")
    p.add_argument("study", metavar="STUDY")
    p.add_argument("number", type=_trial_number, metavar="NUMBER")
    p.add_argument("tags", nargs="+", metavar="TAG")
    p.add_argument("--remove", action="store_true", help="remove the tags instead")

    p = command("dashboard", cmd_dashboard, "serve the live web dashboard (read-only by default)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=_positive, default=8080, help="port (default: 8080)")
    p.add_argument(
        "--allow-edit", action="store_true", help="let the pages edit trial notes and tags"
    )
    p.add_argument(
        "--token",
        metavar="TOKEN",
        help=(
            "access token every request must show (default: $HYPERSEARCH_DASHBOARD_TOKEN; "
            "generated and printed when --host is not a loopback address)"
        ),
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name to answer besides IP addresses and localhost (a reverse proxy's "
        "public name); repeat for several",
    )

    p = command("report", cmd_report, "write a self-contained HTML report of a study")
    p.add_argument("study", metavar="STUDY")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="HTML file to write")

    p = command(
        "worker", cmd_worker, "run trials of an existing study here (start one per machine/GPU)"
    )
    p.add_argument("study", metavar="STUDY")
    p.add_argument(
        "--objective",
        required=True,
        metavar="MODULE:FUNCTION",
        help="the objective, importable from here (e.g. train:objective for ./train.py)",
    )
    p.add_argument("--n-trials", type=_positive, metavar="N", help="stop after N trials")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="stop after this long")
    p.add_argument(
        "--max-retries", type=int, default=0, metavar="N", help="re-run lost trials N times"
    )
    p.add_argument(
        "--log-to",
        action="append",
        default=[],
        metavar="TRACKER",
        help="also log each trial to tensorboard:DIR or mlflow[:URI] (repeatable)",
    )
    p.add_argument(
        "--constraints",
        metavar="MODULE:FUNCTION",
        help="the study's constraint function, when it was created with one",
    )

    p = command("upgrade", cmd_upgrade, "upgrade the database schema to this version's")
    p.set_defaults(upgrading=True)

    # `run` creates its study (and database) itself, so it bypasses open_storage below.
    from hypersearch.experiment.cli import add_run_arguments, handler_with_storage

    p = command("run", handler_with_storage, "run a config-file experiment (docs/front-doors.md)")
    add_run_arguments(p)
    p.set_defaults(standalone="run")

    # `lr-find` needs storage only with --study; its logic lives in hypersearch.tools.lr_finder.
    from hypersearch.tools.lr_finder import add_cli_arguments, run_cli

    p = command("lr-find", run_cli, "LR range test for a model given as MODULE:FUNCTION")
    add_cli_arguments(p)
    p.set_defaults(standalone="lr-find")

    # `import` creates the target database when missing, so it bypasses open_storage too.
    from hypersearch.importers.cli import add_import_arguments, import_main

    p = command("import", import_main, "import studies from Optuna (their trials warm-start ours)")
    add_import_arguments(p)
    p.set_defaults(standalone="import")
    return parser


# entry point ---------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hypersearch`` command; return its exit code (0 ok, 1 error, 2 usage).

    >>> main(["best", "digits", "--storage", "sqlite:///hypersearch.db"])
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if getattr(args, "standalone", None) == "run":
        from hypersearch.experiment.cli import main as run_main

        return run_main(args)
    if getattr(args, "standalone", None) == "lr-find":
        from hypersearch.tools.lr_finder import cli_main

        return cli_main(args, storage_url(args.storage))
    if getattr(args, "standalone", None) == "import":
        return int(args.handler(args, storage_url(args.storage)))
    url = storage_url(args.storage)
    try:
        storage = open_storage(url, upgrading=args.upgrading)
        try:
            return int(args.handler(args, storage))
        finally:
            storage.close()
    except HypersearchError as exc:
        print(f"error: {scrub(str(exc), url)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        with suppress(Exception):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
