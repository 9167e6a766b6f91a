"""The default sampler says what it picks and why, and picks sensibly."""

from __future__ import annotations

import logging

import pytest

import hypersearch as hs
from hypersearch.samplers import AutoSampler
from hypersearch.space import Bool, Choice, Float, Space
from level_objectives import wide_level


def test_auto_is_the_default_and_describes_itself() -> None:
    study = hs.create_study(space={"x": hs.Float(0, 1)})
    assert isinstance(study.sampler, AutoSampler)
    assert "Gaussian process" in study.sampler.describe()


def test_choices() -> None:
    auto = AutoSampler(seed=0)
    assert auto.choose(Space({"x": Float(0, 1), "c": Choice(["a", "b"])}), 10)[0] == "gp"
    which, why = auto.choose(Space({"c": Choice(["a", "b"]), "b": Bool()}), 10)
    assert which == "tpe" and "choice" in why
    wide = Space({f"x{i}": Float(0, 1) for i in range(40)})
    assert auto.choose(wide, 10)[0] == "tpe"
    which, why = auto.choose(Space({"x": Float(0, 1)}), 5000)
    assert which == "tpe" and "5000" in why


def test_auto_logs_its_choice(caplog: pytest.LogCaptureFixture) -> None:
    study = hs.create_study(space={"x": hs.Float(0, 1)}, seed=0)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        study.optimize(lambda t: (t.params["x"] - 0.2) ** 2, n_trials=8)
    assert "auto sampler: using gp" in caplog.text
    assert study.best_value < 0.01


def test_auto_on_bad_input(caplog: pytest.LogCaptureFixture) -> None:
    """Single parameter, only choices, a flat objective and a 1e300: no crash, and a log
    line wherever the behaviour changes."""
    import math

    from hypersearch.space import Int

    single = hs.create_study(space={"n": Int(1, 1024, log=True)}, seed=0)
    single.optimize(lambda t: abs(math.log2(t.params["n"]) - 5.0), n_trials=14)
    assert single.best_value <= 1.0
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        choices = hs.create_study(space={"c": Choice(["a", "b", "c"]), "b": Bool()}, seed=0)
        choices.optimize(lambda t: float(t.params["c"] != "b") + t.params["b"], n_trials=12)
        flat = hs.create_study(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=0)
        flat.optimize(lambda t: 3.0, n_trials=10)
        huge = hs.create_study(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=0)
        huge.optimize(
            lambda t: 1e300 if t.params["x"] > 0.8 else (t.params["x"] - 0.3) ** 2 + t.params["y"],
            n_trials=16,  # a region that diverges (x > 0.8): 1e300 among ordinary values
        )
    assert "using tpe" in caplog.text and "every parameter is a choice" in caplog.text
    assert choices.best_value == 0.0
    assert "same value (3)" in caplog.text
    assert "compressed logarithmically" in caplog.text
    assert huge.best_value < 0.1


def test_auto_same_seed_same_trials_and_stored_config() -> None:
    def run() -> list[dict[str, object]]:
        study = hs.create_study(space={"x": hs.Float(0, 1), "k": hs.Int(1, 9)}, seed=5)
        study.optimize(lambda t: (t.params["x"] - 0.4) ** 2 + t.params["k"], n_trials=12)
        assert study.sampler.config() == {"name": "auto"}  # resumes without drift
        return [t.params for t in study.trials]

    assert run() == run()


def test_auto_gp_avoids_a_worse_level_that_keeps_coming_back() -> None:
    """auto's GP has the known-level rule on: the same trials as GPSampler(level_repeats=3,
    plateau_after=8),
    and fewer proposals than a GP without the rule on a flat level worse than the best that
    keeps coming back, while it still finds the bowl's minimum."""
    from hypersearch.samplers import GPSampler

    space = Space({"x1": Float(-5, 10), "x2": Float(0, 15)})

    def run(sampler: object, seed: int) -> hs.Study:
        study = hs.create_study(space=space, sampler=sampler, seed=seed)
        study.optimize(wide_level, n_trials=40)
        assert study.best_value < 0.31
        return study

    on_level = {"auto": 0, "gp": 0}
    for seed in range(3):
        auto = run("auto", seed)
        plain = run(GPSampler(seed=seed), seed)
        on_level["auto"] += sum(t.value == 0.5 for t in auto.trials[12:])
        on_level["gp"] += sum(t.value == 0.5 for t in plain.trials[12:])
        if seed == 0:
            ruled = run(GPSampler(seed=0, level_repeats=3, plateau_after=8), 0)
            assert [t.params for t in auto.trials] == [t.params for t in ruled.trials]
    # test_gp measured 16 (off) vs 7 (on) on this objective over these seeds; the margin
    # allows other BLAS/CPUs to take slightly different paths.
    assert on_level["auto"] <= on_level["gp"] - 4, on_level
