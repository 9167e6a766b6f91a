"""BOHB's model as a sampler any rung scheduler takes: ``ASHA(sampler=...)``,
``Hyperband(sampler=...)``, and ``BOHB`` as Hyperband with a DensityRatioSampler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.execution.simulated import SimulatedExecutor
from hypersearch.schedulers import (
    ASHA,
    BOHB,
    DensityRatioSampler,
    Hyperband,
    RungSampler,
    make_scheduler,
)

SPACE = {"q": hs.Float(0.0, 1.0), "z": hs.Float(0.0, 1.0)}
MAX = 27


def curve(params: dict[str, Any]) -> list[float]:
    """Error falls towards 1 - q; the ranking is the same at every step."""
    return [(1.0 - params["q"]) + 0.5 / (s + 1) for s in range(MAX)]


def run(scheduler: Any, n: int) -> list[hs.TrialRecord]:
    study = hs.create_study(space=SPACE, scheduler=scheduler, sampler="random", seed=4)
    SimulatedExecutor(curve, max_steps=MAX, first_step=1).run(study, n_trials=n)
    return study.trials


def test_bohb_is_hyperband_with_a_density_ratio_rung_sampler() -> None:
    bohb = run(BOHB(min_resource=1, max_resource=MAX, random_fraction=0.2, seed=7), 40)
    model = RungSampler(DensityRatioSampler(seed=7), random_fraction=0.2, seed=7)
    same = run(Hyperband(min_resource=1, max_resource=MAX, sampler=model), 40)
    assert [(t.params, t.attrs.get("model_rung")) for t in bohb] == [
        (t.params, t.attrs.get("model_rung")) for t in same
    ]
    assert sum(t.attrs.get("model_rung") is not None for t in same) >= 10


def test_asha_takes_a_sampler_and_proposes_from_the_best_informed_rung() -> None:
    trials = run(ASHA(min_resource=1, max_resource=MAX, sampler=DensityRatioSampler(seed=1)), 40)
    modelled = [t for t in trials if t.attrs.get("model_rung") is not None]
    assert len(modelled) >= 10
    assert {t.attrs["model_rung"] for t in modelled} <= {1, 3, 9, MAX}
    # the model concentrates on good q (error 1 - q): its picks beat the random ones
    randoms = [t.params["q"] for t in trials[:8]]
    picks = [t.params["q"] for t in modelled]
    assert sum(picks) / len(picks) > sum(randoms) / len(randoms)


def test_without_a_sampler_the_study_samples_and_nothing_is_modelled() -> None:
    trials = run(Hyperband(min_resource=1, max_resource=MAX), 20)
    assert all("model_rung" not in t.attrs for t in trials)
    assert "sampler" not in Hyperband(max_resource=MAX).config()


def test_a_scheduler_with_a_sampler_is_stored_and_loaded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rs.db'}"
    model = RungSampler(DensityRatioSampler(seed=3, top_fraction=0.3), random_fraction=0.0)
    hs.create_study(
        "rs", space=SPACE, storage=url, scheduler=Hyperband(max_resource=9, sampler=model)
    )
    loaded = hs.load_study("rs", storage=url).scheduler
    assert isinstance(loaded, Hyperband) and loaded.rung_sampler is not None
    inner = loaded.rung_sampler.sampler
    assert isinstance(inner, DensityRatioSampler)
    assert (inner.seed, inner.top_fraction, loaded.rung_sampler.random_fraction) == (3, 0.3, 0.0)
    # another registered sampler as the model, by config
    asha = make_scheduler({"name": "asha", "sampler": {"sampler": {"name": "random"}, "seed": 2}})
    assert isinstance(asha, ASHA) and asha.rung_sampler is not None
    assert asha.rung_sampler.sampler.name == "random" and asha.rung_sampler.sampler.seed == 2


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ASHA(sampler="tpe"), r"ASHA: sampler must be a Sampler, a RungSampler"),
        (lambda: RungSampler(random_fraction=1.5), r"RungSampler: 0 <= random_fraction <= 1"),
        (lambda: BOHB(min_points_in_model=1), r"BOHB: min_points_in_model >= 2"),
        (lambda: BOHB(sampler=object()), r"BOHB: sampler must be a hypersearch Sampler"),
        (lambda: make_scheduler({"name": "bohb", "bogus": 1}), r"Scheduler 'bohb'.*bogus"),
    ],
)
def test_bad_samplers_and_options_are_refused_clearly(make: Any, match: str) -> None:
    with pytest.raises(hs.InvalidArgumentError, match=match):
        make()
