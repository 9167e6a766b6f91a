"""The analysis behind the dashboard's importance, parallel-coordinates, slice and contour
charts: which value of each trial they compare (final, or at the highest rung enough trials
reached), the table's trial filter, the CSV download and every parameter's definition."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from hypersearch.dashboard.analysis import analysis, choose_basis
from hypersearch.dashboard.app import create_app
from hypersearch.dashboard.queries import DashboardData
from test_dashboard_support import (
    build_hyperband_study,
    build_single_fidelity_study,
)


def test_basis_prefers_final_values_then_the_highest_rung_with_enough_trials() -> None:
    assert choose_basis(25, [27] * 25 + [1] * 100).step is None  # 25 completed: final values
    assert choose_basis(3, [27] * 3).step is None  # nothing stopped: final values
    hyperband = choose_basis(1, [27] + [9] * 3 + [3] * 9 + [1] * 17)
    assert (hyperband.step, hyperband.n_trials) == (1, 30)  # 13 trials reached 3: too few
    asha = choose_basis(2, [27] * 2 + [9] * 8 + [3] * 20)
    assert (asha.step, asha.n_trials) == (3, 30)  # 20 reached step 3 (10 of them went on)
    few = choose_basis(1, [27, 3, 3, 1, 1])
    assert (few.step, few.n_trials) == (1, 5) and "all of them" in few.label


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("analysis") / "a.db"
    build_single_fidelity_study(path)
    return build_hyperband_study(path, name="mlp-hyperband")


@pytest.fixture(scope="module")
def data(url: str) -> Iterator[DashboardData]:
    d = DashboardData.open(url)
    yield d
    d.close()


def _sid(data: DashboardData, name: str) -> int:
    return int(next(s["id"] for s in data.list_studies() if s["name"] == name))


def test_hyperband_study_is_compared_at_step_1_with_values_at_that_step(
    data: DashboardData,
) -> None:
    sid = _sid(data, "mlp-hyperband")
    result = analysis(data, sid, sample=5_000)
    assert result["basis"] == {
        "kind": "step",
        "step": 1,
        "n": 30,
        "label": "values at step 1, the highest step 20 trials reached (30 trials; 5 completed)",
    }
    assert sorted(result["numbers"]) == list(range(30))
    curves = data.curves(sid, result["numbers"])
    for number, value in zip(result["numbers"], result["values"], strict=True):
        assert value == dict(map(tuple, curves[str(number)]))[1]  # the report at step 1
    # the learning rate drives this objective; importance finds it on the rung values
    assert max(result["importance"], key=result["importance"].get) == "lr"
    assert set(result["importance"]) == {"lr", "units", "optimizer", "layers"}


def test_plain_study_uses_final_values_and_defines_define_by_run_parameters(
    data: DashboardData,
) -> None:
    sid = _sid(data, "mlp")
    result = analysis(data, sid, sample=5_000)
    assert result["basis"]["kind"] == "final" and result["n_trials"] == 35  # 5 failed
    assert analysis(data, sid, sample=10)["sample"] == 10  # an evenly spaced sample
    study = data.study(sid)
    assert study is not None
    defs = data.param_definitions(sid, study["space"])
    assert list(defs)[-1] == "layers" and defs["layers"]["type"] == "int"  # define-by-run
    assert defs["momentum"]["scale"] == "log1m"


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[TestClient]:
    d = DashboardData.open(url)
    with TestClient(create_app(d), base_url="http://127.0.0.1:8080") as c:
        yield c
    d.close()


def test_trials_filter_by_numbers_and_csv_download(
    client: TestClient, data: DashboardData
) -> None:
    sid = _sid(data, "mlp")
    page = client.get(f"/api/studies/{sid}/trials", params={"numbers": "3,1,2"}).json()
    assert page["total"] == 3 and [t["number"] for t in page["trials"]] == [1, 2, 3]
    too_many = ",".join(str(i) for i in range(2_001))
    r = client.get(f"/api/studies/{sid}/trials", params={"numbers": too_many})
    assert r.status_code == 400 and "at most 2000" in r.json()["error"]
    r = client.get(f"/api/studies/{sid}/trials.csv", params={"sort": "value", "order": "desc"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="mlp-trials.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 40 and "layers" in rows[0] and rows[0]["note"].startswith("best so far")
    finished = [float(row["value"]) for row in rows if row["value"]]
    assert finished == sorted(finished, reverse=True)  # the table's sort
    failed = [row for row in rows if row["state"] == "FAILED"]
    assert len(failed) == 5 and all("loss is NaN" in row["fail_reason"] for row in failed)
    only = client.get(f"/api/studies/{sid}/trials.csv", params={"state": "FAILED"}).text
    assert len(list(csv.reader(io.StringIO(only)))) == 1 + 5


def test_csv_cells_are_not_spreadsheet_formulas(tmp_path: Path) -> None:
    import hypersearch as hs

    url = f"sqlite:///{tmp_path / 'f.db'}"
    study = hs.create_study("f", space={"x": hs.Float(0, 1)}, storage=url, sampler="random")
    study.optimize(lambda t: t.params["x"], n_trials=2, show_progress=False)
    study.set_note(0, '=HYPERLINK("http://evil")')
    d = DashboardData.open(url)
    try:
        text = "".join(d.trials_csv(1, ["x"]))
    finally:
        d.close()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["note"] == '\'=HYPERLINK("http://evil")'


def test_study_page_embeds_every_column_and_the_best_first_page(
    client: TestClient, data: DashboardData
) -> None:
    sid = _sid(data, "mlp")
    html = client.get(f"/studies/{sid}").text
    config = html.split('id="hs-config">', 1)[1].split("</script>", 1)[0]
    assert '"layers":{"type":"int"' in config  # define-by-run: a column from the first paint
    assert '"first_page":{"total":40' in config
    assert client.get(f"/api/studies/{sid}/analysis").json()["basis"]["kind"] == "final"
