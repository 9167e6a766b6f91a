"""The ``worker`` subcommand: run trials of an existing study on this machine."""

from __future__ import annotations

import argparse
import logging

from hypersearch.storage import SQLStorage


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
