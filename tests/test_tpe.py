"""The TPE sampler: quality, conditional parameters, failures, cost at thousands of trials."""

from __future__ import annotations

import math
import time

import numpy as np

import hypersearch as hs
from hypersearch.samplers import SamplingContext, TPESampler
from hypersearch.space import Choice, Float, Space
from hypersearch.trial import TrialRecord, TrialState

SPACE = Space(
    {"x": Float(-5.0, 5.0), "y": Float(1e-4, 1.0, log=True), "c": Choice(["a", "b", "c"])}
)


def _loss(p: dict[str, object]) -> float:
    return (p["x"] - 1.0) ** 2 + (math.log10(p["y"]) + 2) ** 2 + (0 if p["c"] == "b" else 3)  # type: ignore[operator, arg-type]


def test_tpe_beats_random() -> None:
    tpe, rnd = [], []
    for seed in range(2):
        for name, out in (("tpe", tpe), ("random", rnd)):
            study = hs.create_study(space=SPACE, sampler=name, seed=seed)
            study.optimize(lambda t: _loss(t.params), n_trials=40)
            out.append(study.best_value)
    assert np.mean(tpe) < np.mean(rnd)


def test_conditional_define_by_run_parameters() -> None:
    def objective(t: hs.Trial) -> float:
        model = t.choice("model", ["svm", "tree"])
        if model == "svm":
            c = t.float("C", 1e-3, 1e3, log=True)
            return (math.log10(c) - 1) ** 2
        depth = t.int("depth", 1, 20)
        return 1.0 + abs(depth - 5) / 5

    study = hs.create_study(space={}, sampler="tpe", seed=0)
    study.optimize(objective, n_trials=40)
    late = study.trials[20:]
    assert sum(t.params["model"] == "svm" for t in late) > len(late) / 2
    assert study.best_value < 0.1


def test_failures_are_avoided() -> None:
    def objective(t: hs.Trial) -> float:
        if t.params["x"] > 2:
            raise MemoryError("out of memory")
        return _loss(t.params)

    study = hs.create_study(space=SPACE, sampler="tpe", seed=0)
    study.optimize(objective, n_trials=50, max_failures=None)
    late = study.trials[20:]  # random search fails 30% of the time here
    assert sum(t.state is TrialState.FAILED for t in late) <= 0.2 * len(late)


def test_ask_is_cheap_at_thousands_of_trials() -> None:
    rng = np.random.default_rng(0)
    records = [
        TrialRecord(
            number=i,
            state=TrialState.COMPLETE,
            params=(p := SPACE.decode(u)),
            value=_loss(p),
        )
        for i, u in enumerate(rng.random((2000, 3)))
    ]
    sampler = TPESampler(seed=0)
    ctx = SamplingContext(space=SPACE, trials=records, number=2000, direction="minimize")
    sampler.sample(ctx)  # fills the encoding cache
    t0 = time.process_time()  # CPU time: robust to a loaded machine
    for _ in range(3):
        sampler.sample(ctx)
    assert (time.process_time() - t0) / 3 < 0.5


def test_maximize_direction() -> None:
    study = hs.create_study(space=SPACE, sampler="tpe", seed=1, direction="maximize")
    study.optimize(lambda t: -_loss(t.params), n_trials=30)
    assert study.best_value > -3.0


def test_bad_input_flat_huge_and_failed_values() -> None:
    """A flat objective, a 1e300 among ordinary values and a run of failures: TPE ranks
    values only, so each is survived and the search still finds the good region."""
    flat = hs.create_study(space=SPACE, sampler="tpe", seed=0)
    flat.optimize(lambda t: 1.0, n_trials=15)
    assert len({tuple(t.params.values()) for t in flat.trials}) == 15

    def huge(t: hs.Trial) -> float:
        if t.number < 4:
            raise RuntimeError("CUDA out of memory")  # all failed so far
        return 1e300 if t.number == 6 else _loss(t.params)

    study = hs.create_study(space=SPACE, sampler="tpe", seed=0)
    study.optimize(huge, n_trials=40, catch=(RuntimeError,))
    assert sum(t.state is TrialState.FAILED for t in study.trials) == 4
    assert study.best_value < 3.0  # the best choice "b" found; other choices cost 3
