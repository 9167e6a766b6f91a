"""hypersearch.plot: each figure on real small studies (single-fidelity, Hyperband with mostly
STOPPED trials, all-failing, define-by-run), agreeing with the dashboard's own analysis."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import hypersearch as hs
from hypersearch import plot
from hypersearch.dashboard.analysis import analysis
from hypersearch.dashboard.importance import main_effects
from hypersearch.dashboard.queries import DashboardData
from hypersearch.plot.shared import VIRIDIS
from hypersearch.tools.lr_finder import analyse

pytest.importorskip("plotly")

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "lr": hs.Float(1e-4, 1e-1, log=True),
    "momentum": hs.Float(0.5, 0.99, scale="log1m"),
    "batch_size": hs.Int(16, 256, scale="pow2"),
    "optimizer": hs.Choice(["sgd", "adam"]),
    "dropout": hs.Float(0.0, 0.5),
}
OUTLIER = 50.0
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def single() -> hs.Study:
    """30 completed trials (one an outlier) and 3 failures, in memory: no database file."""
    study = hs.create_study(
        space=SPACE, direction="minimize", metric="val_loss", seed=0, sampler="tpe"
    )

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        if trial.number % 11 == 5:
            raise RuntimeError("CUDA out of memory")
        base = (math.log10(p["lr"]) + 2.5) ** 2 + 2 * (1 - p["momentum"]) + 0.2 * p["dropout"]
        base += 0.3 if p["optimizer"] == "sgd" else 0.0
        if trial.number == 7:
            base = OUTLIER
        value = base
        for step in range(6):
            value = base + 1.0 / (step + 1)
            trial.report(value, step=step)
        return value

    study.optimize(objective, n_trials=33, show_progress=False, max_failures=None)
    return study


@pytest.fixture(scope="module")
def hyperband(tmp_path_factory: pytest.TempPathFactory) -> tuple[hs.Study, str]:
    """A Hyperband study on SQLite where most trials are STOPPED, with a define-by-run
    parameter (``layers``)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('plot') / 'hb.db'}"
    study = hs.create_study(
        "hb",
        space={k: SPACE[k] for k in ("lr", "optimizer")},
        direction="maximize",
        metric="val_accuracy",
        storage=url,
        seed=1,
        sampler="random",
        scheduler=hs.schedulers.Hyperband(min_resource=1, max_resource=27),
    )

    def objective(trial: hs.Trial) -> float:
        layers = trial.suggest("layers", hs.Int(1, 4))
        top = 0.97 - abs(math.log10(trial.params["lr"]) + 2.3) * 0.12 - abs(layers - 2) * 0.02
        value = 0.0
        for epoch in range(1, 28):
            value = top * (1 - math.exp(-epoch / 5)) + 0.002 * math.sin(trial.number + epoch)
            trial.report(value, step=epoch)
            if trial.should_stop():
                break
        return value

    study.optimize(objective, n_trials=40, show_progress=False)
    return study, url


def _finals(study: hs.Study) -> tuple[list[dict], list[float]]:
    done = [t for t in study.trials if t.state == hs.TrialState.COMPLETE and t.value is not None]
    return [dict(t.params) for t in done], [float(t.value) for t in done]  # type: ignore[arg-type]


def _title(fig) -> str:  # type: ignore[no-untyped-def]
    return str(fig.layout.title.text).replace("<br>", " ")  # long subtitles are wrapped


def _annotations(fig) -> str:  # type: ignore[no-untyped-def]
    return " ".join(a.text for a in fig.layout.annotations)


# -- agreement with the dashboard -------------------------------------------------------------
def test_compared_values_equal_the_dashboards_analysis(hyperband: tuple[hs.Study, str]) -> None:
    study, url = hyperband
    states = [t.state for t in study.trials]
    assert states.count(hs.TrialState.STOPPED) > states.count(hs.TrialState.COMPLETE)
    data = DashboardData.open(url)
    try:
        study_id = data.list_studies()[0]["id"]
        expected = analysis(data, study_id, sample=5_000)
    finally:
        data.close()
    compared = plot.compared_values(study)
    assert compared.basis.step is not None  # fewer than 20 completed: compared at a rung
    assert compared.basis.label == expected["basis"]["label"]
    assert compared.basis.label.startswith(f"values at step {compared.basis.step}, the highest")
    assert list(compared.numbers) == expected["numbers"]
    assert list(compared.values) == expected["values"]
    assert dict(compared.importance) == expected["importance"]
    assert "layers" in compared.importance  # the define-by-run parameter is compared too


def test_importance_bars_are_the_dashboards_numbers(hyperband: tuple[hs.Study, str]) -> None:
    study, _ = hyperband
    fig = plot.plot_importance(study)
    compared = plot.compared_values(study)
    (bars,) = fig.data
    assert bars.type == "bar" and bars.orientation == "h"
    expected = main_effects(list(compared.params), list(compared.values))
    assert dict(zip(bars.y, bars.x, strict=True)) == expected
    assert list(bars.y) == list(expected)  # largest first (the axis is reversed: at the top)
    assert fig.layout.yaxis.autorange == "reversed"
    assert compared.basis.label in _title(fig)


def test_importance_on_final_values_of_an_in_memory_study(single: hs.Study) -> None:
    params, values = _finals(single)
    (bars,) = plot.plot_importance(single).data
    assert dict(zip(bars.y, bars.x, strict=True)) == main_effects(params, values)
    assert bars.y[0] == "lr"  # the objective is mostly the learning rate
    assert "final values of 30 completed trials" in _title(plot.plot_importance(single))


# -- history and curves -----------------------------------------------------------------------
def test_history_marks_stopped_and_failed_trials_and_the_best_so_far(
    hyperband: tuple[hs.Study, str], single: hs.Study
) -> None:
    study, _ = hyperband
    trials = study.trials
    fig = plot.plot_history(study)
    by_name = {t.name: t for t in fig.data}
    n_stopped = sum(t.state == hs.TrialState.STOPPED for t in trials)
    n_complete = sum(t.state == hs.TrialState.COMPLETE for t in trials)
    assert len(by_name["stopped (value when stopped)"].x) == n_stopped
    assert len(by_name["completed"].x) == n_complete
    best = list(by_name["best so far"].y)
    assert best == sorted(best)  # maximize: never goes down
    # positions are rounded to 6 significant digits (far below a pixel)
    top = max(t.value for t in trials if t.state == hs.TrialState.COMPLETE)
    assert best[-1] == pytest.approx(top, rel=1e-5)
    assert by_name["best so far"].line.shape == "hv"

    fig = plot.plot_history(single)
    by_name = {t.name: t for t in fig.data}
    failed = [t.number for t in single.trials if t.state == hs.TrialState.FAILED]
    assert list(by_name["failed"].x) == failed and by_name["failed"].marker.symbol == "x"
    assert "CUDA out of memory" in by_name["failed"].hovertext[0]
    # the outlier is drawn on the edge of the robust range, its true value in the hover text
    assert max(by_name["completed"].y) < OUTLIER
    assert max(float(t.split("val_loss ")[1]) for t in by_name["completed"].hovertext) > OUTLIER
    assert "1 outlying value(s) drawn on the edge" in _title(fig)


def test_learning_curves_coloured_by_result_best_first(single: hs.Study) -> None:
    fig = plot.plot_learning_curves(single)
    curves = [t for t in fig.data if t.name.startswith("trial ")]
    complete = [t for t in single.trials if t.state == hs.TrialState.COMPLETE]
    assert len(curves) == len(complete)
    ranked = sorted(curves, key=lambda t: t.legendrank)
    best = min(complete, key=lambda t: t.value)  # type: ignore[arg-type, return-value]
    assert ranked[0].name == f"trial {best.number} (COMPLETE)"
    assert ranked[0].line.color == VIRIDIS[-1]  # brightest: best for the direction
    assert curves[-1] is ranked[0]  # drawn last, on top
    assert list(ranked[0].x) == sorted(best.intermediate)
    # colour range clipped at the 5th/95th percentiles, so the outlier cannot own it
    results = sorted(float(t.value) for t in complete)  # type: ignore[arg-type]
    (bar,) = [t for t in fig.data if t.name == "colour scale"]
    # the range travels to 6 significant digits
    assert bar.marker.cmin == pytest.approx(np.quantile(results, 0.05), rel=1e-5)
    assert bar.marker.cmax == pytest.approx(np.quantile(results, 0.95), rel=1e-5)
    assert bar.marker.cmax < OUTLIER
    assert "5th–95th percentile" in bar.marker.colorbar.title.text

    few = plot.plot_learning_curves(single, max_curves=3)
    assert len([t for t in few.data if t.name.startswith("trial ")]) == 3
    with pytest.raises(hs.InvalidArgumentError, match="max_curves"):
        plot.plot_learning_curves(single, max_curves=0)


# -- parameters on their own scales -----------------------------------------------------------
def test_slices_on_each_parameters_own_scale(single: hs.Study) -> None:
    fig = plot.plot_slice(single)
    panels = {t.name: t for t in fig.data if t.name != "colour scale"}
    assert set(panels) == set(SPACE)
    axis_of = {t.name: fig.layout[t.xaxis.replace("x", "xaxis")] for t in panels.values()}
    assert axis_of["lr"].type == "log"
    assert axis_of["lr"].range == pytest.approx((-4.12, -0.88))  # 1e-4..1e-1 padded 4%
    assert axis_of["batch_size"].type == "log"
    assert list(axis_of["batch_size"].ticktext) == ["16", "32", "64", "128", "256"]
    # categories at their index, in declared order, each trial spread across its band
    assert axis_of["optimizer"].type == "linear"
    assert list(axis_of["optimizer"].ticktext) == ["sgd", "adam"]
    assert list(axis_of["optimizer"].tickvals) == [0, 1]
    assert all(abs(x - round(x)) <= 0.25 for x in panels["optimizer"].x)
    assert axis_of["momentum"].type == "linear"  # log1m: positions -log10(1 - x), labelled in x
    assert "0.9" in axis_of["momentum"].ticktext
    momentum = [t.params["momentum"] for t in single.trials if t.state == "COMPLETE"]
    assert sorted(panels["momentum"].x) == pytest.approx(
        sorted(-math.log10(1 - m) for m in momentum), rel=1e-5
    )  # positions: 6 significant digits
    assert all(len(t.x) == 30 for t in panels.values())  # one point per completed trial
    assert "final values of 30 completed trials" in _title(fig)
    only = plot.plot_slice(single, ["lr"])
    assert [t.name for t in only.data] == ["lr", "colour scale"]


def test_parallel_coordinates_axes_and_clipped_colours(single: hs.Study) -> None:
    fig = plot.plot_parallel_coordinates(single)
    (pc,) = fig.data
    assert pc.type == "parcoords"
    dims = {d.label: d for d in pc.dimensions}
    assert list(dims) == [*SPACE, "val_loss"]
    by_number = {t.number: t for t in single.trials}
    compared = plot.compared_values(single)
    order = sorted(zip(compared.values, compared.numbers, strict=True))  # best (lowest) first
    lrs = [by_number[n].params["lr"] for _, n in order]
    assert list(dims["lr"].values) == pytest.approx([math.log10(v) for v in lrs], rel=1e-5)
    assert "0.001" in dims["lr"].ticktext
    assert list(dims["optimizer"].ticktext) == ["sgd", "adam"]
    assert list(dims["val_loss"].values) == [v for v, _ in order]
    assert pc.line.cmax < OUTLIER and pc.line.cmin > min(compared.values)


def test_contour_of_two_parameters(single: hs.Study, hyperband: tuple[hs.Study, str]) -> None:
    fig = plot.plot_contour(single, "lr", "optimizer")
    heat, points = fig.data
    assert heat.type == "heatmap" and points.type == "scatter"
    assert np.shape(heat.z) == (40, 40)
    assert fig.layout.xaxis.type == "log"
    assert list(fig.layout.yaxis.ticktext) == ["sgd", "adam"]
    assert len(points.x) == 30
    assert heat.zmax < OUTLIER  # the smoothed values are clipped like the colours
    # default: the two most important parameters, on the dashboard's basis
    study, _ = hyperband
    fig = plot.plot_contour(study)
    top2 = list(plot.compared_values(study).importance)[:2]
    assert [fig.layout.xaxis.title.text.split(" (")[0], fig.layout.yaxis.title.text] == top2
    assert "values at step" in _title(fig)


def test_define_by_run_only_study() -> None:
    study = hs.create_study(direction="maximize", seed=3, sampler="tpe")

    def objective(trial: hs.Trial) -> float:
        width = trial.suggest("width", hs.Int(8, 128, log=True))
        act = trial.suggest("act", hs.Choice(["relu", "tanh"]))
        return math.log(width) + (0.5 if act == "relu" else 0.0)

    study.optimize(objective, n_trials=22, show_progress=False)
    fig = plot.plot_slice(study)
    axes = {t.name: fig.layout[t.xaxis.replace("x", "xaxis")] for t in fig.data}
    assert axes["width"].type == "log" and list(axes["act"].ticktext) == ["relu", "tanh"]
    assert set(plot.plot_importance(study).data[0].y) == {"width", "act"}


# -- empty studies and bad input --------------------------------------------------------------
def test_a_study_without_values_gives_figures_that_say_why() -> None:
    study = hs.create_study(space=SPACE, seed=0)

    def objective(trial: hs.Trial) -> float:
        raise ValueError("bad batch")

    study.optimize(objective, n_trials=3, show_progress=False, max_failures=None)
    assert "No finished trial with a value yet (3 failed)" in _annotations(
        plot.plot_history(study)
    )
    assert "No reported learning curve yet" in _annotations(plot.plot_learning_curves(study))
    assert "Needs at least 20 trials" in _annotations(plot.plot_importance(study))
    assert "Needs two trials" in _annotations(plot.plot_parallel_coordinates(study))
    assert "Needs trials with a value" in _annotations(plot.plot_slice(study))
    assert "Needs three trials" in _annotations(plot.plot_contour(study))


def test_bad_input_is_refused_with_the_fix(single: hs.Study) -> None:
    with pytest.raises(TypeError, match="takes a hypersearch Study"):
        plot.plot_history("sqlite:///x.db")  # type: ignore[arg-type]
    with pytest.raises(hs.InvalidArgumentError, match=r"'nope'.*'lr'"):
        plot.plot_slice(single, ["nope"])
    with pytest.raises(hs.InvalidArgumentError, match="'depth'"):
        plot.plot_contour(single, "lr", "depth")
    with pytest.raises(hs.InvalidArgumentError, match="two different parameters"):
        plot.plot_contour(single, "lr", "lr")


def test_missing_plotly_names_the_extra(single: hs.Study, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "plotly", None)
    with pytest.raises(ImportError, match=r'pip install "hypersearch\[plot\]"'):
        plot.plot_history(single)


# -- the LR range test ------------------------------------------------------------------------
def test_lr_finder_curve_on_a_log_axis_with_the_suggestion() -> None:
    lrs = list(np.logspace(-6, 0, 80))
    raw = [
        2.3 - 1.5 / (1 + math.exp(-(math.log10(x) + 3.5) * 2)) + (30 * x if x > 0.05 else 0)
        for x in lrs
    ]
    result = analyse(lrs, raw)
    assert result.suggestion is not None
    for given in (result, result.to_dict()):
        fig = plot.plot_lr_finder(given)
        assert fig.layout.xaxis.type == "log"
        by_name = {t.name: t for t in fig.data}
        # positions are log10(lr) to 6 significant digits: lr to about 1e-5 relative
        assert list(by_name["smoothed loss"].x) == pytest.approx(lrs, rel=1e-4)
        mark = by_name[f"suggested {plot.shared.format_number(result.suggestion)}"]
        assert list(mark.x) == pytest.approx([result.suggestion] * 2, rel=1e-4)
    with pytest.raises(TypeError, match="LRFinderResult"):
        plot.plot_lr_finder([1, 2, 3])
    with pytest.raises(hs.InvalidArgumentError, match="no curve"):
        plot.plot_lr_finder({"lrs": [], "losses": []})


# -- the notebook example -----------------------------------------------------------------------
def test_notebook_example_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("torch")  # its last cell runs a real LR range test
    copy = tmp_path / "plots.ipynb"
    shutil.copy(ROOT / "examples" / "plots.ipynb", copy)
    nb = nbformat.read(copy, as_version=4)
    committed = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert len([o for o in committed if PLOTLY in o.get("data", {})]) == 9, "commit its outputs"
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len([o for o in outputs if PLOTLY in o.get("data", {})]) == 9
    assert any("values at step" in o.get("text", "") for o in outputs)  # the basis it compares
