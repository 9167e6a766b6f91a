"""Search spaces in the practitioner's language, and their exact encoding to the unit cube.

Every sampler works in ``[0, 1]^d``; each parameter type maps its values there and back.
Continuous values map linearly on their scale (linear, log, or log of ``1 - x``); discrete
values (integers, stepped floats, powers of two, choices) map to the centre of their cell, so
``decode(encode(v)) == v`` holds exactly for every valid ``v``.

>>> lr = Float(1e-5, 1e-1, log=True)
>>> lr.decode(lr.encode(3e-4)) == pytest.approx(3e-4)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hypersearch.exceptions import InvalidSpaceError

__all__ = ["Bool", "Choice", "Float", "Int", "Param", "Space", "param_from_dict"]

ChoiceValue = str | int | float | bool | None
_FLOAT_SCALES = ("linear", "log", "log1m")
_INT_SCALES = ("linear", "log", "pow2")
_MAX_GRID = 100_000


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _resolve_scale(kind: str, log: bool, scale: str | None, allowed: tuple[str, ...]) -> str:
    if scale is None:
        return "log" if log else "linear"
    if scale not in allowed:
        hint = " For powers of two use Int(..., scale='pow2')." if scale == "pow2" else ""
        raise InvalidSpaceError(
            f"{kind}: scale must be one of {', '.join(map(repr, allowed))}, got {scale!r}.{hint}"
        )
    if log and scale != "log":
        raise InvalidSpaceError(f"{kind}: log=True conflicts with scale={scale!r}; pass only one.")
    return scale


def _cell_centre(index: int, count: int) -> float:
    return (index + 0.5) / count


def _cell_index(u: float, count: int) -> int:
    return min(max(int(math.floor(_clip01(u) * count)), 0), count - 1)


def _clip01(u: float) -> float:
    if math.isnan(u):
        raise InvalidSpaceError("Cannot decode NaN: unit-cube coordinates must be in [0, 1].")
    return min(max(float(u), 0.0), 1.0)


class Param(ABC):
    """One hyperparameter's domain: validation, unit-cube encoding, grids and serialisation."""

    kind: ClassVar[str]

    @abstractmethod
    def encode(self, value: Any) -> float:
        """Map a valid value to ``[0, 1]``."""

    @abstractmethod
    def decode(self, u: float) -> Any:
        """Map a unit-cube coordinate (clipped to ``[0, 1]``) back to a value."""

    @abstractmethod
    def validate(self, value: Any, name: str = "parameter") -> Any:
        """Return ``value`` in canonical form, or raise ``InvalidSpaceError`` saying why."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description that ``param_from_dict`` turns back into an equal object."""

    @property
    @abstractmethod
    def cardinality(self) -> int | None:
        """How many distinct values there are, or ``None`` for a continuum."""

    def grid(self, n_points: int | None = None) -> list[Any]:
        """Grid values: every value of a small discrete domain, else ``n_points`` evenly spaced
        on the parameter's own scale (log-aware)."""
        count = self.cardinality
        if count is not None and (n_points is None or count <= n_points):
            if count > _MAX_GRID:
                raise InvalidSpaceError(
                    f"{self!r} has {count} values; pass a number of grid points per axis."
                )
            return [self.decode(_cell_centre(i, count)) for i in range(count)]
        if n_points is None:
            raise InvalidSpaceError(
                f"{self!r} is continuous: a grid needs a number of points for it, e.g. "
                "GridSampler(n_points=5) or GridSampler(n_points={'lr': 7})."
            )
        if n_points < 1:
            raise InvalidSpaceError(f"A grid needs at least 1 point per axis, got {n_points}.")
        if n_points == 1:
            return [self.decode(0.5)]
        values: list[Any] = []
        for u in np.linspace(0.0, 1.0, n_points):
            v = self.decode(float(u))
            if not values or v != values[-1]:
                values.append(v)
        return values

    @property
    def is_numeric(self) -> bool:
        return True


def _check_bounds(kind: str, low: object, high: object) -> tuple[float, float]:
    for label, v in (("low", low), ("high", high)):
        if not _is_real(v):
            raise InvalidSpaceError(f"{kind}: {label} must be a number, got {v!r}.")
        if not math.isfinite(float(v)):  # type: ignore[arg-type]
            raise InvalidSpaceError(f"{kind}: {label} must be finite, got {v!r}.")
    lo, hi = float(low), float(high)  # type: ignore[arg-type]
    if lo > hi:
        raise InvalidSpaceError(
            f"{kind}: low <= high must hold, got low={low!r}, high={high!r}. Swap them."
        )
    return lo, hi


@dataclass(frozen=True)
class Float(Param):
    """A real-valued parameter.

    ``log=True`` (or ``scale="log"``) samples uniformly in log space, for learning rates and
    weight decay; ``scale="log1m"`` samples ``1 - x`` log-uniformly, for momentum, Adam's β
    and decay rates close to 1; ``step`` restricts values to ``low + k * step``.

    >>> Float(1e-5, 1e-1, log=True); Float(0.5, 0.999, scale="log1m"); Float(0, 0.5, step=0.1)
    """

    low: float
    high: float
    log: bool = False
    step: float | None = None
    scale: str | None = None
    kind: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        lo, hi = _check_bounds("Float", self.low, self.high)
        scale = _resolve_scale("Float", bool(self.log), self.scale, _FLOAT_SCALES)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "log", scale == "log")
        if scale == "log" and lo <= 0:
            raise InvalidSpaceError(
                f"Float: a log scale needs low > 0, got low={lo!r}. Use a small positive low "
                "such as 1e-8, or scale='linear'."
            )
        if scale == "log1m" and hi >= 1:
            raise InvalidSpaceError(
                f"Float: scale='log1m' samples 1 - x on a log scale and needs high < 1, got "
                f"high={hi!r}. Use e.g. high=0.999."
            )
        if self.step is not None:
            if not _is_real(self.step) or not float(self.step) > 0:
                raise InvalidSpaceError(
                    f"Float: step must be a positive number, got {self.step!r}."
                )
            if scale != "linear":
                raise InvalidSpaceError(
                    f"Float: step works only on a linear scale, not with scale={scale!r}."
                )
            step = float(self.step)
            n = (hi - lo) / step
            if abs(n - round(n)) > 1e-9 * max(1.0, n):
                fixed = float(f"{lo + math.floor(n) * step:.12g}")
                raise InvalidSpaceError(
                    f"Float: step={step!r} does not divide the range [{lo!r}, {hi!r}]; "
                    f"use high={fixed!r} or a step that divides {hi - lo!r}."
                )
            object.__setattr__(self, "step", step)

    @property
    def cardinality(self) -> int | None:
        if self.step is not None:
            return int(round((self.high - self.low) / self.step)) + 1
        return 1 if self.low == self.high else None

    def _forward(self, v: float) -> float:
        if self.scale == "log":
            return math.log(v)
        if self.scale == "log1m":
            return -math.log1p(-v)
        return v

    def _inverse(self, t: float) -> float:
        if self.scale == "log":
            return math.exp(t)
        if self.scale == "log1m":
            return -math.expm1(-t)
        return t

    def encode(self, value: Any) -> float:
        v = self.validate(value)
        count = self.cardinality
        if count is not None:
            k = 0 if self.step is None else int(round((v - self.low) / self.step))
            return _cell_centre(k, count)
        a, b = self._forward(self.low), self._forward(self.high)
        return min(max((self._forward(v) - a) / (b - a), 0.0), 1.0)

    def decode(self, u: float) -> float:
        count = self.cardinality
        if count is not None:
            _clip01(u)  # rejects NaN even when there is a single value
            if self.step is None:
                return self.low
            return self._grid_value(_cell_index(u, count))
        a, b = self._forward(self.low), self._forward(self.high)
        v = self._inverse(a + _clip01(u) * (b - a))
        if self.scale != "linear":
            v = float(f"{v:.15g}")  # exp(log(1e-4)) -> 1e-4, not 0.00010000000000000009
        return min(max(v, self.low), self.high)

    def _grid_value(self, k: int) -> float:
        """``low + k * step``, snapped and in bounds; the ends are exactly ``low`` and ``high``."""
        if k <= 0 or self.step is None:
            return self.low
        if k >= (self.cardinality or 1) - 1:
            return self.high
        return min(self.high, max(self.low, self._snap(self.low + k * self.step)))

    @staticmethod
    def _snap(v: float) -> float:
        return float(f"{v:.12g}")  # 0.1 + 2 * 0.1 -> 0.3, not 0.30000000000000004

    def validate(self, value: Any, name: str = "parameter") -> float:
        if not _is_real(value):
            raise InvalidSpaceError(f"{name}: expected a number for {self!r}, got {value!r}.")
        v = float(value)
        if not math.isfinite(v):
            raise InvalidSpaceError(f"{name}: value must be finite, got {value!r}.")
        tol = 1e-12 * max(1.0, abs(self.low), abs(self.high))
        if not self.low - tol <= v <= self.high + tol:
            raise InvalidSpaceError(
                f"{name}: {v!r} is outside [{self.low!r}, {self.high!r}] of {self!r}."
            )
        v = min(max(v, self.low), self.high)
        if self.step is not None:
            k = (v - self.low) / self.step
            if abs(k - round(k)) > 1e-6:
                raise InvalidSpaceError(
                    f"{name}: {v!r} is not on the grid low + k * step of {self!r}."
                )
            v = self._grid_value(round(k))
        return v

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "float",
            "low": self.low,
            "high": self.high,
            "scale": self.scale,
            "step": self.step,
        }

    def __repr__(self) -> str:
        extra = "" if self.scale == "linear" else f", scale={self.scale!r}"
        extra += "" if self.step is None else f", step={self.step!r}"
        return f"Float({self.low!r}, {self.high!r}{extra})"


@dataclass(frozen=True)
class Int(Param):
    """An integer parameter: ``step`` for multiples (units 32..512 in steps of 32), ``log=True``
    for counts spanning orders of magnitude, ``scale="pow2"`` for batch sizes 8, 16, ..., 256.

    >>> Int(32, 512, step=32); Int(8, 256, scale="pow2"); Int(1, 1000, log=True)
    """

    low: int
    high: int
    step: int = 1
    log: bool = False
    scale: str | None = None
    kind: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        for label, v in (("low", self.low), ("high", self.high), ("step", self.step)):
            if not _is_real(v) or not math.isfinite(float(v)) or float(v) != int(v):
                raise InvalidSpaceError(f"Int: {label} must be an integer, got {v!r}.")
        lo, hi, step = int(self.low), int(self.high), int(self.step)
        if lo > hi:
            raise InvalidSpaceError(
                f"Int: low <= high must hold, got low={lo!r}, high={hi!r}. Swap them."
            )
        if step < 1:
            raise InvalidSpaceError(f"Int: step must be >= 1, got {step!r}.")
        scale = _resolve_scale("Int", bool(self.log), self.scale, _INT_SCALES)
        if scale == "log" and lo < 1:
            raise InvalidSpaceError(f"Int: a log scale needs low >= 1, got low={lo!r}.")
        if scale != "linear" and step != 1:
            raise InvalidSpaceError(
                f"Int: step works only on a linear scale, not scale={scale!r}."
            )
        if scale == "pow2":
            for label, v in (("low", lo), ("high", hi)):
                if v < 1 or v & (v - 1):
                    raise InvalidSpaceError(
                        f"Int: scale='pow2' needs low and high to be powers of two, got "
                        f"{label}={v!r}. Nearest: {2 ** max(0, round(math.log2(max(v, 1))))}."
                    )
        if (hi - lo) % step:
            fixed = lo + (hi - lo) // step * step
            raise InvalidSpaceError(
                f"Int: step={step} does not divide the range [{lo}, {hi}]; use high={fixed} "
                f"or high={fixed + step}."
            )
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "log", scale == "log")

    @property
    def cardinality(self) -> int:
        if self.scale == "pow2":
            return int(math.log2(self.high)) - int(math.log2(self.low)) + 1
        return (self.high - self.low) // self.step + 1

    def encode(self, value: Any) -> float:
        v = self.validate(value)
        if self.scale == "pow2":
            return _cell_centre(int(math.log2(v)) - int(math.log2(self.low)), self.cardinality)
        if self.scale == "log":
            a, b = math.log(self.low - 0.5), math.log(self.high + 0.5)
            return (math.log(v) - a) / (b - a)
        return _cell_centre((v - self.low) // self.step, self.cardinality)

    def decode(self, u: float) -> int:
        if self.scale == "pow2":
            return int(self.low * 2 ** _cell_index(u, self.cardinality))
        if self.scale == "log":
            a, b = math.log(self.low - 0.5), math.log(self.high + 0.5)
            return min(max(int(round(math.exp(a + _clip01(u) * (b - a)))), self.low), self.high)
        return self.low + _cell_index(u, self.cardinality) * self.step

    def grid(self, n_points: int | None = None) -> list[Any]:
        count = self.cardinality
        if self.scale == "log" and count <= _MAX_GRID and (n_points is None or count <= n_points):
            return list(range(self.low, self.high + 1))  # log cells are not equal-width in u
        return super().grid(n_points)

    def validate(self, value: Any, name: str = "parameter") -> int:
        if not _is_real(value) or not math.isfinite(float(value)) or float(value) != int(value):
            raise InvalidSpaceError(f"{name}: expected an integer for {self!r}, got {value!r}.")
        v = int(value)
        if not self.low <= v <= self.high:
            raise InvalidSpaceError(f"{name}: {v!r} is outside [{self.low}, {self.high}].")
        if self.scale == "pow2" and v & (v - 1):
            raise InvalidSpaceError(f"{name}: {v!r} is not a power of two ({self!r}).")
        if (v - self.low) % self.step:
            raise InvalidSpaceError(f"{name}: {v!r} is not low + k * step of {self!r}.")
        return v

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "int",
            "low": self.low,
            "high": self.high,
            "step": self.step,
            "scale": self.scale,
        }

    def __repr__(self) -> str:
        extra = "" if self.scale == "linear" else f", scale={self.scale!r}"
        extra += "" if self.step == 1 else f", step={self.step}"
        return f"Int({self.low}, {self.high}{extra})"


def _same_value(a: object, b: object) -> bool:
    """Equality that keeps True apart from 1 and 1.0 apart from '1'."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_real(a) and _is_real(b):
        return float(a) == float(b)  # type: ignore[arg-type]
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Choice(Param):
    """One of a fixed list of values (strings, numbers, booleans or None), unordered.

    >>> Choice(["sgd", "adam", "adamw"])
    """

    values: Sequence[ChoiceValue] = field(default=())
    kind: ClassVar[str] = "choice"

    def __post_init__(self) -> None:
        raw = self.values
        if isinstance(raw, str | bytes) or not isinstance(raw, Sequence | tuple | list):
            raise InvalidSpaceError(
                f"Choice: values must be a list such as ['sgd', 'adam'], got {raw!r}."
            )
        values = tuple(raw)
        if not values:
            raise InvalidSpaceError("Choice: values must not be empty; give at least one option.")
        for v in values:
            if v is not None and not isinstance(v, str | bool | int | float):
                raise InvalidSpaceError(
                    f"Choice: each value must be a str, number, bool or None (so it can be "
                    f"stored), got {v!r} of type {type(v).__name__}. Choose a name and map it "
                    "to the object inside your objective (hypersearch.sklearn's searchers take "
                    "a plain list of any picklable values instead of hs.Choice)."
                )
            if isinstance(v, float) and not math.isfinite(v):
                raise InvalidSpaceError(f"Choice: values must be finite, got {v!r}.")
        for i, v in enumerate(values):
            if any(_same_value(v, w) for w in values[:i]):
                raise InvalidSpaceError(f"Choice: value {v!r} appears more than once.")
        object.__setattr__(self, "values", values)

    @property
    def cardinality(self) -> int:
        return len(self.values)

    @property
    def is_numeric(self) -> bool:
        return False

    def index(self, value: Any) -> int:
        for i, v in enumerate(self.values):
            if _same_value(v, value):
                return i
        raise InvalidSpaceError(f"{value!r} is not one of {list(self.values)!r}.")

    def encode(self, value: Any) -> float:
        return _cell_centre(self.index(value), self.cardinality)

    def decode(self, u: float) -> ChoiceValue:
        return self.values[_cell_index(u, self.cardinality)]

    def validate(self, value: Any, name: str = "parameter") -> ChoiceValue:
        for v in self.values:
            if _same_value(v, value):
                return v
        raise InvalidSpaceError(f"{name}: {value!r} is not one of {list(self.values)!r}.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Choice) or type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[tuple[bool, ChoiceValue], ...]:
        # Tuples compare True == 1; tag bools so the equality matches ``_same_value``.
        return tuple((isinstance(v, bool), v) for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "choice", "values": list(self.values)}

    def __repr__(self) -> str:
        return f"Choice({list(self.values)!r})"


@dataclass(frozen=True)
class Bool(Choice):
    """A switch: ``False`` or ``True``."""

    values: Sequence[ChoiceValue] = field(default=(False, True), init=False)
    kind: ClassVar[str] = "bool"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "bool"}

    def __repr__(self) -> str:
        return "Bool()"


def param_from_dict(data: Mapping[str, Any]) -> Param:
    """Rebuild a parameter from ``Param.to_dict()`` output (e.g. read back from storage)."""
    kind = data.get("type")
    if kind == "float":
        return Float(data["low"], data["high"], scale=data.get("scale"), step=data.get("step"))
    if kind == "int":
        return Int(data["low"], data["high"], step=data.get("step", 1), scale=data.get("scale"))
    if kind == "choice":
        return Choice(tuple(data["values"]))
    if kind == "bool":
        return Bool()
    raise InvalidSpaceError(f"Unknown parameter type {kind!r} in a stored space: {dict(data)!r}.")


class Space(Mapping[str, Param]):
    """An ordered, validated mapping of parameter names to parameter types.

    >>> space = Space({"lr": Float(1e-5, 1e-1, log=True), "optimizer": Choice(["sgd", "adam"])})
    """

    def __init__(self, params: Mapping[str, Param] | None = None) -> None:
        if params is None:
            params = {}
        if isinstance(params, Space):
            params = dict(params.items())
        if not isinstance(params, Mapping):
            raise InvalidSpaceError(
                f"A space is a dict of name -> parameter, e.g. {{'lr': hs.Float(1e-5, 1e-1, "
                f"log=True)}}; got {type(params).__name__}."
            )
        checked: dict[str, Param] = {}
        for name, p in params.items():
            if not isinstance(name, str) or not name:
                raise InvalidSpaceError(
                    f"Parameter names must be non-empty strings, got {name!r}."
                )
            if not isinstance(p, Param):
                hint = ""
                if isinstance(p, list | tuple):
                    hint = f" For a list of options use hs.Choice({list(p)!r})."
                raise InvalidSpaceError(
                    f"Parameter {name!r} must be hs.Float, hs.Int, hs.Choice or hs.Bool, got "
                    f"{p!r}.{hint}"
                )
            checked[name] = p
        self._params = checked

    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"Space({self._params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Space):
            return list(self._params.items()) == list(other._params.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._params.items()))

    def validate(self, params: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Check a full (or, with ``partial``, a subset of a) parameter assignment."""
        unknown = [k for k in params if k not in self._params]
        if unknown:
            raise InvalidSpaceError(
                f"Unknown parameter(s) {unknown!r}; the space has {list(self._params)!r}."
            )
        missing = [k for k in self._params if k not in params]
        if missing and not partial:
            raise InvalidSpaceError(f"Missing value(s) for {missing!r}.")
        return {k: self._params[k].validate(v, k) for k, v in params.items()}

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """A full assignment as a point of the unit cube, in the space's order."""
        return np.array([p.encode(params[k]) for k, p in self._params.items()], dtype=float)

    def decode(self, u: Sequence[float] | np.ndarray) -> dict[str, Any]:
        if len(u) != len(self._params):
            raise InvalidSpaceError(f"Expected {len(self._params)} coordinates, got {len(u)}.")
        return {k: p.decode(float(x)) for (k, p), x in zip(self._params.items(), u, strict=True)}

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {k: p.to_dict() for k, p in self._params.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> Space:
        return cls({k: param_from_dict(v) for k, v in data.items()})

    def diff(self, other: Space) -> list[str]:
        """Human-readable differences between two spaces (empty when equal)."""
        lines = []
        for k in self._params.keys() | other._params.keys():
            a, b = self._params.get(k), other._params.get(k)
            if a != b:
                lines.append(f"{k}: {a!r} -> {b!r}")
        return sorted(lines)
