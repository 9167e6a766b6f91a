"""The sampler interface: propose parameters from the study's history, in the unit cube.

Samplers never touch storage and never train anything. A sampler may be asked for a whole
declared space at once (``sample``) and for single define-by-run parameters (``sample_one``).
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hypersearch.space import Param, Space
from hypersearch.trial import TrialRecord

__all__ = ["Sampler", "SamplingContext", "trial_rng"]


@dataclass(frozen=True)
class SamplingContext:
    """What a sampler may know when proposing trial ``number``."""

    space: Space
    trials: Sequence[TrialRecord]
    number: int
    direction: str
    claim: Callable[[str], bool] = field(default=lambda key: True)
    fixed: Mapping[str, Any] = field(default_factory=dict)


def trial_rng(seed: int, number: int, name: str = "") -> np.random.Generator:
    """A generator determined by (seed, trial number, parameter name) alone, so the same seed
    proposes the same trials whatever order, process or resume they happen in."""
    return np.random.default_rng([seed, number, zlib.crc32(name.encode())])


class Sampler(ABC):
    """Base class. Subclasses set ``name`` and implement ``sample``."""

    name: ClassVar[str] = "sampler"

    def __init__(self, *, seed: int | None = None) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.seed = int(seed)

    @abstractmethod
    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        """Values for every parameter of ``ctx.space``."""

    def sample_one(self, ctx: SamplingContext, name: str, param: Param) -> Any:
        """A value for one define-by-run parameter; uniform in the unit cube by default."""
        return param.decode(float(trial_rng(self.seed, ctx.number, name).random()))

    def config(self) -> dict[str, Any]:
        """Settings that define this sampler's behaviour, stored with the study to detect drift."""
        return {"name": self.name}

    def describe(self) -> str:
        """One line for logs: which sampler and why."""
        return f"{self.name} sampler"

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def history_values(trials: Sequence[TrialRecord], space: Space) -> list[Mapping[str, Any]]:
    """Parameter dicts of trials that have a value for every parameter in ``space``."""
    return [t.params for t in trials if all(k in t.params for k in space)]
