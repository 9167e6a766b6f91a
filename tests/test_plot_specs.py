"""Chart specifications (hypersearch.plot.specs): one definition per chart. The dashboard's API,
its HTML report and hypersearch.plot's figures are built from the same specification of the
same study; the rules (ticks, colours, outliers, thinning) are checked here on plain columns."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.plot import specs
from hypersearch.plot.shared import VIRIDIS, axis_for, color_range, linear_ticks

SPACE = {
    "lr": hs.Float(1e-4, 1e-1, log=True),
    "momentum": hs.Float(0.5, 0.99, scale="log1m"),
    "batch_size": hs.Int(16, 256, scale="pow2"),
    "optimizer": hs.Choice(["sgd", "adam"]),
}


def _json(spec: dict[str, Any]) -> Any:
    """The specification as the browser receives it (no NaN or infinity may travel)."""
    return json.loads(json.dumps(spec, allow_nan=False))


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[hs.Study, str]:
    """A study on SQLite with completed, stopped and failed trials and an outlier."""
    url = f"sqlite:///{tmp_path_factory.mktemp('specs') / 'specs.db'}"
    study = hs.create_study(
        "specs", space=SPACE, direction="minimize", metric="val_loss", storage=url, seed=0
    )

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        if trial.number % 9 == 4:
            raise RuntimeError("diverged <nan>")
        base = (math.log10(p["lr"]) + 2.5) ** 2 + (1 - p["momentum"]) + (p["optimizer"] == "sgd")
        if trial.number == 11:
            base = 1e4  # an outlier
        value = base
        for step in range(5):
            value = base + 1.0 / (step + 1)
            trial.report(value, step=step)
            if trial.number % 7 == 6 and step == 2:
                trial.stop()
        return value

    study.optimize(objective, n_trials=34, show_progress=False, max_failures=None)
    return study, url


@pytest.fixture(scope="module")
def client(stored: tuple[hs.Study, str]) -> Any:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from hypersearch.dashboard.app import create_app
    from hypersearch.dashboard.queries import DashboardData

    data = DashboardData.open(stored[1])
    with TestClient(create_app(data), base_url="http://127.0.0.1:8080") as c:
        c.study_id = data.list_studies()[0]["id"]  # type: ignore[attr-defined]
        yield c
    data.close()


# -- the dashboard, its report and the notebook draw the same specification -------------------
def test_dashboard_api_serves_the_specification_plot_draws(
    stored: tuple[hs.Study, str], client: Any
) -> None:
    study, _ = stored
    base = f"/api/studies/{client.study_id}/charts"
    assert client.get(f"{base}/history").json() == _json(plot_spec(study, "history"))
    served = client.get(f"{base}/analysis").json()
    for chart in ("importance", "parcoords", "slices", "contour"):
        assert served[chart] == _json(plot_spec(study, chart)), chart
    # the curves: the dashboard says which trials it picked (its best, running and latest;
    # here every trial), otherwise the same chart
    curves = client.get(f"{base}/curves").json()
    mine = _json(plot_spec(study, "curves"))
    from hypersearch.dashboard.charts import CURVES_PICKED

    assert curves["note"].replace(f" ({CURVES_PICKED})", "") == mine["note"]
    assert {**curves, "note": ""} == {**mine, "note": ""}
    # a chosen contour too
    chosen = client.get(f"{base}/contour", params={"x": "momentum", "y": "optimizer"}).json()
    from hypersearch.plot.figures import _analysis_inputs

    compared, definitions, _ = _analysis_inputs(study, "test")
    expected = specs.contour_spec(
        compared, definitions, direction="minimize", metric="val_loss", x="momentum", y="optimizer"
    )
    assert chosen == _json(expected)
    bad = client.get(f"{base}/contour", params={"x": "lr", "y": "lr"})
    assert bad.status_code == 400 and "two different parameters" in bad.json()["error"]
    assert client.get(f"{base}/nope").status_code == 404


def test_report_embeds_the_same_specifications(stored: tuple[hs.Study, str]) -> None:
    pytest.importorskip("jinja2")
    from hypersearch.dashboard.queries import DashboardData
    from hypersearch.dashboard.report import build_report

    study, url = stored
    data = DashboardData.open(url)
    try:
        html = build_report(data, "specs")
    finally:
        data.close()
    block = re.search(r'id="hs-data">(.*?)</script>', html, re.S)
    assert block is not None
    payload = json.loads(block.group(1))
    assert payload["charts"]["history"] == _json(plot_spec(study, "history"))
    assert payload["charts"]["analysis"]["slices"] == _json(plot_spec(study, "slices"))
    # the contours of the other pairs of the three most important parameters, one way round
    top = list(plot_spec(study, "importance")["labels"])[:3]
    default = payload["charts"]["analysis"]["contour"]
    pairs = {frozenset(k.split("|")) for k in payload["contours"]}
    pairs.add(frozenset((default["x"]["name"], default["y"]["name"])))
    assert pairs == {frozenset((a, b)) for a in top for b in top if a != b}


def plot_spec(study: hs.Study, chart: str) -> dict[str, Any]:
    from hypersearch import plot

    return plot.spec_of(study, chart)


def test_figures_are_drawn_from_the_specification(stored: tuple[hs.Study, str]) -> None:
    pytest.importorskip("plotly")
    from hypersearch import plot

    study, _ = stored
    spec = plot.spec_of(study, "history")
    fig = plot.plot_history(study)
    by_name = {t.name: t for t in fig.data}
    completed = next(s for s in spec["series"] if s["name"] == "completed")
    assert list(by_name["completed"].y) == completed["y"]
    assert fig.layout.yaxis.range == tuple(spec["y"]["range"])
    assert list(fig.layout.yaxis.ticktext) == [t[1] for t in spec["y"]["ticks"]]
    assert spec["note"] in fig.layout.title.text.replace("<br>", " ")
    assert plot.figure(spec).to_dict() == fig.to_dict()


# -- the rules, on plain columns --------------------------------------------------------------
def test_history_rules_best_so_far_outliers_failures_and_thinning() -> None:
    numbers = list(range(30))
    states = ["FAILED" if n == 3 else "STOPPED" if n % 5 == 0 else "COMPLETE" for n in numbers]
    values = [
        None if s == "FAILED" else float(30 - n) for n, s in zip(numbers, states, strict=True)
    ]
    values[7] = 1e9  # an outlier
    spec = specs.history_spec(
        numbers, states, values, direction="minimize", metric="loss", fail_reasons={3: "OOM"}
    )
    series = {s["name"]: s for s in spec["series"]}
    best = series["best so far"]
    assert best["y"] == sorted(best["y"], reverse=True) and best["x"][-1] == 29
    assert series["failed"]["x"] == [3] and "OOM" in series["failed"]["tips"][0]
    assert max(series["completed"]["y"]) < 1e9  # drawn on the edge ...
    assert any("1e9" in t for t in series["completed"]["tips"])  # ... its true value in the tip
    assert "1 outlying value(s) drawn on the edge" in spec["note"]
    n = 10_000
    many = specs.history_spec(
        list(range(n)), ["COMPLETE"] * n, [math.sin(i) for i in range(n)],
        direction="maximize", metric="acc",
    )  # fmt: skip
    (points,) = [s for s in many["series"] if s["name"] == "completed"]
    assert len(points["x"]) <= specs.HISTORY_POINTS and "each bin's lowest" in many["note"]
    assert max(points["y"]) == pytest.approx(1.0, abs=1e-4)  # the extremes are kept
    empty = specs.history_spec([0, 1], ["FAILED", "RUNNING"], [None, None], direction="minimize",
                               metric="loss")  # fmt: skip
    assert empty["empty"] == "No finished trial with a value yet (1 failed)."


def test_axis_ticks_on_each_scale() -> None:
    def labels(name: str, definition: dict[str, Any], column: list[Any]) -> list[str]:
        return [t[1] for t in specs.axis_spec(axis_for(name, definition, column))["ticks"]]

    assert labels("b", {"type": "int", "low": 16, "high": 256, "scale": "pow2"}, [32]) == [
        "16", "32", "64", "128", "256",
    ]  # fmt: skip
    assert labels("lr", {"type": "float", "low": 1e-4, "high": 0.1, "scale": "log"}, [0.01]) == [
        "1e-4", "0.001", "0.01", "0.1",
    ]  # fmt: skip
    assert "0.99" in labels("m", {"type": "float", "low": 0.5, "high": 0.999, "scale": "log1m"},
                            [0.9])  # fmt: skip
    assert labels("o", {"type": "choice", "values": ["b", "a"]}, ["a", "c"]) == ["b", "a", "c"]
    assert linear_ticks(0.0, 1.0, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert linear_ticks(-0.013, 0.021, 4) == [-0.01, 0.0, 0.01, 0.02]


def test_colours_clip_at_the_percentiles_and_brighter_is_better() -> None:
    values = [0.8 + i / 400 for i in range(40)] + [1e6]
    cr = color_range(values, "maximize")
    assert cr.clipped and cr.hi < 1
    assert cr.color(1e6) == VIRIDIS[-1] and cr.color(0.8) == VIRIDIS[0]
    low_good = color_range(values, "minimize")
    assert low_good.color(0.8) == VIRIDIS[-1]
    bar = specs.colorbar_spec(low_good, "colour")
    assert bar["title"] == "colour (low is good)" and bar["clipped"] is True
    assert float(bar["best"]) < float(bar["worst"])  # the legend runs worst to best


def test_contour_cells_are_colour_bands_blank_far_from_trials() -> None:
    from hypersearch.dashboard.analysis import Basis
    from hypersearch.plot.shared import Compared

    params = [{"x": 0.1 * (i % 5), "y": 0.1 * (i // 5)} for i in range(25)]  # a corner only
    values = [p["x"] + p["y"] for p in params]
    compared = Compared(
        Basis(None, 25, "final values of 25 completed trials"),
        tuple(range(25)), tuple(values), tuple(params), {"x": 0.5, "y": 0.5},
    )  # fmt: skip
    definitions = {
        "x": {"type": "float", "low": 0.0, "high": 4.0},
        "y": {"type": "float", "low": 0.0, "high": 4.0},
    }
    spec = specs.contour_spec(compared, definitions, direction="maximize", metric="acc")
    assert len(spec["cells"]) == spec["grid"] ** 2 == 1600
    assert set(spec["cells"]) <= set("0123456789.")
    assert spec["cells"][0] != "." and spec["cells"][-1] == "."  # near the trials / far away
    assert spec["z"][0][0] is not None and spec["z"][-1][-1] is None
    _json(spec)


# -- several objectives ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tradeoff(tmp_path_factory: pytest.TempPathFactory) -> tuple[hs.Study, str]:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_dashboard_support import build_multiobjective_study

    url = build_multiobjective_study(tmp_path_factory.mktemp("mo") / "mo.db")
    return hs.load_study("mlp-tradeoff", storage=url), url


def test_pareto_and_hypervolume_are_served_as_plot_draws_them(
    tradeoff: tuple[hs.Study, str],
) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from hypersearch.dashboard.app import create_app
    from hypersearch.dashboard.queries import DashboardData

    study, url = tradeoff
    data = DashboardData.open(url)
    try:
        client = TestClient(create_app(data), base_url="http://127.0.0.1:8080")
        sid = data.list_studies()[0]["id"]
        served = client.get(f"/api/studies/{sid}/charts/pareto").json()
        assert served["pareto"] == _json(plot_spec(study, "pareto"))
        assert served["hypervolume"] == _json(plot_spec(study, "hypervolume"))
        front = {s["name"]: s for s in served["pareto"]["series"]}["Pareto front"]["numbers"]
        assert sorted(front) == sorted(t.number for t in study.best_trials)
        listed = client.get("/").text  # the studies list names every objective
        assert "2 objectives" in listed and "latency_ms ↓" in listed
        assert f"front of {len(study.best_trials)}</td>" in listed  # its best: the front's size
        api = client.get("/api/studies").json()["studies"][0]
        assert api["front_size"] == len(study.best_trials) and api["best_value"] is None
        # a study of several objectives has no single best: its history says where to look
        history = client.get(f"/api/studies/{sid}/charts/history").json()
        assert "hypervolume of its Pareto front" in history["empty"]
        # the analysis charts compare the first objective's final values
        imp = client.get(f"/api/studies/{sid}/charts/analysis").json()["importance"]
        assert "final values of 37 completed trials" in imp["note"]
        # the table: every objective's value, feasibility, sorted by an objective
        page = client.get(
            f"/api/studies/{sid}/trials", params={"sort": "objective:1", "order": "asc"}
        ).json()
        done = [r for r in page["trials"] if r["values"]]
        assert [r["values"][1] for r in done] == sorted(r["values"][1] for r in done)
        by_number = {t.number: t for t in study.trials}
        for r in done:
            assert r["feasible"] == by_number[r["number"]].feasible
            assert tuple(r["values"]) == by_number[r["number"]].values
        csv = client.get(f"/api/studies/{sid}/trials.csv").text.splitlines()
        assert csv[0].startswith("number,state,value,val_accuracy,latency_ms,feasible,units")
        assert any(line.split(",")[5] == "false" for line in csv[1:])
        # the compare and trial pages show every objective and feasibility
        infeasible = next(r["number"] for r in done if r["feasible"] is False)
        html = client.get(f"/studies/{sid}/compare", params={"trials": f"0,{infeasible}"}).text
        assert "latency_ms" in html and "<td>no</td>" in html
        assert "infeasible" in client.get(f"/studies/{sid}/trials/{infeasible}").text
    finally:
        data.close()


@pytest.mark.parametrize("backend", ["sqlite-file", "postgresql"])
def test_a_constrained_study_marks_infeasible_trials_and_keeps_them_out_of_the_best(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """One objective with a constraint: the history draws the trials that break it as crosses
    and its best so far, like the dashboard's best trial, is the study's best feasible one."""
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from hypersearch.dashboard.app import create_app
    from hypersearch.dashboard.queries import DashboardData

    url = f"sqlite:///{tmp_path / 'constrained.db'}"
    if backend == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    study = hs.create_study(
        "constrained", space={"x": hs.Float(0, 1)}, metric="loss", sampler="random", seed=0,
        constraints={"x": ("<=", 0.5)}, storage=url,
    )  # fmt: skip
    study.optimize(lambda t: {"loss": 1 - t.params["x"], "x": t.params["x"]}, n_trials=16)
    broken = sorted(t.number for t in study.trials if not t.feasible)
    assert broken and min(t.value for t in study.trials) < study.best_value  # type: ignore[type-var]
    spec = plot_spec(study, "history")
    series = {s["name"]: s for s in spec["series"]}
    assert series["infeasible"]["numbers"] == broken and series["infeasible"]["symbol"] == "x"
    assert not set(broken) & set(series["completed"]["numbers"])
    assert series["best so far"]["y"][-1] == pytest.approx(study.best_value, rel=1e-5)  # 6 digits
    assert f"{len(broken)} break a constraint" in spec["note"]
    data = DashboardData.open(url)
    try:
        client = TestClient(create_app(data), base_url="http://127.0.0.1:8080")
        sid = data.list_studies()[0]["id"]
        assert client.get(f"/api/studies/{sid}/charts/history").json() == _json(spec)
        # the table sorted by value (its default, best first): feasible trials first
        by_value = sorted(study.trials, key=lambda t: float(t.value or 0.0))  # all have one
        feasible = [t for t in by_value if t.feasible]
        infeasible = [t for t in by_value if not t.feasible]
        for order, expected in (
            ("asc", feasible + infeasible),
            ("desc", feasible[::-1] + infeasible[::-1]),
        ):
            pages = [
                client.get(
                    f"/api/studies/{sid}/trials",
                    params={"sort": "value", "order": order, "offset": offset, "limit": 5},
                ).json()
                for offset in range(0, 16, 5)
            ]
            assert [r["number"] for p in pages for r in p["trials"]] == [
                t.number for t in expected
            ]
            assert pages[0]["total"] == 16
        assert (
            client.get(f"/api/studies/{sid}").json()["best"]["number"] == study.best_trial.number
        )
    finally:
        data.close()


def test_an_older_database_asks_for_an_upgrade(
    tradeoff: tuple[hs.Study, str], tmp_path: Path
) -> None:
    import sqlite3

    from hypersearch.dashboard.queries import DashboardData
    from hypersearch.exceptions import StorageError

    copy = tmp_path / "old.db"
    with (
        sqlite3.connect(tradeoff[1].removeprefix("sqlite:///")) as src,
        sqlite3.connect(copy) as dst,
    ):
        src.backup(dst)  # the whole database, its write-ahead log included
        dst.execute("UPDATE hs_meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="hypersearch upgrade --storage"):
        DashboardData.open(f"sqlite:///{copy}")


def test_pareto_charts_and_objective_sort_on_postgresql(postgres_url: str) -> None:
    """The dashboard reads a multi-objective study from PostgreSQL as from SQLite."""
    from hypersearch.dashboard.charts import pareto_charts
    from hypersearch.dashboard.queries import DashboardData

    study = hs.create_study(
        "pg-tradeoff",
        space={"x": hs.Float(0.0, 1.0)},
        directions={"acc": "maximize", "cost": "minimize"},
        constraints={"mem": ("<=", 0.8)},
        storage=postgres_url,
        seed=0,
        sampler="random",
    )
    study.optimize(
        lambda t: {"acc": t.params["x"], "cost": t.params["x"] ** 2, "mem": t.params["x"]},
        n_trials=15,
        show_progress=False,
    )
    data = DashboardData.open(postgres_url)
    try:
        summary = data.study(data.list_studies()[0]["id"])
        assert summary is not None
        charts = pareto_charts(data, summary)
        assert charts["pareto"] == _json(plot_spec(study, "pareto"))
        assert charts["hypervolume"] == _json(plot_spec(study, "hypervolume"))
        page = data.trials_page(summary["id"], sort="objective:1", descending=True)
        costs = [r["values"][1] for r in page["trials"]]
        assert costs == sorted(costs, reverse=True)
        assert {r["feasible"] for r in page["trials"]} == {True, False}
    finally:
        data.close()
