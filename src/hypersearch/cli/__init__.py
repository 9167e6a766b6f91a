"""The ``hypersearch`` command: inspect, export, annotate, delete and upgrade stored studies.

    $ hypersearch studies
    $ hypersearch trials digits --state FAILED        # with each failure's traceback
    $ hypersearch best digits > best_params.json
    $ hypersearch export digits -o digits.csv

Every command reads ``--storage URL`` (default: ``$HYPERSEARCH_STORAGE``, else
``sqlite:///hypersearch.db`` in the current folder) and never creates a missing database.
Errors are one line, ``error: ...``, with exit code 1; passwords in URLs are never printed.

Modules: ``parser`` (the argument parser), ``reading`` (studies, trials, best), ``reporting``
(export, dashboard, report), ``maintenance`` (delete, note, tag, upgrade), ``workers``
(worker), ``shared`` (what they share); ``run``, ``lr-find`` and ``import`` live with their
features and are wired in by ``parser``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextlib import suppress

# Subcommands and helpers stay importable from here, as before the split into modules.
from hypersearch.cli.maintenance import cmd_delete as cmd_delete
from hypersearch.cli.maintenance import cmd_note as cmd_note
from hypersearch.cli.maintenance import cmd_tag as cmd_tag
from hypersearch.cli.maintenance import cmd_upgrade as cmd_upgrade
from hypersearch.cli.parser import build_parser
from hypersearch.cli.reading import cmd_best as cmd_best
from hypersearch.cli.reading import cmd_studies as cmd_studies
from hypersearch.cli.reading import cmd_trials as cmd_trials
from hypersearch.cli.reporting import cmd_dashboard as cmd_dashboard
from hypersearch.cli.reporting import cmd_export as cmd_export
from hypersearch.cli.reporting import cmd_report as cmd_report
from hypersearch.cli.shared import CommandError, open_storage
from hypersearch.cli.shared import Handler as Handler
from hypersearch.cli.shared import best_first as best_first
from hypersearch.cli.shared import ranked as ranked
from hypersearch.cli.workers import cmd_worker as cmd_worker
from hypersearch.cli_common import DEFAULT_STORAGE as DEFAULT_STORAGE
from hypersearch.cli_common import ENV_STORAGE as ENV_STORAGE
from hypersearch.cli_common import program_name, scrub, storage_url
from hypersearch.exceptions import HypersearchError

__all__ = ["CommandError", "build_parser", "main", "open_storage", "program_name"]


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
