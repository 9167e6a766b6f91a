"""Ray executor: each trial is a Ray task with its CPU and GPU resources.

The task opens the study's storage itself (kept open per Ray worker process) and runs the
usual ask / objective / tell, so results land in storage exactly as with local workers and
Ray's own CUDA_VISIBLE_DEVICES assignment decides the GPUs. Works on an existing cluster
(``RayExecutor(address="host:6379")`` or ``"auto"``) or starts a local one.

>>> study.optimize(objective, n_trials=100, n_workers=8, executor="ray",
...                resources={"cpus": 1, "gpus": 0.5})
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.execution.base import Executor, RunOptions, RunPolicy, run_policy
from hypersearch.execution.runner import check_objective, shareable_spec

if TYPE_CHECKING:
    from hypersearch.study import Study, StudySpec
    from hypersearch.trial import TrialRecord

__all__ = ["RayExecutor", "RayUnavailableError"]

logger = logging.getLogger("hypersearch")

_STUDIES: dict[tuple[str, str], Study] = {}  # per Ray worker process


class RayUnavailableError(HypersearchError, RuntimeError):
    """Ray is not installed or its cluster cannot be reached."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            'executor="ray" needs Ray: pip install "hypersearch[ray]".'
        ) from None
    return ray


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast (Ray itself may wait a long time) when host:port does not answer."""
    target = address.split("://", 1)[-1]
    if ":" not in target:
        return
    host, _, port = target.rpartition(":")
    try:
        port_no = int(port)
    except ValueError:
        raise InvalidArgumentError(
            f"Ray address {address!r} must look like 'host:port' or 'auto'."
        ) from None
    try:
        with socket.create_connection((host, port_no), timeout=timeout_s):
            pass
    except OSError as exc:
        raise RayUnavailableError(
            f"Cannot reach the Ray cluster at {address!r} ({exc}). Start it (`ray start "
            "--head`), check the address, or leave address=None for a local Ray."
        ) from None


def trial_task(
    spec: StudySpec, objective: Callable[..., Any], catch: tuple[type[BaseException], ...]
) -> tuple[int | None, str]:
    """Body of one Ray task: one trial, start to finish, against the study's storage."""
    from hypersearch.exceptions import SearchSpaceExhaustedError

    key = (spec.storage_url, spec.name)
    study = _STUDIES.get(key)
    if study is None:
        study = _STUDIES[key] = spec.open()
    try:
        trial = study.ask()
    except SearchSpaceExhaustedError as exc:
        return None, str(exc)
    record = study.run_trial(objective, trial, catch)
    return record.number, record.state.value


class RayExecutor(Executor):
    """Run trials as Ray tasks; ``address=None`` uses the running Ray (or starts a local
    one), ``"auto"`` or ``"host:port"`` joins an existing cluster. ``init_kwargs`` go to
    ``ray.init`` when this executor starts Ray."""

    def __init__(self, *, address: str | None = None, **init_kwargs: Any) -> None:
        self.address = address
        self.init_kwargs = init_kwargs

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r})"

    def _ensure_ray(self) -> tuple[Any, bool]:
        ray = _import_ray()
        if ray.is_initialized():
            return ray, False
        if self.address not in (None, "auto", "local"):
            _check_reachable(str(self.address))
        kwargs = {"include_dashboard": False, "log_to_driver": True, **self.init_kwargs}
        try:
            ray.init(address=self.address, **kwargs)
        except ConnectionError as exc:
            raise RayUnavailableError(
                f"Cannot connect to the Ray cluster at {self.address!r}: {exc}"
            ) from None
        return ray, True

    def run(self, study: Study, objective: Callable[..., Any], options: RunOptions) -> None:
        spec = shareable_spec(study, "executor='ray'")
        check_objective(objective, "executor='ray'")
        res = dict(options.resources or {})
        unknown = sorted(set(res) - {"cpus", "gpus"})
        if unknown:
            raise InvalidArgumentError(
                f"resources: unknown key(s) {unknown}; use 'gpus' and/or 'cpus'."
            )
        ray, started = self._ensure_ray()
        try:
            total = ray.cluster_resources()
            cpus = float(res.get("cpus", 1))
            gpus = float(res.get("gpus", 0))
            for key, want, have in (
                ("cpus", cpus, total.get("CPU", 0)),
                ("gpus", gpus, total.get("GPU", 0)),
            ):
                if want > have:
                    raise InvalidArgumentError(
                        f"resources={{'{key}': {want:g}}} is more than the Ray cluster has "
                        f"({have:g}); ask for fewer."
                    )
            task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=0)(trial_task)
            refs = (ray.put(spec), ray.put(objective), ray.put(options.catch))
            with run_policy(study, options) as policy:
                error = self._loop(ray, study, task, refs, policy)
        finally:
            if started:
                ray.shutdown()
        if error is not None:
            raise error

    def _loop(
        self, ray: Any, study: Study, task: Any, refs: tuple[Any, ...], policy: RunPolicy
    ) -> BaseException | None:
        """Keep ``n_workers`` tasks in flight while the policy allows; the error that ended
        the run, if any."""
        in_flight: dict[Any, None] = {}
        error: BaseException | None = None
        try:
            while True:
                while len(in_flight) < policy.options.n_workers and policy.may_start():
                    in_flight[task.remote(*refs)] = None
                    policy.started()
                if not in_flight:
                    return error
                done, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                for ref in done:
                    in_flight.pop(ref)
                    try:
                        number, state = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        error = error or exc.as_instanceof_cause()
                        policy.stop()
                        continue
                    except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayError) as exc:
                        reaped = study.reap_lost_trials(force=True)
                        logger.warning("A Ray worker died (%s); reaped %s.", exc, reaped)
                        records = [study.get_trial(n) for n in reaped]
                        for record in records:
                            if "retried_by" in record.attrs:
                                policy.retried()
                        ended: list[TrialRecord | None] = [*records] or [None]
                        for lost in ended:  # None: it died before it had a trial
                            error = error or policy.finished(lost)
                        continue
                    if number is None:
                        logger.info("%s", state)
                        policy.stop()
                        continue
                    error = error or policy.finished(study.get_trial(number))
        except BaseException:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            raise
