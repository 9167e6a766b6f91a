"""End to end in headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser):
the study page draws its charts at load (and for print), analyses a Hyperband study at a rung,
filters the table by brushing, a trial added by another process appears live, user strings
stay text, the HTML report renders offline with a working compare, and every page's
screenshot at 1400 and 800 pixels (committed under docs/screenshots/) has no horizontal
overflow and drawn charts.

    HS_SCREENSHOTS=docs/screenshots pytest tests/test_dashboard_e2e.py -k screenshots   # refresh
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import struct
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

from hypersearch.dashboard import report as report_module  # noqa: E402
from hypersearch.dashboard.app import create_app  # noqa: E402
from hypersearch.dashboard.queries import DashboardData  # noqa: E402
from hypersearch.dashboard.report import write_report  # noqa: E402
from test_dashboard_support import (  # noqa: E402
    ODD_CHOICE,
    ODD_NAME,
    XSS_NOTE,
    build_bulk_study,
    build_hyperband_study,
    build_multiobjective_study,
    build_odd_study,
    build_single_fidelity_study,
)

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
CHARTS = ("history", "table", "curves", "parcoords", "slices", "importance", "contour")
PLOTS = ("history", "curves", "importance", "parcoords", "contour", "slices")
MO_CHARTS = ("pareto", "hypervolume", "table", "curves", "parcoords", "slices", "importance")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WIDTHS = (1400, 800)


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
    """Wait until each chart is drawn, without scrolling: every chart draws at load."""
    for name in names:
        pg.wait_for_function(f"() => window.__hs && window.__hs.{name}", timeout=20_000)


def _drawn(pg: Page, name: str) -> int:
    """How many SVG shapes chart ``name`` holds (0: not drawn, or an empty-state message)."""
    return int(pg.locator(f"#plot-{name} svg").locator("path, rect, circle, line").count())


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
    # every chart drawn; importance too: 17 completed, so it compares the trials at step 4
    for name in PLOTS:
        assert _drawn(page, name) > 3, name
    assert "step 4" in page.inner_text("#importance-info")
    assert page.locator("#plot-parcoords svg > g > path").count() == 21  # one line per trial
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
        "() => document.querySelectorAll('#trials tbody .state.COMPLETE').length === 0"
    )
    assert page.locator("#trials tbody .state.FAILED").count() == 3
    page.select_option("#f-state", "")
    page.fill("#f-q", "alert")
    page.wait_for_function("() => document.querySelectorAll('#trials tbody tr').length === 1")
    page.fill("#f-q", "")
    page.wait_for_function("() => document.querySelectorAll('#trials tbody tr').length === 26")
    page.locator("#trials tbody tr[data-number='0'] input").click()
    page.locator("#trials tbody tr[data-number='1'] input").click()
    page.click("#compare")
    page.wait_for_url("**/compare?trials=0,1")
    page.wait_for_function("() => window.__hs && window.__hs.compare")
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
        f"() => document.getElementById('best').textContent.includes('trial {number}')"
    )


def test_studies_trial_and_error_pages(page: Page, base: str, sid: int) -> None:
    page.goto(base + "/")
    assert page.get_by_role("link", name=ODD_NAME).count() == 1  # the odd name, as text
    page.goto(f"{base}/studies/{sid}/trials/3")
    page.wait_for_function("() => window.__hs && window.__hs.curve")
    assert "RuntimeError" in page.locator("#traceback").inner_text()
    page.goto(f"{base}/studies/{sid}/trials/0")
    page.wait_for_function("() => window.__hs && window.__hs.curve")
    assert page.locator("#note-text").inner_text() == XSS_NOTE
    assert _drawn(page, "curve") > 3
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
    for name in PLOTS:
        assert _drawn(page, name) > 3, name
    assert page.get_by_text(XSS_NOTE, exact=True).count() == 1
    assert page.locator('img[src="x"]').count() == 0
    # compare the checked trials in the page (a report has no server)
    page.locator("#trials tbody tr[data-number='0'] input").click()
    page.locator("#trials tbody tr[data-number='2'] input").click()
    page.click("#compare")
    page.wait_for_function("() => window.__hs.compare")
    assert page.locator("#compare-panel").is_visible()
    assert page.locator("#compare-table th").all_inner_texts()[1:] == ["trial 0", "trial 2"]
    assert page.locator("#compare-table tr.differs").count() >= 1
    assert _drawn(page, "compare") > 3
    # the note column wraps instead of clipping: the whole long note is on screen
    note = page.locator("#trials tbody tr[data-number='2'] td.note")
    assert "x" * 80 in note.inner_text()
    assert note.evaluate("td => td.scrollWidth <= td.clientWidth + 1")
    # the CSV of the table, built in the page
    with page.expect_download() as download:
        page.click("#csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("number,state,value,lr,units,optimizer,dropout")
    rows = list(csv.reader(io.StringIO(text)))
    assert f"of {len(rows) - 1}" in page.inner_text("#page-info")  # every trial, one row each
    assert [r[10] for r in rows if r[0] == "0"] == [XSS_NOTE]  # the note, whole, as text


# multi-fidelity, table, brushing, print -----------------------------------------------------
@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A plain study with failures ("mlp") and a Hyperband one ("mlp-hyperband"), one file."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_single_fidelity_study(path)
    build_multiobjective_study(path, name="mlp-tradeoff")
    build_multiobjective_study(path, name="mlp-tradeoff-3", three=True)
    return build_hyperband_study(path, name="mlp-hyperband")


@pytest.fixture(scope="module")
def demo(demo_url: str) -> Iterator[str]:
    with _Server(demo_url) as url:
        yield url


def _study_id(url: str, name: str) -> int:
    data = DashboardData.open(url)
    try:
        return int(next(s["id"] for s in data.list_studies() if s["name"] == name))
    finally:
        data.close()


def test_hyperband_study_is_analysed_at_the_highest_rung_with_enough_trials(
    page: Page, demo: str, demo_url: str
) -> None:
    sid = _study_id(demo_url, "mlp-hyperband")  # 5 COMPLETE, 25 STOPPED at steps 1 and 3
    page.goto(f"{demo}/studies/{sid}")
    _wait_charts(page)
    for name in PLOTS:
        assert _drawn(page, name) > 3, name
    info = page.inner_text("#importance-info")
    assert "values at step 1, the highest step 20 trials reached (30 trials" in info
    assert page.locator("#plot-importance svg rect").count() == 4  # lr, units, optimizer, layers
    assert page.locator("#plot-parcoords svg > g > path").count() == 30
    assert "@ step 1" in page.inner_text("#plot-parcoords")
    # a slice per parameter, each with the 30 trials (not the one completed trial)
    assert page.locator("#plot-slices .slice").count() == 4
    # the log axis shows learning rates, not log10 of them
    lr_axis = (
        page.locator("#plot-parcoords svg > g").nth(2).locator("g").first.text_content() or ""
    )
    assert "0.01" in lr_axis and "0.001" in lr_axis and "log10" not in page.inner_text("main")


def test_table_has_every_parameter_and_is_best_first_before_any_chart_loads(
    page: Page, demo: str, demo_url: str
) -> None:
    sid = _study_id(demo_url, "mlp")
    # no /points, /analysis or /curves: the table must still show every column, best first
    page.route(re.compile(r".*/api/studies/\d+/(points|analysis|curves).*"), lambda r: r.abort())
    page.goto(f"{demo}/studies/{sid}", wait_until="domcontentloaded")
    page.wait_for_function("() => window.__hs && window.__hs.table")
    heads = page.locator("#trials thead th").all_inner_texts()
    for name in ("lr", "momentum", "batch_size", "optimizer", "dropout", "layers"):
        assert name in heads, heads
    values = [
        float(v) for v in page.locator("#trials tbody tr td:nth-child(4)").all_inner_texts()[:5]
    ]
    assert values == sorted(values, reverse=True) and "val_accuracy ▼" in heads
    page.unroute(re.compile(r".*/api/studies/\d+/(points|analysis|curves).*"))


def test_charts_use_own_units_robust_colours_and_contour(
    page: Page, demo: str, demo_url: str
) -> None:
    sid = _study_id(demo_url, "mlp")
    page.goto(f"{demo}/studies/{sid}")
    _wait_charts(page)
    # batch_size on a power-of-2 axis, momentum on a log(1 - x) axis, lr on a log axis
    slices = page.inner_text("#plot-slices")
    assert "batch_size (pow2 scale)" in slices and "momentum (log1m scale)" in slices
    assert "lr (log scale)" in slices
    # the colour legend is the specification's, as the API serves it
    spec = page.request.get(f"{demo}/api/studies/{sid}/charts/analysis").json()["parcoords"]
    legend = page.inner_text("#parcoords-legend")
    assert spec["colorbar"]["best"] in legend and spec["colorbar"]["worst"] in legend
    # curves coloured by result: many distinct colours, not one grey
    colours = page.locator("#plot-curves svg path[stroke-width='1.3']").evaluate_all(
        "ps => Array.from(new Set(ps.map(p => p.getAttribute('stroke'))))"
    )
    assert len(colours) >= 4
    # the contour of the two most important parameters, with a choice of axes
    assert page.locator("#plot-contour svg rect").count() > 100
    assert page.locator("#contour-x option").count() == 6
    page.select_option("#contour-y", "dropout")  # the server draws that pair's contour
    page.wait_for_function(
        "() => document.querySelector('#plot-contour').textContent.includes('dropout')"
    )


def test_brushing_parallel_coordinates_filters_the_table(
    page: Page, demo: str, demo_url: str
) -> None:
    sid = _study_id(demo_url, "mlp")
    page.goto(f"{demo}/studies/{sid}")
    _wait_charts(page)
    assert page.locator("#trials tbody tr").count() == 40
    n_dims = page.locator("#plot-parcoords .hs-brush").count()
    page.evaluate(f"window.__hs.brush({n_dims - 1}, 0, 0.5)")  # the upper half of the values
    page.wait_for_function("() => document.querySelectorAll('#trials tbody tr').length < 40")
    kept = page.locator("#trials tbody tr").count()
    assert 0 < kept < 40 and page.locator("#brush-notice").is_visible()
    assert f"{kept} trial(s)" in page.inner_text("#brush-notice")
    page.click("#brush-clear")
    page.wait_for_function("() => document.querySelectorAll('#trials tbody tr').length === 40")
    # the same filter as CSV, from the server
    csv = page.request.get(f"{demo}/api/studies/{sid}/trials.csv?sort=value&order=desc")
    lines = csv.text().strip().splitlines()
    assert csv.ok and len(lines) == 41 and "layers" in lines[0].split(",")


def test_charts_are_drawn_for_print(page: Page, demo: str, demo_url: str) -> None:
    for name in ("mlp", "mlp-hyperband"):
        page.set_viewport_size({"width": 1400, "height": 900})
        page.emulate_media(media="screen")
        page.goto(f"{demo}/studies/{_study_id(demo_url, name)}")
        _wait_charts(page)
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 718, "height": 1000})  # an A4 page's printable width
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        for chart in PLOTS:
            assert _drawn(page, chart) > 3, (name, chart)
        assert page.locator(".controls").first.is_hidden()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 718, f"{name}: the printed page is {width} px wide"
        assert len(page.pdf()) > 20_000  # the printed page, charts included


# several objectives ---------------------------------------------------------------------------
def test_pareto_front_hypervolume_and_objective_columns(
    page: Page, demo: str, demo_url: str, tmp_path: Path
) -> None:
    sid = _study_id(demo_url, "mlp-tradeoff")
    page.goto(f"{demo}/studies/{sid}")
    _wait_charts(page, MO_CHARTS)
    spec = page.request.get(f"{demo}/api/studies/{sid}/charts/pareto").json()["pareto"]
    names = {s["name"]: s for s in spec["series"]}
    # the front, the dominated and the infeasible trials, as the specification says
    assert _drawn(page, "pareto") > 3 and _drawn(page, "hypervolume") > 3
    legend = page.inner_text("#plot-pareto")
    assert "Pareto front" in legend and "infeasible" in legend and "dominated" in legend
    assert page.inner_text("#pareto-info") == spec["note"]
    assert "reference point" in page.inner_text("#hypervolume-info")
    assert page.locator("#plot-history").count() == 0  # no single best: no history
    # every objective has a column (best first on a click), infeasible rows are marked
    heads = page.locator("#trials thead th").all_inner_texts()
    assert "val_accuracy ↑" in heads and "latency_ms ↓" in heads
    bad = names["infeasible"]["numbers"][0]
    assert "infeasible" in page.inner_text(f"#trials tbody tr[data-number='{bad}']")
    page.get_by_text("latency_ms ↓").click()
    page.wait_for_function(
        "() => document.querySelector('#trials thead').textContent.includes('▲')"
    )
    # a trial that beats every other, told by another process, joins the front live
    script = (
        "import hypersearch as hs, sys\n"
        "s = hs.load_study('mlp-tradeoff', storage=sys.argv[1], sampler='random')\n"
        "s.optimize(lambda t: {'val_accuracy': 0.999, 'latency_ms': 0.1, 'gpu_mem_gb': 1.0},"
        " n_trials=1, show_progress=False)\n"
    )
    subprocess.run([sys.executable, "-c", script, demo_url], check=True, timeout=60)
    page.wait_for_function(
        "() => document.getElementById('pareto-info').textContent.startsWith('1 of 38')",
        timeout=15_000,
    )
    # three objectives: one panel per pair
    sid3 = _study_id(demo_url, "mlp-tradeoff-3")
    page.goto(f"{demo}/studies/{sid3}")
    _wait_charts(page, MO_CHARTS)
    assert page.locator("#plot-pareto .slice").count() == 3
    # the report shows the front offline
    data = DashboardData.open(demo_url)
    path = write_report(data, "mlp-tradeoff", tmp_path / "tradeoff.html")
    data.close()
    page.route(
        "**/*",
        lambda route: route.abort() if route.request.url.startswith("http") else route.continue_(),
    )
    page.goto(path.as_uri())
    _wait_charts(page, MO_CHARTS)
    assert _drawn(page, "pareto") > 3 and _drawn(page, "hypervolume") > 3
    assert page.inner_text("#pareto-info").startswith("1 of 38 completed trials")
    assert page.evaluate("window.__hs.errors") == []


# screenshots ------------------------------------------------------------------------------------
def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _shrink(path: Path) -> None:
    """Store a committed screenshot as a 64-colour PNG (a quarter of the size, same pixels
    to the eye); needs Pillow, which only refreshing the committed files uses."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _screenshot_pages(url: str) -> dict[str, str]:
    mlp, hyperband = _study_id(url, "mlp"), _study_id(url, "mlp-hyperband")
    return {
        "studies": "/",
        "study": f"/studies/{mlp}",
        "study-hyperband": f"/studies/{hyperband}",
        "study-pareto": f"/studies/{_study_id(url, 'mlp-tradeoff')}",
        "study-pareto3": f"/studies/{_study_id(url, 'mlp-tradeoff-3')}",
        "trial": f"/studies/{mlp}/trials/0",
        "trial-failed": f"/studies/{mlp}/trials/{_failed_number(url, mlp)}",
        "compare": f"/studies/{mlp}/compare?trials=0,1,2",
        "error": f"/studies/{mlp}/compare?trials=1",
    }


def _failed_number(url: str, sid: int) -> int:
    data = DashboardData.open(url)
    try:
        page = data.trials_page(sid, states=["FAILED"], limit=1)
        return int(page["trials"][0]["number"])
    finally:
        data.close()


def test_screenshots_of_every_page_at_1400_and_800_pixels(
    browser: Browser, demo: str, demo_url: str, tmp_path: Path
) -> None:
    out = Path(os.environ.get("HS_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    pages = _screenshot_pages(demo_url)
    errors: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        pg = context.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        for name, path in pages.items():
            response = pg.goto(demo + path)
            assert response is not None
            assert response.status == (400 if name == "error" else 200), name
            if name.startswith("study-pareto"):
                _wait_charts(pg, MO_CHARTS)
            elif name.startswith("study"):
                _wait_charts(pg)
            elif name == "trial":  # with an LR-finder plot
                pg.wait_for_function(
                    "() => window.__hs && window.__hs.curve && window.__hs.lrfinder"
                )
            elif name.startswith("trial"):
                pg.wait_for_function("() => window.__hs && window.__hs.curve")
            elif name == "compare":
                pg.wait_for_function("() => window.__hs && window.__hs.compare")
            overflow = pg.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} at {width} px is {overflow} px wide"
            for chart in pg.locator("[id^='plot-']").all():
                has_svg = chart.locator("svg").count() > 0
                assert has_svg or chart.locator(".empty").count() == 1, f"{name}: blank chart"
                if has_svg:
                    shapes = chart.locator("svg").locator("path, rect, line, circle").count()
                    assert shapes > 3, f"{name}: empty svg"
            pg.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
            assert _png_size(out / f"{name}-{width}.png")[0] == width
            if os.environ.get("HS_SCREENSHOTS"):
                _shrink(out / f"{name}-{width}.png")
        assert errors == []
        context.close()
    # the committed screenshots exist for every page and width, and stay small
    committed = [SCREENSHOTS / f"{name}-{width}.png" for name in pages for width in WIDTHS]
    missing = [p.name for p in committed if not p.exists()]
    assert not missing, f"run HS_SCREENSHOTS=docs/screenshots pytest -k screenshots: {missing}"
    for p in committed:
        assert _png_size(p)[0] in WIDTHS
    assert sum(p.stat().st_size for p in committed) < 3_000_000


def test_report_of_a_1000_trial_study_is_small(
    page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = build_bulk_study(tmp_path / "bulk.db", n_trials=1_000, n_reports=30)
    data = DashboardData.open(url)
    path = write_report(data, "bulk", tmp_path / "bulk.html")
    size = path.stat().st_size
    assert size < 1_500_000, f"the report is {size:,} bytes"  # 4.9 MB with Plotly.js inlined
    # a study with more trials than the report embeds rows for says so; the charts use all
    monkeypatch.setattr(report_module, "REPORT_ROWS", 100)
    capped = write_report(data, "bulk", tmp_path / "capped.html")
    data.close()
    page.goto(capped.as_uri())
    _wait_charts(page)
    assert "the best 100 of 1000 trials" in page.inner_text("#rows-note")
    assert page.locator("#plot-slices .slice").count() == 5
    assert page.locator("#plot-parcoords svg > g > path").count() == 900  # every finished one
