"""Subcommands that write a study out: ``export``, ``dashboard`` and ``report``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hypersearch.cli.shared import CommandError, _clean, _constraints, _objectives, _plural
from hypersearch.cli_common import storage_url
from hypersearch.export import write_csv, write_json
from hypersearch.storage import SQLStorage


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
