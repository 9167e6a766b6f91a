"""The GP sampler: model, log-EI, mixed spaces, failures, parallel asks, bad input."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

import hypersearch as hs
from hypersearch.samplers import GPSampler, SamplingContext, make_sampler
from hypersearch.samplers.gp.acquisition import log_ei, log_h
from hypersearch.samplers.gp.model import GaussianProcess, fit_gp
from hypersearch.space import Choice, Float, Int, Space
from hypersearch.trial import TrialRecord, TrialState
from level_objectives import stepped, wide_level


def _branin(p: dict[str, float]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


BRANIN = Space({"x1": Float(-5.0, 10.0), "x2": Float(0.0, 15.0)})


def _took_sobol(study: hs.Study, seed: int, number: int) -> bool:
    """Whether trial ``number`` of a study on Branin's box took the Sobol point of its number
    (what the GP's safeguards fall back to)."""
    from hypersearch.samplers import SobolSampler

    ctx = SamplingContext(space=BRANIN, trials=[], number=number, direction="minimize")
    return study.trials[number].params == SobolSampler(seed=seed).sample(ctx)


def test_log_h_is_stable_and_matches_the_direct_formula() -> None:
    from scipy.stats import norm

    z = np.array([-0.5, 0.0, 1.0, 3.0, -0.99, -1.0, -2.0, -5.0])
    direct = np.log(norm.pdf(z) + z * norm.cdf(z))
    assert np.allclose(log_h(z), direct, rtol=1e-9)
    far = log_h(np.array([-40.0, -1e3, -1e6]))
    assert np.all(np.isfinite(far))
    assert np.all(np.diff(far) < 0)  # still ordered deep in the tail
    assert log_ei(np.array([0.0]), np.array([1.0]), best=-50.0)[0] > -2000


def test_gp_fit_interpolates_a_smooth_function() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((30, 2))
    y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    gp = fit_gp(x, np.zeros((30, 0)), y, rng)
    xt = rng.random((50, 2))
    yt = (np.sin(6 * xt[:, 0]) + xt[:, 1] ** 2 - (np.sin(6 * x[:, 0]) + x[:, 1] ** 2).mean()) / (
        np.sin(6 * x[:, 0]) + x[:, 1] ** 2
    ).std()
    mean, var = gp.predict(xt, np.zeros((50, 0)))
    assert np.sqrt(np.mean((mean - yt) ** 2)) < 0.15
    assert np.all(var > 0)


def test_joint_posterior_agrees_with_the_marginals() -> None:
    """predict_joint's mean and diagonal are predict's; the covariance is symmetric and
    positive semi-definite (up to rounding), so joint draws are well defined."""
    rng = np.random.default_rng(0)
    x = rng.random((25, 2))
    gp = GaussianProcess(x, np.zeros((25, 0), dtype=int), np.sin(6 * x[:, 0]) + x[:, 1],
                         np.array([0.3, 0.5]), 1.0, 1e-4)  # fmt: skip
    new = rng.random((40, 2))
    none = np.zeros((40, 0), dtype=int)
    mean, var = gp.predict(new, none)
    jmean, cov = gp.predict_joint(new, none)
    np.testing.assert_allclose(jmean, mean, atol=1e-10)
    # tolerance: predict clips variances at 1e-12 and both subtract near-equal O(1) numbers
    np.testing.assert_allclose(np.diag(cov), var, atol=1e-8)
    np.testing.assert_allclose(cov, cov.T, atol=1e-12)
    assert np.linalg.eigvalsh(cov).min() > -1e-8


def test_gp_beats_random_on_branin() -> None:
    gp_best, rnd_best = [], []
    for seed in range(2):
        for name, out in (("gp", gp_best), ("random", rnd_best)):
            study = hs.create_study(space=BRANIN, sampler=name, seed=seed)
            study.optimize(lambda t: _branin(t.params), n_trials=20)
            out.append(study.best_value)
    assert np.mean(gp_best) < 0.7  # optimum 0.398
    assert np.mean(gp_best) < np.mean(rnd_best)


def test_mixed_space_with_duplicates_and_non_finite_history() -> None:
    space = Space(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "units": Int(32, 512, step=32),
            "bs": Int(8, 256, scale="pow2"),
            "opt": Choice(["sgd", "adam", "adamw"]),
        }
    )
    study = hs.create_study(space=space, sampler="gp", seed=0)
    same = {"lr": 1e-3, "units": 64, "bs": 32, "opt": "adam"}
    for _ in range(4):  # duplicated points
        study.add_trial(same, 1.0)
    for i in range(8):
        study.add_trial({**same, "units": 32 * (i + 1), "opt": "sgd"}, float(i))

    def objective(t: hs.Trial) -> float:
        if t.params["units"] > 448:
            return float("nan")  # non-finite: the trial fails, never used as a value
        return math.log10(t.params["lr"]) ** 2 + t.params["units"] / 512

    study.optimize(objective, n_trials=10, max_failures=None)
    proposed = [t for t in study.trials if t.source == "sampler"]
    assert len(proposed) == 10
    for t in proposed:
        assert space.validate(dict(t.params)) == dict(t.params)
    keys = {tuple(sorted(t.params.items())) for t in proposed}
    assert len(keys) == len(proposed)  # never re-proposes a point it has


def test_failed_region_is_avoided() -> None:
    """Failures at x2 > 10 (out of memory) are learned: after the Sobol design, few
    proposals go there, where random search sends a third of its trials."""

    def objective(t: hs.Trial) -> float:
        if t.params["x2"] > 10:
            raise MemoryError("CUDA out of memory")
        return _branin(t.params)

    failed_after_design = []
    for seed in range(1):
        study = hs.create_study(space=BRANIN, sampler="gp", seed=seed)
        study.optimize(objective, n_trials=26, max_failures=None)
        late = study.trials[10:]
        failed_after_design.append(sum(t.state is TrialState.FAILED for t in late) / len(late))
        assert study.best_value < 1.0
    assert np.mean(failed_after_design) < 0.2


def test_four_parallel_asks_get_four_distinct_points() -> None:
    for sampler in ("gp", "tpe", "auto"):
        study = hs.create_study(space=BRANIN, sampler=sampler, seed=0)
        study.optimize(lambda t: _branin(t.params), n_trials=11)
        running = [study.ask() for _ in range(4)]
        points = {tuple(sorted(t.params.items())) for t in running}
        assert len(points) == 4, sampler
        for t in running:
            study.tell(t, _branin(t.params))


def test_running_trials_push_the_next_point_away() -> None:
    sampler = GPSampler(seed=0)
    rng = np.random.default_rng(1)
    records = []
    for i in range(12):
        params = BRANIN.decode(rng.random(2))
        records.append(
            TrialRecord(number=i, state=TrialState.COMPLETE, params=params, value=_branin(params))
        )
    ctx = SamplingContext(space=BRANIN, trials=records, number=12, direction="minimize")
    first = sampler.sample(ctx)
    pending = [*records, TrialRecord(number=12, state=TrialState.RUNNING, params=first)]
    ctx2 = SamplingContext(space=BRANIN, trials=pending, number=13, direction="minimize")
    second = sampler.sample(ctx2)
    assert second != first
    gap = np.abs(BRANIN.encode(first) - BRANIN.encode(second)).max()
    assert gap > 1e-3


def test_only_choices_falls_back_to_tpe_with_a_message(caplog: pytest.LogCaptureFixture) -> None:
    space = Space({"a": Choice(["x", "y", "z"]), "b": hs.Bool()})
    study = hs.create_study(space=space, sampler="gp", seed=0)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        study.optimize(lambda t: float(t.params["a"] == "y") + t.params["b"], n_trials=15)
    assert "using TPE" in caplog.text
    assert len(study.trials) == 15


def test_empty_space_and_define_by_run() -> None:
    study = hs.create_study(space={}, sampler="gp", seed=0)
    study.optimize(lambda t: (t.float("x", 0, 1) - 0.3) ** 2, n_trials=15)
    assert len(study.trials) == 15
    assert study.best_value < 0.05


def test_stopped_trials_are_learned_from() -> None:
    """A study with only stopped trials (early Hyperband) still gets model-based proposals
    from their learning curves, not the Sobol design forever."""
    from hypersearch.samplers.base import impute_stopped, observations

    records = []
    rng = np.random.default_rng(0)
    for i in range(10):
        params = BRANIN.decode(rng.random(2))
        v = _branin(params)
        state = TrialState.STOPPED if i % 2 else TrialState.COMPLETE
        curve = (
            {0: 2 * v, 1: 1.5 * v} if state is TrialState.STOPPED else {0: 2 * v, 1: 1.5 * v, 2: v}
        )
        records.append(
            TrialRecord(
                number=i,
                state=state,
                params=params,
                value=v if state is TrialState.COMPLETE else None,
                intermediate=curve,
            )
        )
    imputed = impute_stopped(records, "minimize")
    assert set(imputed) == {1, 3, 5, 7, 9}
    finals = sorted(r.value for r in records if r.value is not None)
    assert all(finals[0] <= v <= finals[-1] for v in imputed.values())
    ctx = SamplingContext(space=BRANIN, trials=records, number=10, direction="minimize")
    obs = observations(ctx, BRANIN)
    assert obs.n_stopped == 5 and obs.n_complete == 5 and len(obs.loss) == 10


def test_ask_is_fast_at_20_dimensions() -> None:
    import time

    space = Space({f"x{i}": Float(0.0, 1.0) for i in range(20)})
    rng = np.random.default_rng(0)
    records = [
        TrialRecord(
            number=i,
            state=TrialState.COMPLETE,
            params=space.decode(u),
            value=float(np.sum((u - 0.3) ** 2)),
        )
        for i, u in enumerate(rng.random((150, 20)))
    ]
    sampler = GPSampler(seed=0)
    ctx = SamplingContext(space=space, trials=records, number=150, direction="minimize")
    sampler.sample(ctx)  # imports
    t0 = time.process_time()  # CPU time: robust to a loaded machine
    sampler.sample(ctx)
    assert time.process_time() - t0 < 3.0  # ~0.4 s on one idle core


# --- robustness and bad input (issue 14) ------------------------------------------------


def test_a_stalled_search_interleaves_sobol_points_the_safeguard(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With explore_after=5, after 5 trials without a better value every other trial is the
    Sobol point of its number (exploration a misled model cannot switch off); an improving
    search is left to the model. Off by default."""

    def plateau(t: hs.Trial) -> float:  # improves for 6 trials, then a flat plateau
        return 10.0 - t.number if t.number < 6 else 100.0 + 1e-3 * t.params["x1"]

    study = hs.create_study(space=BRANIN, sampler=GPSampler(seed=3, explore_after=5), seed=3)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        study.optimize(plateau, n_trials=18)
    assert "5 trials without a better value" in caplog.text
    assert all(_took_sobol(study, 3, n) for n in (11, 13, 15, 17))
    assert not any(_took_sobol(study, 3, n) for n in (12, 14, 16))
    off = hs.create_study(space=BRANIN, sampler=GPSampler(seed=3), seed=3)  # off by default
    off.optimize(plateau, n_trials=14)
    assert not _took_sobol(off, 3, 13)


def test_a_plateau_the_model_resamples_gets_sobol_points(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A quantised objective whose best value is a wide plateau: once half of the last 8
    results tie exactly with the best, trials are Sobol points (with a message) until the
    results differ again; plateau_window=0 turns the safeguard off."""
    study = hs.create_study(space=BRANIN, sampler=GPSampler(seed=1), seed=1)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        study.optimize(stepped, n_trials=40)
    assert "tie exactly with the best value" in caplog.text
    late = range(16, 40)
    assert sum(_took_sobol(study, 1, n) for n in late) >= 4
    off = hs.create_study(space=BRANIN, sampler=GPSampler(seed=1, plateau_window=0), seed=1)
    off.optimize(stepped, n_trials=40)
    assert not any(_took_sobol(off, 1, n) for n in late)


def test_plateau_after_lets_the_safeguard_act_before_16_results() -> None:
    """With plateau_after=8 the stepped objective's plateau gets Sobol points among trials
    8-15, where the default (2 x plateau_window = 16 results) still lets the model re-sample
    it; from then on both explore."""
    early = hs.create_study(space=BRANIN, sampler=GPSampler(seed=5, plateau_after=8), seed=5)
    late = hs.create_study(space=BRANIN, sampler=GPSampler(seed=5), seed=5)
    for study in (early, late):
        study.optimize(stepped, n_trials=16)
    assert sum(_took_sobol(late, 5, n) for n in range(8, 16)) == 0
    assert sum(_took_sobol(early, 5, n) for n in range(8, 16)) >= 4  # 6 of 8 here; CPU margin


def test_plateau_after_is_validated_and_stored_only_when_changed() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="plateau_after must be None"):
        GPSampler(plateau_after=1)
    assert "plateau_after" not in GPSampler(seed=0).config()
    config = make_sampler(GPSampler(seed=0, plateau_after=8).config()).config()
    assert config["plateau_after"] == 8


def test_a_continuous_objective_never_trips_the_plateau_safeguard() -> None:
    """Without exact ties the safeguard never acts: the same trials as with it off."""
    on = hs.create_study(space=BRANIN, sampler=GPSampler(seed=2), seed=2)
    off = hs.create_study(space=BRANIN, sampler=GPSampler(seed=2, plateau_window=0), seed=2)
    for study in (on, off):
        study.optimize(lambda t: _branin(t.params), n_trials=24)
    assert [t.params for t in on.trials] == [t.params for t in off.trials]


def test_plateau_window_is_validated_and_stored_only_when_changed() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="plateau_window must be 0"):
        GPSampler(plateau_window=1)
    assert "plateau_window" not in GPSampler(seed=0).config()
    assert (
        make_sampler(GPSampler(seed=0, plateau_window=0).config()).config()["plateau_window"] == 0
    )


def test_explore_after_is_validated_and_stored_only_when_changed() -> None:
    with pytest.raises(hs.InvalidArgumentError, match="explore_after must be 0"):
        GPSampler(explore_after=-1)
    assert "explore_after" not in GPSampler(seed=0).config()
    assert GPSampler(seed=0, explore_after=5).config()["explore_after"] == 5
    assert make_sampler(GPSampler(seed=0, explore_after=5).config()).config() == {
        "name": "gp",
        "n_startup": None,
        "max_points": 250,
        "explore_after": 5,
    }


def test_same_seed_same_trials() -> None:
    space = Space({"lr": Float(1e-5, 1e-1, log=True), "units": Int(8, 512, log=True)})

    def run() -> list[dict[str, object]]:
        study = hs.create_study(space=space, sampler="gp", seed=11)
        study.optimize(
            lambda t: (math.log10(t.params["lr"]) + 3) ** 2 / t.params["units"], n_trials=14
        )
        return [t.params for t in study.trials]

    assert run() == run()


def test_single_parameter_and_log_int_only_spaces() -> None:
    for space, f in (
        (Space({"x": Float(-2.0, 2.0)}), lambda p: (p["x"] - 0.5) ** 2),
        (Space({"n": Int(1, 1024, log=True)}), lambda p: abs(math.log2(p["n"]) - 6.0)),
    ):
        study = hs.create_study(space=space, sampler="gp", seed=0)
        study.optimize(lambda t, f=f: f(t.params), n_trials=16)
        assert study.best_value < 0.1


def test_all_trials_failed_so_far_is_said_and_survived(caplog: pytest.LogCaptureFixture) -> None:
    study = hs.create_study(space=BRANIN, sampler="gp", seed=0)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        for i in range(14):
            trial = study.ask()
            if i < 8:
                study.tell(trial, state="FAILED", fail_reason="RuntimeError: CUDA out of memory")
            else:
                study.tell(trial, _branin(trial.params))
    assert "all 5 trials so far failed" in caplog.text  # said once, when the design is used up
    assert caplog.text.count("trials so far failed") == 1
    assert sum(t.state is TrialState.COMPLETE for t in study.trials) == 6


def test_flat_objective_is_said_and_survived(caplog: pytest.LogCaptureFixture) -> None:
    study = hs.create_study(space=BRANIN, sampler="gp", seed=0)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        study.optimize(lambda t: 0.5, n_trials=12)
    assert "every trial so far has the same value (0.5)" in caplog.text
    assert len({tuple(t.params.values()) for t in study.trials}) == 12  # still exploring


def test_a_1e300_value_is_compressed_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    def objective(t: hs.Trial) -> float:
        return 1e300 if t.number == 2 else _branin(t.params)

    study = hs.create_study(space=BRANIN, sampler="gp", seed=0)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        study.optimize(objective, n_trials=25)
    assert "compressed logarithmically" in caplog.text
    assert study.best_value < 2.0  # Branin's minimum is 0.398; random gets ~5 in 25 trials


def test_transform_of_extreme_values_is_finite_and_ordered() -> None:
    from hypersearch.samplers.gp.sampler import _transform

    for loss in (
        np.array([1.0, 1.0, 1.0, 1.0, 1e300]),  # ties and one huge value
        np.array([-1e300, 1.0, 2.0, 3.0, 1e300]),  # both tails overflow: ranks are used
        np.array([0.3, 0.2, 1e300, 0.25, 0.1, 0.4]),
    ):
        y, _ = _transform(loss)
        assert np.all(np.isfinite(y))
        order = np.argsort(loss, kind="stable")
        assert np.all(np.diff(y[order]) >= 0)  # the ranking is kept


def test_a_worse_level_that_keeps_coming_back_is_resampled_less() -> None:
    """level_repeats=3: once a value worse than the best has come back 3 times, candidates
    whose nearest tried point holds it are skipped, so the model proposes fewer points on
    that flat level (it still finds the bowl's minimum)."""
    on_level = {0: 0, 3: 0}
    for seed in range(3):
        for repeats in (0, 3):
            sampler = GPSampler(seed=seed, level_repeats=repeats)
            study = hs.create_study(space=BRANIN, sampler=sampler, seed=seed)
            study.optimize(wide_level, n_trials=40)
            on_level[repeats] += sum(t.value == 0.5 for t in study.trials[12:])
            assert study.best_value < 0.31
    # Measured 16 (off) vs 7 (on) over these seeds; the margin allows other BLAS/CPUs to
    # take slightly different paths.
    assert on_level[3] <= on_level[0] - 4


def test_integer_configurations_are_not_repeated_while_untried_ones_remain() -> None:
    """A 6 x 6 integer grid: 30 asks give 30 different configurations."""
    space = Space({"a": Int(0, 5), "b": Int(0, 5)})
    study = hs.create_study(space=space, sampler=GPSampler(seed=0, level_repeats=3), seed=0)
    study.optimize(lambda t: round(abs(t.params["a"] - 2) + abs(t.params["b"] - 3) / 2), 30)
    assert len({(t.params["a"], t.params["b"]) for t in study.trials}) == 30


def test_level_rule_with_bad_input(caplog: pytest.LogCaptureFixture) -> None:
    """Only choices, a flat objective and a 1e300 among repeated values all still work."""
    choices = Space({"c": Choice(["a", "b", "c"]), "d": Choice([1, 2, 3, 4])})
    study = hs.create_study(space=choices, sampler=GPSampler(seed=0, level_repeats=2), seed=0)
    study.optimize(lambda t: float(t.params["d"] % 2), n_trials=12)
    flat = hs.create_study(space=BRANIN, sampler=GPSampler(seed=0, level_repeats=2), seed=0)
    with caplog.at_level(logging.INFO, logger="hypersearch"):
        flat.optimize(lambda t: 0.5, n_trials=12)
    assert "every trial so far has the same value" in caplog.text

    def huge(t: hs.Trial) -> float:
        return 1e300 if t.params["x1"] > 5.0 else round(_branin(t.params), 0)

    study = hs.create_study(space=BRANIN, sampler=GPSampler(seed=0, level_repeats=2), seed=0)
    study.optimize(huge, n_trials=25)
    assert sum(t.state is TrialState.COMPLETE for t in study.trials) == 25
    assert study.best_value < 20.0  # an ordinary Branin value, not the 1e300 region


def test_level_repeats_is_validated_and_stored_only_when_changed() -> None:
    for bad in (1, -1):
        with pytest.raises(hs.InvalidArgumentError, match="level_repeats must be 0"):
            GPSampler(level_repeats=bad)
    with pytest.raises(hs.InvalidArgumentError, match="level_window must be 0"):
        GPSampler(level_window=-1)
    assert "level_repeats" not in GPSampler(seed=0).config()
    assert "level_window" not in GPSampler(seed=0).config()
    assert make_sampler(GPSampler(seed=0, level_window=8).config()).config()["level_window"] == 8
    assert make_sampler(GPSampler(seed=0, level_repeats=4).config()).config()["level_repeats"] == 4
