"""The Ray executor against a real local Ray instance that the tests start: each trial is a
Ray task, results land in the study's storage, and bad addresses or resources are refused."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.trial import TrialState

ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install "hypersearch[ray]"')

sys.path.insert(0, str(Path(__file__).parent))
import parallel_objectives as objectives  # noqa: E402
from hypersearch.execution.ray import RayExecutor, RayUnavailableError  # noqa: E402

SPACE = {"x": hs.Float(0.0, 1.0)}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    # the workers import the test objectives from this folder
    env = {"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=env)
    try:
        yield
    finally:
        ray.shutdown()


def test_an_unreachable_ray_address_is_a_clear_error(tmp_path: Path) -> None:
    # runs first: Ray is not started in this process yet
    if ray.is_initialized():
        pytest.skip("needs Ray not initialised in this process")
    study = hs.create_study(space=SPACE, storage=f"sqlite:///{tmp_path / 'r.db'}", name="r")
    with pytest.raises(
        RayUnavailableError, match=r"Cannot reach the Ray cluster at '127\.0\.0\.1:9'"
    ):
        study.optimize(objectives.quick, n_trials=2, executor=RayExecutor(address="127.0.0.1:9"))


def test_trials_run_as_ray_tasks(local_ray: None, tmp_path: Path) -> None:
    study = hs.create_study(
        "ray", space=SPACE, storage=f"sqlite:///{tmp_path / 'ray.db'}", sampler="random", seed=0
    )
    study.optimize(objectives.sleepy, n_trials=12, n_workers=2, executor="ray")
    trials = study.trials
    assert len(trials) == 12 and all(t.state is TrialState.COMPLETE for t in trials)
    assert len({t.params["x"] for t in trials}) == 12
    assert study.best_value == min(t.params["x"] for t in trials)


def test_ray_on_postgres_with_grid(local_ray: None, postgres_url: str) -> None:
    study = hs.create_study(
        "ray-grid",
        space={"a": hs.Int(0, 3), "b": hs.Choice(["p", "q"])},
        storage=postgres_url,
        sampler=hs.samplers.GridSampler(),
        seed=0,
    )
    study.optimize(
        objectives.quick_grid, n_trials=20, n_workers=2, executor=RayExecutor(), max_failures=None
    )
    points = [(t.params["a"], t.params["b"]) for t in study.trials]
    assert len(points) == 8 and len(set(points)) == 8


def test_ray_resources_larger_than_the_cluster(local_ray: None, tmp_path: Path) -> None:
    study = hs.create_study(space=SPACE, storage=f"sqlite:///{tmp_path / 'r.db'}", name="r")
    with pytest.raises(InvalidArgumentError, match="more than the Ray cluster has"):
        study.optimize(objectives.quick, n_trials=2, executor="ray", resources={"gpus": 1})
    with pytest.raises(InvalidArgumentError, match="lambda"):
        study.optimize(lambda t: 0.0, n_trials=2, executor="ray")
