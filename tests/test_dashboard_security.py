"""The dashboard shared beyond loopback: a real ``hypersearch dashboard`` process bound to
0.0.0.0, reached over real HTTP (httpx) on 127.0.0.1 only, with Host headers that a LAN client
or a DNS-rebinding page would send. Nothing here talks to an address outside this machine."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from hypersearch.dashboard.security import (  # noqa: E402
    TOKEN_ENV,
    allowed_hosts,
    host_allowed,
    is_loopback,
    origin_allowed,
)
from test_dashboard_support import ODD_NAME, build_bulk_study, build_odd_study  # noqa: E402

LAN_HOST = "192.168.77.5"  # what a LAN client's browser sends; no traffic goes there
REBIND_HOST = "rebind.attacker.example"  # a DNS-rebinding page's own name, pointed at us


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


@dataclass
class Dashboard:
    """A running ``hypersearch dashboard`` process and what it printed at start."""

    proc: subprocess.Popen[str]
    port: int
    banner: str

    @property
    def local(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self) -> str:
        found = re.search(r"\?token=([A-Za-z0-9_\-]+)", self.banner)
        assert found, self.banner
        return found.group(1)


def start_dashboard(url: str, *args: str, env: dict[str, str] | None = None) -> Dashboard:
    port = _free_port()
    cmd = [sys.executable, "-m", "hypersearch.cli", "dashboard", "--storage", url]
    cmd += ["--port", str(port), *args]
    environ = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    environ.update(env or {})
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("the dashboard exited at start:\n" + "".join(lines))
        lines.append(line)
        if line.startswith("open http"):
            break
    # wait until it answers
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return Dashboard(proc, port, "".join(lines))


def stop(dash: Dashboard) -> None:
    dash.proc.terminate()
    try:
        dash.proc.wait(10)
    except subprocess.TimeoutExpired:
        dash.proc.kill()
        dash.proc.wait(10)


@pytest.fixture(scope="module")
def odd_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_odd_study(tmp_path_factory.mktemp("sec") / "odd.db")


@pytest.fixture(scope="module")
def shared(odd_url: str) -> Iterator[Dashboard]:
    """``--host 0.0.0.0 --allow-edit``: listening on every interface, notes editable."""
    dash = start_dashboard(odd_url, "--host", "0.0.0.0", "--allow-edit")
    yield dash
    stop(dash)


def sid_of(client: httpx.Client) -> int:
    studies = client.get("/api/studies").json()["studies"]
    return int(next(s["id"] for s in studies if s["name"] == ODD_NAME))


# start-up ---------------------------------------------------------------------------------------
def test_start_beyond_loopback_warns_and_prints_a_token(shared: Dashboard) -> None:
    banner = shared.banner
    assert "warning:" in banner and "0.0.0.0" in banner
    assert "token" in banner.lower()
    assert len(shared.token()) >= 32  # secrets.token_urlsafe(32): 43 characters
    # the address printed for other machines answers (this machine's name is allowed)
    other = re.search(r"from other machines: http://([^/]+)/", banner)
    assert other and other.group(1) == f"{socket.gethostname()}:{shared.port}"
    auth = {"authorization": f"Bearer {shared.token()}", "host": other.group(1)}
    assert httpx.get(shared.local + "/api/studies", headers=auth).status_code == 200


def test_token_is_required_on_every_request(shared: Dashboard) -> None:
    with httpx.Client(base_url=shared.local, headers={"host": LAN_HOST}) as client:
        for path in ("/", "/api/studies", "/api/studies/1/changes", "/static/dashboard.js"):
            r = client.get(path)
            assert r.status_code == 401, (path, r.status_code)
            assert "token" in r.text.lower()
        api = client.get("/api/studies")
        assert api.headers["www-authenticate"].startswith("Bearer")
        wrong = client.get("/api/studies", headers={"authorization": "Bearer " + "x" * 43})
        assert wrong.status_code == 401
        assert client.get("/api/studies", params={"token": "nope"}).status_code == 401


def test_token_works_as_bearer_header_query_and_cookie(shared: Dashboard) -> None:
    token = shared.token()
    with httpx.Client(base_url=shared.local, headers={"host": f"{LAN_HOST}:{shared.port}"}) as c:
        bearer = c.get("/api/studies", headers={"authorization": f"Bearer {token}"})
        assert bearer.status_code == 200 and bearer.json()["studies"]
        assert c.get("/api/studies", params={"token": token}).status_code == 200
        # a browser opens the printed URL once: the token goes into an HttpOnly, SameSite=Strict
        # cookie and the page reloads itself without the token in its address
        first = c.get("/", params={"token": token})
        assert first.status_code == 200
        cookie = first.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        assert 'http-equiv="refresh"' in first.text and "token=" not in first.text
        # the page it reloads stays on this server (never "//host") and keeps the rest of the
        # address; the request itself goes to 127.0.0.1 (the raw path only looks like a host)
        odd = httpx.URL(shared.local).copy_with(
            raw_path=f"//x.example/a%3Fb?a=1&token={token}".encode()
        )
        welcome = httpx.get(odd, headers={"host": LAN_HOST})
        assert welcome.status_code == 200 and 'url=/x.example/a%3Fb?a=1"' in welcome.text
        page = c.get("/")  # the cookie alone now
        assert page.status_code == 200 and "hypersearch" in page.text
        assert c.get("/api/studies").status_code == 200


def test_token_from_the_environment_and_a_weak_one_is_refused(
    odd_url: str, tmp_path: Path
) -> None:
    token = "given-token-0123456789abcdef"
    dash = start_dashboard(odd_url, "--host", "0.0.0.0", env={TOKEN_ENV: token})
    try:
        assert token not in dash.banner and TOKEN_ENV in dash.banner
        with httpx.Client(base_url=dash.local, headers={"host": LAN_HOST}) as c:
            assert c.get("/api/studies").status_code == 401
            ok = c.get("/api/studies", headers={"authorization": f"Bearer {token}"})
            assert ok.status_code == 200
    finally:
        stop(dash)
    weak = subprocess.run(
        [
            *(sys.executable, "-m", "hypersearch.cli", "dashboard", "--storage", odd_url),
            *("--host", "0.0.0.0", "--port", str(_free_port()), "--token", "short"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert weak.returncode == 1 and "--token" in weak.stderr and "16" in weak.stderr


def test_loopback_needs_no_token_unless_one_is_given(odd_url: str) -> None:
    dash = start_dashboard(odd_url)  # 127.0.0.1, as before: no token, no warning
    try:
        assert "warning" not in dash.banner
        assert httpx.get(dash.local + "/api/studies").status_code == 200
    finally:
        stop(dash)
    token = "loopback-token-0123456789"
    dash = start_dashboard(odd_url, "--token", token)  # behind a proxy: a token is kept
    try:
        assert httpx.get(dash.local + "/api/studies").status_code == 401
        ok = httpx.get(dash.local + "/api/studies", headers={"authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        stop(dash)


# DNS rebinding and cross-site writes ------------------------------------------------------------
def test_dns_rebinding_page_can_neither_read_nor_write(shared: Dashboard) -> None:
    """The rebinding page's requests carry its own name as Host (and, once it has the cookie-less
    token from nowhere, still nothing): refused before any route runs."""
    token = shared.token()
    evil = f"{REBIND_HOST}:{shared.port}"
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=shared.local) as c:
        assert c.get("/api/studies", headers={"host": evil, **auth}).status_code == 400
        write = c.post(
            "/api/studies/1/trials/5/annotations",
            json={"note": "pwned"},
            headers={"host": evil, "origin": f"http://{evil}", **auth},
        )
        assert write.status_code == 400
        ok = c.get("/api/studies/1/trials/5", headers={"host": LAN_HOST, **auth}).json()
        assert ok["note"] != "pwned"


def test_cross_origin_write_is_refused_and_same_origin_write_works(shared: Dashboard) -> None:
    token = shared.token()
    host = f"{LAN_HOST}:{shared.port}"
    with httpx.Client(
        base_url=shared.local, headers={"host": host, "authorization": f"Bearer {token}"}
    ) as c:
        sid = sid_of(c)
        url = f"/api/studies/{sid}/trials/5/annotations"
        for origin in ("http://evil.example", f"http://{LAN_HOST}:1", "null"):
            assert c.post(url, json={"note": "x"}, headers={"origin": origin}).status_code == 403
        assert c.post(url, json={"note": "x"}).status_code == 403  # neither Origin nor Referer
        cross_ref = {"referer": "http://evil.example/page"}
        assert c.post(url, json={"note": "x"}, headers=cross_ref).status_code == 403
        ok = c.post(url, json={"note": "shared note"}, headers={"origin": f"http://{host}"})
        assert ok.status_code == 200 and ok.json()["note"] == "shared note"
        by_ref = c.post(url, json={"note": "n2"}, headers={"referer": f"http://{host}/x"})
        assert by_ref.status_code == 200


def test_allowed_host_names_a_reverse_proxy(odd_url: str) -> None:
    token = "proxy-token-0123456789abcd"
    dash = start_dashboard(odd_url, "--allowed-host", "dash.example.org", "--token", token)
    try:
        auth = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=dash.local, headers=auth) as c:
            assert c.get("/api/studies", headers={"host": "dash.example.org"}).status_code == 200
            assert c.get("/api/studies", headers={"host": "other.example.org"}).status_code == 400
    finally:
        stop(dash)


def test_host_rules() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("0") and not is_loopback("::")
    assert not is_loopback("192.168.1.5") and not is_loopback("mybox.lan")
    hosts = allowed_hosts("0.0.0.0", ["Dash.Example.org"])
    for good in ("localhost:8080", "127.0.0.1", "[::1]:80", "10.1.2.3:8080", "dash.example.org"):
        assert host_allowed(good, hosts), good
    for bad in ("evil.example", "evil.example:8080", "", None, "localhost.evil.example"):
        assert not host_allowed(bad, hosts), bad
    assert origin_allowed("http://10.1.2.3:8080", None, "10.1.2.3:8080")
    assert origin_allowed(None, "https://dash.example.org/studies/1", "dash.example.org")
    assert not origin_allowed("http://10.1.2.3:8080", None, "10.1.2.3:8081")
    assert not origin_allowed(None, None, "10.1.2.3:8080")


# paging and numbers -----------------------------------------------------------------------------
def test_changes_without_a_cursor_is_one_page(tmp_path: Path) -> None:
    url = build_bulk_study(tmp_path / "bulk.db", n_trials=2500, n_reports=5)
    dash = start_dashboard(url)
    try:
        with httpx.Client(base_url=dash.local, timeout=30) as c:
            first = c.get("/api/studies/1/changes").json()
            assert len(first["trials"]) == 1000 and first["more"] is True
            numbers = [t["number"] for t in first["trials"]]
            cursor, pages = first["cursor"], 1
            while True:
                page = c.get("/api/studies/1/changes", params={"cursor": cursor}).json()
                numbers += [t["number"] for t in page["trials"]]
                cursor, pages = page["cursor"], pages + 1
                if not page["more"]:
                    break
            assert numbers == list(range(2500)) and pages == 3
            small = c.get("/api/studies/1/changes", params={"limit": 10}).json()
            assert len(small["trials"]) == 10 and small["more"]
            for bad in ("0", "-1", "5001", "x"):
                r = c.get("/api/studies/1/changes", params={"limit": bad})
                assert r.status_code == 400 and "limit" in r.json()["error"]
    finally:
        stop(dash)


HUGE = str(2**63)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/studies/{HUGE}",
        f"/api/studies/{HUGE}/points",
        f"/api/studies/{HUGE}/changes",
        f"/api/studies/1/trials/{HUGE}",
        f"/api/studies/1/changes?cursor={HUGE}",
        f"/api/studies/1/changes?cursor=5.{HUGE}:1",
        f"/api/studies/1/changes?cursor=5.7:{HUGE}",
        "/api/studies/1/changes?cursor=-5",
        f"/api/studies/1/trials?offset={HUGE}",
        "/api/studies/1/trials?limit=-3",
        f"/api/studies/1/curves?trials=1,{HUGE}",
        f"/studies/{HUGE}",
        f"/studies/1/trials/{HUGE}",
        f"/studies/1/compare?trials=1,{HUGE}",
        "/studies/1/compare?trials=1,x",
        "/api/studies/1/trials?offset=1e3",
    ],
)
def test_out_of_range_numbers_are_400(shared: Dashboard, path: str) -> None:
    token = shared.token()
    with httpx.Client(
        base_url=shared.local, headers={"host": LAN_HOST, "authorization": f"Bearer {token}"}
    ) as c:
        r = c.get(path)
    assert r.status_code == 400, (path, r.status_code, r.text[:300])
    assert "Traceback" not in r.text


# headers ----------------------------------------------------------------------------------------
def test_every_response_carries_a_csp_and_hardening_headers(shared: Dashboard) -> None:
    token = shared.token()
    with httpx.Client(base_url=shared.local, headers={"host": LAN_HOST}) as c:
        auth = {"authorization": f"Bearer {token}"}
        responses = [
            c.get("/", headers=auth),
            c.get("/api/studies", headers=auth),
            c.get("/static/dashboard.js", headers=auth),
            c.get("/nope", headers=auth),  # 404
            c.get("/api/studies"),  # 401
            c.get("/", headers={"host": REBIND_HOST}),  # 400
        ]
    for r in responses:
        csp = dict(
            d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";")
        )
        assert csp["default-src"] == "'self'" and csp["frame-ancestors"] == "'none'", r.url
        # scripts and styles from this server only: nothing inline, no eval, no other origin
        assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
        assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


# the pages in a real browser, under the CSP -----------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline/eval"));
});
"""


def test_pages_render_in_chromium_under_the_csp_with_the_token_flow(shared: Dashboard) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_dashboard_e2e import ARGS

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        try:
            denied = page.goto(f"{shared.local}/")
            assert denied is not None and denied.status == 401
            assert "access token" in page.inner_text("body")
            page.goto(f"{shared.local}/?token={shared.token()}")
            page.wait_for_url(f"{shared.local}/")  # reloaded without the token in its address
            assert page.get_by_role("link", name=ODD_NAME).count() == 1
            cookies = context.cookies()
            assert [c["httpOnly"] and c["sameSite"] for c in cookies] == ["Strict"]

            sid = int(page.get_by_role("link", name=ODD_NAME).get_attribute("href").split("/")[-1])
            page.goto(f"{shared.local}/studies/{sid}")
            page.wait_for_function("() => window.__hs && window.__hs.table && window.__hs.history")
            for _ in range(8):  # charts below the fold draw when scrolled into view
                page.mouse.wheel(0, 900)
                page.wait_for_timeout(300)
            page.wait_for_function(
                "() => window.__hs.curves && window.__hs.slices", timeout=30_000
            )
            assert page.locator("#trials tbody tr").count() >= 20
            assert page.evaluate("window.__hs.errors") == []
            assert page.evaluate("window.__csp") == []
            page.goto(f"{shared.local}/studies/{sid}/trials/3")
            page.wait_for_function("() => window.__hs && window.__hs.curve", timeout=30_000)
            assert "RuntimeError" in page.locator("#traceback").inner_text()
            assert page.evaluate("window.__csp") == []
            page.goto(f"{shared.local}/studies/{sid}/compare?trials=0,1")
            page.wait_for_function("() => window.__hs && window.__hs.compare", timeout=30_000)
            assert page.evaluate("window.__csp") == []
            assert problems == [], problems
            # the watch works: an inline style (what an injected attribute would be) is blocked
            page.evaluate(
                "() => { const d = document.createElement('div');"
                " d.setAttribute('style', 'color: red'); document.body.appendChild(d); }"
            )
            page.wait_for_function("() => window.__csp.length > 0")
            assert "style-src" in page.evaluate("window.__csp")[0]
            problems.clear()
        finally:
            context.close()
            browser.close()
    assert problems == [], problems
