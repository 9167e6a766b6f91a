"""Which way an objective improves: the one place that decides "better" and converts to a loss.

Everything inside hypersearch that ranks values minimises; a maximised metric is turned into
a loss at the edge (``to_loss``) and back for display (``from_loss``). ``Direction`` is a
``StrEnum``, so ``Direction.MAXIMIZE == "maximize"`` and stored records keep their strings.

>>> import hypersearch as hs
>>> hs.Direction.parse("maximize").better(0.9, 0.8)
True
"""

from __future__ import annotations

import enum
import math

from hypersearch.exceptions import InvalidArgumentError

__all__ = ["Direction"]


class Direction(enum.StrEnum):
    """``"minimize"`` or ``"maximize"``; equal to its string, so either spelling is accepted."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    @classmethod
    def parse(cls, value: str | Direction, *, name: str = "direction") -> Direction:
        """``value`` as a Direction, or an error naming both choices (``name``: the argument)."""
        if isinstance(value, Direction):
            return value
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        hint = ""
        word = value.strip().lower() if isinstance(value, str) else ""
        if word in ("min", "max", "minimise", "maximise", "minimize", "maximize"):
            hint = f" (did you mean {'minimize' if word.startswith('min') else 'maximize'!r}?)"
        raise InvalidArgumentError(
            f"{name} must be 'minimize' or 'maximize', got {value!r}{hint}."
        )

    @property
    def sign(self) -> float:
        """``1.0`` when minimising, ``-1.0`` when maximising: ``loss = sign * value``."""
        return 1.0 if self is Direction.MINIMIZE else -1.0

    @property
    def worst(self) -> float:
        """The value every real value beats: ``+inf`` when minimising, ``-inf`` when maximising."""
        return self.sign * math.inf

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b`` (a NaN neither beats nor is beaten)."""
        return self.to_loss(a) < self.to_loss(b)

    def best(self, a: float, b: float) -> float:
        """The better of ``a`` and ``b`` (``a`` on a tie)."""
        return b if self.better(b, a) else a

    def to_loss(self, value: float) -> float:
        """``value`` as a quantity to minimise: itself when minimising, negated when maximising."""
        return self.sign * value

    def from_loss(self, loss: float) -> float:
        """The inverse of ``to_loss``: a loss back in the metric's own direction."""
        return self.sign * loss

    @property
    def keras_mode(self) -> str:
        """The ``mode=`` Keras callbacks take for this direction (``"min"`` / ``"max"``)."""
        return "min" if self is Direction.MINIMIZE else "max"
