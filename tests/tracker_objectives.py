"""An objective for the tracker tests: top-level, so worker processes can import it."""

from __future__ import annotations

from typing import Any


def curve(trial: Any) -> float:
    """Reports a three-step learning curve; x > 0.9 fails, so every state is logged."""
    x = float(trial.params["x"])
    if x > 0.9:
        raise ValueError("x too large")
    for step in (1, 2, 3):
        trial.report(x / step, step=step)
    trial.set_note(f"x={x:.3f}")
    return x / 3
