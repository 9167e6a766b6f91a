"""Start the dashboard: open storage read-only, build the app, serve it with uvicorn."""

from __future__ import annotations

import socket
import sys
from typing import TextIO

from hypersearch.dashboard.app import create_app
from hypersearch.dashboard.assets import plotly_js_path
from hypersearch.dashboard.queries import DashboardData
from hypersearch.exceptions import HypersearchError
from hypersearch.storage import SQLStorage, open_existing_storage

__all__ = ["DashboardError", "serve"]


class DashboardError(HypersearchError, RuntimeError):
    """The dashboard could not start (port taken, bad address, ...)."""


def _check_port(host: str, port: int) -> None:
    """Fail with one clear line when the address cannot be bound (uvicorn would log and exit)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise DashboardError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}. "
            "Choose another --port (or stop what uses it)."
        ) from None


def serve(
    url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    allow_edit: bool = False,
    poll_seconds: float = 2.0,
    storage: SQLStorage | None = None,
    out: TextIO | None = None,
) -> None:
    """Serve the dashboard for the storage at ``url`` until Ctrl-C. ``storage``, when given, is
    that storage already opened (the CLI's); it is used only to write notes and tags.

    >>> serve("sqlite:///hypersearch.db", port=8080)   # then open http://127.0.0.1:8080/
    """
    import uvicorn

    out = out if out is not None else sys.stdout
    plotly_js_path()  # a missing plotly package is a start-up error, not a broken page
    _check_port(host, port)
    # open_existing_storage refuses a missing file or a database that is not ours, with a clear
    # message; it is kept only to write notes and tags when editing is allowed.
    editor = storage if storage is not None else open_existing_storage(url)
    if not allow_edit and storage is None:
        editor.close()
    data = DashboardData.open(url)
    app = create_app(
        data,
        editor=editor if allow_edit else None,
        bind_host=host,
        poll_seconds=poll_seconds,
    )
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        print(
            f"warning: listening on every interface ({host}); anyone on the network can read "
            "your studies",
            file=out,
        )
        shown = "127.0.0.1"
    mode = "notes and tags editable" if allow_edit else "read-only"
    print(f"hypersearch dashboard ({mode}) for {editor.url}", file=out)
    print(f"open http://{shown}:{port}/  (Ctrl-C to stop)", file=out, flush=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        raise DashboardError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        data.close()
        if allow_edit and storage is None:
            editor.close()
