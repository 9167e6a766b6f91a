"""Direction: the one "better" and the one conversion to a loss, and that studies accept it."""

from __future__ import annotations

import json
import math
import pickle

import pytest

import hypersearch as hs
from hypersearch import Direction
from hypersearch.exceptions import InvalidArgumentError


def test_a_direction_is_its_string() -> None:
    assert Direction.MINIMIZE == "minimize" and Direction.MAXIMIZE == "maximize"
    assert str(Direction.MAXIMIZE) == "maximize" and f"{Direction.MINIMIZE}" == "minimize"
    assert json.dumps({"d": Direction.MAXIMIZE}) == '{"d": "maximize"}'
    assert pickle.loads(pickle.dumps(Direction.MAXIMIZE)) is Direction.MAXIMIZE
    assert {Direction.MINIMIZE: 1}["minimize"] == 1  # hashes as its string


@pytest.mark.parametrize("given", ["minimize", "maximize", Direction.MINIMIZE, Direction.MAXIMIZE])
def test_parse_accepts_both_spellings(given: str) -> None:
    assert Direction.parse(given) is Direction(str(given))


@pytest.mark.parametrize(
    ("given", "hint"),
    [("max", "did you mean 'maximize'"), ("Minimise", "did you mean 'minimize'"), ("up", ""),
     (None, ""), (1, "")],
)  # fmt: skip
def test_parse_names_both_choices_and_what_came(given: object, hint: str) -> None:
    with pytest.raises(InvalidArgumentError, match="must be 'minimize' or 'maximize'") as err:
        Direction.parse(given)  # type: ignore[arg-type]
    assert repr(given) in str(err.value) and hint in str(err.value)
    with pytest.raises(ValueError, match=r"^mode must be"):  # a ValueError too; names the argument
        Direction.parse("sideways", name="mode")


def test_better_is_strict_and_follows_the_direction() -> None:
    assert Direction.MINIMIZE.better(1.0, 2.0) and not Direction.MINIMIZE.better(2.0, 1.0)
    assert Direction.MAXIMIZE.better(2.0, 1.0) and not Direction.MAXIMIZE.better(1.0, 2.0)
    for d in Direction:
        assert not d.better(1.0, 1.0)  # a tie is not an improvement
        assert not d.better(math.nan, 1.0) and not d.better(1.0, math.nan)
        assert d.better(0.0, d.worst) and not d.better(d.worst, 0.0)
    assert Direction.MINIMIZE.best(3.0, 2.0) == 2.0 and Direction.MAXIMIZE.best(3.0, 2.0) == 3.0


def test_loss_round_trip_and_worst() -> None:
    assert Direction.MINIMIZE.to_loss(0.25) == 0.25 and Direction.MAXIMIZE.to_loss(0.25) == -0.25
    for d in Direction:
        for v in (-3.5, 0.0, 2.0, 1e300):
            assert d.from_loss(d.to_loss(v)) == v
            assert d.better(v, v + 1.0) == (d.to_loss(v) < d.to_loss(v + 1.0))
    assert Direction.MINIMIZE.worst == math.inf and Direction.MAXIMIZE.worst == -math.inf
    assert Direction.MINIMIZE.keras_mode == "min" and Direction.MAXIMIZE.keras_mode == "max"


def test_create_study_takes_a_direction_or_its_string(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    space = {"x": hs.Float(0.0, 1.0)}
    study = hs.create_study("enum", space=space, direction=Direction.MAXIMIZE, storage=url, seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=6)
    values = [t.value for t in study.trials]
    assert study.direction == "maximize" and study.best_value == max(values)
    again = hs.load_study("enum", storage=url)  # stored as its string, read back equal
    assert again.direction == Direction.MAXIMIZE and again.best_value == max(values)
    plain = hs.create_study("str", space=space, direction="maximize", storage=url, seed=0)
    assert plain.direction == study.direction
    multi = hs.create_study(
        space=space, directions={"a": Direction.MAXIMIZE, "b": Direction.MINIMIZE}
    )
    assert multi.directions == ("maximize", "minimize")
    with pytest.raises(InvalidArgumentError, match="'minimize' or 'maximize'"):
        hs.create_study(space=space, direction="max")


def test_best_ranked_orders_completed_trials_by_the_direction() -> None:
    from hypersearch.objectives import best_ranked

    study = hs.create_study(space={"x": hs.Float(0.0, 1.0)}, seed=0)
    for value in (0.5, 0.9, None, 0.9, 0.1):
        trial = study.ask()
        if value is None:
            study.tell(trial, state="FAILED")
        else:
            study.tell(trial, value)
    numbers = [t.number for t in best_ranked(study.trials, Direction.MAXIMIZE)]
    assert numbers == [1, 3, 0, 4]  # a tie keeps the earlier trial first; the failed one is out
    assert [t.number for t in best_ranked(study.trials, "minimize")] == [4, 0, 1, 3]
