"""The dashboard's JSON API, pages and security, through Starlette's test client."""

from __future__ import annotations

import json
import re
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # starlette >= 1 prefers httpx2; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import hypersearch as hs
from hypersearch.cli import main
from hypersearch.dashboard.app import create_app
from hypersearch.dashboard.importance import main_effects
from hypersearch.dashboard.queries import Cursor, DashboardData
from hypersearch.dashboard.report import build_report, write_report
from hypersearch.exceptions import StorageError
from hypersearch.storage import open_existing_storage
from test_dashboard_support import (
    ODD_CHOICE,
    ODD_NAME,
    ODD_TAG,
    XSS_NOTE,
    build_bulk_study,
    build_odd_study,
)

BASE = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def odd_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("dash") / "odd.db"
    return path, build_odd_study(path)


@pytest.fixture
def data(odd_db: tuple[Path, str]) -> Iterator[DashboardData]:
    d = DashboardData.open(odd_db[1])
    yield d
    d.close()


@pytest.fixture
def client(data: DashboardData) -> TestClient:
    return TestClient(create_app(data), base_url=BASE)


def study_id(client: TestClient, name: str = ODD_NAME) -> int:
    studies = client.get("/api/studies").json()["studies"]
    return next(s["id"] for s in studies if s["name"] == name)


# JSON API --------------------------------------------------------------------------------------
def test_studies_list_has_counts_best_and_activity(client: TestClient) -> None:
    studies = {s["name"]: s for s in client.get("/api/studies").json()["studies"]}
    odd = studies[ODD_NAME]
    assert odd["counts"]["FAILED"] >= 1 and odd["counts"]["STOPPED"] >= 1
    assert odd["counts"]["RUNNING"] == 1 and odd["state"] == "running"
    assert isinstance(odd["best_value"], float) and odd["last_activity"] is not None
    assert studies["empty study"]["n_trials"] == 0


def test_study_summary_has_cursor_and_best(client: TestClient) -> None:
    sid = study_id(client)
    study = client.get(f"/api/studies/{sid}").json()
    assert study["name"] == ODD_NAME and study["direction"] == "maximize"
    assert study["best"]["number"] >= 0 and study["cursor"].split(".")[0].isdigit()
    assert set(study["space"]) == {"lr", "units", "optimizer", "dropout"}


def test_trials_page_sorts_filters_and_searches(client: TestClient) -> None:
    sid = study_id(client)
    url = f"/api/studies/{sid}/trials"
    page = client.get(url, params={"limit": 5, "sort": "value", "order": "desc"}).json()
    values = [t["value"] for t in page["trials"]]
    assert page["total"] == 26 and len(values) == 5 and values == sorted(values, reverse=True)
    failed = client.get(url, params={"state": "FAILED"}).json()
    assert failed["total"] >= 1 and all(t["state"] == "FAILED" for t in failed["trials"])
    assert failed["trials"][0]["fail_reason"].startswith("RuntimeError")
    tagged = client.get(url, params={"tag": "baseline"}).json()
    assert sorted(t["number"] for t in tagged["trials"]) == [0, 1]
    assert client.get(url, params={"tag": ODD_TAG}).json()["total"] == 1
    assert client.get(url, params={"q": "SCRIPT>alert"}).json()["total"] == 1
    assert client.get(url, params={"q": "%"}).json()["total"] == 0  # LIKE wildcards are text
    by_param = client.get(url, params={"sort": "param:units", "limit": 500}).json()["trials"]
    units = [t["params"]["units"] for t in by_param if "units" in t["params"]]
    assert units == sorted(units)
    second = client.get(url, params={"offset": 25, "limit": 5}).json()
    assert len(second["trials"]) == 1


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"sort": "nope"}, {"state": "DONE"}],
)
def test_bad_table_queries_are_400_with_a_reason(client: TestClient, query: dict) -> None:
    r = client.get(f"/api/studies/{study_id(client)}/trials", params=query)
    assert r.status_code == 400 and r.json()["error"]


def test_points_curves_and_importance(client: TestClient) -> None:
    sid = study_id(client)
    points = client.get(f"/api/studies/{sid}/points").json()
    assert len(points["numbers"]) == 26 == len(points["states"]) == len(points["values"])
    assert any(p.get("optimizer") == ODD_CHOICE for p in points["params"])
    curves = client.get(f"/api/studies/{sid}/curves").json()["curves"]
    assert curves["0"][0][0] == 0 and len(curves["0"]) == 12
    some = client.get(f"/api/studies/{sid}/curves", params={"trials": "1,2"}).json()["curves"]
    assert set(some) == {"1", "2"}
    imp = client.get(f"/api/studies/{sid}/importance").json()
    # 17 completed (< 20): importance compares the 21 trials that reached step 4 at that step
    assert imp["method"] == "fanova-main" and imp["basis"]["kind"] == "step"
    assert imp["basis"]["step"] == 4 and imp["n_trials"] == 21
    assert max(imp["importance"], key=imp["importance"].get) == "lr"


def test_trial_detail_has_traceback_attrs_and_curve(client: TestClient) -> None:
    sid = study_id(client)
    failed = client.get(f"/api/studies/{sid}/trials/3").json()
    assert failed["state"] == "FAILED" and "Traceback" in failed["traceback"]
    one = client.get(f"/api/studies/{sid}/trials/1").json()
    assert one["attrs"]["checkpoints"][1] == "/ckpt/<best>.pt" and len(one["curve"]) == 12


def test_changes_returns_only_what_changed(odd_db: tuple[Path, str], client: TestClient) -> None:
    url = odd_db[1]
    sid = study_id(client)
    start = client.get(f"/api/studies/{sid}").json()["cursor"]
    quiet = client.get(f"/api/studies/{sid}/changes", params={"cursor": start}).json()
    assert quiet["trials"] == [] and quiet["reports"] == {} and quiet["cursor"] == start
    study = hs.load_study(ODD_NAME, storage=url, sampler="random")
    trial = study.ask()
    trial.report(0.5, step=0)
    ch = client.get(f"/api/studies/{sid}/changes", params={"cursor": start}).json()
    waiting = [t["number"] for t in ch["trials"] if t["state"] != "RUNNING"]
    assert trial.number in [t["number"] for t in ch["trials"]]
    assert ch["reports"][str(trial.number)] == [[0, 0.5]]
    trial.report(0.6, step=1)
    ch2 = client.get(f"/api/studies/{sid}/changes", params={"cursor": ch["cursor"]}).json()
    assert ch2["reports"] == {str(trial.number): [[1, 0.6]]}
    study.tell(trial, 0.7)
    ch3 = client.get(f"/api/studies/{sid}/changes", params={"cursor": ch2["cursor"]}).json()
    assert [(t["number"], t["state"]) for t in ch3["trials"]] == [(trial.number, "COMPLETE")]
    assert ch3["reports"] == {}
    del waiting
    assert client.get(f"/api/studies/{sid}/changes", params={"cursor": "x.y"}).status_code == 400
    assert client.get("/api/studies/999/changes", params={"cursor": "0"}).status_code == 404


def test_cursor_roundtrip() -> None:
    c = Cursor(120, {7: 3, 9: -1})
    assert c.encode() == "120.7:3,9:-1" and Cursor.decode(c.encode()) == c
    assert Cursor.decode("5") == Cursor(5, {})


def test_changes_on_a_big_study_read_only_the_change(tmp_path: Path) -> None:
    path = tmp_path / "bulk.db"
    url = build_bulk_study(path, n_trials=3000, n_reports=20)
    data = DashboardData.open(url)
    statements: list[str] = []
    import sqlalchemy as sa

    sa.event.listen(
        data._engine, "before_cursor_execute", lambda *a: statements.append(a[2]), named=False
    )
    cursor = data.cursor(1)
    study = hs.load_study("bulk", storage=url, sampler="random")
    t = study.ask()
    t.report(0.3, step=0)
    statements.clear()
    ch = data.changes(1, cursor)
    assert [r["number"] for r in ch["trials"]] == [3000] and ch["reports"] == {"3000": [[0, 0.3]]}
    plans = []
    with sqlite3.connect(path) as conn:
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                params = (1,) * sql.count("?")
                plans += [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    assert plans and not any(p.startswith("SCAN") for p in plans), plans
    # the (study, state) index only with both columns: walking all of a study's rows is O(n)
    assert all("state=?" in p for p in plans if "ix_trials_study_state" in p), plans
    data.close()


# pages and security -----------------------------------------------------------------------------
PAGES = ["/", "/studies/{sid}", "/studies/{sid}/trials/0", "/studies/{sid}/compare?trials=0,1"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_escape_user_strings(client: TestClient, page: str) -> None:
    r = client.get(page.format(sid=study_id(client)))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert XSS_NOTE not in r.text and "<b>study</b>" not in r.text
    assert ODD_CHOICE not in r.text and "<i>tag</i>" not in r.text
    if page.endswith("trials/0"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "cdn" not in r.text.lower()
    # embedded JSON cannot close its <script> element
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', r.text, re.S):
        assert "<" not in block
        json.loads(block)


@pytest.mark.parametrize(
    "path",
    [
        "/studies/999",
        "/studies/1/trials/999",
        "/studies/1/compare?trials=0,999",
        "/nope",
        "/studies/abc",
        "/static/../app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fexceptions.py",
        "/static/templates%2fbase.html",
        "/static/dashboard.py",
    ],
)
def test_unknown_ids_and_files_are_a_404_page(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, path
    assert "Traceback" not in r.text and "import" not in r.text


def test_api_404s_are_json(client: TestClient) -> None:
    for path in ("/api/studies/999", "/api/studies/1/trials/999", "/api/studies/999/points"):
        r = client.get(path)
        assert r.status_code == 404 and "error" in r.json()


def test_static_files_are_served_locally(client: TestClient) -> None:
    assert "studyPage" in client.get("/static/dashboard.js").text
    assert "HSCharts" in client.get("/static/charts.js").text  # the SVG charts: no library
    assert client.get("/static/plotly.min.js").status_code == 404


def test_compare_needs_two_to_five_trials(client: TestClient) -> None:
    sid = study_id(client)
    assert client.get(f"/studies/{sid}/compare?trials=0").status_code == 400
    assert client.get(f"/studies/{sid}/compare?trials=0,1,2,4,5,6").status_code == 400
    assert client.get(f"/studies/{sid}/compare?trials=0,1,2,4,5").status_code == 200


def test_foreign_host_header_is_refused(client: TestClient) -> None:
    assert client.get("/", headers={"host": "evil.example:8080"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8080"}).status_code == 200


def annotate(client: TestClient, sid: int, body: dict, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/studies/{sid}/trials/5/annotations",
        content=json.dumps(body),
        headers={"content-type": "application/json", **headers},
    )


def test_edits_refused_without_allow_edit(client: TestClient) -> None:
    r = annotate(client, study_id(client), {"note": "x"}, origin=BASE)
    assert r.status_code == 403 and "--allow-edit" in r.json()["error"]


def test_edits_need_allow_edit_and_our_origin(
    odd_db: tuple[Path, str], data: DashboardData
) -> None:
    editor = open_existing_storage(odd_db[1])
    client = TestClient(create_app(data, editor=editor), base_url=BASE)
    sid = study_id(client)
    body = {"note": XSS_NOTE + " edited", "add_tags": ["new <tag>"]}
    assert annotate(client, sid, body, origin="http://evil.example").status_code == 403
    assert annotate(client, sid, body).status_code == 403  # no Origin: not from our page
    assert annotate(client, sid, body, origin="http://127.0.0.1:9999").status_code == 403
    assert annotate(client, sid, {"bogus": 1}, origin=BASE).status_code == 400
    assert annotate(client, sid, {"add_tags": "x"}, origin=BASE).status_code == 400
    ok = annotate(client, sid, body, origin=BASE)
    assert ok.status_code == 200 and ok.json()["tags"] == ["new <tag>"]
    page = client.get(f"/studies/{sid}/trials/5").text
    assert "new &lt;tag&gt;" in page and XSS_NOTE not in page and 'id="edit"' in page
    removed = annotate(client, sid, {"remove_tags": ["new <tag>"]}, origin=BASE)
    assert removed.json()["tags"] == []
    editor.close()


def test_dashboard_reads_through_a_read_only_connection(data: DashboardData) -> None:
    with data._engine.connect() as conn, pytest.raises(Exception, match=r"readonly|read-only"):
        conn.exec_driver_sql("DELETE FROM hs_trials")


def test_missing_or_foreign_storage_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no database"):
        DashboardData.open(f"sqlite:///{tmp_path}/missing.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(StorageError, match="hypersearch database"):
        DashboardData.open(f"sqlite:///{other}")


def test_cli_dashboard_with_missing_storage_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dashboard", "--storage", f"sqlite:///{tmp_path}/none.db", "--port", "1"])
    assert code == 1 and "no database" in capsys.readouterr().err


# report ----------------------------------------------------------------------------------
def test_report_is_self_contained_and_escaped(odd_db: tuple[Path, str], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", ODD_NAME, "-o", str(out), "--storage", odd_db[1]]) == 0
    html = out.read_text()
    assert XSS_NOTE not in html and ODD_CHOICE not in html and "<b>study</b>" not in html
    tags = re.findall(r"<script\b[^>]*>", html)
    assert len(tags) == 4 and not any("src=" in t for t in tags)  # everything is inlined
    assert html.count("</script") == 4  # nothing inside closes a <script> element early
    skeleton = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S)
    assert "<link" not in skeleton and "http" not in skeleton
    pattern = r'<script type="application/json" id="hs-data">(.*?)</script>'
    data_block = re.search(pattern, html, re.S)
    assert data_block is not None
    payload = json.loads(data_block.group(1))
    assert len(payload["trials"]) == payload["n_trials"] >= 26
    assert any(t["note"] == XSS_NOTE for t in payload["trials"])


def test_report_of_unknown_study_names_the_ones_there(
    odd_db: tuple[Path, str], tmp_path: Path
) -> None:
    data = DashboardData.open(odd_db[1])
    with pytest.raises(hs.StudyNotFoundError, match="empty study"):
        build_report(data, "nope")
    with pytest.raises(OSError, match="cannot write"):  # a folder that surely does not exist
        write_report(data, ODD_NAME, tmp_path / "no-such-folder" / "r.html")
    data.close()


# importance ------------------------------------------------------------------------------
def test_importance_finds_the_parameter_that_matters() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    params = [
        {"lr": rng.uniform(), "opt": str(rng.choice(["a", "b"])), "noise": rng.uniform()}
        for _ in range(400)
    ]
    values = [3 * p["lr"] ** 2 + 0.3 * (p["opt"] == "a") + 0.01 * rng.normal() for p in params]
    imp = main_effects(params, values)
    assert list(imp)[:2] == ["lr", "opt"] and imp["noise"] < 0.02 and imp["lr"] > 0.5
    assert main_effects(params[:10], values[:10]) == {}
    with pytest.raises(ValueError):
        main_effects(params, values[:3])


def test_infinite_values_travel_as_strings(odd_db: tuple[Path, str], tmp_path: Path) -> None:
    copy = tmp_path / "inf.db"
    with sqlite3.connect(odd_db[0]) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE hs_trials SET value = 9e999 WHERE number = 5")
        conn.execute("UPDATE hs_trials SET value = -9e999 WHERE number = 6")
    data = DashboardData.open(f"sqlite:///{copy}")
    client = TestClient(create_app(data), base_url=BASE)
    values = client.get("/api/studies/1/points").json()["values"]
    assert values[5] == "Infinity" and values[6] == "-Infinity"
    row = client.get("/api/studies/1/trials/5").json()
    assert row["value"] == "Infinity"
    assert ">inf<" in client.get("/studies/1/trials/5").text
    data.close()


def test_cli_dashboard_on_a_taken_port_fails_cleanly(
    odd_db: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["dashboard", "--storage", odd_db[1], "--port", str(port)])
    assert code == 1 and "cannot listen" in capsys.readouterr().err


def test_trial_page_plots_a_stored_lr_finder(odd_db: tuple[Path, str], client: TestClient) -> None:
    study = hs.load_study(ODD_NAME, storage=odd_db[1], sampler="random")
    finder = {"lrs": [1e-5, 1e-4, 1e-3], "losses": [2.0, 1.0, 3.0], "suggestion": 1e-4}
    study.set_attrs(6, {"lr_finder": finder, "checkpoint": "ckpt/<6>.pt"})
    html = client.get(f"/studies/{study_id(client)}/trials/6").text
    assert 'id="plot-lrfinder"' in html and '"label":"suggested 1e-4"' in html
    assert "ckpt/&lt;6&gt;.pt" in html and "Checkpoints" in html


def test_changes_pages_skip_other_studies_trials(tmp_path: Path) -> None:
    """Pages of new trials walk ids in order; another study's trials in between are skipped,
    and the trials still running carry their place in the cursor."""
    path = tmp_path / "two.db"
    url = build_bulk_study(path, n_trials=30, n_reports=3, name="a")
    build_bulk_study(path, n_trials=30, n_reports=3, name="b")
    study = hs.load_study("a", storage=url, sampler="random")
    running = [study.ask() for _ in range(5)]  # ids after all of b's
    running[0].report(0.25, step=0)
    data = DashboardData.open(url)
    try:
        sid = next(s["id"] for s in data.list_studies() if s["name"] == "a")
        cursor, numbers, pages = Cursor(0, {}), [], []
        while True:
            page = data.changes(sid, cursor, limit=10)
            numbers += [t["number"] for t in page["trials"]]
            pages.append(len(page["trials"]))
            cursor = Cursor.decode(page["cursor"])
            if not page["more"]:
                break
        assert numbers == list(range(35)) and pages == [10, 10, 10, 5]
        assert len(cursor.live) == 5 and page["reports"][str(running[0].number)] == [[0, 0.25]]
        quiet = data.changes(sid, cursor, limit=10)
        assert quiet["trials"] == [] and not quiet["more"]
    finally:
        data.close()


def test_changes_limit_and_cursor_numbers_are_checked(client: TestClient) -> None:
    url = f"/api/studies/{study_id(client)}/changes"
    one = client.get(url, params={"limit": 1}).json()
    assert len(one["trials"]) == 1 and one["more"] is True
    for query in ({"limit": "0"}, {"limit": "5001"}, {"cursor": "-1"}, {"cursor": "1.2:-2"}):
        r = client.get(url, params=query)
        assert r.status_code == 400 and r.json()["error"], query
