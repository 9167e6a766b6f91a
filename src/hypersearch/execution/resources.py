"""Per-trial resources: which GPUs (and how many CPUs) a trial may use.

``resources={"gpus": 1}`` gives each trial one whole GPU; a fraction such as ``0.5`` packs
``int(1 / 0.5) = 2`` trials on one GPU; an integer above 1 gives that many GPUs per trial.
The GPUs to share are ``gpus=[0, 1]`` when given, else ``CUDA_VISIBLE_DEVICES``, else those
``nvidia-smi -L`` lists, so the logic runs (and is tested) on machines without GPUs.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from hypersearch.exceptions import InvalidArgumentError

__all__ = ["ResourcePool", "visible_gpus"]

_KNOWN = ("gpus", "cpus")


def visible_gpus(gpus: Sequence[int | str] | None = None) -> list[str]:
    """The GPU ids trials may be given, as CUDA_VISIBLE_DEVICES entries."""
    if gpus is not None:
        if isinstance(gpus, str | int):
            raise InvalidArgumentError(f"gpus must be a list such as [0, 1], got {gpus!r}.")
        ids = [str(g).strip() for g in gpus]
        if any(not g for g in ids) or len(set(ids)) != len(ids):
            raise InvalidArgumentError(f"gpus must be distinct GPU ids, got {list(gpus)!r}.")
        return ids
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]
    return []


class ResourcePool:
    """Hands out GPU sets to trials and takes them back; the parent process owns it."""

    def __init__(
        self,
        resources: Mapping[str, float] | None,
        gpus: Sequence[int | str] | None = None,
        *,
        cpu_count: int | None = None,
    ) -> None:
        res = dict(resources or {})
        unknown = sorted(set(res) - set(_KNOWN))
        if unknown:
            raise InvalidArgumentError(
                f"resources: unknown key(s) {unknown}; use 'gpus' and/or 'cpus', e.g. "
                "resources={'gpus': 0.5}."
            )
        for key, value in res.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise InvalidArgumentError(
                    f"resources[{key!r}] must be a number >= 0, got {value!r}."
                )
        self.per_trial_gpus = float(res.get("gpus", 0))
        self.per_trial_cpus = float(res.get("cpus", 0))
        cpus = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
        if self.per_trial_cpus > cpus:
            raise InvalidArgumentError(
                f"resources={{'cpus': {res['cpus']}}} is more than this machine has ({cpus} "
                "CPUs); ask for fewer."
            )
        self.devices = visible_gpus(gpus) if (self.per_trial_gpus or gpus is not None) else []
        g = self.per_trial_gpus
        self.slots_per_gpu = 1
        if g > 1 and g != int(g):
            raise InvalidArgumentError(
                f"resources={{'gpus': {g}}}: above 1, GPUs per trial must be a whole number."
            )
        if g > 0 and not self.devices:
            raise InvalidArgumentError(
                f"resources={{'gpus': {g}}} but no GPU is visible (CUDA_VISIBLE_DEVICES is "
                "unset or empty and nvidia-smi lists none). Pass gpus=[0, 1, ...] to name "
                "them, or drop the gpus resource."
            )
        if g > len(self.devices):
            raise InvalidArgumentError(
                f"resources={{'gpus': {g:g}}} needs {g:g} GPUs per trial but only "
                f"{len(self.devices)} are visible ({','.join(self.devices)}); ask for fewer."
            )
        if 0 < g < 1:
            self.slots_per_gpu = int(math.floor(1 / g + 1e-9))
        self._free: dict[str, int] = {d: self.slots_per_gpu for d in self.devices}
        cpu_cap = int(cpus // self.per_trial_cpus) if self.per_trial_cpus else None
        gpu_cap = None
        if g > 0:
            gpu_cap = (
                len(self.devices) * self.slots_per_gpu if g < 1 else len(self.devices) // int(g)
            )
        caps = [c for c in (cpu_cap, gpu_cap) if c is not None]
        #: How many trials can run at once (None: no limit from resources).
        self.capacity: int | None = min(caps) if caps else None
        self._in_use = 0

    def acquire(self, prefer: Sequence[str] = ()) -> list[str] | None:
        """GPU ids for one more trial ([] when it needs none), or None if all are taken.
        Devices in ``prefer`` (the worker's previous ones) come first, so a worker that
        already initialised CUDA keeps its device."""
        if self.capacity is not None and self._in_use >= self.capacity:
            return None
        g = self.per_trial_gpus
        if g == 0:
            self._in_use += 1
            return []
        want = 1 if g < 1 else int(g)
        order = [d for d in prefer if d in self._free] + [
            d for d in self.devices if d not in prefer
        ]
        if g < 1:
            # pack: the preferred device, else the fullest one that still has a slot
            candidates = [d for d in order if self._free[d] > 0]
            if not candidates:
                return None
            pref = [d for d in candidates if d in prefer]
            chosen = pref[:1] or [
                min(candidates, key=lambda d: (self._free[d], self.devices.index(d)))
            ]
        else:
            chosen = [d for d in order if self._free[d] == self.slots_per_gpu][:want]
            if len(chosen) < want:
                return None
        for d in chosen:
            self._free[d] -= 1
        self._in_use += 1
        return chosen

    def release(self, devices: Sequence[str]) -> None:
        for d in devices:
            if d in self._free:
                self._free[d] = min(self.slots_per_gpu, self._free[d] + 1)
        self._in_use = max(0, self._in_use - 1)
