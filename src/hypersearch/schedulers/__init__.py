"""Schedulers decide when trials stop, pause or continue from a checkpoint.

``make_scheduler`` builds one from a name or a stored config. A scheduler's hooks receive a
``SchedulerContext`` and return a ``Decision`` (or a ``Verdict``) and ``TrialPlan``s; the study
calls them through ``consult`` and ``plan_trial``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.registry import parse_spec
from hypersearch.schedulers.base import (
    Decision,
    Scheduler,
    SchedulerContext,
    TrialPlan,
    Verdict,
    consult,
    plan_trial,
)
from hypersearch.schedulers.bohb import BOHB
from hypersearch.schedulers.density_ratio import DensityRatioSampler
from hypersearch.schedulers.hyperband import ASHA, Hyperband, SuccessiveHalving
from hypersearch.schedulers.median import MedianStopping
from hypersearch.schedulers.mo_asha import MultiObjectiveASHA
from hypersearch.schedulers.multifidelity import MultiFidelity
from hypersearch.schedulers.pbt import PBT, schedule_of
from hypersearch.schedulers.rules import AnyOf, Divergence, Patience, Threshold, TimeCap
from hypersearch.schedulers.rung_sampler import RungSampler

__all__ = [
    "ASHA",
    "BOHB",
    "PBT",
    "AnyOf",
    "Decision",
    "DensityRatioSampler",
    "Divergence",
    "Hyperband",
    "MedianStopping",
    "MultiFidelity",
    "MultiObjectiveASHA",
    "Patience",
    "RungSampler",
    "Scheduler",
    "SchedulerContext",
    "SuccessiveHalving",
    "Threshold",
    "TimeCap",
    "TrialPlan",
    "Verdict",
    "consult",
    "make_scheduler",
    "plan_trial",
    "schedule_of",
    "scheduler_names",
]

_REGISTRY: dict[str, type[Scheduler]] = {
    cls.name: cls
    for cls in (
        MedianStopping,
        Patience,
        Threshold,
        TimeCap,
        Divergence,
        AnyOf,
        SuccessiveHalving,
        ASHA,
        Hyperband,
        BOHB,
        MultiFidelity,
        MultiObjectiveASHA,
        PBT,
    )
}


def scheduler_names() -> list[str]:
    return sorted(_REGISTRY)


def make_scheduler(spec: str | Scheduler | Mapping[str, Any] | None) -> Scheduler | None:
    """``None`` (no early stopping), a name such as ``"median"``, a stored config, or an object."""
    if spec is None or isinstance(spec, Scheduler):
        return spec
    name, options = parse_spec(spec, _REGISTRY, "scheduler", none_ok=True)
    try:
        if name == "any":  # nested rules from a stored config
            rules = [make_scheduler(r) for r in options.pop("rules", [])]
            if options:
                raise TypeError(f"unexpected option(s) {sorted(options)}")
            return AnyOf(*[r for r in rules if r is not None])
        if name == "pbt" and "perturb" in options:
            options["perturb"] = tuple(options["perturb"])
        return _REGISTRY[name](**options)
    except TypeError as exc:  # an unknown option, e.g. from a config of another version
        raise InvalidArgumentError(f"Scheduler {name!r}: {exc}.") from None
