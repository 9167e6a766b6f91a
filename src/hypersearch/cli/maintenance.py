"""Subcommands that change storage: ``delete``, ``note``, ``tag`` and ``upgrade``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hypersearch.cli.shared import CommandError, _clean, _plural, _quote
from hypersearch.cli_common import program_name
from hypersearch.exceptions import TrialNotFoundError
from hypersearch.storage import SQLStorage, StudyRecord
from hypersearch.trial import TrialRecord, TrialState


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
