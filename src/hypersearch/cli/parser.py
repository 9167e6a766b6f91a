"""The ``hypersearch`` argument parser: one subparser per subcommand, and the argument types."""

from __future__ import annotations

import argparse

from hypersearch import __version__
from hypersearch.cli.maintenance import cmd_delete, cmd_note, cmd_tag, cmd_upgrade
from hypersearch.cli.reading import cmd_best, cmd_studies, cmd_trials
from hypersearch.cli.reporting import cmd_dashboard, cmd_export, cmd_report
from hypersearch.cli.shared import Handler
from hypersearch.cli.workers import cmd_worker
from hypersearch.cli_common import DEFAULT_STORAGE, ENV_STORAGE
from hypersearch.trial import TrialState


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
