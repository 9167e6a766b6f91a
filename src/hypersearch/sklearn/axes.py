"""How ``SearchCV`` turns scikit-learn style grids into hypersearch parameters and back.

A grid value can be any picklable Python object (tuples, dicts, estimators, arrays, None,
repeated values). A study stores parameters as JSON, so each parameter becomes one *axis*:
values that are plain numbers, strings, booleans or None are stored as themselves; a parameter
with any other value is stored as a label per value, its ``repr`` (``"(50,)"``,
``"LogisticRegression(C=10)"``; suffixed ``" #i"``, i its index, when two reprs are equal),
and the values themselves stay with the search object. The labels make the stored study
readable in the CLI and dashboard, and one definition per name across every grid keeps it
consistent: resuming with other values is refused instead of mixing meanings.
"""

from __future__ import annotations

import math
import numbers
import pickle
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersearch.exceptions import InvalidArgumentError, InvalidSpaceError
from hypersearch.space import Choice, Float, Int, Param

__all__ = ["Axis", "ParamDistribution", "build_axes", "check_grids", "is_distribution"]

_NOT_STORABLE = object()


def storable(value: Any) -> Any:
    """``value`` as a JSON scalar a study can store, or ``_NOT_STORABLE``."""
    if value is None or isinstance(value, bool | str):
        return str(value) if isinstance(value, str) else value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float | np.floating) and math.isfinite(float(value)):
        return float(value)
    return _NOT_STORABLE


def is_distribution(value: Any) -> bool:
    """A scipy.stats-like distribution: anything with ``rvs`` (as RandomizedSearchCV)."""
    return hasattr(value, "rvs") and not isinstance(value, Param)


def _same(a: Any, b: Any) -> bool:
    """Identity, or equality of two values of the same type that compare to one bool."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # arrays, objects with odd __eq__: distinct
        return False


class ParamDistribution:
    """An ``hs.Float`` / ``hs.Int`` seen by scikit-learn's ``ParameterSampler``: one uniform
    draw on the parameter's own scale per ``rvs`` call."""

    def __init__(self, param: Param) -> None:
        self.param = param

    def rvs(self, random_state: Any = None) -> Any:
        from sklearn.utils import check_random_state

        return self.param.decode(float(check_random_state(random_state).uniform()))


class Axis:
    """One parameter name across all grids: its values and how the study stores them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: list[Any] = []  # distinct values, first seen first
        self.param: Param | None = None  # an hs.Param the user gave (stored as is)
        self.distributions: list[Any] = []
        self.definition: Param | None = None  # what the study stores
        self.labels: list[str] | None = None  # stored labels of non-JSON values

    def add(self, entry: Any) -> None:
        if isinstance(entry, Param):
            if self.param is not None and self.param != entry:
                raise InvalidArgumentError(
                    f"SearchCV: parameter {self.name!r} has two different domains "
                    f"({self.param!r} and {entry!r}) in the list of grids; give it one."
                )
            self.param = entry
        elif is_distribution(entry):
            self.distributions.append(entry)
        else:
            for v in entry:
                self.add_value(v)
        if self.param is not None and (self.values or self.distributions):
            raise InvalidArgumentError(
                f"SearchCV: parameter {self.name!r} is an {self.param!r} in one grid and a "
                "list or distribution in another; use one kind for it in every grid."
            )

    def add_value(self, value: Any) -> None:
        if not any(_same(value, v) for v in self.values):
            self.values.append(value)

    def finish(self) -> None:
        """Choose the stored definition once every value is known."""
        if self.param is not None:
            self.definition = self.param
            return
        if self.distributions:
            self.definition = self._numeric_range()
            if self.definition is not None:
                return
        stored = [storable(v) for v in self.values]
        if self.values and all(s is not _NOT_STORABLE for s in stored):
            try:
                self.definition = Choice(tuple(_distinct(stored)))
                return
            except InvalidSpaceError:
                pass
        for v in self.values:
            _check_picklable(self.name, v)
        self.labels = _labels(self.values)
        self.definition = Choice(tuple(self.labels))

    def _numeric_range(self) -> Param | None:
        """Int/Float bounds for values drawn from distributions (their support, widened to
        every value drawn), or None when a value is not a real number."""
        if not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in self.values
        ):
            return None
        lows, highs, discrete = [], [], True
        for d in self.distributions:
            discrete = discrete and hasattr(d, "pmf")
            try:
                lo, hi = (float(b) for b in d.support())
                if not math.isfinite(lo):
                    lo = float(d.ppf(1e-12))
                if not math.isfinite(hi):
                    hi = float(d.ppf(1 - 1e-12))
            except Exception:  # not a scipy distribution: the values drawn set the range
                continue
            lows.append(lo)
            highs.append(hi)
        drawn = [float(v) for v in self.values]
        discrete = discrete and all(float(v).is_integer() for v in drawn)
        lo, hi = min(lows + drawn, default=0.0), max(highs + drawn, default=1.0)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        if discrete:
            return Int(math.floor(lo), math.ceil(hi))
        return Float(lo, hi)

    def store(self, value: Any) -> Any:
        """The stored form of one of this axis' values."""
        assert self.definition is not None
        if self.labels is not None:
            for i, v in enumerate(self.values):
                if _same(value, v):
                    return self.labels[i]
            raise InvalidArgumentError(f"SearchCV: {value!r} is not a value of {self.name!r}.")
        s = storable(value)
        if isinstance(self.definition, Float | Int):
            s = min(max(s, self.definition.low), self.definition.high)  # a 1e-12 tail draw
        return self.definition.validate(s, self.name)

    def load(self, stored: Any) -> Any:
        """The value a stored form stands for."""
        if self.labels is not None:
            return self.values[self.labels.index(stored)]
        if self.param is None and self.values and not self.distributions:
            wanted = storable(stored)
            for v in self.values:
                s = storable(v)
                if s is not _NOT_STORABLE and _stored_equal(s, wanted):
                    return v
        return stored


def _labels(values: Sequence[Any]) -> list[str]:
    """One readable, stable label per value: its repr without memory addresses, shortened;
    equal labels get their index appended."""
    raw = [re.sub(r" at 0x[0-9a-fA-F]+", "", repr(v)) for v in values]
    raw = [r if len(r) <= 120 else r[:117] + "..." for r in raw]
    counts = {r: raw.count(r) for r in raw}
    return [r if counts[r] == 1 else f"{r} #{i}" for i, r in enumerate(raw)]


def _stored_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _distinct(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if not any(_stored_equal(v, w) for w in out):
            out.append(v)
    return out


def _check_picklable(name: str, value: Any) -> None:
    try:
        pickle.dumps(value)
    except Exception as exc:
        raise InvalidArgumentError(
            f"SearchCV: a value of parameter {name!r} cannot be pickled ({value!r}: "
            f"{type(exc).__name__}: {exc}). Grid values must be picklable so the search can "
            "be saved and run in worker processes: use a module-level function or class "
            "instead of a lambda or local object, and no open files or connections."
        ) from exc


def check_grids(space: Any, owner: str, label: str = "space") -> list[dict[str, Any]]:
    """``space`` (one dict or a list of dicts) as a list of dicts, with a clear error otherwise."""
    grids = [space] if isinstance(space, Mapping) else space
    if not isinstance(grids, Sequence) or isinstance(grids, str | bytes):
        raise TypeError(
            f"{owner}: {label} must be a dict (or a list of dicts) of parameter name -> "
            f"values, got: {space!r} of type {type(space).__name__}."
        )
    out = []
    for g in grids:
        if not isinstance(g, Mapping):
            raise TypeError(
                f"{owner}: each grid in the {label} list must be a dict of parameter name -> "
                f"values; one is not a dict ({g!r})."
            )
        out.append(dict(g))
    return out


def build_axes(
    grids: Sequence[Mapping[str, Any]], candidates: Sequence[Mapping[str, Any]] | None
) -> dict[str, Axis]:
    """One axis per parameter name; the candidates' values (drawn from distributions) too."""
    axes: dict[str, Axis] = {}
    for grid in grids:
        for name, entry in grid.items():
            axes.setdefault(name, Axis(name)).add(_as_entry(entry))
    for cand in candidates or ():
        for name, value in cand.items():
            ax = axes[name]
            if ax.distributions:
                ax.add_value(value)
    for ax in axes.values():
        ax.finish()
    return axes


def _as_entry(entry: Any) -> Any:
    if isinstance(entry, Param) or is_distribution(entry):
        return entry
    if isinstance(entry, np.ndarray):
        return list(entry)
    return list(entry)
