"""Dashboard at scale: 50,000 trials x 50 reports (2.5 M points), written with bulk inserts.

Measures (1) the JSON API's server time per request, (2) the study page in headless Chromium
(Debian's /usr/bin/chromium): time until the trials table, then every chart above the fold,
is drawn, cold (empty cache) and warm, and (3) what a live update costs: ``/changes`` on the
50,000-trial study against a 1,000-trial one, for the same change (1 new trial and a report
from each of 8 running trials).

    .venv/bin/python bench/dashboard_scale.py                 # 50,000 x 50 (about 1 min)
    .venv/bin/python bench/dashboard_scale.py --trials 5000   # quicker
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

import hypersearch as hs  # noqa: E402
from hypersearch.dashboard.app import create_app  # noqa: E402
from hypersearch.dashboard.queries import Cursor, DashboardData  # noqa: E402
from test_dashboard_support import build_bulk_study  # noqa: E402

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _timed(fn: Any, repeat: int = 5) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def build(folder: Path, n_trials: int, n_reports: int) -> str:
    path = folder / f"bulk-{n_trials}x{n_reports}.db"
    if path.exists():
        return f"sqlite:///{path}"
    t0 = time.perf_counter()
    url = build_bulk_study(path, n_trials=n_trials, n_reports=n_reports)
    print(f"built {n_trials} trials x {n_reports} reports in {time.perf_counter() - t0:.1f} s")
    return url


def api_times(base: str) -> list[tuple[str, float, int]]:
    rows = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for label, path in [
            ("points without params, first call", "/api/studies/1/points?params=0"),
            ("points with params, first call", "/api/studies/1/points"),
        ]:
            t0 = time.perf_counter()
            size = len(client.get(path).content)
            rows.append((label, (time.perf_counter() - t0) * 1000, size))
        for label, path in [
            ("studies list", "/api/studies"),
            ("study summary + cursor", "/api/studies/1"),
            ("trials page (50, by number)", "/api/studies/1/trials?limit=50"),
            ("trials page sorted by value", "/api/studies/1/trials?sort=value&order=desc"),
            ("trials page sorted by param lr", "/api/studies/1/trials?sort=param:lr"),
            ("trials page, state=FAILED", "/api/studies/1/trials?state=FAILED"),
            ("trials page, search notes", "/api/studies/1/trials?q=diverged"),
            ("page 900 (offset 45,000)", "/api/studies/1/trials?offset=45000"),
            ("points without params (cached)", "/api/studies/1/points?params=0"),
            ("points with params (cached)", "/api/studies/1/points"),
            ("default curves (best/recent)", "/api/studies/1/curves"),
            ("importance (5,000-trial sample; cached)", "/api/studies/1/importance"),
            ("trial page HTML", "/studies/1/trials/777"),
        ]:
            size = len(client.get(path).content)
            rows.append((label, _timed(lambda p=path: client.get(p).raise_for_status()), size))
    return rows


def page_load(base: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")

        def busy() -> float:  # seconds the page's main thread has worked (load-independent)
            metrics = cdp.send("Performance.getMetrics")["metrics"]
            return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))

        for run in ("cold", "warm"):
            if run == "warm":
                page.goto("about:blank")
            t0, b0 = time.perf_counter(), busy()
            page.goto(f"{base}/studies/1", wait_until="commit")
            page.wait_for_function("() => window.__hs && window.__hs.table", timeout=60_000)
            out[f"{run}: trials table usable (wall)"] = time.perf_counter() - t0
            page.wait_for_function("() => window.__hs.history", timeout=60_000, polling=20)
            out[f"{run}: optimisation history drawn (wall)"] = time.perf_counter() - t0
            out[f"{run}: ... main-thread CPU time until then"] = busy() - b0
            page.locator("#plot-curves").scroll_into_view_if_needed()
            page.wait_for_function(
                "() => window.__hs.curves && window.__hs.importance", timeout=60_000, polling=20
            )
            out[f"{run}: curves and importance, after scrolling to them (wall)"] = (
                time.perf_counter() - t0
            )
        t0 = time.perf_counter()
        page.locator("#plot-parcoords").scroll_into_view_if_needed()
        page.wait_for_function("() => window.__hs.parcoords", timeout=60_000, polling=20)
        out["parallel coordinates (1,000 best), after scrolling to it"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        page.locator("#plot-slices").scroll_into_view_if_needed()
        page.wait_for_function("() => window.__hs.slices", timeout=60_000, polling=20)
        out["slice plots (all completed), after scrolling to them"] = time.perf_counter() - t0
        errors = page.evaluate("window.__hs.errors")
        if errors:
            raise RuntimeError(f"page errors: {errors}")
        browser.close()
    return out


def live_cost(url: str) -> tuple[float, float]:
    """Fastest and median ms of ``changes`` for 1 new trial + 1 report from each of 8 running
    trials (the fastest shows the work; the median adds this machine's load)."""
    data = DashboardData.open(url)
    study = hs.load_study("bulk", storage=url, sampler="random")
    running = [study.ask() for _ in range(8)]
    for t in running:
        t.report(0.1, step=0)
    cursor = data.cursor(1)
    for t in running:
        t.report(0.2, step=1)
    new = study.ask()
    new.report(0.3, step=0)
    change = data.changes(1, cursor)
    assert len(change["reports"]) == 9, change["reports"].keys()
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        data.changes(1, cursor)
        times.append((time.perf_counter() - t0) * 1000)
    idle = data.changes(1, Cursor.decode(change["cursor"]))
    assert idle["trials"] == [] and idle["reports"] == {}
    for t in [*running, new]:
        study.tell(t, 0.5)
    data.close()
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50_000)
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    folder = Path(args.dir)
    url = build(folder, args.trials, args.reports)
    small = build(folder, 1000, args.reports)

    data = DashboardData.open(url)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(data), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    print(f"\n## {args.trials:,} trials x {args.reports} reports\n")
    print("| request | server + transfer (median ms) | bytes |\n|---|---:|---:|")
    for label, ms, size in api_times(base):
        print(f"| {label} | {ms:.0f} | {size:,} |")
    print(f"\n(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print("\n| study page in headless Chromium | seconds |\n|---|---:|")
    for label, s in page_load(base).items():
        print(f"| {label} | {s:.2f} |")
    server.should_exit = True
    data.close()
    big, little = live_cost(url), live_cost(small)
    print("\n| /changes: 1 new trial, 8 running trials report | fastest ms | median ms |")
    print("|---|---:|---:|")
    print(f"| study of {args.trials:,} trials | {big[0]:.1f} | {big[1]:.1f} |")
    print(f"| study of 1,000 trials | {little[0]:.1f} | {little[1]:.1f} |")


if __name__ == "__main__":
    main()
