"""Objectives with wide flat levels on Branin's box (x1 in [-5, 10], x2 in [0, 15]), shared by
the tests of the GP's plateau and known-level rules and of ``auto``, which uses them."""

from __future__ import annotations

import hypersearch as hs


def wide_level(t: hs.Trial) -> float:
    """0.5 on the wide right part of the box (x1 > -1), a smooth bowl (best 0.3) left: a flat
    level *worse* than the best that keeps coming back."""
    x1, x2 = t.params["x1"], t.params["x2"]
    if x1 > -1.0:
        return 0.5
    return 0.3 + 4 * ((x1 + 5) / 15 - 0.1) ** 2 + 2 * (x2 / 15 - 0.5) ** 2


def stepped(t: hs.Trial) -> float:
    """0.25 wherever x1 > -2, a narrow better corner read to 0.01: a quantised objective whose
    best value is, for a while, a wide plateau."""
    x1, x2 = t.params["x1"], t.params["x2"]
    return 0.25 if x1 > -2.0 else round(min(1.0, (x2 / 15.0) * 0.5 + 0.2), 2)
