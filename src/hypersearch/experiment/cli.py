"""``hypersearch run experiment.yaml``: the command-line side of config-file experiments."""

from __future__ import annotations

import argparse
import contextlib
import logging
import shlex
import sys
from collections.abc import Iterator

from hypersearch.cli_common import program_name
from hypersearch.exceptions import HypersearchError

__all__ = ["add_run_arguments", "main"]


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", metavar="EXPERIMENT.yaml", help="the experiment file")
    parser.add_argument(
        "--n-trials", type=int, metavar="N", help="run N trials (overrides budget.trials)"
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="overrides budget.timeout"
    )
    parser.add_argument(
        "--check", action="store_true", help="only validate the file and print its summary"
    )
    parser.add_argument(
        "--log-to",
        action="append",
        default=[],
        metavar="TRACKER",
        help="also log each trial to tensorboard:DIR or mlflow[:URI] (repeatable)",
    )


def main(args: argparse.Namespace) -> int:
    """Run (or ``--check``) the experiment named in ``args``; return the exit code."""
    from hypersearch.experiment.runner import check_command, run_experiment
    from hypersearch.experiment.schema import load_experiment
    from hypersearch.integrations.trackers import tracker_from_spec
    from hypersearch.progress import log_to_stderr

    storage = getattr(args, "storage", None)
    try:
        if args.check:
            config = load_experiment(args.experiment)
            check_command(config)
            goal = (
                ", ".join(f"{d} {n!r}" for n, d in config.objectives.items())
                if config.objectives
                else f"{config.direction} {config.metric!r}"
            )
            if config.constraints:
                goal += "; subject to " + ", ".join(
                    f"{n} {op} {bound:g}" for n, (op, bound) in config.constraints.items()
                )
            print(
                f"{args.experiment}: ok — study {config.name!r}, {len(config.space)} "
                f"parameter(s), {goal}"
            )
            return 0
        trackers = [tracker_from_spec(spec) for spec in getattr(args, "log_to", [])]
        with log_to_stderr(), _without_trial_summaries():
            study = run_experiment(  # a progress line per trial also without a terminal
                args.experiment,
                storage=storage,
                n_trials=args.n_trials,
                timeout=args.timeout,
                show_progress=True,
                callbacks=trackers,
            )
        command = program_name(sys.argv[0])
        name = shlex.quote(study.name)
        if study.is_multi_objective:
            front = study.best_trials
            if not front:
                print(f"study {study.name!r}: no feasible trial completed yet", file=sys.stderr)
                return 1
            numbers = ", ".join(str(t.number) for t in front)
            print(
                f"Pareto front: {len(front)} trial(s) ({numbers}); see it with: "
                f"{command} best {name} --storage {study.storage_url}"
            )
            return 0
        try:
            best = study.best_trial
        except HypersearchError:
            print(f"study {study.name!r}: no trial completed yet", file=sys.stderr)
            return 1
        print(f"best {study.metric} = {best.value:.6g} (trial {best.number}): {dict(best.params)}")
        print(f"more: {command} trials {name} --storage {study.storage_url}")
        return 0
    except HypersearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


@contextlib.contextmanager
def _without_trial_summaries() -> Iterator[None]:
    """The progress line of each finished trial (state, value, best, parameters) replaces
    the study's shorter "Trial 3 complete: ..." log line; other log lines still show."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Trial %d %s:")

    log = logging.getLogger("hypersearch")
    log.addFilter(keep)
    try:
        yield
    finally:
        log.removeFilter(keep)


def handler_with_storage(args: argparse.Namespace, storage: object) -> int:
    """The CLI's handler signature; ``hypersearch run`` opens (or creates) storage itself."""
    return main(args)
