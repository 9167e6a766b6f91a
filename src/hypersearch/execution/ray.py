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
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import HypersearchError, InvalidArgumentError, TooManyFailuresError
from hypersearch.execution.runner import WorkerSpec, open_worker_study
from hypersearch.trial import TrialState

if TYPE_CHECKING:
    from hypersearch.study import Study
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


def run_trial(spec: WorkerSpec, objective: Callable[..., Any]) -> tuple[int | None, str]:
    """Body of one Ray task: one trial, start to finish, against the study's storage."""
    from hypersearch.exceptions import SearchSpaceExhaustedError

    key = (spec.storage_url, spec.name)
    study = _STUDIES.get(key)
    if study is None:
        study = _STUDIES[key] = open_worker_study(spec)
    try:
        trial = study.ask()
    except SearchSpaceExhaustedError as exc:
        return None, str(exc)
    record = study._run_one(objective, trial, spec.catch)
    return record.number, record.state.value


class RayExecutor:
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

    def run(
        self,
        study: Study,
        spec: WorkerSpec,
        objective: Callable[..., Any],
        *,
        n_trials: int | None,
        timeout: float | None,
        n_workers: int,
        resources: Mapping[str, float] | None,
        max_failures: int | None,
        show_progress: bool | None,
        callbacks: Sequence[Callable[[Study, TrialRecord], None]],
    ) -> None:
        res = dict(resources or {})
        unknown = sorted(set(res) - {"cpus", "gpus"})
        if unknown:
            raise InvalidArgumentError(
                f"resources: unknown key(s) {unknown}; use 'gpus' and/or 'cpus'."
            )
        ray, started = self._ensure_ray()
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
        task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=0)(run_trial)
        spec_ref = ray.put(spec)
        objective_ref = ray.put(objective)
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        in_flight: dict[Any, int] = {}
        granted = 0
        stopping = False
        failures = 0
        error: BaseException | None = None
        show = show_progress if show_progress is not None else False
        try:
            with study._progress(n_trials, show) as progress:
                while True:
                    while (
                        not stopping
                        and len(in_flight) < n_workers
                        and (n_trials is None or granted < n_trials)
                        and (deadline is None or time.monotonic() < deadline)
                    ):
                        in_flight[task.remote(spec_ref, objective_ref)] = granted
                        granted += 1
                    if not in_flight:
                        break
                    done, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                    for ref in done:
                        in_flight.pop(ref)
                        try:
                            number, state = ray.get(ref)
                        except ray.exceptions.RayTaskError as exc:
                            cause = exc.as_instanceof_cause()
                            error = error or cause
                            stopping = True
                            continue
                        except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayError) as exc:
                            reaped = study.reap_lost_trials(force=True)
                            logger.warning("A Ray worker died (%s); reaped %s.", exc, reaped)
                            for n in reaped:
                                if "retried_by" in study.get_trial(n).attrs:
                                    granted -= 1
                            failures += 1
                            continue
                        if number is None:
                            logger.info("%s", state)
                            stopping = True
                            continue
                        failures = failures + 1 if state == TrialState.FAILED.value else 0
                        if show or callbacks:
                            record = study.get_trial(number)
                            progress(record)
                            for callback in callbacks:
                                callback(study, record)
                        if max_failures is not None and failures >= max_failures:
                            stopping = True
                            error = error or TooManyFailuresError(
                                f"{failures} trials in a row failed; the last one (trial "
                                f"{number}): {study.get_trial(number).fail_reason}."
                            )
        except BaseException:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            raise
        finally:
            if started:
                ray.shutdown()
        if error is not None:
            raise error
