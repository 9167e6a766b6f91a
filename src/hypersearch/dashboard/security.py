"""Who may talk to the dashboard: Host, token and Origin checks, and the headers every answer
carries.

- The Host check defeats DNS rebinding for any bind address: a rebinding page's requests carry
  the attacker's own name as Host, never an IP address, ``localhost`` or a name the user allowed.
- The token (required when the dashboard listens beyond loopback, or whenever one is given)
  keeps everyone else on the network out. Browsers bring it once as ``?token=...`` and then in
  an HttpOnly, SameSite=Strict cookie; API clients send ``Authorization: Bearer ...``.
- Writes (notes, tags) must come from a page this server served: an Origin (or, without one, a
  Referer) equal to the Host the request was sent to. This stops cross-site request forgery.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
import socket
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypersearch.exceptions import InvalidArgumentError

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "TOKEN_ENV",
    "Guard",
    "allowed_hosts",
    "check_token",
    "host_allowed",
    "is_loopback",
    "is_wildcard",
    "new_token",
    "origin_allowed",
]

#: The environment variable that gives the dashboard its access token.
TOKEN_ENV = "HYPERSEARCH_DASHBOARD_TOKEN"
MIN_TOKEN_LENGTH = 16
#: The largest id or number a URL path may name (SQL BIGINT).
MAX_ID = 2**63 - 1
#: How long a browser keeps the token cookie (7 days).
COOKIE_MAX_AGE = 7 * 24 * 3600

#: Scripts and styles only from this server's own files: no inline script or style, no eval,
#: no other origin. (Setting ``element.style`` from a script is still allowed: the charts place
#: their tooltips that way.)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_\-.~+/=]+")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address, accepting the short IPv4 forms sockets accept (``0``)."""
    text = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def is_loopback(bind_host: str) -> bool:
    """Whether only this machine can reach a server bound to ``bind_host`` (no DNS lookup)."""
    if bind_host.strip().lower().rstrip(".") in _LOCAL_NAMES:
        return True
    address = _address(bind_host)
    return address is not None and address.is_loopback


def is_wildcard(bind_host: str) -> bool:
    """Whether ``bind_host`` means every interface (``0.0.0.0``, ``::``, ``0``, empty)."""
    if not bind_host.strip():
        return True
    address = _address(bind_host)
    return address is not None and address.is_unspecified


def new_token() -> str:
    """A fresh access token: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def check_token(token: str, source: str) -> str:
    """``token`` if it is long enough and safe in a URL and a header; otherwise a clear error
    naming ``source`` (``--token`` or the environment variable)."""
    if len(token) < MIN_TOKEN_LENGTH or not _TOKEN_TEXT.fullmatch(token):
        raise InvalidArgumentError(
            f"{source} must be at least {MIN_TOKEN_LENGTH} characters of letters, digits and "
            f"-_.~+/= (got {len(token)} characters). Leave it out to get a generated one, or "
            "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return token


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names (besides IP addresses) requests may carry: the localhost names, the bind
    address when it is a name, and the names given with ``--allowed-host``."""
    names = set(_LOCAL_NAMES)
    if not is_wildcard(bind_host) and _address(bind_host) is None:
        names.add(_norm_name(bind_host))
    names.update(_norm_name(h) for h in extra if h.strip())
    return frozenset(names)


def _norm_name(name: str) -> str:
    return name.strip().lower().rstrip(".")


def _hostname(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return (host.rsplit(":", 1)[0] if host.count(":") == 1 else host).rstrip(".")


def host_allowed(host_header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request with this Host header may be answered. Any IP address is fine (a
    DNS-rebinding page cannot send one: its Host is its own name); a name must be allowed."""
    if not host_header:
        return False
    name = _hostname(host_header)
    return _address(name) is not None or name in set(allowed)


def origin_allowed(origin: str | None, referer: str | None, host_header: str | None) -> bool:
    """A write is accepted only from a page this server served: the scheme-less ``host:port`` of
    its Origin (or, when a browser sent none, its Referer) must equal the request's Host."""
    source = origin if origin else referer
    if not source or not host_header or source == "null":
        return False
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc.lower() == host_header.strip().lower()


def _token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so response timing reveals nothing about the token."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())


_DENIED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Access token needed · hypersearch</title>
</head><body><h1>This dashboard needs its access token</h1>
<p>It listens beyond this machine, so every visit must show the token it printed at start.
Open the address it printed (it ends in <code>?token=…</code>), or ask whoever started it.</p>
<p>API clients: send <code>Authorization: Bearer TOKEN</code>.</p></body></html>
"""

_WELCOME_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={url}"><title>hypersearch</title></head>
<body><p>Signed in. <a href="{url}">Continue to the dashboard</a>.</p></body></html>
"""


class Guard:
    """ASGI middleware in front of the whole dashboard: Host check (400), token check (401),
    same-origin check for writes (403), and security headers on every answer."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str], token: str | None = None) -> None:
        self.app = app
        self.hosts = frozenset(hosts)
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        headers = Headers(scope=scope)
        if not host_allowed(headers.get("host"), self.hosts):
            await _plain(send_with_headers, 400, "Invalid Host header")
            return
        if self.token is not None and not await self._authorised(
            scope, headers, send_with_headers
        ):
            return
        if _oversized_number(scope["path"]):
            message = f"a number in the path is larger than any id can be (max {MAX_ID})"
            if scope["path"].startswith("/api/"):
                await _json(send_with_headers, 400, json.dumps({"error": message}))
            else:
                await _plain(send_with_headers, 400, message[0].upper() + message[1:] + ".")
            return
        if scope["method"] not in _SAFE_METHODS and not origin_allowed(
            headers.get("origin"), headers.get("referer"), headers.get("host")
        ):
            await _json(
                send_with_headers,
                403,
                '{"error": "refused: the request did not come from this dashboard\'s page"}',
            )
            return
        await self.app(scope, receive, send_with_headers)

    async def _authorised(self, scope: Scope, headers: Headers, send: Send) -> bool:
        """True when the request shows the token; otherwise answers it (401, or the sign-in
        page that stores the token in a cookie) and returns False."""
        assert self.token is not None
        cookie_name = f"hypersearch_token_{_port(scope)}"
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except CookieError:  # a malformed Cookie header is just no cookie
            cookies = SimpleCookie()
        morsel = cookies.get(cookie_name)
        if morsel is not None and _token_matches(morsel.value, self.token):
            return True
        scheme, _, bearer = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and _token_matches(bearer.strip(), self.token):
            return True
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        given = [v for k, v in query if k == "token"]
        if given and _token_matches(given[-1], self.token):
            path: str = scope["path"]
            if scope["method"] != "GET" or path.startswith(("/api/", "/static/")):
                return True
            # a browser opening the printed address: keep the token in a cookie and load the
            # page again without it, so it leaves the address bar and the history
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            raw = scope.get("raw_path") or path.encode()
            # the path as sent (still %-encoded), and never "//host": always this server
            url = "/" + raw.decode("latin-1").lstrip("/") + ("?" + rest if rest else "")
            secure = "; Secure" if scope.get("scheme") == "https" else ""
            cookie = (
                f"{cookie_name}={self.token}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; "
                f"SameSite=Strict{secure}"
            )
            body = _WELCOME_PAGE.format(url=_attr(url)).encode()
            await _respond(send, 200, "text/html; charset=utf-8", body, [("set-cookie", cookie)])
            return False
        if scope["path"].startswith("/api/"):
            await _json(
                send,
                401,
                '{"error": "this dashboard needs its access token: send Authorization: Bearer '
                'TOKEN (the token it printed at start)"}',
                [("www-authenticate", 'Bearer realm="hypersearch"')],
            )
        else:
            await _respond(
                send,
                401,
                "text/html; charset=utf-8",
                _DENIED_PAGE.encode(),
                [("www-authenticate", 'Bearer realm="hypersearch"')],
            )
        return False


def _oversized_number(path: str) -> bool:
    """Whether a path segment is a number no SQL BIGINT column can hold (ids, trial numbers):
    refused here with a 400, instead of overflowing in the database driver (a 500)."""
    return any(
        part.isascii() and part.isdigit() and (len(part) > 19 or int(part) > MAX_ID)
        for part in path.split("/")
    )


def _port(scope: Scope) -> int:
    """The port this server listens on: cookies are shared by every port of a host, so the
    cookie's name carries it and two dashboards on one machine keep their own tokens."""
    server = scope.get("server")
    return int(server[1]) if server and server[1] is not None else 0


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


async def _plain(send: Send, status: int, text: str) -> None:
    await _respond(send, status, "text/plain; charset=utf-8", text.encode())


async def _json(
    send: Send, status: int, body: str, extra: list[tuple[str, str]] | None = None
) -> None:
    await _respond(send, status, "application/json", body.encode(), extra)


async def _respond(
    send: Send,
    status: int,
    content_type: str,
    body: bytes,
    extra: list[tuple[str, str]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *((k.encode(), v.encode("latin-1")) for k, v in extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
