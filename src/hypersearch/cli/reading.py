"""Subcommands that read a study: ``studies``, ``trials`` and ``best``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from hypersearch.cli.shared import (
    COLUMNS_HINT,
    NOTE_WIDTH,
    REASON_WIDTH,
    STATE_COLUMNS,
    _choose,
    _clean,
    _console,
    _fmt_duration,
    _fmt_param,
    _fmt_time,
    _goal,
    _objective_columns,
    _objectives,
    _param_names,
    _plural,
    _quote,
    _shown_params,
    best_first,
    ranked,
)
from hypersearch.cli_common import program_name
from hypersearch.export import strict_json
from hypersearch.objectives import Objective, pareto_front
from hypersearch.storage import SQLStorage, StudyRecord
from hypersearch.tables import Column, fit_table, format_number, print_table, terminal_width
from hypersearch.trial import TrialRecord, TrialState


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
    safe = strict_json(data)
    print(json.dumps(safe, indent=2, ensure_ascii=False, allow_nan=False, default=str))
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
        print(json.dumps(strict_json(data), indent=2, ensure_ascii=False, allow_nan=False))
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
