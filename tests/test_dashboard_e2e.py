"""End to end in headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser):
the study page renders its charts, a trial added by another process appears live, user
strings stay text, and the HTML report renders offline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium; "
        ".ci/run installs it)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from hypersearch.dashboard.app import create_app  # noqa: E402
from hypersearch.dashboard.queries import DashboardData  # noqa: E402
from hypersearch.dashboard.report import write_report  # noqa: E402
from test_dashboard_support import ODD_CHOICE, ODD_NAME, XSS_NOTE, build_odd_study  # noqa: E402

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHARTS = ("history", "table", "curves", "parcoords", "slices", "importance")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """The dashboard served by uvicorn in a thread, as ``hypersearch dashboard`` does."""

    def __init__(self, url: str, poll_seconds: float = 0.5) -> None:
        self.data = DashboardData.open(url)
        self.port = _free_port()
        config = uvicorn.Config(
            create_app(self.data, poll_seconds=poll_seconds),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start in 10 s")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.data.close()


@pytest.fixture(scope="module")
def storage_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_odd_study(tmp_path_factory.mktemp("e2e") / "odd.db")


@pytest.fixture(scope="module")
def base(storage_url: str) -> Iterator[str]:
    with _Server(storage_url) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.problems = problems  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert problems == [], problems


def _wait_charts(pg: Page, names: tuple[str, ...] = CHARTS) -> None:
    """Wait until each chart is drawn, scrolling to it first: charts below the fold are
    drawn when they come into view."""
    for name in names:
        chart = pg.locator(f"#plot-{name}")
        if chart.count():
            chart.scroll_into_view_if_needed()
        pg.wait_for_function(f"() => window.__hs && window.__hs.{name}", timeout=20_000)


@pytest.fixture(scope="module")
def sid(storage_url: str) -> int:
    data = DashboardData.open(storage_url)
    found = next(s["id"] for s in data.list_studies() if s["name"] == ODD_NAME)
    data.close()
    return int(found)


def test_study_page_renders_charts_and_keeps_strings_as_text(
    page: Page, base: str, sid: int
) -> None:
    page.goto(f"{base}/studies/{sid}")
    _wait_charts(page)
    # history, curves, parallel coordinates, slices (importance needs 20 completed trials)
    assert page.locator(".js-plotly-plot").count() == 4
    assert page.locator("#plot-history .scatterlayer .point, #plot-history canvas").count() > 0
    assert page.locator("#plot-parcoords .parcoords").count() == 1
    assert page.locator("#trials tbody tr").count() == 26
    assert page.get_by_text(XSS_NOTE, exact=True).count() == 1  # shown, as text
    assert (
        page.locator('img[src="x"]').count() == 0
        and page.locator("b", has_text="study").count() == 0
    )
    assert page.locator("td", has_text=ODD_CHOICE).count() >= 1
    assert page.evaluate("window.__hs.errors") == []


def test_table_filters_sort_and_compare(page: Page, base: str, sid: int) -> None:
    page.goto(f"{base}/studies/{sid}")
    _wait_charts(page, ("table",))
    page.select_option("#f-state", "FAILED")
    page.wait_for_function(
        "document.querySelectorAll('#trials tbody .state.COMPLETE').length === 0"
    )
    assert page.locator("#trials tbody .state.FAILED").count() == 3
    page.select_option("#f-state", "")
    page.fill("#f-q", "alert")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 1")
    page.fill("#f-q", "")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 26")
    page.locator("#trials tbody tr[data-number='0'] input").click()
    page.locator("#trials tbody tr[data-number='1'] input").click()
    page.click("#compare")
    page.wait_for_url("**/compare?trials=0,1")
    page.wait_for_function("window.__hs && window.__hs.compare")
    assert page.locator("#compare-table tr.differs").count() >= 1


def test_trial_added_by_another_process_appears_live(
    page: Page, base: str, storage_url: str, sid: int
) -> None:
    page.goto(f"{base}/studies/{sid}")
    _wait_charts(page, ("table", "history"))
    before = page.locator("#trials tbody tr").count()
    script = (
        "import hypersearch as hs, sys\n"
        "s = hs.load_study(sys.argv[1], storage=sys.argv[2], sampler='random')\n"
        "waiting, new = s.ask(), s.ask()\n"  # the enqueued trial first, then a new one
        "for i in range(3): new.report(0.1 * i, step=i)\n"
        "s.tell(waiting, 0.5)\n"
        "s.tell(new, 0.99)\n"
        "print(waiting.number, new.number)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, ODD_NAME, storage_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    waiting, number = map(int, done.stdout.split())
    row = page.locator(f"#trials tbody tr[data-number='{number}']")
    row.wait_for(timeout=10_000)  # no reload: the poll brought it
    assert page.locator("#trials tbody tr").count() == before + 1
    assert row.locator(".state").inner_text() == "COMPLETE"
    was_waiting = page.locator(f"#trials tbody tr[data-number='{waiting}'] .state")
    assert was_waiting.inner_text() == "COMPLETE"
    page.wait_for_function(
        f"document.getElementById('best').textContent.includes('trial {number}')"
    )


def test_studies_trial_and_error_pages(page: Page, base: str, sid: int) -> None:
    page.goto(base + "/")
    assert page.get_by_role("link", name=ODD_NAME).count() == 1  # the odd name, as text
    page.goto(f"{base}/studies/{sid}/trials/3")
    page.wait_for_function("window.__hs && window.__hs.curve")
    assert "RuntimeError" in page.locator("#traceback").inner_text()
    page.goto(f"{base}/studies/{sid}/trials/0")
    page.wait_for_function("window.__hs && window.__hs.curve")
    assert page.locator("#note-text").inner_text() == XSS_NOTE
    assert page.locator("#plot-curve .js-plotly-plot, #plot-curve.js-plotly-plot").count() == 1
    response = page.goto(f"{base}/studies/{sid}/trials/12345")
    assert response is not None and response.status == 404
    assert "No trial number 12345" in page.inner_text("main")


def test_report_renders_offline(page: Page, storage_url: str, tmp_path: Path) -> None:
    data = DashboardData.open(storage_url)
    path = write_report(data, ODD_NAME, tmp_path / "report.html")
    data.close()
    page.route(
        "**/*",
        lambda route: route.abort() if route.request.url.startswith("http") else route.continue_(),
    )
    page.goto(path.as_uri())
    _wait_charts(page)
    assert page.locator(".js-plotly-plot").count() == 4
    assert page.get_by_text(XSS_NOTE, exact=True).count() == 1
    assert page.locator('img[src="x"]').count() == 0
