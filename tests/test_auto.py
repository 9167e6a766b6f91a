"""The default sampler says what it picks and why, and picks sensibly."""

from __future__ import annotations

import logging

import pytest

import hypersearch as hs
from hypersearch.samplers import AutoSampler
from hypersearch.space import Bool, Choice, Float, Space


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
