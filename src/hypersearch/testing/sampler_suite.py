"""Sampler conformance suite: what every sampler (grid, random, Sobol, and GP/TPE to come)
must do inside a study.

A test module defines a ``sampler_name`` fixture over the registry and imports the tests::

    @pytest.fixture(params=sampler_names(), ids=str)
    def sampler_name(request): return request.param

    from hypersearch.testing.sampler_suite import *  # noqa: F403

so a sampler added to ``hypersearch.samplers`` is tested without editing any list. Samplers
are built by ``build_sampler(name, seed=...)`` through ``make_sampler``. A sampler that cannot
work on the suite's spaces without constructor options (grid needs ``n_points`` for continuous
ranges) gets them from ``SAMPLER_OPTIONS``, a small per-name table below; a new sampler that
needs no options needs no entry. Needs pytest.

The checks: proposals are valid and canonical on a mixed space (log, log1m and stepped
floats; pow2, stepped and log ints; choices; booleans); the same seed gives the same trials,
also across a stop and resume on a SQLite file, and whatever the global random state;
different seeds give different trials; define-by-run parameters work; enqueued
trials run first and count as history; failed, NaN and stopped trials do not break sampling;
single-value parameters work; ``config()`` rebuilds an equal sampler.
"""

from __future__ import annotations

import functools
import json
import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hypersearch.exceptions import TrialPruned
from hypersearch.samplers import Sampler, SamplingContext, make_sampler
from hypersearch.space import Bool, Choice, Float, Int, Space
from hypersearch.study import Study, create_study, load_study
from hypersearch.trial import Trial, TrialRecord, TrialState

__all__ = [
    "SAMPLER_OPTIONS",
    "build_sampler",
    "mixed_space",
    "test_config_rebuilds_the_sampler",
    "test_define_by_run_parameters",
    "test_different_seeds_give_different_trials",
    "test_enqueued_trials_run_first_and_count_as_history",
    "test_failed_and_stopped_trials_do_not_break_sampling",
    "test_proposals_are_valid_and_canonical",
    "test_proposals_are_valid_in_a_study",
    "test_same_seed_same_trials",
    "test_same_seed_same_trials_across_stop_and_resume",
    "test_single_value_parameters",
]

#: Constructor options a sampler needs to run on the suite's spaces, by registry name.
#: Only samplers that cannot work without options belong here (grid: a number of points
#: per continuous axis); every other registered sampler is built with no options.
SAMPLER_OPTIONS: dict[str, dict[str, Any]] = {
    "grid": {"n_points": 4},
}

N_TRIALS = 20
SEED = 42


def build_sampler(name: str, *, seed: int | None) -> Sampler:
    """The registered sampler ``name``, with its ``SAMPLER_OPTIONS``, seeded."""
    return make_sampler({"name": name, **SAMPLER_OPTIONS.get(name, {})}, seed=seed)


def mixed_space() -> Space:
    """One parameter of every kind and scale a sampler has to handle."""
    return Space(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "momentum": Float(0.5, 0.999, scale="log1m"),
            "dropout": Float(0.0, 0.5, step=0.1),
            "batch_size": Int(8, 256, scale="pow2"),
            "units": Int(32, 512, step=32),
            "width": Int(1, 1000, log=True),
            "optimizer": Choice(("sgd", "adam", "adamw")),
            "nesterov": Bool(),
        }
    )


# --------------------------------------------------------------------------- helpers


def _loss(space: Space, params: Mapping[str, Any]) -> float:
    """A smooth deterministic objective in the unit cube, minimum away from the corners."""
    u = space.encode({k: params[k] for k in space})
    return float(np.sum((u - 0.3) ** 2))


def _objective(trial: Trial) -> float:
    extra = trial.int("extra", 1, 10)  # one define-by-run parameter, reproducible too
    return _loss(trial.study.space, trial.params) + 0.01 * extra


def _run(
    sampler_name: str,
    seed: int,
    n_trials: int = N_TRIALS,
    *,
    space: Space | None = None,
    objective: Callable[[Trial], Any] = _objective,
) -> Study:
    study = create_study(
        space=mixed_space() if space is None else space,
        sampler=build_sampler(sampler_name, seed=seed),
    )
    study.optimize(objective, n_trials=n_trials, max_failures=None)
    return study


@functools.cache
def _reference(sampler_name: str) -> tuple[TrialRecord, ...]:
    """The trials of one uninterrupted ``N_TRIALS`` run with ``SEED``: computed once per
    sampler and compared against by several tests, to keep the suite fast."""
    return tuple(_run(sampler_name, seed=SEED).trials)


def _params_by_number(trials: Sequence[TrialRecord]) -> list[tuple[int, dict[str, Any]]]:
    return [(t.number, dict(t.params)) for t in trials]


def _assert_valid(space: Space, params: Mapping[str, Any]) -> None:
    declared = {k: v for k, v in params.items() if k in space}
    assert set(declared) == set(space), f"missing parameters: {set(space) - set(declared)}"
    assert space.validate(declared) == declared, "values must be valid and canonical"
    json.dumps(dict(params))  # storable: plain numbers, strings, booleans


@contextmanager
def _global_random_state(seed: int) -> Iterator[None]:
    """Set Python's and NumPy's global generators, restoring them afterwards."""
    np_state, py_state = np.random.get_state(), random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


# --------------------------------------------------------------------------- the suite


def test_proposals_are_valid_and_canonical(sampler_name: str) -> None:
    """Called directly, as a study would (history grows, each claim is unique), every
    proposal has a valid, canonical, storable value for each parameter."""
    space = mixed_space()
    sampler = build_sampler(sampler_name, seed=0)
    claimed: set[str] = set()

    def claim(key: str) -> bool:
        if key in claimed:
            return False
        claimed.add(key)
        return True

    history: list[TrialRecord] = []
    for number in range(30):
        ctx = SamplingContext(
            space=space, trials=list(history), number=number, direction="minimize", claim=claim
        )
        params = sampler.sample(ctx)
        assert set(params) == set(space), f"trial {number}: wrong parameter names {set(params)}"
        _assert_valid(space, params)
        history.append(
            TrialRecord(
                number=number,
                state=TrialState.COMPLETE,
                params=params,
                distributions=dict(space.items()),
                value=_loss(space, params),
            )
        )


def test_proposals_are_valid_in_a_study(sampler_name: str) -> None:
    space = mixed_space()
    trials = _reference(sampler_name)
    assert len(trials) == N_TRIALS
    assert all(t.state is TrialState.COMPLETE for t in trials), [t.fail_reason for t in trials]
    for t in trials:
        _assert_valid(space, t.params)
        assert 1 <= t.params["extra"] <= 10
    # every kind of parameter takes more than one value
    for name in space:
        assert len({json.dumps(t.params[name]) for t in trials}) > 1, name


def test_same_seed_same_trials(sampler_name: str) -> None:
    """Two fresh studies with one seed propose the same trials (declared and define-by-run
    parameters), whatever the global random state."""
    first = _params_by_number(_reference(sampler_name))
    with _global_random_state(12345):
        second = _params_by_number(_run(sampler_name, seed=SEED).trials)
    assert len(first) == N_TRIALS
    assert first == second


def test_same_seed_same_trials_across_stop_and_resume(sampler_name: str, tmp_path: Path) -> None:
    """Half a study, closed, reloaded from its SQLite file (sampler and seed from storage) and
    finished, proposes exactly what one uninterrupted run does, trial by trial."""
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    half = N_TRIALS // 2
    study = create_study(
        "resume", space=mixed_space(), storage=url, sampler=build_sampler(sampler_name, seed=SEED)
    )
    study.optimize(_objective, n_trials=half)
    study.storage.close()
    del study

    resumed = load_study("resume", storage=url)
    assert resumed.sampler.config() == build_sampler(sampler_name, seed=SEED).config()
    assert resumed.sampler.seed == SEED
    resumed.optimize(_objective, n_trials=N_TRIALS - half)
    interrupted = _params_by_number(resumed.trials)
    resumed.storage.close()

    uninterrupted = _params_by_number(_reference(sampler_name))
    assert [n for n, _ in interrupted] == list(range(N_TRIALS))
    assert interrupted == uninterrupted


def test_different_seeds_give_different_trials(sampler_name: str) -> None:
    """The declared space's values differ (define-by-run ones are left out: a sampler's
    ``sample`` must use the seed itself)."""
    space = mixed_space()
    a = _params_by_number(_reference(sampler_name))
    b = _params_by_number(_run(sampler_name, seed=SEED + 1).trials)
    differing = sum(
        {k: pa[k] for k in space} != {k: pb[k] for k in space}
        for (_, pa), (_, pb) in zip(a, b, strict=True)
    )
    assert differing >= N_TRIALS // 2, f"only {differing} of {N_TRIALS} trials differ"


def _define_by_run(trial: Trial) -> float:
    wd = trial.float("weight_decay", 1e-6, 1e-2, log=True)
    beta = trial.float("beta", 0.9, 0.999, scale="log1m")
    layers = trial.int("layers", 1, 8)
    batch = trial.int("batch", 16, 256, scale="pow2")
    act = trial.choice("activation", ["relu", "gelu", "tanh"])
    norm = trial.bool("batch_norm")
    assert trial.float("weight_decay", 1e-6, 1e-2, log=True) == wd  # asked again: same value
    return math.log10(wd) + beta + layers + math.log2(batch) + len(act) + norm


DEFINE_BY_RUN = {
    "weight_decay": Float(1e-6, 1e-2, log=True),
    "beta": Float(0.9, 0.999, scale="log1m"),
    "layers": Int(1, 8),
    "batch": Int(16, 256, scale="pow2"),
    "activation": Choice(("relu", "gelu", "tanh")),
    "batch_norm": Bool(),
}


@pytest.mark.parametrize("declared", [False, True], ids=["no-space", "with-space"])
def test_define_by_run_parameters(sampler_name: str, declared: bool) -> None:
    declared_params = {"lr": Float(1e-4, 1.0, log=True), "units": Int(32, 512, step=32)}
    space = Space(declared_params if declared else {})

    def objective(trial: Trial) -> float:
        return _define_by_run(trial) + (trial.params["lr"] if declared else 0.0)

    trials = _run(sampler_name, seed=3, n_trials=8, space=space, objective=objective).trials
    assert len(trials) == 8
    assert all(t.state is TrialState.COMPLETE for t in trials), [t.fail_reason for t in trials]
    for t in trials:
        assert set(t.params) == set(space) | set(DEFINE_BY_RUN)
        _assert_valid(Space({**dict(space.items()), **DEFINE_BY_RUN}), t.params)
        assert dict(t.distributions) == {**dict(space.items()), **DEFINE_BY_RUN}
    assert len({t.params["weight_decay"] for t in trials}) > 1


def test_enqueued_trials_run_first_and_count_as_history(
    sampler_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = mixed_space()
    sampler = build_sampler(sampler_name, seed=0)
    seen: dict[int, SamplingContext] = {}
    sample = sampler.sample

    def spy(ctx: SamplingContext) -> dict[str, Any]:
        seen[ctx.number] = ctx
        return sample(ctx)

    monkeypatch.setattr(sampler, "sample", spy)
    study = create_study(space=space, sampler=sampler)
    full = {
        "lr": 1e-3,
        "momentum": 0.9,
        "dropout": 0.2,
        "batch_size": 64,
        "units": 128,
        "width": 10,
        "optimizer": "adam",
        "nesterov": True,
    }
    partial = {"lr": 3e-4, "optimizer": "sgd"}
    assert study.enqueue(full, note="baseline") == 0
    assert study.enqueue(partial) == 1
    study.optimize(lambda t: _loss(space, t.params), n_trials=5)

    trials = study.trials
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert dict(trials[0].params) == full
    assert trials[0].source == "enqueued" and trials[0].note == "baseline"
    assert trials[1].source == "enqueued"
    assert {k: trials[1].params[k] for k in partial} == partial
    for t in trials:
        _assert_valid(space, t.params)
    assert dict(seen[1].fixed) == partial  # the sampler filled in the rest, told what's fixed
    history = {t.number: t for t in seen[2].trials}
    assert {0, 1} <= set(history)
    assert dict(history[0].params) == full
    assert history[0].state is TrialState.COMPLETE and history[0].value is not None
    assert {t.number for t in seen[4].trials} == {0, 1, 2, 3}


def test_failed_and_stopped_trials_do_not_break_sampling(sampler_name: str) -> None:
    """Exceptions, NaN, infinities, stopped trials and dict results without the metric all
    end up in the history the sampler reads, starting with trial 0."""

    def objective(trial: Trial) -> Any:
        value = _loss(trial.study.space, trial.params)
        kind = trial.number % 6
        if kind == 0:
            raise RuntimeError("training diverged")
        if kind == 1:
            return float("nan")
        if kind == 2:
            trial.report(value, step=0)
            raise TrialPruned()
        if kind == 3:
            return float("inf")
        if kind == 4:
            return {"accuracy": 0.5}
        return value

    study = _run(sampler_name, seed=0, n_trials=12, objective=objective)
    trials = study.trials
    assert len(trials) == 12
    states = {t.state for t in trials}
    assert states == {TrialState.FAILED, TrialState.STOPPED, TrialState.COMPLETE}
    for t in trials:
        _assert_valid(study.space, t.params)
    assert len({json.dumps(dict(t.params)) for t in trials}) > 1
    assert study.best_trial.number % 6 == 5


def test_single_value_parameters(sampler_name: str) -> None:
    fixed = {
        "f": Float(0.25, 0.25),
        "f_log": Float(1e-3, 1e-3, log=True),
        "i": Int(3, 3),
        "i_pow2": Int(16, 16, scale="pow2"),
        "c": Choice(("only",)),
    }
    space = Space({**fixed, "x": Float(0.0, 1.0), "n": Int(1, 4)})
    study = _run(
        sampler_name,
        seed=0,
        n_trials=6,
        space=space,
        objective=lambda t: _loss(t.study.space, t.params),
    )
    trials = study.trials
    assert len(trials) == 6
    for t in trials:
        _assert_valid(space, t.params)
        assert {k: t.params[k] for k in fixed} == {
            "f": 0.25,
            "f_log": 1e-3,
            "i": 3,
            "i_pow2": 16,
            "c": "only",
        }

    # A space of single values only: one point; a finite sampler may stop after it.
    only = Space(fixed)
    study = create_study(space=only, sampler=build_sampler(sampler_name, seed=0))
    study.optimize(lambda t: 1.0, n_trials=3)
    assert 1 <= len(study.trials) <= 3
    for t in study.trials:
        assert t.state is TrialState.COMPLETE
        _assert_valid(only, t.params)


def test_config_rebuilds_the_sampler(sampler_name: str) -> None:
    """``config()`` (stored with the study) plus the seed rebuilds an equal sampler, which is
    what ``load_study`` relies on; ``config`` is JSON-ready and ``describe`` says something."""
    sampler = build_sampler(sampler_name, seed=5)
    config = sampler.config()
    assert config["name"] == sampler_name
    assert json.loads(json.dumps(config)) == config
    again = make_sampler(json.loads(json.dumps(config)), seed=sampler.seed)
    assert type(again) is type(sampler)
    assert again.config() == config and again.seed == 5
    assert isinstance(sampler.describe(), str) and sampler.describe()
    assert type(sampler).__name__ in repr(sampler)
