"""Coarse-to-fine search: narrow a space around the best trials and search again."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.space import Bool, Choice, Float, Int, Param, Space

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["zoom"]


def zoom(study: Study, *, top: int = 5, padding: float = 0.5, min_width: float = 0.05) -> Space:
    """A new space around the ``top`` best trials of ``study``.

    Each numeric range shrinks, on the parameter's own scale (log for a log-scale learning
    rate), to the span of the top trials widened by ``padding`` times that span on each side
    (at least ``min_width`` of the old range in total). Choices keep only the options the top
    trials used. Use the result in a follow-up study.

    >>> fine = hs.zoom(coarse_study, top=5)
    >>> hs.create_study("digits-fine", space=fine, ...)
    """
    if not 0 < min_width <= 1:
        raise InvalidArgumentError(f"zoom: 0 < min_width <= 1 must hold, got {min_width!r}.")
    if padding < 0:
        raise InvalidArgumentError(f"zoom: padding must be >= 0, got {padding!r}.")
    if not study.space:
        raise InvalidArgumentError(
            "zoom needs a study with a declared space (create_study(space=...))."
        )
    best = study.top(top)
    if not best:
        raise InvalidArgumentError(
            f"zoom: study {study.name!r} has no completed trial yet; run some trials first."
        )
    narrowed = {}
    for name, param in study.space.items():
        values = [t.params[name] for t in best if name in t.params]
        narrowed[name] = _narrow(param, values, padding, min_width)
    return Space(narrowed)


def _narrow(param: Param, values: Sequence[Any], padding: float, min_width: float) -> Param:
    if not values:
        return param
    if isinstance(param, Bool):
        return param if len({bool(v) for v in values}) > 1 else Choice((bool(values[0]),))
    if isinstance(param, Choice):
        used = {param.index(v) for v in values}
        return Choice(tuple(v for i, v in enumerate(param.values) if i in used))
    us = [param.encode(v) for v in values]
    lo, hi = min(us), max(us)
    span = hi - lo
    grow = max(span * padding, (min_width - span) / 2, 0.0)
    lo, hi = lo - grow, hi + grow
    if lo < 0.0:  # clipped at an edge: widen inwards so min_width still holds
        lo, hi = 0.0, min(1.0, max(hi, min_width))
    if hi > 1.0:
        lo, hi = max(0.0, min(lo, 1.0 - min_width)), 1.0
    if isinstance(param, Float):
        return _narrow_float(param, lo, hi)
    assert isinstance(param, Int)
    return _narrow_int(param, lo, hi)


def _narrow_float(param: Float, lo_u: float, hi_u: float) -> Float:
    low, high = param.decode(lo_u), param.decode(hi_u)
    if param.step is not None:
        k_lo = math.floor((low - param.low) / param.step + 1e-9)
        k_hi = math.ceil((high - param.low) / param.step - 1e-9)
        low = param.low + k_lo * param.step
        high = min(param.high, param.low + k_hi * param.step)
        return Float(float(f"{low:.12g}"), float(f"{high:.12g}"), step=param.step)
    return Float(low, high, scale=param.scale)


def _narrow_int(param: Int, lo_u: float, hi_u: float) -> Int:
    low, high = param.decode(lo_u), param.decode(hi_u)
    return Int(low, high, step=param.step, scale=param.scale)
