"""Coarse-to-fine search: ``hs.zoom`` narrows a space around a study's best trials."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hypersearch as hs
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.space import Bool, Choice, Float, Int, Param, Space
from hypersearch.study import Study
from hypersearch.trial import TrialRecord, TrialState

PROPS = settings(max_examples=150, deadline=None)


def _study(
    space: Mapping[str, Param],
    results: Sequence[tuple[Mapping[str, Any], float]],
    direction: str = "minimize",
) -> Study:
    """An in-memory study holding hand-added completed trials."""
    study = hs.create_study(space=space, direction=direction)
    for params, value in results:
        study.add_trial(params, value)
    return study


def _fake_study(param: Param, values: Sequence[Any]) -> Any:
    """Just what zoom reads (space, top, name), without storage: fast enough for properties."""
    records = [
        TrialRecord(number=i, state=TrialState.COMPLETE, params={"p": v}, value=float(i))
        for i, v in enumerate(values)
    ]
    return SimpleNamespace(name="fake", space=Space({"p": param}), top=lambda k: records[:k])


def _zoom1(param: Param, values: Sequence[Any], **kwargs: Any) -> Param:
    return hs.zoom(_fake_study(param, values), top=len(values), **kwargs)["p"]


# --------------------------------------------------------------------------- scales


def test_log_range_narrows_in_log_space_around_the_best() -> None:
    space = {"lr": Float(1e-6, 1.0, log=True)}
    study = _study(
        space, [({"lr": 1e-4}, 0.1), ({"lr": 1e-3}, 0.2), ({"lr": 1e-1}, 5.0), ({"lr": 1e-6}, 9.0)]
    )
    lr = hs.zoom(study, top=2, padding=0.5)["lr"]
    assert isinstance(lr, Float) and lr.scale == "log"
    # span 1e-4..1e-3 is one decade; half a decade of padding each side
    assert lr.low == pytest.approx(10**-4.5, rel=1e-9)
    assert lr.high == pytest.approx(10**-2.5, rel=1e-9)
    assert math.sqrt(lr.low * lr.high) == pytest.approx(math.sqrt(1e-4 * 1e-3), rel=1e-9)


def test_log1m_range_narrows_on_one_minus_x() -> None:
    space = {"beta": Float(0.5, 0.9999, scale="log1m")}
    study = _study(space, [({"beta": 0.99}, 0.1), ({"beta": 0.999}, 0.2), ({"beta": 0.6}, 3.0)])
    beta = hs.zoom(study, top=2, padding=0.5)["beta"]
    assert isinstance(beta, Float) and beta.scale == "log1m"
    assert 1 - beta.low == pytest.approx(10**-1.5, rel=1e-9)
    assert 1 - beta.high == pytest.approx(10**-3.5, rel=1e-9)


def test_linear_padding_and_min_width() -> None:
    x = Float(0.0, 10.0)

    def bounds(values: list[float], **kwargs: float) -> Any:
        fine = _zoom1(x, values, **kwargs)
        assert isinstance(fine, Float) and fine.scale == "linear"
        return pytest.approx((fine.low, fine.high), abs=1e-9)

    assert bounds([4.0, 6.0], padding=0.0) == (4.0, 6.0)
    assert bounds([4.0, 6.0], padding=0.5) == (3.0, 7.0)
    assert bounds([4.0, 6.0], padding=1.0) == (2.0, 8.0)
    assert bounds([4.0, 6.0], padding=10.0) == (0.0, 10.0)  # never wider than before
    # all the best trials agree: min_width (a fraction of the old range) keeps a range
    assert bounds([5.0, 5.0, 5.0], min_width=0.2) == (4.0, 6.0)
    assert bounds([5.0], min_width=1.0) == (0.0, 10.0)
    # min_width wins over a small padded span, and holds at the edges of the old range
    assert bounds([4.9, 5.1], padding=0.5, min_width=0.1) == (4.5, 5.5)
    assert bounds([0.0], min_width=0.2) == (0.0, 2.0)
    assert bounds([10.0], min_width=0.2) == (8.0, 10.0)
    # padding clipped at an edge is not moved to the other side
    assert bounds([0.0, 1.0], padding=1.0, min_width=0.05) == (0.0, 2.0)


@pytest.mark.parametrize(
    "kwargs", [{"min_width": 0.0}, {"min_width": 1.5}, {"min_width": -0.1}, {"padding": -0.5}]
)
def test_bad_padding_or_min_width(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError, match="zoom: "):
        _zoom1(Float(0.0, 1.0), [0.5], **kwargs)


def test_choices_keep_only_what_the_best_trials_used() -> None:
    space = {"opt": Choice(["sgd", "adam", "rmsprop", "adamw"]), "bn": Bool(), "amp": Bool()}
    study = _study(
        space,
        [
            ({"opt": "adamw", "bn": True, "amp": True}, 0.1),
            ({"opt": "sgd", "bn": False, "amp": True}, 0.2),
            ({"opt": "sgd", "bn": True, "amp": True}, 0.3),
            ({"opt": "rmsprop", "bn": False, "amp": False}, 0.9),
        ],
    )
    fine = hs.zoom(study, top=3)
    assert fine["opt"] == Choice(["sgd", "adamw"])  # the original order is kept
    assert fine["bn"] == Bool()  # both values used
    assert fine["amp"] == Choice([True])  # one value: fixed
    assert fine["amp"].validate(True) is True


def test_top_follows_the_direction() -> None:
    results = [({"x": float(v)}, float(v)) for v in range(11)]
    low = hs.zoom(_study({"x": Float(0.0, 10.0)}, results, "minimize"), top=3, padding=0.0)
    high = hs.zoom(_study({"x": Float(0.0, 10.0)}, results, "maximize"), top=3, padding=0.0)
    assert low["x"] == Float(0.0, 2.0)
    assert high["x"] == Float(8.0, 10.0)


def test_failed_and_stopped_trials_are_ignored() -> None:
    study = _study({"x": Float(0.0, 10.0)}, [({"x": 5.0}, 1.0), ({"x": 6.0}, 2.0)])

    def objective(trial: hs.Trial) -> float:
        if trial.params["x"] < 5:
            raise RuntimeError("diverged")
        return float("nan")

    study.optimize(objective, n_trials=6, max_failures=None)
    assert hs.zoom(study, top=5, padding=0.0)["x"] == Float(5.0, 6.0)


# --------------------------------------------------------------------------- discrete


def test_stepped_float_stays_on_its_grid() -> None:
    dropout = _zoom1(Float(0.0, 1.0, step=0.1), [0.3, 0.5], padding=0.5)
    assert dropout == Float(0.2, 0.6, step=0.1)
    shifted = Float(0.05, 0.95, step=0.05)
    fine = _zoom1(shifted, [0.35, 0.4], padding=0.5)
    assert isinstance(fine, Float) and fine.step == 0.05
    assert fine.low <= 0.35 and fine.high >= 0.4
    assert fine.cardinality is not None and fine.cardinality < shifted.cardinality
    for v in fine.grid():
        assert shifted.validate(v) == pytest.approx(v)  # every new value was an old value


def test_stepped_int_keeps_its_step() -> None:
    units = _zoom1(Int(32, 512, step=32), [128, 192], padding=0.5)
    assert isinstance(units, Int) and units.step == 32
    assert units.low <= 128 and units.high >= 192 and units.high - units.low < 512 - 32
    assert (units.low - 32) % 32 == 0


def test_pow2_int_stays_powers_of_two() -> None:
    batch = _zoom1(Int(8, 1024, scale="pow2"), [64, 128], padding=0.5)
    assert isinstance(batch, Int) and batch.scale == "pow2"
    assert batch.low <= 64 and batch.high >= 128
    assert batch.grid() == [v for v in batch.grid() if v & (v - 1) == 0]
    assert batch.cardinality < Int(8, 1024, scale="pow2").cardinality


def test_log_int_narrows_in_log_space() -> None:
    width = _zoom1(Int(1, 10_000, log=True), [100, 1000], padding=0.5)
    assert isinstance(width, Int) and width.scale == "log"
    assert 25 <= width.low <= 40 and 2500 <= width.high <= 4000  # ~10**1.5 .. 10**3.5


# --------------------------------------------------------------------------- properties


def _float_params() -> st.SearchStrategy[Float]:
    linear = st.builds(lambda lo, w: Float(lo, lo + w), st.floats(-1e3, 1e3), st.floats(1e-2, 1e3))
    log = st.builds(
        lambda lo, f: Float(lo, lo * f, log=True), st.floats(1e-8, 1.0), st.floats(1.5, 1e6)
    )
    log1m = st.builds(
        lambda lo, e: Float(lo, 1 - (1 - lo) * e, scale="log1m"),
        st.floats(0.0, 0.9),
        st.floats(1e-4, 0.5),
    )
    return st.one_of(linear, log, log1m)


@PROPS
@given(
    _float_params(),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    st.floats(0.0, 2.0),
    st.floats(0.01, 1.0),
)
def test_zoomed_float_is_inside_the_old_range_and_holds_the_best(
    param: Float, us: list[float], padding: float, min_width: float
) -> None:
    values = [param.decode(u) for u in us]
    fine = _zoom1(param, values, padding=padding, min_width=min_width)
    assert isinstance(fine, Float) and fine.scale == param.scale
    tol = 1e-9 * max(1.0, abs(param.low), abs(param.high))
    assert param.low - tol <= fine.low <= fine.high <= param.high + tol
    for v in values:
        assert fine.low - tol <= v <= fine.high + tol
    width = param.encode(fine.high) - param.encode(fine.low)
    assert width >= min_width - 1e-6


def _int_params() -> st.SearchStrategy[Int]:
    linear = st.builds(
        lambda lo, n, s: Int(lo, lo + n * s, step=s),
        st.integers(-100, 100),
        st.integers(1, 50),
        st.integers(1, 8),
    )
    log = st.builds(
        lambda lo, n: Int(lo, lo + n, log=True), st.integers(1, 100), st.integers(1, 10_000)
    )
    pow2 = st.builds(
        lambda a, b: Int(2**a, 2 ** (a + b), scale="pow2"), st.integers(0, 5), st.integers(0, 8)
    )
    return st.one_of(linear, log, pow2)


@PROPS
@given(
    _int_params(),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    st.floats(0.0, 2.0),
    st.floats(0.01, 1.0),
)
def test_zoomed_int_is_a_valid_subrange_holding_the_best(
    param: Int, us: list[float], padding: float, min_width: float
) -> None:
    values = [param.decode(u) for u in us]
    fine = _zoom1(param, values, padding=padding, min_width=min_width)
    assert isinstance(fine, Int)
    assert (fine.scale, fine.step) == (param.scale, param.step)
    assert param.low <= fine.low <= fine.high <= param.high
    assert param.validate(fine.low) == fine.low and param.validate(fine.high) == fine.high
    for v in values:
        assert fine.low <= v <= fine.high
        assert fine.validate(v) == v


# --------------------------------------------------------------------------- errors


def test_no_completed_trial_is_an_error() -> None:
    study = hs.create_study(space={"x": Float(0.0, 1.0)})
    with pytest.raises(InvalidArgumentError, match="no completed trial yet"):
        hs.zoom(study)
    study.optimize(lambda t: float("nan"), n_trials=2)  # only failed trials
    with pytest.raises(InvalidArgumentError, match="no completed trial yet"):
        hs.zoom(study)


def test_no_declared_space_is_an_error() -> None:
    study = hs.create_study()
    study.optimize(lambda t: t.float("x", 0.0, 1.0), n_trials=2)
    with pytest.raises(InvalidArgumentError, match="declared space"):
        hs.zoom(study)


# --------------------------------------------------------------------------- workflow


def _quadratic(trial: hs.Trial) -> float:
    """Minimum 0 at lr = 10**-2.7, x = 1.7."""
    return (math.log10(trial.params["lr"]) + 2.7) ** 2 + (trial.params["x"] - 1.7) ** 2


def test_coarse_to_fine_beats_the_coarse_search() -> None:
    """The workflow of zoom's docstring, with fixed seeds (deterministic)."""
    space = {"lr": Float(1e-6, 1.0, log=True), "x": Float(-5.0, 5.0)}
    coarse = hs.create_study(space=space, seed=0)
    coarse.optimize(_quadratic, n_trials=20)

    fine_space = hs.zoom(coarse, top=3)
    assert isinstance(fine_space, Space) and list(fine_space) == ["lr", "x"]
    volume = 1.0
    for name in space:
        old, new = space[name], fine_space[name]
        assert isinstance(new, Float) and new.scale == old.scale
        volume *= old.encode(new.high) - old.encode(new.low)
    assert volume < 0.5
    fine = hs.create_study(space=fine_space, seed=100)
    fine.optimize(_quadratic, n_trials=20)

    assert fine.best_value < 0.5 * coarse.best_value
    for t in fine.trials:
        assert Space(space).validate(t.params) == dict(t.params)  # still valid in the old space
