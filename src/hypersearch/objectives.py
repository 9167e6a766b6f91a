"""What a study optimises: its objectives (name and direction) and its outcome constraints.

A study has one objective or several (``directions={"val_accuracy": "maximize",
"latency_ms": "minimize"}``), and optionally constraints on reported metrics
(``constraints={"gpu_mem_gb": ("<=", 16)}``). A constraint is turned into a *violation*:
``<= 0`` means satisfied, ``> 0`` says by how much it is violated.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DIRECTIONS", "Objective"]

DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class Objective:
    """One quantity a study optimises: the metric's ``name`` and its ``direction``."""

    name: str
    direction: str

    def __post_init__(self) -> None:
        from hypersearch.exceptions import InvalidArgumentError

        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgumentError(
                f"An objective's name must be a non-empty string, got {self.name!r}."
            )
        if self.direction not in DIRECTIONS:
            raise InvalidArgumentError(
                f"Objective {self.name!r}: direction must be 'minimize' or 'maximize', got "
                f"{self.direction!r}."
            )
