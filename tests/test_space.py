"""Tests for hypersearch.space: parameter types, their unit-cube encoding, grids and Space."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersearch.exceptions import HypersearchError, InvalidSpaceError
from hypersearch.space import Bool, Choice, Float, Int, Param, Space, param_from_dict

PROPS = settings(max_examples=200, deadline=None)
UNIT = st.floats(0.0, 1.0)
STEPS = (0.001, 0.01, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5, 10.0)


def _snap(v: float) -> float:
    return float(f"{v:.12g}")


# --------------------------------------------------------------------------- strategies


@st.composite
def linear_floats(draw: st.DrawFn) -> Float:
    low = draw(st.floats(-1e3, 1e3))
    width = draw(st.floats(1e-3, 1e3))
    return Float(low, low + width)


@st.composite
def log_floats(draw: st.DrawFn) -> Float:
    low = draw(st.floats(1e-8, 1.0))
    factor = draw(st.floats(1.01, 1e6))
    return Float(low, low * factor, log=True)


@st.composite
def log1m_floats(draw: st.DrawFn) -> Float:
    # 1 - high no smaller than 1e-6: closer to 1, x itself cannot hold 1 - x to 1e-9.
    gap = draw(st.floats(1e-6, 0.5))
    factor = draw(st.floats(2.0, 1e4))  # (1 - low) / (1 - high)
    return Float(1.0 - gap * factor, 1.0 - gap, scale="log1m")


@st.composite
def stepped_floats(draw: st.DrawFn) -> Float:
    step = draw(st.sampled_from(STEPS))
    start = draw(st.integers(-200, 200))
    n = draw(st.integers(0, 200))
    return Float(_snap(start * step), _snap((start + n) * step), step=step)


@st.composite
def stepped_floats_any_low(draw: st.DrawFn) -> Float:
    """Stepped floats whose ``low`` has more digits than decode keeps (up to 17)."""
    step = draw(st.sampled_from(STEPS))
    low = draw(st.floats(-1e3, 1e3))
    n = draw(st.integers(0, 100))
    return Float(low, low + n * step, step=step)


continuous_floats = st.one_of(linear_floats(), log_floats(), log1m_floats())


@st.composite
def linear_ints(draw: st.DrawFn) -> Int:
    low = draw(st.integers(-1000, 1000))
    step = draw(st.integers(1, 50))
    n = draw(st.integers(0, 300))
    return Int(low, low + n * step, step=step)


@st.composite
def log_ints(draw: st.DrawFn) -> Int:
    low = draw(st.integers(1, 1000))
    return Int(low, low + draw(st.integers(0, 10**6)), log=True)


@st.composite
def pow2_ints(draw: st.DrawFn) -> Int:
    a = draw(st.integers(0, 20))
    b = draw(st.integers(a, 40))
    return Int(2**a, 2**b, scale="pow2")


ints = st.one_of(linear_ints(), log_ints(), pow2_ints())


def _choice_key(v: Any) -> tuple[str, Any]:
    """Mirror of Choice's notion of 'the same value': bools apart, numbers by value."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int | float):
        return ("num", float(v))
    return (type(v).__name__, v)


choice_values = st.one_of(
    st.text(max_size=8),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
choices = st.lists(choice_values, min_size=1, max_size=12, unique_by=_choice_key).map(Choice)

discrete_params = st.one_of(stepped_floats(), ints, choices, st.just(Bool()))
all_params = st.one_of(continuous_floats, discrete_params, stepped_floats_any_low())


def _valid_values(draw: st.DrawFn, p: Param) -> Any:
    """A valid value of ``p`` in canonical form (what ``validate`` returns)."""
    if isinstance(p, Choice):
        return draw(st.sampled_from(p.values))
    if isinstance(p, Int):
        if p.scale == "pow2":
            return p.low * 2 ** draw(st.integers(0, p.cardinality - 1))
        return p.low + draw(st.integers(0, p.cardinality - 1)) * p.step
    assert isinstance(p, Float)
    if p.step is not None:
        return p.validate(p.low + draw(st.integers(0, p.cardinality - 1)) * p.step)
    return draw(st.floats(p.low, p.high))


# --------------------------------------------------------------------------- round trips


@PROPS
@given(data=st.data(), p=discrete_params)
def test_discrete_decode_encode_is_exact(data: st.DataObject, p: Param) -> None:
    v = _valid_values(data.draw, p)
    back = p.decode(p.encode(v))
    assert back == v
    assert type(back) is type(v)


@PROPS
@given(data=st.data(), p=continuous_floats)
def test_continuous_decode_encode_is_close(data: st.DataObject, p: Float) -> None:
    v = _valid_values(data.draw, p)
    assert p.decode(p.encode(v)) == pytest.approx(v, rel=1e-9, abs=1e-12)


@PROPS
@given(p=all_params, u=UNIT)
def test_decode_is_valid_and_encodes_back_into_unit_interval(p: Param, u: float) -> None:
    v = p.decode(u)
    assert p.validate(v) == v
    e = p.encode(v)
    assert 0.0 <= e <= 1.0


@PROPS
@given(p=continuous_floats, u=UNIT)
def test_continuous_encode_decode_is_close(p: Float, u: float) -> None:
    assert p.encode(p.decode(u)) == pytest.approx(u, rel=1e-9, abs=1e-9)


@PROPS
@given(p=all_params, u=UNIT)
def test_decode_is_idempotent_through_encode(p: Param, u: float) -> None:
    v = p.decode(u)
    if p.cardinality is None:
        assert p.decode(p.encode(v)) == pytest.approx(v, rel=1e-9, abs=1e-12)
    else:
        assert p.decode(p.encode(v)) == v


@PROPS
@given(p=all_params, u=st.floats(allow_nan=False))
def test_decode_clips_outside_unit_interval(p: Param, u: float) -> None:
    assert p.decode(u) == p.decode(min(max(u, 0.0), 1.0))


@PROPS
@given(p=st.one_of(linear_floats(), stepped_floats_any_low()), u=UNIT)
def test_float_decode_stays_within_bounds(p: Float, u: float) -> None:
    assert p.low <= p.decode(u) <= p.high


@PROPS
@given(data=st.data(), p=stepped_floats_any_low())
def test_stepped_float_endpoints_are_exact(data: st.DataObject, p: Float) -> None:
    assert p.decode(0.0) == p.low
    assert p.decode(1.0) == p.high
    for end in (p.low, p.high):
        assert p.validate(end) == end
        assert p.decode(p.encode(end)) == end
    v = _valid_values(data.draw, p)
    assert p.decode(p.encode(v)) == v
    assert p.validate(v) == v


@PROPS
@given(data=st.data(), p=st.one_of(continuous_floats, stepped_floats(), ints))
def test_encode_is_monotonic(data: st.DataObject, p: Param) -> None:
    a, b = sorted([_valid_values(data.draw, p), _valid_values(data.draw, p)])
    assert p.encode(a) <= p.encode(b)
    if a < b and p.cardinality is not None:
        assert p.encode(a) < p.encode(b)  # distinct discrete values get distinct cells


@PROPS
@given(p=all_params)
def test_to_dict_round_trip(p: Param) -> None:
    assert param_from_dict(p.to_dict()) == p
    assert param_from_dict(json.loads(json.dumps(p.to_dict()))) == p


@PROPS
@given(p=discrete_params)
def test_grid_of_small_discrete_domain_lists_every_value(p: Param) -> None:
    count = p.cardinality
    assert count is not None
    if count > 100_000:
        with pytest.raises(InvalidSpaceError, match="grid points"):
            p.grid()
        return
    grid = p.grid()
    assert len(grid) == count
    assert grid == [p.validate(v) for v in grid]
    encoded = [p.encode(v) for v in grid]
    assert encoded == sorted(set(encoded))  # every value once, in order
    if not (isinstance(p, Int) and p.scale == "log"):  # log ints sit on a log scale instead
        assert encoded == [(i + 0.5) / count for i in range(count)]


# --------------------------------------------------------------------------- Float


def test_float_defaults_and_canonical_fields() -> None:
    p = Float(0, 1)
    assert (p.low, p.high, p.scale, p.log, p.step) == (0.0, 1.0, "linear", False, None)
    assert isinstance(p.low, float)
    assert p.cardinality is None
    assert p.is_numeric


def test_float_log_flag_and_scale_agree() -> None:
    assert Float(1e-5, 1e-1, log=True) == Float(1e-5, 1e-1, scale="log")
    assert Float(1e-5, 1e-1, scale="log").log is True
    assert Float(0.5, 0.999, scale="log1m").log is False


def test_float_linear_encoding() -> None:
    p = Float(-1.0, 3.0)
    assert p.encode(-1.0) == 0.0
    assert p.encode(1.0) == 0.5
    assert p.encode(3.0) == 1.0
    assert p.decode(0.25) == 0.0


def test_float_log_encoding_is_linear_in_log() -> None:
    p = Float(1e-5, 1e-1, log=True)
    assert p.encode(1e-3) == pytest.approx(0.5)
    assert p.decode(0.25) == pytest.approx(1e-4)
    assert p.decode(0.0) == 1e-5
    assert p.decode(1.0) == 1e-1


def test_float_log1m_encoding_is_linear_in_log_of_one_minus() -> None:
    p = Float(0.9, 0.9999, scale="log1m")
    assert p.encode(0.99) == pytest.approx(1 / 3)
    assert p.encode(0.999) == pytest.approx(2 / 3)
    assert p.decode(1 / 3) == pytest.approx(0.99)
    assert p.decode(1.0) == 0.9999


def test_float_log1m_allows_negative_low() -> None:
    p = Float(-1.0, 0.5, scale="log1m")
    assert p.decode(0.0) == -1.0
    assert p.encode(0.0) == pytest.approx(0.5)  # 1 - x: 2 -> 1 -> 0.5, halfway in log


def test_float_step_values_are_snapped() -> None:
    p = Float(0, 0.5, step=0.1)
    assert p.cardinality == 6
    assert p.grid() == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert p.validate(0.1 + 0.2) == 0.3
    assert p.validate(0.30000000001) == 0.3
    assert p.decode(p.encode(0.3)) == 0.3


def test_float_degenerate_range_has_one_value() -> None:
    p = Float(2.0, 2.0)
    assert p.cardinality == 1
    assert p.encode(2.0) == 0.5
    assert p.decode(0.0) == p.decode(1.0) == 2.0
    assert p.grid() == [2.0]


def test_float_validate_tolerates_rounding_at_bounds() -> None:
    p = Float(0.0, 1.0)
    assert p.validate(1.0 + 1e-15) == 1.0
    assert p.validate(-1e-15) == 0.0
    assert p.validate(np.float32(0.5)) == 0.5
    assert p.validate(1) == 1.0


def test_float_repr() -> None:
    assert repr(Float(0, 1)) == "Float(0.0, 1.0)"
    assert repr(Float(1e-5, 0.1, log=True)) == "Float(1e-05, 0.1, scale='log')"
    assert repr(Float(0, 0.5, step=0.1)) == "Float(0.0, 0.5, step=0.1)"


def test_float_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Float(0, 1).low = 2.0  # type: ignore[misc]


# --------------------------------------------------------------------------- Int


def test_int_linear_step_values() -> None:
    p = Int(32, 512, step=32)
    assert p.cardinality == 16
    assert p.grid() == list(range(32, 513, 32))
    assert p.decode(0.0) == 32
    assert p.decode(1.0) == 512
    assert p.encode(32) == pytest.approx(1 / 32)


def test_int_pow2_values() -> None:
    p = Int(8, 256, scale="pow2")
    assert p.cardinality == 6
    assert p.grid() == [8, 16, 32, 64, 128, 256]
    assert [p.decode(p.encode(v)) for v in p.grid()] == p.grid()
    assert p.decode(0.0) == 8
    assert p.decode(1.0) == 256


def test_int_log_values() -> None:
    p = Int(1, 1000, log=True)
    assert p.log is True and p.scale == "log"
    assert p.cardinality == 1000
    assert p.decode(0.0) == 1
    assert p.decode(1.0) == 1000
    assert all(p.decode(p.encode(v)) == v for v in range(1, 1001))
    # log-uniform over [low - 0.5, high + 0.5], then rounded (as Optuna does)
    assert p.decode(0.5) == round(math.sqrt(0.5 * 1000.5))
    assert p.encode(2) - p.encode(1) > p.encode(3) - p.encode(2) > p.encode(4) - p.encode(3)


def test_int_accepts_integral_numbers_and_returns_ints() -> None:
    p = Int(1.0, np.int64(10))  # type: ignore[arg-type]
    assert (p.low, p.high) == (1, 10)
    assert type(p.low) is int and type(p.high) is int
    assert p.validate(3.0) == 3 and type(p.validate(3.0)) is int
    assert type(p.decode(0.5)) is int


def test_int_single_value() -> None:
    p = Int(5, 5)
    assert p.cardinality == 1
    assert p.grid() == [5]
    assert p.decode(0.3) == 5


def test_int_repr() -> None:
    assert repr(Int(1, 10)) == "Int(1, 10)"
    assert repr(Int(32, 512, step=32)) == "Int(32, 512, step=32)"
    assert repr(Int(8, 256, scale="pow2")) == "Int(8, 256, scale='pow2')"


# --------------------------------------------------------------------------- Choice and Bool


def test_choice_basics() -> None:
    p = Choice(["sgd", "adam", "adamw"])
    assert p.values == ("sgd", "adam", "adamw")
    assert p.cardinality == 3
    assert not p.is_numeric
    assert [p.encode(v) for v in p.values] == pytest.approx([1 / 6, 1 / 2, 5 / 6])
    assert p.decode(0.0) == "sgd" and p.decode(1.0) == "adamw"
    assert p.grid() == ["sgd", "adam", "adamw"]
    assert p.grid(2) == ["sgd", "adamw"]
    assert repr(p) == "Choice(['sgd', 'adam', 'adamw'])"


def test_choice_keeps_true_apart_from_one() -> None:
    p = Choice([1, True, "1", None, 0, False])
    assert p.index(1) == 0
    assert p.index(True) == 1
    assert p.index("1") == 2
    assert p.index(None) == 3
    assert p.index(0) == 4
    assert p.index(False) == 5
    assert p.validate(True) is True
    assert p.validate(1) == 1 and type(p.validate(1)) is int
    assert p.validate(1.0) == 1 and type(p.validate(1.0)) is int  # numbers compare by value
    assert p.validate(np.int64(0)) == 0 and type(p.validate(np.int64(0))) is int
    assert p.decode(p.encode(True)) is True
    assert p.decode(p.encode(1)) == 1 and p.decode(p.encode(1)) is not True
    assert len({p.encode(v) for v in p.values}) == 6
    with pytest.raises(InvalidSpaceError):
        Choice([True]).validate(1)
    with pytest.raises(InvalidSpaceError):
        Choice([1]).validate(True)
    with pytest.raises(InvalidSpaceError):
        Choice(["1"]).validate(1)


def test_choice_equality_keeps_true_apart_from_one() -> None:
    # A space changed from [0, 1] to [False, True] must be seen as changed on resume.
    assert Choice([0, 1]) != Choice([False, True])
    assert Choice([1]) != Choice([True])
    assert Space({"x": Choice([0, 1])}) != Space({"x": Choice([False, True])})
    assert Space({"x": Choice([0, 1])}).diff(Space({"x": Choice([False, True])}))
    assert Choice([1, "a"]) == Choice((1, "a"))
    assert hash(Choice([1, "a"])) == hash(Choice((1, "a")))


def test_choice_accepts_any_sequence() -> None:
    assert Choice(("a", "b")) == Choice(["a", "b"])
    assert Choice(range(3)).values == (0, 1, 2)  # type: ignore[arg-type]


def test_bool() -> None:
    p = Bool()
    assert p.values == (False, True)
    assert p.cardinality == 2
    assert not p.is_numeric
    assert p.decode(0.1) is False and p.decode(0.9) is True
    assert p.encode(False) == 0.25 and p.encode(True) == 0.75
    assert p.validate(True) is True
    assert p.grid() == [False, True]
    assert repr(p) == "Bool()"
    assert p.to_dict() == {"type": "bool"}
    assert p == Bool() and hash(p) == hash(Bool())
    assert p != Choice([False, True])
    assert isinstance(param_from_dict(p.to_dict()), Bool)
    with pytest.raises(InvalidSpaceError, match="not one of"):
        p.validate(1)


# --------------------------------------------------------------------------- serialisation

EXAMPLES = [
    Float(0, 1),
    Float(-3.5, 2.25),
    Float(1e-5, 1e-1, log=True),
    Float(0.5, 0.999, scale="log1m"),
    Float(0, 0.5, step=0.1),
    Float(2.0, 2.0),
    Int(1, 10),
    Int(32, 512, step=32),
    Int(1, 1000, log=True),
    Int(8, 256, scale="pow2"),
    Choice(["sgd", "adam"]),
    Choice([1, True, "1", None, 2.5]),
    Bool(),
]


@pytest.mark.parametrize("p", EXAMPLES, ids=repr)
def test_param_to_dict_round_trip(p: Param) -> None:
    d = p.to_dict()
    assert d["type"] == p.kind
    again = param_from_dict(json.loads(json.dumps(d)))
    assert again == p
    assert type(again) is type(p)
    assert again.to_dict() == d


def test_to_dict_contents() -> None:
    assert Float(1e-5, 1e-1, log=True).to_dict() == {
        "type": "float",
        "low": 1e-5,
        "high": 1e-1,
        "scale": "log",
        "step": None,
    }
    assert Int(32, 512, step=32).to_dict() == {
        "type": "int",
        "low": 32,
        "high": 512,
        "step": 32,
        "scale": "linear",
    }
    assert Choice(["a", None]).to_dict() == {"type": "choice", "values": ["a", None]}


def test_param_from_dict_fills_defaults() -> None:
    assert param_from_dict({"type": "float", "low": 0, "high": 1}) == Float(0, 1)
    assert param_from_dict({"type": "int", "low": 1, "high": 4}) == Int(1, 4)


# --------------------------------------------------------------------------- grids


def test_float_log_grid_is_evenly_spaced_in_log() -> None:
    grid = Float(1e-5, 1e-1, log=True).grid(5)
    assert grid == pytest.approx([1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    ratios = [b / a for a, b in itertools.pairwise(grid)]
    assert ratios == pytest.approx([10.0] * 4)


@PROPS
@given(p=log_floats(), n=st.integers(2, 20))
def test_log_grid_ratios_are_constant(p: Float, n: int) -> None:
    grid = p.grid(n)
    assert len(grid) == n
    assert grid[0] == pytest.approx(p.low, rel=1e-12)
    assert grid[-1] == pytest.approx(p.high, rel=1e-12)
    ratios = [b / a for a, b in itertools.pairwise(grid)]
    assert ratios == pytest.approx([(p.high / p.low) ** (1 / (n - 1))] * (n - 1), rel=1e-9)


def test_log1m_grid_is_evenly_spaced_in_log_of_one_minus() -> None:
    grid = Float(0.9, 0.9999, scale="log1m").grid(4)
    assert grid == pytest.approx([0.9, 0.99, 0.999, 0.9999])
    logs = [math.log(1 - v) for v in grid]
    gaps = [b - a for a, b in itertools.pairwise(logs)]
    assert gaps == pytest.approx([math.log(0.1)] * 3)


def test_linear_float_grid() -> None:
    assert Float(0, 1).grid(5) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert Float(0, 1).grid(1) == [0.5]


def test_int_log_grid_is_increasing_and_spans_range() -> None:
    grid = Int(1, 10_000, log=True).grid(5)
    assert grid[0] == 1 and grid[-1] == 10_000
    assert grid == sorted(set(grid))
    ratios = [b / a for a, b in itertools.pairwise(grid[1:])]
    assert ratios == pytest.approx([ratios[0]] * len(ratios), rel=0.05)


def test_discrete_grid_with_fewer_points_than_values() -> None:
    assert Int(0, 1000).grid(3) == [0, 500, 1000]
    assert Int(0, 4).grid(10) == [0, 1, 2, 3, 4]  # small domain: every value
    assert Int(1, 3).grid(2) == [1, 3]


def test_grid_drops_duplicates_from_rounding() -> None:
    grid = Int(1, 3, log=True).grid(2)
    assert grid == [1, 3]
    assert Int(1, 4, log=True).grid(50) == [1, 2, 3, 4]
    assert Int(1, 4, log=True).grid() == [1, 2, 3, 4]
    assert Int(1, 1000, log=True).grid() == list(range(1, 1001))


def test_continuous_grid_needs_n_points() -> None:
    with pytest.raises(InvalidSpaceError, match=r"continuous.*GridSampler\(n_points=5\)"):
        Float(1e-5, 1e-1, log=True).grid()


def test_grid_rejects_non_positive_n_points() -> None:
    with pytest.raises(InvalidSpaceError, match="at least 1 point"):
        Float(0, 1).grid(0)


def test_huge_discrete_grid_needs_n_points() -> None:
    with pytest.raises(InvalidSpaceError, match="number of grid points"):
        Int(0, 10**6).grid()
    assert len(Int(0, 10**6).grid(11)) == 11


# --------------------------------------------------------------------------- bad input

BAD_DEFINITIONS = [
    (lambda: Float(2, 1), r"low <= high.*low=2, high=1.*Swap"),
    (lambda: Int(5, 1), r"low <= high.*low=5, high=1.*Swap"),
    (lambda: Float(0, 1, log=True), r"log scale needs low > 0.*low=0\.0"),
    (lambda: Float(-1, 1, scale="log"), r"log scale needs low > 0"),
    (lambda: Int(0, 10, log=True), r"log scale needs low >= 1.*low=0"),
    (lambda: Float(0.5, 1.0, scale="log1m"), r"log1m.*needs high < 1.*high=1\.0"),
    (lambda: Float(0.5, 2.0, scale="log1m"), r"needs high < 1"),
    (lambda: Float(0, 1, step=0.3), r"step=0\.3 does not divide.*use high=0\.9"),
    (
        lambda: Int(0, 10, step=3),
        r"step=3 does not divide the range \[0, 10\]; use high=9 or high=12",
    ),
    (lambda: Float(0, 1, step=0), r"step must be a positive number"),
    (lambda: Float(0, 1, step=-0.5), r"step must be a positive number"),
    (lambda: Float(0, 1, step="0.1"), r"step must be a positive number"),  # type: ignore[arg-type]
    (lambda: Int(0, 10, step=0), r"step must be >= 1"),
    (lambda: Choice([]), r"must not be empty"),
    (lambda: Choice(["a", "b", "a"]), r"'a' appears more than once"),
    (lambda: Choice([1, 1.0]), r"1\.0 appears more than once"),
    (lambda: Choice([True, False, True]), r"True appears more than once"),
    (lambda: Choice([object()]), r"str, number, bool or None.*stored.*type object"),
    (lambda: Choice([[1, 2]]), r"so it can be stored.*type list"),
    (lambda: Choice([{"a": 1}]), r"so it can be stored.*type dict"),
    (lambda: Choice([float("nan")]), r"values must be finite"),
    (lambda: Choice([float("inf")]), r"values must be finite"),
    (lambda: Choice("abc"), r"values must be a list"),  # type: ignore[arg-type]
    (lambda: Choice(5), r"values must be a list"),  # type: ignore[arg-type]
    (lambda: Int(3, 64, scale="pow2"), r"powers of two.*low=3.*Nearest: 4"),
    (lambda: Int(8, 100, scale="pow2"), r"powers of two.*high=100.*Nearest: 128"),
    (lambda: Int(0, 8, scale="pow2"), r"powers of two.*low=0"),
    (lambda: Int(0.5, 10), r"low must be an integer.*0\.5"),  # type: ignore[arg-type]
    (lambda: Int(1, 10.5), r"high must be an integer.*10\.5"),  # type: ignore[arg-type]
    (lambda: Int(1, 10, step=1.5), r"step must be an integer"),  # type: ignore[arg-type]
    (lambda: Int("1", 10), r"low must be an integer"),  # type: ignore[arg-type]
    (lambda: Int(True, 10), r"low must be an integer"),
    (lambda: Float(1e-3, 1, log=True, step=0.1), r"step works only on a linear scale"),
    (lambda: Float(0.5, 0.9, scale="log1m", step=0.1), r"step works only on a linear scale"),
    (lambda: Int(1, 16, log=True, step=3), r"step works only on a linear scale"),
    (lambda: Int(8, 64, scale="pow2", step=8), r"step works only on a linear scale"),
    (lambda: Float(1, 8, scale="pow2"), r"scale must be one of.*Int\(\.\.\., scale='pow2'\)"),
    (lambda: Float(0, 1, scale="cubic"), r"scale must be one of 'linear', 'log', 'log1m'.*cubic"),
    (lambda: Int(1, 10, scale="log1m"), r"scale must be one of 'linear', 'log', 'pow2'"),
    (lambda: Float(1e-3, 0.5, log=True, scale="log1m"), r"log=True conflicts with scale"),
    (lambda: Float(0, math.inf), r"high must be finite"),
    (lambda: Float(-math.inf, 0), r"low must be finite"),
    (lambda: Float(math.nan, 1), r"low must be finite"),
    (lambda: Int(0, math.inf), r"high must be an integer, got inf"),  # type: ignore[arg-type]
    (lambda: Int(math.nan, 1), r"low must be an integer, got nan"),  # type: ignore[arg-type]
    (lambda: Float("0", 1), r"low must be a number"),  # type: ignore[arg-type]
    (lambda: Float(0, None), r"high must be a number"),  # type: ignore[arg-type]
    (lambda: Float(False, 1), r"low must be a number"),
    (lambda: param_from_dict({"type": "fancy"}), r"Unknown parameter type 'fancy'"),
    (lambda: Space([Float(0, 1)]), r"dict of name -> parameter.*got list"),  # type: ignore[arg-type]
    (lambda: Space({"": Float(0, 1)}), r"non-empty strings"),
    (lambda: Space({1: Float(0, 1)}), r"non-empty strings"),  # type: ignore[dict-item]
    (lambda: Space({"x": 3}), r"'x' must be hs\.Float.*got 3\."),  # type: ignore[dict-item]
    (
        lambda: Space({"opt": ["sgd", "adam"]}),  # type: ignore[dict-item]
        r"hs\.Choice\(\['sgd', 'adam'\]\)",
    ),
    (lambda: Space({"opt": ("a", 1)}), r"hs\.Choice\(\['a', 1\]\)"),  # type: ignore[dict-item]
]


@pytest.mark.parametrize(("make", "message"), BAD_DEFINITIONS)
def test_bad_definitions_are_rejected_with_a_reason(make: Any, message: str) -> None:
    with pytest.raises(InvalidSpaceError, match=message) as info:
        make()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, HypersearchError)


BAD_VALUES = [
    (Float(0, 1), 2.0, r"2\.0 is outside \[0\.0, 1\.0\]"),
    (Float(0, 1), -0.1, r"outside"),
    (Float(0, 1), "0.5", r"expected a number"),
    (Float(0, 1), None, r"expected a number"),
    (Float(0, 1), True, r"expected a number"),
    (Float(0, 1), math.nan, r"must be finite"),
    (Float(0, 1), math.inf, r"must be finite"),
    (Float(0, 0.5, step=0.1), 0.15, r"not on the grid"),
    (Float(1e-5, 1e-1, log=True), 0.0, r"outside"),
    (Int(0, 10), 1.5, r"expected an integer"),
    (Int(0, 10), 11, r"11 is outside \[0, 10\]"),
    (Int(0, 10), True, r"expected an integer"),
    (Int(0, 10), "3", r"expected an integer"),
    (Int(0, 10), math.inf, r"expected an integer"),
    (Int(0, 10), math.nan, r"expected an integer"),
    (Int(32, 512, step=32), 33, r"not low \+ k \* step"),
    (Int(8, 256, scale="pow2"), 12, r"not a power of two"),
    (Int(8, 256, scale="pow2"), 4, r"outside"),
    (Choice(["a", "b"]), "c", r"'c' is not one of \['a', 'b'\]"),
    (Choice(["a", "b"]), ["a"], r"not one of"),
    (Bool(), 0, r"not one of"),
    (Bool(), None, r"not one of"),
]


@pytest.mark.parametrize(("p", "value", "message"), BAD_VALUES, ids=repr)
def test_bad_values_are_rejected_with_a_reason(p: Param, value: Any, message: str) -> None:
    with pytest.raises(InvalidSpaceError, match=message):
        p.validate(value, "x")
    with pytest.raises(InvalidSpaceError):
        p.encode(value)


def test_validate_names_the_parameter() -> None:
    with pytest.raises(InvalidSpaceError, match=r"^lr: "):
        Float(0, 1).validate(5, "lr")
    with pytest.raises(InvalidSpaceError, match=r"^units: "):
        Int(0, 10).validate(50, "units")


def test_choice_index_rejects_unknown_values() -> None:
    with pytest.raises(InvalidSpaceError, match="not one of"):
        Choice(["a"]).index("b")


@pytest.mark.parametrize("p", EXAMPLES, ids=repr)
def test_decode_rejects_nan(p: Param) -> None:
    with pytest.raises(InvalidSpaceError, match="NaN"):
        p.decode(math.nan)


def test_space_decode_rejects_nan() -> None:
    with pytest.raises(InvalidSpaceError, match="NaN"):
        Space({"x": Float(0, 1)}).decode([math.nan])


def test_invalid_space_error_is_a_value_error() -> None:
    assert issubclass(InvalidSpaceError, ValueError)
    assert issubclass(InvalidSpaceError, HypersearchError)


# --------------------------------------------------------------------------- Space


def _space() -> Space:
    return Space(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "momentum": Float(0.5, 0.999, scale="log1m"),
            "batch_size": Int(8, 256, scale="pow2"),
            "units": Int(32, 512, step=32),
            "optimizer": Choice(["sgd", "adam"]),
            "dropout": Float(0.0, 0.5),
            "bn": Bool(),
        }
    )


def test_space_is_an_ordered_mapping() -> None:
    space = _space()
    assert isinstance(space, Mapping)
    assert list(space) == ["lr", "momentum", "batch_size", "units", "optimizer", "dropout", "bn"]
    assert len(space) == 7
    assert space["units"] == Int(32, 512, step=32)
    assert "lr" in space and "nope" not in space
    assert len(Space()) == 0 and len(Space(None)) == 0
    assert Space(space) == space
    assert repr(Space({"b": Bool()})) == "Space({'b': Bool()})"


def test_space_equality_and_hash() -> None:
    assert _space() == _space()
    assert hash(_space()) == hash(_space())
    a = Space({"x": Float(0, 1), "y": Int(1, 2)})
    b = Space({"y": Int(1, 2), "x": Float(0, 1)})
    assert a != b  # order is part of the space: it fixes the unit-cube axes
    assert a != {"x": Float(0, 1), "y": Int(1, 2)}


def test_space_to_dict_round_trip() -> None:
    space = _space()
    data = space.to_dict()
    assert list(data) == list(space)
    assert data["bn"] == {"type": "bool"}
    again = Space.from_dict(json.loads(json.dumps(data)))
    assert again == space
    assert list(again) == list(space)
    assert again.diff(space) == []


def test_space_validate() -> None:
    space = Space({"a": Int(1, 10), "b": Choice([1, "x"]), "c": Float(0, 1)})
    out = space.validate({"a": 3.0, "b": 1.0, "c": 1})
    assert out == {"a": 3, "b": 1, "c": 1.0}
    assert type(out["a"]) is int and type(out["b"]) is int and type(out["c"]) is float
    assert space.validate({"c": 0.5}, partial=True) == {"c": 0.5}
    assert space.validate({}, partial=True) == {}
    with pytest.raises(InvalidSpaceError, match=r"Unknown parameter\(s\) \['z'\].*'a', 'b', 'c'"):
        space.validate({"a": 1, "b": "x", "c": 0.5, "z": 1})
    with pytest.raises(InvalidSpaceError, match=r"Unknown parameter\(s\) \['z'\]"):
        space.validate({"z": 1}, partial=True)
    with pytest.raises(InvalidSpaceError, match=r"Missing value\(s\) for \['b', 'c'\]"):
        space.validate({"a": 1})
    with pytest.raises(InvalidSpaceError, match=r"^a: .*outside"):
        space.validate({"a": 11}, partial=True)


def test_space_encode_decode() -> None:
    space = _space()
    params = {
        "lr": 1e-3,
        "momentum": 0.9,
        "batch_size": 64,
        "units": 256,
        "optimizer": "adam",
        "dropout": 0.25,
        "bn": True,
    }
    u = space.encode(params)
    assert isinstance(u, np.ndarray) and u.shape == (7,) and u.dtype == float
    assert np.all((u >= 0) & (u <= 1))
    assert u[0] == pytest.approx(0.5)
    assert u[5] == pytest.approx(0.5)
    back = space.decode(u)
    assert list(back) == list(space)
    assert back == pytest.approx(params)
    assert {k: back[k] for k in ("batch_size", "units", "optimizer", "bn")} == {
        "batch_size": 64,
        "units": 256,
        "optimizer": "adam",
        "bn": True,
    }
    assert space.decode(list(u)) == back
    with pytest.raises(InvalidSpaceError, match="Expected 7 coordinates, got 2"):
        space.decode([0.5, 0.5])
    with pytest.raises(KeyError):
        space.encode({"lr": 1e-3})


@PROPS
@given(
    params=st.dictionaries(st.text(min_size=1, max_size=5), all_params, min_size=1, max_size=6),
    data=st.data(),
)
def test_space_decode_gives_valid_assignments(params: dict[str, Param], data: Any) -> None:
    space = Space(params)
    u = data.draw(st.lists(UNIT, min_size=len(space), max_size=len(space)))
    values = space.decode(u)
    assert space.validate(values) == values
    e = space.encode(values)
    assert np.all((e >= 0) & (e <= 1))
    assert Space.from_dict(space.to_dict()) == space


def test_space_diff() -> None:
    old = Space({"lr": Float(1e-5, 1e-1, log=True), "units": Int(32, 512, step=32)})
    assert old.diff(old) == []
    assert old.diff(Space(dict(old))) == []
    new = Space(
        {
            "lr": Float(1e-6, 1e-1, log=True),
            "units": Int(32, 512, step=32),
            "opt": Choice(["sgd"]),
        }
    )
    assert old.diff(new) == [
        "lr: Float(1e-05, 0.1, scale='log') -> Float(1e-06, 0.1, scale='log')",
        "opt: None -> Choice(['sgd'])",
    ]
    assert new.diff(old) == [
        "lr: Float(1e-06, 0.1, scale='log') -> Float(1e-05, 0.1, scale='log')",
        "opt: Choice(['sgd']) -> None",
    ]
