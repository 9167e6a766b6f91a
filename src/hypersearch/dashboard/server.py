"""Start the dashboard: open storage read-only, build the app, serve it with uvicorn.

Beyond loopback it requires an access token (given, or generated and printed) and says so.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from typing import TextIO

from hypersearch.dashboard.app import create_app
from hypersearch.dashboard.queries import DashboardData
from hypersearch.dashboard.security import (
    TOKEN_ENV,
    check_token,
    is_loopback,
    is_wildcard,
    new_token,
)
from hypersearch.exceptions import HypersearchError, InvalidArgumentError
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
    token: str | None = None,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Serve the dashboard for the storage at ``url`` until Ctrl-C. ``storage``, when given, is
    that storage already opened (the CLI's); it is used only to write notes and tags.

    Every request must show an access token when ``token`` (or $HYPERSEARCH_DASHBOARD_TOKEN) is
    given, and always when ``host`` is not a loopback address (one is generated and printed).
    ``allowed_hosts`` are the names, besides IP addresses and localhost, that requests may
    carry as Host (a reverse proxy's public name).

    >>> serve("sqlite:///hypersearch.db", port=8080)   # then open http://127.0.0.1:8080/
    """
    import uvicorn

    out = out if out is not None else sys.stdout
    token, token_source = _access_token(host, token)
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
        token=token,
        extra_hosts=_host_names(host, allowed_hosts),
    )
    _print_banner(out, host, port, token, token_source, allow_edit, editor.url)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, server_header=False
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        raise DashboardError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        data.close()
        if allow_edit and storage is None:
            editor.close()


def _access_token(host: str, given: str | None) -> tuple[str | None, str]:
    """The token requests must show, and where it came from (``--token``, the environment
    variable or ``generated``); ``None`` on loopback when none was given."""
    if given is not None:
        source = "--token"
    else:
        given, source = os.environ.get(TOKEN_ENV) or None, TOKEN_ENV
    if given is not None:
        try:
            return check_token(given, source), source
        except InvalidArgumentError as exc:
            raise DashboardError(str(exc)) from None
    if is_loopback(host):
        return None, ""
    return new_token(), "generated"


def _host_names(host: str, allowed: Sequence[str]) -> list[str]:
    """The Host names to answer besides IP addresses and localhost: the ones allowed and, when
    listening on every interface, this machine's name (the address printed for other machines)."""
    names = list(allowed)
    if is_wildcard(host):
        names.append(socket.gethostname())
    return names


def _print_banner(
    out: TextIO,
    host: str,
    port: int,
    token: str | None,
    token_source: str,
    allow_edit: bool,
    storage_url: str,
) -> None:
    """What the dashboard serves, where to open it and, beyond loopback, the warning."""
    shown = f"[{host}]" if ":" in host else host
    if is_wildcard(host):
        where = f"every interface ({host or '0.0.0.0'})"
        shown = "127.0.0.1"
    else:
        where = host
    query = ""
    if token is not None:
        query = f"?token={token}" if token_source == "generated" else f"?token=<{token_source}>"
    if not is_loopback(host):
        print(
            f"warning: the dashboard listens on {where}, so other machines can reach it on port "
            f"{port}.\n"
            "  Every request must show its access token: share the address below only with "
            "people who may see your studies.\n"
            "  It is plain HTTP (unencrypted): beyond a trusted network, put it behind a TLS "
            "reverse proxy (docs/dashboard.md, 'Sharing the dashboard').",
            file=out,
        )
    elif token is not None:
        print(f"every request must show the access token (from {token_source})", file=out)
    mode = "notes and tags editable" if allow_edit else "read-only"
    print(f"hypersearch dashboard ({mode}) for {storage_url}", file=out)
    if token is not None:
        print("API clients: send the header 'Authorization: Bearer TOKEN'", file=out)
    if is_wildcard(host):
        print(f"from other machines: http://{socket.gethostname()}:{port}/{query}", file=out)
    print(f"open http://{shown}:{port}/{query}  (Ctrl-C to stop)", file=out, flush=True)
