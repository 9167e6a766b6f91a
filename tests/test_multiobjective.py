"""Multi-objective studies and outcome constraints, end to end on real storage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import hypersearch as hs
from hypersearch.samplers import RandomSampler, Sampler, SamplingContext
from hypersearch.schedulers import Scheduler
from hypersearch.storage import SQLStorage
from hypersearch.tables import format_number

SPACE = {"x": hs.Float(0.0, 1.0), "n": hs.Int(1, 8)}


# the records of the contract --------------------------------------------------------------
def test_objective_is_a_validated_frozen_value() -> None:
    objective = hs.Objective("val_accuracy", "maximize")
    assert (objective.name, objective.direction) == ("val_accuracy", "maximize")
    with pytest.raises(AttributeError):
        objective.name = "other"  # type: ignore[misc]
    with pytest.raises(hs.InvalidArgumentError, match=r"'minimize' or 'maximize'.*'max'"):
        hs.Objective("acc", "max")
    with pytest.raises(hs.InvalidArgumentError, match="non-empty"):
        hs.Objective("", "minimize")


def test_trial_records_keep_working_without_the_new_fields() -> None:
    record = hs.TrialRecord(number=0, state=hs.TrialState.COMPLETE, params={}, value=1.0)
    assert record.values is None and record.constraint_violations is None
    assert record.intermediate_values == {} and record.feasible


@pytest.mark.parametrize(
    ("violations", "feasible"),
    [((0.0, -1.5), True), ((0.0, 0.25), False), ((float("nan"),), False), ((), True)],
)
def test_feasible_means_no_violation_above_zero(
    violations: tuple[float, ...], feasible: bool
) -> None:
    record = hs.TrialRecord(
        number=0, state=hs.TrialState.COMPLETE, params={}, constraint_violations=violations
    )
    assert record.feasible is feasible


def test_schedulers_do_not_claim_multi_objective_support_by_default() -> None:
    assert Scheduler.supports_multi_objective is False
    assert hs.schedulers.MedianStopping.supports_multi_objective is False


class _Recording(Sampler):
    """Random proposals that keep every context it was handed."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__(seed=0)
        self.contexts: list[SamplingContext] = []
        self._random = RandomSampler(seed=0)

    def sample(self, ctx: SamplingContext) -> dict[str, Any]:
        self.contexts.append(ctx)
        return self._random.sample(ctx)

    def sample_one(self, ctx: SamplingContext, name: str, param: hs.space.Param) -> Any:
        self.contexts.append(ctx)
        return self._random.sample_one(ctx, name, param)


def test_single_objective_study_fills_directions_and_objectives() -> None:
    sampler = _Recording()
    study = hs.create_study(space=SPACE, direction="maximize", metric="acc", sampler=sampler)
    assert study.objectives == (hs.Objective("acc", "maximize"),)
    assert study.directions == ("maximize",) and not study.is_multi_objective
    assert study.best_trials == []
    study.optimize(lambda t: t.params["x"] + t.float("y", 0.0, 1.0), n_trials=2)
    assert [c.directions for c in sampler.contexts] == [("maximize",)] * 4
    assert study.best_trials == [study.best_trial]


# creating multi-objective studies ------------------------------------------------------------
TWO = {"acc": "maximize", "ms": "minimize"}


@pytest.fixture(params=["sqlite-file", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every multi-objective behaviour holds on a SQLite file and on a PostgreSQL server."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'mo.db'}"


def make(storage: str | None = None, **kwargs: Any) -> hs.Study:
    kwargs.setdefault("space", SPACE)
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("sampler", "random")
    kwargs.setdefault("directions", TWO)
    return hs.create_study(kwargs.pop("name", "mo"), storage=storage, **kwargs)


def two_objectives(trial: hs.Trial) -> dict[str, float]:
    """A trade-off: accuracy grows with x, latency with x and n; ``mem`` a plain metric."""
    x, n = trial.params["x"], trial.params["n"]
    for step in range(3):
        trial.report({"acc": x * (step + 1) / 3, "ms": 1.0 + n * x}, step=step)
    return {"acc": x - 0.05 * n, "ms": 1.0 + n * x, "mem": 2.0 * n}


def dominated(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """True when (acc, ms) point ``b`` dominates ``a`` (acc maximised, ms minimised)."""
    no_worse = b[0] >= a[0] and b[1] <= a[1]
    return no_worse and (b[0] > a[0] or b[1] < a[1])


def test_several_objectives_end_to_end(storage_url: str) -> None:
    study = make(storage_url)
    assert study.is_multi_objective and study.directions == ("maximize", "minimize")
    assert study.objectives == (hs.Objective("acc", "maximize"), hs.Objective("ms", "minimize"))
    study.optimize(two_objectives, n_trials=25)
    trials = study.trials
    assert all(t.state is hs.TrialState.COMPLETE for t in trials)
    first = trials[0]
    x, n = first.params["x"], first.params["n"]
    assert first.values == pytest.approx((x - 0.05 * n, 1.0 + n * x))
    assert first.value is None and first.metrics == {"mem": 2.0 * n}
    assert first.intermediate_values[2] == pytest.approx((x, 1.0 + n * x))
    assert first.intermediate == pytest.approx({s: x * (s + 1) / 3 for s in range(3)})
    front = study.best_trials
    points = {t.number: t.values for t in trials}
    on_front = {t.number for t in front}
    assert front and [t.number for t in front] == sorted(on_front)
    for number, point in points.items():  # the front by its definition, checked pairwise
        beaten = any(dominated(point, other) for other in points.values())  # type: ignore[arg-type]
        assert (number in on_front) is not beaten
    # a fresh process sees the same (values, curves) from storage
    again = hs.load_study("mo", storage=storage_url)
    assert again.objectives == study.objectives
    assert [t.number for t in again.best_trials] == [t.number for t in front]
    assert again.trials[0].intermediate_values == first.intermediate_values


def test_a_tuple_in_objective_order_works_like_a_dict() -> None:
    study = make()
    study.optimize(lambda t: (t.params["x"], 2.0 * t.params["x"]), n_trials=3)
    assert [t.values for t in study.trials] == [
        (t.params["x"], 2.0 * t.params["x"]) for t in study.trials
    ]


def test_one_entry_in_directions_is_an_ordinary_study() -> None:
    study = make(directions={"val_loss": "minimize"})
    assert not study.is_multi_objective
    assert (study.metric, study.direction) == ("val_loss", "minimize")
    study.optimize(lambda t: {"val_loss": t.params["x"]}, n_trials=3)
    assert study.best_value == min(t.value for t in study.trials)  # type: ignore[type-var]
    assert study.trials[0].values is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"directions": {"acc": "max"}}, r"directions\['acc'\] must be 'minimize' or 'maximize'"),
        ({"directions": ["minimize", "maximize"]}, "has no names"),
        ({"directions": {}}, "at least one objective"),
        ({"directions": {"": "minimize"}}, "non-empty string"),
        ({"directions": TWO, "direction": "maximize"}, "leave direction out"),
        ({"directions": TWO, "metric": "acc"}, "leave metric out"),
        ({"constraints": {"mem": ("<", 16)}}, r"operator must be '<=' or '>=', got '<'"),
        ({"constraints": {"mem": 16}}, r"must be \(op, bound\)"),
        ({"constraints": {"mem": ("<=", "16")}}, "bound must be a number"),
        ({"constraints": {"mem": ("<=", float("inf"))}}, "bound must be finite"),
        ({"constraints": ["mem"]}, "must map a metric's name"),
    ],
)
def test_bad_objectives_and_constraints_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(hs.InvalidArgumentError, match=message):
        make(**kwargs)


# bad results: the trial fails with the reason, the study goes on ---------------------------------
@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ((0.5,), "returned 1 values for 2 objectives ('acc', 'ms')"),
        ((0.5, 1.0, 2.0), "returned 3 values for 2 objectives"),
        ({"acc": 0.5, "mem": 3.0}, "without the objective(s) 'ms'"),
        ({"acc": float("nan"), "ms": 1.0}, "objective 'acc' is NaN"),
        (0.5, "returned a single float, but the study has 2 objectives"),
        (None, "returned None, but the study has 2 objectives"),
        ({"acc": "high", "ms": 1.0}, "objective 'acc' is 'high', not a number"),
    ],
)
def test_a_wrong_result_fails_the_trial_with_the_reason(result: Any, reason: str) -> None:
    study = make()
    study.optimize(lambda t: result if t.number == 0 else (0.5, 1.0), n_trials=2)
    failed, ok = study.trials
    assert failed.state is hs.TrialState.FAILED and reason in (failed.fail_reason or "")
    assert ok.state is hs.TrialState.COMPLETE and ok.values == (0.5, 1.0)
    assert study.best_trials == [ok]


def test_single_objective_calls_name_best_trials() -> None:
    study = make()
    study.optimize(lambda t: (t.params["x"], 1.0), n_trials=2)
    for name in ("best_value", "best_params", "best_trial"):
        with pytest.raises(
            hs.HypersearchError, match=r"2 objectives \('acc', 'ms'\).*best_trials"
        ):
            getattr(study, name)
    with pytest.raises(hs.HypersearchError, match="best_trials"):
        study.top(3)


def test_report_needs_every_objective() -> None:
    study = make()
    bad_reports: list[Any] = [0.5, {"acc": 0.5}, {"acc": 0.5, "ms": 1.0, "mem": 3.0}, (0.5,)]

    def objective(trial: hs.Trial) -> tuple[float, float]:
        trial.report(bad_reports[trial.number], step=0)
        return (0.5, 1.0)

    study.optimize(objective, n_trials=4, max_failures=None)
    reasons = [t.fail_reason or "" for t in study.trials]
    assert "report all of them" in reasons[0] and "'acc', 'ms'" in reasons[0]
    assert "misses ['ms']" in reasons[1]
    assert "other keys ['mem']" in reasons[2]
    assert "1 values for the 2 objectives" in reasons[3]
    assert all(t.state is hs.TrialState.FAILED for t in study.trials)


def test_a_stopped_trial_keeps_its_last_complete_report() -> None:
    study = make()

    def objective(trial: hs.Trial) -> None:
        trial.report((0.2, 5.0), step=0)
        trial.report((0.3, float("nan")), step=1)  # a NaN step is kept but not used
        raise hs.TrialPruned()

    study.optimize(objective, n_trials=1)
    (stopped,) = study.trials
    assert stopped.state is hs.TrialState.STOPPED and stopped.values == (0.2, 5.0)
    assert stopped.intermediate == {0: 0.2, 1: 0.3}
    assert study.best_trials == []  # only COMPLETE trials make the front


# ask / tell, enqueue and add_trial -------------------------------------------------------------
def test_ask_and_tell_with_values() -> None:
    study = make()
    trial = study.ask()
    record = study.tell(trial, values=(0.9, 3.0))
    assert record.state is hs.TrialState.COMPLETE and record.values == (0.9, 3.0)
    record = study.tell(study.ask(), {"ms": 2.0, "acc": 0.8, "mem": 1.0})
    assert record.values == (0.8, 2.0) and record.metrics == {"mem": 1.0}
    record = study.tell(study.ask(), values={"acc": 0.7})
    assert record.state is hs.TrialState.FAILED and "'ms'" in (record.fail_reason or "")
    with pytest.raises(hs.InvalidArgumentError, match="not both"):
        study.tell(study.ask(), 0.5, values=(0.5, 1.0))
    single = make(name="single", directions=None, direction="maximize")
    assert single.tell(single.ask(), values=[0.25]).value == 0.25
    with pytest.raises(hs.InvalidArgumentError, match="one value per objective"):
        single.tell(single.ask(), values=[0.25, 0.5])


def test_enqueued_and_manual_trials_with_values() -> None:
    study = make()
    study.enqueue({"x": 0.5, "n": 2}, note="baseline")
    number = study.add_trial(
        {"x": 0.9, "n": 1},
        values={"acc": 0.95, "ms": 1.5, "mem": 2.0},
        curve=[(0.5, 1.5), {"acc": 0.9, "ms": 1.5}],
        note="by hand",
    )
    study.optimize(two_objectives, n_trials=1)
    manual = study.get_trial(number)
    assert manual.values == (0.95, 1.5) and manual.metrics == {"mem": 2.0}
    assert manual.intermediate_values == {0: (0.5, 1.5), 1: (0.9, 1.5)}
    assert manual.intermediate == {0: 0.5, 1: 0.9}
    enqueued = study.get_trial(0)
    assert enqueued.params == {"x": 0.5, "n": 2} and enqueued.values == pytest.approx((0.4, 2.0))
    assert study.add_trial({"x": 0.1, "n": 1}, (0.1, 1.0)) == 2
    with pytest.raises(hs.InvalidArgumentError, match="add_trial: value is a dict without"):
        study.add_trial({"x": 0.1, "n": 1}, {"acc": 0.1})
    with pytest.raises(hs.InvalidArgumentError, match="1 values for the 2 objectives"):
        study.add_trial({"x": 0.1, "n": 1}, (0.1, 1.0), curve=[(0.1,)])
    assert len(study.trials) == 3


# constraints -------------------------------------------------------------------------------------
def test_infeasible_trials_are_kept_shown_and_left_off_the_front(storage_url: str) -> None:
    study = make(storage_url, constraints={"mem": ("<=", 8.0), "acc": (">=", 0.0)})
    study.optimize(two_objectives, n_trials=20)
    trials = study.trials
    for t in trials:
        x, n = t.params["x"], t.params["n"]
        assert t.constraint_violations == pytest.approx((2.0 * n - 8.0, 0.05 * n - x))
        assert t.feasible is (2.0 * n <= 8.0 and x - 0.05 * n >= 0.0)
        assert t.state is hs.TrialState.COMPLETE  # infeasible is a result, not a failure
    assert any(not t.feasible for t in trials) and any(t.feasible for t in trials)
    assert all(t.feasible for t in study.best_trials)
    feasible = [t.values for t in trials if t.feasible]
    for t in study.best_trials:
        assert not any(dominated(t.values, other) for other in feasible)  # type: ignore[arg-type]
    rows = study.table()
    assert {"acc", "ms", "feasible", "violation.mem", "violation.acc"} <= set(rows[0])
    assert [r["feasible"] for r in rows] == [t.feasible for t in trials]
    reloaded = hs.load_study("mo", storage=storage_url)
    assert reloaded.constraints == study.constraints
    assert [t.constraint_violations for t in reloaded.trials] == [
        t.constraint_violations for t in trials
    ]


def test_a_constraint_on_a_metric_never_reported_fails_the_trial() -> None:
    study = make(constraints={"gpu_mem_gb": ("<=", 16)})
    study.optimize(lambda t: (0.5, 1.0), n_trials=1)
    (trial,) = study.trials
    assert trial.state is hs.TrialState.FAILED
    assert "constraint gpu_mem_gb <= 16 needs the metric 'gpu_mem_gb'" in (trial.fail_reason or "")
    assert trial.values == (0.5, 1.0)  # what the objective returned is kept


def test_a_nan_constraint_metric_fails_the_trial() -> None:
    study = make(constraints={"mem": ("<=", 16)})
    study.optimize(lambda t: {"acc": 0.5, "ms": 1.0, "mem": float("nan")}, n_trials=1)
    assert "'mem' is NaN" in (study.trials[0].fail_reason or "")


def fits_in_memory(metrics: dict[str, float]) -> list[float]:
    """A function constraint: memory under 6 and latency under 5 (each <= 0 satisfied)."""
    return [metrics["mem"] - 6.0, metrics["ms"] - 5.0]


def test_a_function_constraint_is_stored_by_name_and_needed_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fn.db'}"
    study = make(url, constraints=fits_in_memory)
    study.optimize(two_objectives, n_trials=6)
    for t in study.trials:
        assert t.constraint_violations == pytest.approx(
            (2.0 * t.params["n"] - 6.0, t.values[1] - 5.0)  # type: ignore[index]
        )
    assert "fits_in_memory" in study.constraints.describe()  # type: ignore[union-attr]
    reader = hs.load_study("mo", storage=url)  # reading needs no function
    assert len(reader.best_trials) == len(study.best_trials)
    with pytest.raises(hs.InvalidArgumentError, match="was not given: load the study with"):
        reader.optimize(two_objectives, n_trials=1)
    record = reader.tell(reader.ask(), (0.5, 1.0))  # ask/tell: that trial fails, saying why
    assert "not given to this process" in (record.fail_reason or "")
    worker = hs.load_study("mo", storage=url, constraints=fits_in_memory)
    worker.optimize(two_objectives, n_trials=1)
    assert worker.trials[-1].state is hs.TrialState.COMPLETE
    with pytest.raises(hs.InvalidArgumentError, match="constraints"):
        hs.load_study("mo", storage=url, constraints=lambda m: [0.0])
    from hypersearch.cli import main

    worker_args = ["worker", "mo", "--objective", "test_multiobjective:two_objectives"]
    worker_args += ["--n-trials", "1", "--storage", url]
    assert main(worker_args) == 1  # says what to pass
    assert main([*worker_args, "--constraints", "test_multiobjective:fits_in_memory"]) == 0
    assert study.trials[-1].state is hs.TrialState.COMPLETE


def test_constraints_on_a_single_objective_study() -> None:
    study = hs.create_study(
        space=SPACE, direction="maximize", constraints={"n": ("<=", 4)}, sampler="random", seed=1
    )
    study.optimize(lambda t: {"value": t.params["x"], "n": t.params["n"]}, n_trials=30)
    feasible = [t for t in study.trials if t.params["n"] <= 4]
    assert study.best_trial.feasible and study.best_trial.params["n"] <= 4
    assert study.best_value == max(t.value for t in feasible)  # type: ignore[type-var]
    assert study.best_trials == [study.best_trial]
    everything_infeasible = hs.create_study(space=SPACE, constraints={"n": ("<=", 0)}, seed=0)
    everything_infeasible.optimize(lambda t: {"value": 1.0, "n": t.params["n"]}, n_trials=2)
    with pytest.raises(hs.HypersearchError, match="no feasible completed trial"):
        everything_infeasible.best_trial  # noqa: B018


# resuming, schedulers ----------------------------------------------------------------------------
def test_resume_checks_objectives_and_constraints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    make(url, constraints={"mem": ("<=", 8)})
    again = make(url, constraints={"mem": ("<=", 8)}, load_if_exists=True)
    assert again.objectives == (hs.Objective("acc", "maximize"), hs.Objective("ms", "minimize"))
    with pytest.raises(hs.InvalidArgumentError, match=r"optimizes acc \(maximize\), ms"):
        make(url, directions={"acc": "maximize", "ms": "maximize"}, load_if_exists=True)
    with pytest.raises(hs.InvalidArgumentError, match="optimizes"):
        make(url, directions=None, direction="maximize", metric="acc", load_if_exists=True)
    with pytest.raises(hs.InvalidArgumentError, match="has mem <= 8; got mem <= 16"):
        make(url, constraints={"mem": ("<=", 16)}, load_if_exists=True)
    with pytest.raises(hs.InvalidArgumentError, match="got no constraints"):
        make(url, load_if_exists=True)


class _TwoObjectiveRule(Scheduler):
    """Stops nothing; says it ranks several objectives."""

    supports_multi_objective = True

    def should_stop(self, trial: hs.TrialRecord, trials: Any, study: Any) -> bool:
        assert trial.intermediate_values  # it sees every objective of the curve
        return False


def test_single_objective_schedulers_are_refused_naming_multi_objective_asha(
    tmp_path: Path,
) -> None:
    with pytest.raises(hs.InvalidArgumentError, match="MultiObjectiveASHA"):
        make(scheduler=hs.schedulers.MedianStopping())
    with pytest.raises(hs.InvalidArgumentError, match="MultiObjectiveASHA"):
        make(scheduler="median")
    url = f"sqlite:///{tmp_path / 'load.db'}"
    make(url)
    with pytest.raises(hs.InvalidArgumentError, match="MultiObjectiveASHA"):
        hs.load_study("mo", storage=url, scheduler=hs.schedulers.MedianStopping())
    study = make(name="ok", scheduler=_TwoObjectiveRule())
    study.optimize(two_objectives, n_trials=2)
    assert [t.state for t in study.trials] == [hs.TrialState.COMPLETE] * 2


# old databases -----------------------------------------------------------------------------------
V1 = Path(__file__).parent / "data" / "schema_v1.db"


def test_a_schema_v1_database_upgrades_and_keeps_working(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """tests/data/schema_v1.db was written by hypersearch at commit ef3b907 (schema v1): a
    maximised study with complete, failed, stopped, waiting and manual trials, curves, notes
    and tags, and a minimised one."""
    from hypersearch.cli import main

    path = tmp_path / "v1.db"
    shutil.copy(V1, path)
    with pytest.raises(hs.SchemaVersionError, match="hypersearch upgrade"):
        hs.load_study("digits-v1", storage=str(path))
    assert main(["upgrade", "--storage", str(path)]) == 0
    assert "upgraded schema v1 -> v2" in capsys.readouterr().out
    study = hs.load_study("digits-v1", storage=str(path))
    assert study.objectives == (hs.Objective("val_accuracy", "maximize"),)
    trials = study.trials
    assert [t.state.value for t in trials] == [
        "COMPLETE", "COMPLETE", "FAILED", "STOPPED", "COMPLETE", "WAITING", "COMPLETE"
    ]  # fmt: skip
    assert all(t.values is None and t.constraint_violations is None for t in trials)
    assert trials[0].note == "baseline" and trials[1].tags == ("good",)
    assert trials[0].intermediate == {0: 0.52, 1: 0.62, 2: 0.72}
    assert trials[0].intermediate_values == {} and trials[0].metrics == {"params_m": 3.0}
    assert study.best_value == 0.75 and study.best_trials == [trials[6]]
    study.optimize(lambda t: {"val_accuracy": 0.9, "params_m": 1.0}, n_trials=2)
    assert study.trials[5].source == "enqueued" and study.best_value == 0.9
    assert hs.load_study("loss-v1", storage=str(path)).best_value < 0.05
    added = make(f"sqlite:///{path}", name="now-two-objectives")
    added.optimize(two_objectives, n_trials=3)
    assert len(added.best_trials) >= 1
    assert main(["upgrade", "--storage", str(path)]) == 0
    assert "schema v2 is current" in capsys.readouterr().out


def test_a_schema_v1_postgresql_database_upgrades(postgres_url: str) -> None:
    """The same migration on PostgreSQL: a v1 database (the v2 columns dropped again)."""
    import sqlalchemy as sa

    old = make(postgres_url, name="old", directions=None, direction="maximize")
    old.optimize(lambda t: t.params["x"], n_trials=3)
    old.close()
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        for table, column in (
            ("hs_studies", "objectives"),
            ("hs_studies", "constraints"),
            ("hs_trials", "objective_values"),
            ("hs_trials", "constraint_violations"),
            ("hs_reports", "objective_values"),
        ):
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(sa.text("UPDATE hs_meta SET value = '1' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(hs.SchemaVersionError, match="older than v2"):
        hs.load_study("old", storage=postgres_url)
    before, after = SQLStorage(postgres_url, upgrading=True).upgrade_schema()
    assert (before, after) == (1, 2)
    study = hs.load_study("old", storage=postgres_url)
    assert study.best_value == max(t.params["x"] for t in study.trials)
    make(postgres_url).optimize(two_objectives, n_trials=2)


# the command line --------------------------------------------------------------------------------
def test_cli_best_prints_the_front_and_trials_show_every_objective(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hypersearch.cli import main

    monkeypatch.delenv("COLUMNS", raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    study = make(url, constraints={"mem": ("<=", 10.0)})
    study.optimize(two_objectives, n_trials=15)
    front = study.best_trials
    assert main(["best", "mo", "--storage", url]) == 0
    out = capsys.readouterr().out
    title, header = out.splitlines()[:2]
    assert f"Pareto front, {len(front)} trial" in title and "of 15 completed" in title
    assert "acc (maximize), ms (minimize); subject to mem <= 10" in title
    assert header.split() == ["#", "acc", "ms", "x", "n"]
    rows = [line.split()[0] for line in out.splitlines()[3:]]
    best_acc_first = sorted(front, key=lambda t: -t.values[0])  # type: ignore[index]
    assert rows == [str(t.number) for t in best_acc_first]
    assert main(["best", "mo", "--json", "--storage", url]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["number"] for d in data] == [t.number for t in best_acc_first]
    assert data[0]["values"] == dict(zip(("acc", "ms"), best_acc_first[0].values, strict=True))  # type: ignore[arg-type]
    assert data[0]["params"] == best_acc_first[0].params
    assert main(["trials", "mo", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert "acc (maximize), ms (minimize)" in out.splitlines()[0]
    assert out.splitlines()[1].split()[:4] == ["#", "acc", "ms", "feasible"]
    assert main(["studies", "--storage", url]) == 0
    assert "maximize, minimize" in capsys.readouterr().out
    assert main(["export", "mo", "-o", str(tmp_path / "mo.csv"), "--storage", url]) == 0
    header_line = (tmp_path / "mo.csv").read_text().splitlines()[0]
    assert header_line.startswith("number,state,acc,ms,feasible,violation.mem,")


def test_cli_best_without_a_front_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hypersearch.cli import main

    url = f"sqlite:///{tmp_path / 'none.db'}"
    make(url).optimize(lambda t: 0.5, n_trials=1)  # fails: one number for two objectives
    assert main(["best", "mo", "--storage", url]) == 1
    assert "no completed trial with every objective" in capsys.readouterr().out


def test_studies_list_the_front_size_and_the_best_feasible_value(
    storage_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hypersearch studies`` (and the dashboard's list, from the same summary) shows a
    multi-objective study's front size, and a constrained study's best FEASIBLE value."""
    from hypersearch.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    mo = make(storage_url, constraints={"mem": ("<=", 10.0)})
    mo.optimize(two_objectives, n_trials=12)
    single = hs.create_study(
        "con", space={"x": hs.Float(0, 1)}, metric="loss", sampler="random", seed=0,
        constraints={"x": ("<=", 0.5)}, storage=storage_url,
    )  # fmt: skip
    single.optimize(lambda t: {"loss": 1 - t.params["x"], "x": t.params["x"]}, n_trials=12)
    assert any(not t.feasible for t in single.trials)  # the unconstrained best is infeasible
    summaries = {s.name: s for s in SQLStorage(storage_url).list_studies()}
    assert summaries["mo"].front_size == len(mo.best_trials) > 0
    assert summaries["mo"].best_value is None
    assert summaries["con"].best_value == pytest.approx(single.best_value)  # same floats
    assert summaries["con"].front_size is None
    assert main(["studies", "--storage", storage_url, "--columns", "study,best"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[3:]}
    assert rows["mo"] == ["front", "of", str(len(mo.best_trials))]
    assert rows["con"] == [format_number(single.best_value)]


# parallel workers ------------------------------------------------------------------------------
def test_parallel_workers_keep_every_objective_and_the_function_constraint(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'parallel.db'}"
    study = make(url, constraints=fits_in_memory)
    study.optimize(two_objectives, n_trials=6, n_workers=2)
    trials = study.trials
    assert [t.state for t in trials] == [hs.TrialState.COMPLETE] * 6
    for t in trials:  # each worker process judged the constraint with the same function
        x, n = t.params["x"], t.params["n"]
        assert t.values == pytest.approx((x - 0.05 * n, 1.0 + n * x))
        assert t.constraint_violations == pytest.approx((2.0 * n - 6.0, n * x - 4.0))
        assert sorted(t.intermediate_values) == [0, 1, 2]


def test_checkpoints_of_the_whole_front_are_kept(tmp_path: Path) -> None:
    study = make(f"sqlite:///{tmp_path / 'ckpt.db'}")

    def objective(trial: hs.Trial) -> dict[str, float]:
        trial.save_checkpoint({"x": trial.params["x"]})
        return two_objectives(trial)

    study.optimize(objective, n_trials=12)
    front = {t.number for t in study.best_trials}
    kept = {t.number for t in study.trials if t.attrs.get("checkpoint")}
    assert kept == front and len(front) < 12
    for number in front:
        assert study.artifact_dir.joinpath(str(number)).is_dir()


def test_the_default_sampler_and_multi_objective_asha_run_a_study() -> None:
    study = make(sampler="auto", scheduler="mo_asha", constraints={"mem": ("<=", 12.0)})
    study.optimize(two_objectives, n_trials=14)
    states = {t.state for t in study.trials}
    assert states <= {hs.TrialState.COMPLETE, hs.TrialState.STOPPED}
    assert study.best_trials and all(t.feasible for t in study.best_trials)


def test_trials_dataframe_has_a_column_per_objective_and_the_violations() -> None:
    pytest.importorskip("pandas")
    study = make(constraints={"mem": ("<=", 8.0)})
    study.optimize(two_objectives, n_trials=4)
    frame = study.trials_dataframe()
    assert list(frame.columns[:6]) == ["number", "state", "acc", "ms", "feasible", "violation.mem"]
    assert frame["acc"].tolist() == [t.values[0] for t in study.trials]  # type: ignore[index]
    assert frame["violation.mem"].tolist() == [2.0 * t.params["n"] - 8.0 for t in study.trials]


# trackers ----------------------------------------------------------------------------------------
def test_trackers_log_every_objective(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from hypersearch.integrations.mlflow import MLflowCallback
    from hypersearch.integrations.tensorboard import TensorBoardCallback

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow_cb, tensorboard_cb = MLflowCallback(uri), TensorBoardCallback(tmp_path / "tb")
    study = make(f"sqlite:///{tmp_path / 'hs.db'}")
    study.optimize(two_objectives, n_trials=2, callbacks=[mlflow_cb, tensorboard_cb])
    assert mlflow_cb.flush(timeout=120)
    mlflow_cb.close()
    trials = study.trials
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("mo")
    runs = client.search_runs([experiment.experiment_id], max_results=10)
    by_trial = {
        int(r.data.tags["hypersearch.trial"]): r
        for r in runs
        if "hypersearch.trial" in r.data.tags
    }
    for t in trials:
        metrics = by_trial[t.number].data.metrics
        assert metrics["final/acc"] == pytest.approx(t.values[0])  # type: ignore[index]
        assert metrics["final/ms"] == pytest.approx(t.values[1])  # type: ignore[index]
        history = client.get_metric_history(by_trial[t.number].info.run_id, "ms")
        assert [m.step for m in history] == [0, 1, 2]
    for run in sorted((tmp_path / "tb" / "mo").iterdir()):
        events = EventAccumulator(str(run))
        events.Reload()
        assert {"acc", "ms", "final/acc", "final/ms", "final/mem"} <= set(events.Tags()["scalars"])
