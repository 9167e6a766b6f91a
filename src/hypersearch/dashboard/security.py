"""Request checks: which Host headers the dashboard answers, and which writes it accepts.

The Host check stops DNS-rebinding pages from reading the dashboard; the Origin check stops
other sites from writing notes and tags through a user's browser (cross-site request forgery).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["allowed_hosts", "host_allowed", "origin_allowed"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_ANY = ("0.0.0.0", "::", "")


def allowed_hosts(bind_host: str) -> frozenset[str] | None:
    """Host names requests may carry; ``None`` (anything) when bound to every interface."""
    if bind_host in _ANY:
        return None
    return frozenset({bind_host.lower(), *_LOOPBACK})


def _hostname(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host_header: str | None, allowed: Iterable[str] | None) -> bool:
    if allowed is None:
        return True
    if not host_header:
        return False
    return _hostname(host_header) in set(allowed)


def origin_allowed(origin: str | None, host_header: str | None) -> bool:
    """A write is accepted only from a page this server served: its Origin's host and port
    must equal the Host the request was sent to. A missing Origin (not a browser) is refused."""
    if not origin or not host_header or origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc.lower() == host_header.strip().lower()
