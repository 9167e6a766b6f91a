"""The rules every chart follows, wherever it is drawn: axes, ticks, colours, outliers, numbers.

Axis kinds and ranges, tick positions and labels, the quantile-clipped colour scale, the robust
clamp of outlying values and the way numbers are written live here and only here;
``hypersearch.plot.specs`` builds each chart's specification with them, the dashboard's
``charts.js`` renders those specifications as they are and ``hypersearch.plot`` turns them
into Plotly figures. No plotly and no web stack are needed to import this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.trial import TrialRecord, TrialState

if TYPE_CHECKING:
    from hypersearch.dashboard.analysis import Basis
    from hypersearch.study import Study

__all__ = [
    "VIRIDIS",
    "Axis",
    "ColorRange",
    "Compared",
    "axis_for",
    "color_range",
    "compared_values",
    "format_number",
    "param_definitions",
    "robust_range",
]

INSTALL_HINT = 'pip install "hypersearch[plot]"'
NO_VALUE = "#9aa4b1"  # the colour of a trial without a finite value
SAMPLE = 5_000  # the dashboard's IMPORTANCE_SAMPLE (dashboard/app.py): trials compared at most
# viridis in ten bands, dark (worse) to yellow (better)
VIRIDIS = (
    "#440154", "#482878", "#3e4a89", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)  # fmt: skip


@contextmanager
def needs_extra(what: str) -> Iterator[None]:
    """Turn a missing optional package into an error that names the extra to install."""
    try:
        yield
    except ImportError as exc:
        missing = exc.name or "a package"
        raise ImportError(
            f"{what} needs {missing}, which is not installed: {INSTALL_HINT}"
        ) from exc


def check_study(study: Any, function: str) -> None:
    from hypersearch.study import Study

    if not isinstance(study, Study):
        raise TypeError(
            f"{function}() takes a hypersearch Study (hs.create_study or hs.load_study), "
            f"got {type(study).__name__}."
        )


# -- numbers as the dashboard writes them -----------------------------------------------------
def format_number(v: Any) -> str:
    """A number as every chart writes it: integers whole, 4 significant digits, exponents
    beyond 1e5 and below 1e-3 (the dashboard's table writes numbers the same way)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    x = float(v)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    a = abs(x)
    if x.is_integer() and a < 1e6:
        return str(int(x))
    if a >= 1e5 or a < 1e-3:
        mantissa, exponent = f"{x:.2e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    rounded = float(f"{x:.4g}")
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)


def label(v: Any) -> str | None:
    """A category's label (booleans spelled as JSON spells them)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return format_number(v)
    return str(v)


def finite(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


# -- parameters and their axes ----------------------------------------------------------------
def param_definitions(study: Study, trials: Sequence[TrialRecord]) -> dict[str, dict[str, Any]]:
    """Every parameter's definition: the study's space, then define-by-run parameters as the
    latest trials declared them (as ``DashboardData.param_definitions`` reads them)."""
    declared = {name: param.to_dict() for name, param in study.space.items()}
    found: dict[str, dict[str, Any]] = {}
    for trial in reversed(trials):
        for name, param in trial.distributions.items():
            if name not in found:
                found[name] = param.to_dict()
    return {**declared, **{k: found[k] for k in sorted(found) if k not in declared}}


# transformed coordinate, inverse, and the values it accepts
_TRANSFORMS: dict[str, tuple[Any, Any, Any]] = {
    "linear": (lambda v: v, lambda t: t, lambda v: True),
    "log": (math.log10, lambda t: 10.0**t, lambda v: v > 0),
    "pow2": (math.log2, lambda t: 2.0**t, lambda v: v > 0),
    "log1m": (lambda v: -math.log10(1 - v), lambda t: 1 - 10.0 ** (-t), lambda v: v < 1),
}


@dataclass(frozen=True)
class Axis:
    """One parameter's axis: its kind (linear, log, pow2, log1m or category), the plotted
    values (numbers, or category labels), and its range in transformed units."""

    name: str
    kind: str
    values: tuple[Any, ...]
    categories: tuple[str, ...] = ()
    t0: float = 0.0
    t1: float = 1.0
    integer: bool = False

    def transform(self, v: Any) -> float | None:
        """A value's position in the axis' own coordinate (log10, log2, ..., or category index)."""
        if self.kind == "category":
            return float(self.categories.index(v)) if v in self.categories else None
        f, _, ok = _TRANSFORMS[self.kind]
        x = finite(v)
        return float(f(x)) if x is not None and ok(x) else None

    def fraction(self, v: Any) -> float | None:
        """Where a value sits across the axis, 0 to 1 (the contour smooths in these units)."""
        if self.kind == "category":
            t = self.transform(v)
            return None if t is None else (t + 0.5) / max(1, len(self.categories))
        t = self.transform(v)
        return None if t is None else (t - self.t0) / (self.t1 - self.t0)

    def inverse(self, t: float) -> float:
        return float(_TRANSFORMS[self.kind][1](t))

    def ticks(self, count: int = 5) -> list[tuple[float, str]]:
        """``(position in transformed units, label in the parameter's units)``: powers of ten
        (1, 2, 3, 5 per decade on short log axes), powers of two, 0.9/0.99/... on log1m axes,
        round steps on linear ones; whole numbers only on integer axes."""
        if self.kind == "category":
            return [(float(i), c) for i, c in enumerate(self.categories)]
        return [(t, format_number(v)) for t, v in _transform_ticks(self, count)]


def axis_kind(definition: Mapping[str, Any] | None, column: Sequence[Any]) -> str:
    """A parameter's axis kind: from its definition, else numbers on a linear axis."""
    if definition:
        if definition.get("type") in ("choice", "bool"):
            return "category"
        scale = definition.get("scale")
        return scale if scale in ("log", "pow2", "log1m") else "linear"
    numeric = all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in column
    )
    return "linear" if numeric else "category"


def axis_for(name: str, definition: Mapping[str, Any] | None, column: Sequence[Any]) -> Axis:
    """The axis of one parameter over the given values: the declared range widened to any value
    beyond it, padded 4%; categories in their declared order, then new ones as they come."""
    kind = axis_kind(definition, column)
    if kind == "category":
        labels = [label(v) for v in column]
        if definition and definition.get("values") is not None:
            cats = [label(v) for v in definition["values"]]
        elif definition and definition.get("type") == "bool":
            cats = ["false", "true"]
        else:
            cats = []
        cats_s = [c for c in cats if c is not None]
        for lab in labels:
            if lab is not None and lab not in cats_s:
                cats_s.append(lab)
        if not definition:
            cats_s.sort()
        return Axis(name, kind, tuple(labels), tuple(cats_s), -0.5, len(cats_s) - 0.5)
    values = tuple(finite(v) for v in column)
    f, _, ok = _TRANSFORMS[kind]
    ts = [f(v) for v in values if v is not None and ok(v)]
    lo, hi = (min(ts), max(ts)) if ts else (0.0, 1.0)
    t0, t1 = lo, hi
    if definition:
        low, high = finite(definition.get("low")), finite(definition.get("high"))
        if low is not None and high is not None and high > low and ok(low) and ok(high):
            t0, t1 = min(f(low), lo), max(f(high), hi)
    if t1 - t0 < 1e-12:
        d = max(abs(t0) * 0.1, 0.5) if kind == "linear" else 0.5
        t0, t1 = t0 - d, t1 + d
    pad = (t1 - t0) * 0.04
    integer = bool(definition) and definition.get("type") == "int"  # type: ignore[union-attr]
    return Axis(name, kind, values, (), t0 - pad, t1 + pad, integer)


def value_axis(name: str, values: Sequence[float | None], *, integer: bool = False) -> Axis:
    """A linear axis over plotted numbers (trial numbers, steps, objective values), padded 4%."""
    axis = axis_for(name, None, [finite(v) for v in values])
    return Axis(name, "linear", axis.values, (), axis.t0, axis.t1, integer)


def _nice_step(span: float, count: int) -> float:
    raw = span / max(1, count)
    mag = 10.0 ** math.floor(math.log10(raw))
    r = raw / mag
    return mag * (1 if r <= 1.5 else 2 if r <= 3.5 else 5 if r <= 7.5 else 10)


def linear_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) from ``lo`` to ``hi``."""
    if not hi > lo:
        return [lo]
    step = _nice_step(hi - lo, count)
    out: list[float] = []
    k = math.ceil(lo / step - 1e-9)
    while k * step <= hi + step * 1e-9:
        v = k * step
        out.append(0.0 if abs(v) < step * 1e-9 else float(f"{v:.12g}"))
        k += 1
    return out


def _transform_ticks(axis: Axis, count: int) -> list[tuple[float, float]]:
    f, inv, ok = _TRANSFORMS[axis.kind]
    t0, t1 = axis.t0, axis.t1
    out: list[float] = []
    if axis.kind == "linear":
        out = linear_ticks(t0, t1, count)
    elif axis.kind == "pow2":
        out = [2.0**k for k in range(math.ceil(t0 - 1e-9), math.floor(t1 + 1e-9) + 1)]
    elif axis.kind == "log1m":
        k0, k1 = math.ceil(t0 - 1e-9), math.floor(t1 + 1e-9)
        out = [float(f"{1 - 10.0 ** (-k):.8g}") for k in range(k0, k1 + 1)]
    elif axis.kind == "log":
        decades = t1 - t0
        mults = [1, 2, 3, 5] if decades <= 1.2 else [1, 3] if decades <= 2.5 else [1]
        every = max(1, math.ceil(decades / count))
        for k in range(math.floor(t0), math.ceil(t1) + 1):
            if len(mults) == 1 and k % every:
                continue
            for m in mults:
                v = float(f"{m * 10.0**k:.6g}")
                if t0 - 1e-9 <= f(v) <= t1 + 1e-9:
                    out.append(v)
    if len(out) < 2:  # a narrow range: round values in the parameter's units
        out = [v for v in linear_ticks(inv(t0), inv(t1), count) if ok(v)]
    if axis.integer:
        out = [v for v in out if float(v).is_integer()]
    return [(float(f(v)), v) for v in out if ok(v)]


# -- colours and outliers ---------------------------------------------------------------------
@dataclass(frozen=True)
class ColorRange:
    """The value range colours span: clipped at the 5th and 95th percentiles from 20 values on
    (so one outlier or diverged run cannot wash out the rest); brighter is better."""

    lo: float
    hi: float
    clipped: bool
    direction: str

    def band(self, v: float | None) -> int | None:
        """The colour band (0: worst .. 9: best) of a value; ``None`` for no finite value."""
        if v is None or not math.isfinite(v):
            return None
        t = (v - self.lo) / (self.hi - self.lo) if self.hi > self.lo else 0.5
        t = max(0.0, min(1.0, t))
        if self.direction == Direction.MINIMIZE:
            t = 1 - t
        return min(len(VIRIDIS) - 1, math.floor(t * len(VIRIDIS)))

    def color(self, v: float | None) -> str:
        b = self.band(v)
        return NO_VALUE if b is None else VIRIDIS[b]

    def bounds(self) -> tuple[float, float]:
        """``cmin``/``cmax`` for Plotly: equal ends are widened so the middle colour shows."""
        return (self.lo - 0.5, self.hi + 0.5) if self.hi <= self.lo else (self.lo, self.hi)

    def colorscale(self) -> list[tuple[float, str]]:
        """The ten viridis bands as a stepped Plotly colour scale, reversed when low is good."""
        bands = VIRIDIS[::-1] if self.direction == Direction.MINIMIZE else VIRIDIS
        n = len(bands)
        out: list[tuple[float, str]] = []
        for i, c in enumerate(bands):
            out += [(i / n, c), ((i + 1) / n, c)]
        return out

    def caption(self, what: str) -> str:
        low_good = " (low is good)" if self.direction == Direction.MINIMIZE else ""
        clip = "<br>5th–95th<br>percentile" if self.clipped else ""
        return f"{what}{low_good}{clip}"


def _quantile(xs: Sequence[float], q: float) -> float:
    i = (len(xs) - 1) * q
    lo, hi = math.floor(i), math.ceil(i)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)


def color_range(values: Sequence[float | None], direction: str) -> ColorRange:
    """The colour range of ``values`` for a study of ``direction``."""
    xs = sorted(v for v in values if v is not None and math.isfinite(v))
    if not xs:
        return ColorRange(0.0, 1.0, False, direction)
    many = len(xs) >= 20
    lo, hi = _quantile(xs, 0.05 if many else 0.0), _quantile(xs, 0.95 if many else 1.0)
    return ColorRange(lo, hi, many and (xs[0] < lo or xs[-1] > hi), direction)


def robust_range(values: Sequence[float | None]) -> tuple[float, float, int] | None:
    """``(lo, hi, outliers)`` when some values lie more than the 5th–95th percentile spread
    beyond those percentiles, else ``None``: charts draw such values on the edge and count them,
    so one diverged run does not squash the rest."""
    xs = sorted(v for v in values if v is not None)
    if len(xs) < 20:
        return None

    def q(p: float) -> float:
        return xs[math.floor((len(xs) - 1) * p)]

    spread = q(0.95) - q(0.05)
    lo, hi = max(xs[0], q(0.05) - spread), min(xs[-1], q(0.95) + spread)
    if not hi > lo:
        return None
    out = sum(1 for v in xs if v < lo or v > hi)
    return (lo, hi, out) if out else None


def clamp(bounds: tuple[float, float, int] | None, v: float | None) -> float | None:
    return v if bounds is None or v is None else max(bounds[0], min(bounds[1], v))


def better(a: float, b: float, direction: str) -> bool:
    return Direction(direction).better(a, b)


# -- the values the analysis charts compare ---------------------------------------------------
@dataclass(frozen=True)
class Compared:
    """The basis and, per compared trial, its number, value on that basis and parameters
    (what ``dashboard.analysis.analysis`` returns from the database, here from a Study)."""

    basis: Basis
    numbers: tuple[int, ...]
    values: tuple[float, ...]
    params: tuple[Mapping[str, Any], ...]
    importance: Mapping[str, float]

    @classmethod
    def from_analysis(cls, result: Mapping[str, Any]) -> Compared:
        """The dashboard's ``analysis()`` answer (its JSON form) as a ``Compared``."""
        from hypersearch.dashboard.analysis import Basis

        b = result["basis"]
        params = result.get("params") or [{} for _ in result["numbers"]]
        return cls(
            Basis(b["step"], int(b["n"]), str(b["label"])),
            tuple(int(n) for n in result["numbers"]),
            tuple(float(v) for v in result["values"]),
            tuple(dict(p) for p in params),
            dict(result["importance"]),
        )

    def value_label(self, metric: str) -> str:
        """The compared value's name, with its step when compared at a rung."""
        return metric if self.basis.step is None else f"{metric} @ step {self.basis.step}"


def _evenly(items: list[Any], limit: int) -> list[Any]:
    if len(items) <= limit:
        return items
    stride = len(items) / limit
    return [items[int(i * stride)] for i in range(limit)]


def compared_values(study: Study, *, trials: Sequence[TrialRecord] | None = None) -> Compared:
    """The dashboard's analysis of a study: each trial's value on the basis ``choose_basis``
    picks (final values, or values at the highest step enough trials reached) and the
    ``main_effects`` importance computed from them."""
    with needs_extra("hypersearch.plot"):
        from hypersearch.dashboard.analysis import choose_basis
        from hypersearch.dashboard.importance import MIN_TRIALS, main_effects

    records = list(study.trials if trials is None else trials)
    complete = _evenly(
        [t for t in records if t.state == TrialState.COMPLETE and _value(t) is not None], SAMPLE
    )
    kept = [t for t in complete if math.isfinite(_value(t))]  # type: ignore[arg-type]
    numbers = [t.number for t in kept]
    values = [float(_value(t)) for t in kept]  # type: ignore[arg-type]
    params = [dict(t.params) for t in kept]
    basis = choose_basis(len(kept), [])  # final values
    if len(kept) < MIN_TRIALS:
        done = (TrialState.COMPLETE, TrialState.STOPPED)
        last_steps = {
            t.number: max(t.intermediate) for t in records if t.state in done and t.intermediate
        }
        basis = choose_basis(len(kept), list(last_steps.values()))
        if basis.step is not None:
            by_number = {t.number: t for t in records}
            wanted = _evenly(sorted(n for n, s in last_steps.items() if s >= basis.step), SAMPLE)
            numbers, values, params = [], [], []
            for n in wanted:
                at = _value_at(by_number[n].intermediate, basis.step)
                if at is not None:
                    numbers.append(n)
                    values.append(at)
                    params.append(dict(by_number[n].params))
    return Compared(
        basis, tuple(numbers), tuple(values), tuple(params), main_effects(params, values)
    )


def _value(trial: TrialRecord) -> float | None:
    """The value the analysis compares: a multi-objective trial's first objective."""
    if trial.value is not None:
        return trial.value
    return trial.values[0] if trial.values else None


def _value_at(curve: Mapping[int, float], step: int) -> float | None:
    """The last finite report at or before ``step`` (as ``DashboardData.values_at_step``)."""
    last = None
    for s in sorted(curve):
        v = curve[s]
        if s <= step and v is not None and math.isfinite(v):
            last = float(v)
    return last


def ranked_rows(compared: Compared, direction: str) -> list[tuple[int, float, Mapping[str, Any]]]:
    """Compared trials best first."""
    rows = list(zip(compared.numbers, compared.values, compared.params, strict=True))
    loss = Direction(direction).to_loss
    return sorted(rows, key=lambda r: loss(r[1]))


def used_params(
    definitions: Mapping[str, Any], rows: Sequence[tuple[int, float, Mapping[str, Any]]]
) -> list[str]:
    """Parameters with a value in some row: declared order, then new names as they come."""
    names = list(definitions)
    for _, _, p in rows:
        names += [k for k in p if k not in names]
    return [n for n in names if any(r[2].get(n) is not None for r in rows)]


def check_param_names(names: Sequence[str], known: Sequence[str], function: str) -> None:
    for name in names:
        if name not in known:
            choices = ", ".join(map(repr, known)) or "none"
            raise InvalidArgumentError(
                f"{function}(): no compared trial has a parameter {name!r}; the study's "
                f"parameters with values are {choices}."
            )
