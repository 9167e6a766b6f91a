"""``hypersearch import optuna --from URL [--study NAME ...]``: the command-line front of the
importers. The target database is created when missing, as ``create_study`` would."""

from __future__ import annotations

import argparse
import sys

from hypersearch.exceptions import HypersearchError

__all__ = ["add_import_arguments", "import_main"]


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``import`` subcommand's arguments: the tool, where its studies are, which ones."""
    parser.add_argument("tool", choices=("optuna",), help="the tool the studies come from")
    parser.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="Optuna storage: sqlite:///optuna.db, postgresql://..., or a journal file's path",
    )
    parser.add_argument(
        "--study",
        dest="studies",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="import only these studies (default: all)",
    )
    parser.add_argument(
        "--into", metavar="NAME", help="name of the hypersearch study (one study only)"
    )


def import_main(args: argparse.Namespace, storage_url: str) -> int:
    """Run the import and print one summary per study; 1 with a message on any error."""
    from hypersearch.importers.optuna import import_optuna
    from hypersearch.storage import redact_url

    try:
        summaries = import_optuna(
            args.source, studies=args.studies, storage=storage_url, into=args.into
        )
    except HypersearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for summary in summaries:
        print(summary)
    print(
        f"into {redact_url(storage_url)}; continue with hypersearch.load_study(NAME, storage=...)."
    )
    return 0
