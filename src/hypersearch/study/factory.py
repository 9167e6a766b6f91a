"""Opening a study: ``create_study`` (new, or resumed with the same settings, refusing drift
with a diff) and ``load_study`` (as it was created), both returning a ``Study``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypersearch.direction import Direction
from hypersearch.exceptions import DuplicateStudyError, InvalidArgumentError, StudyNotFoundError
from hypersearch.objectives import Constraints, Objective, parse_directions
from hypersearch.samplers import Sampler, make_sampler, with_seed
from hypersearch.schedulers import Scheduler, make_scheduler
from hypersearch.space import Param, Space, param_from_dict
from hypersearch.storage import Storage, get_storage, open_existing_storage
from hypersearch.storage.sql import check_name
from hypersearch.study.kernel import Study, check_multi_objective_scheduler

__all__ = ["create_study", "load_study"]

logger = logging.getLogger("hypersearch")


def _study_config(sampler: Sampler, scheduler: Scheduler | None) -> dict[str, Any]:
    return {
        "sampler": sampler.config(),
        "seed": sampler.seed,
        "scheduler": None if scheduler is None else scheduler.config(),
    }


def create_study(
    name: str | None = None,
    *,
    space: Mapping[str, Param] | Space | None = None,
    direction: str | None = None,
    metric: str | None = None,
    directions: Mapping[str, str] | None = None,
    constraints: Mapping[str, tuple[str, float]] | Callable[..., Any] | Constraints | None = None,
    sampler: str | Sampler | None = "auto",
    scheduler: str | Scheduler | None = None,
    storage: str | Storage | None = None,
    seed: int | None = None,
    load_if_exists: bool = False,
    allow_changes: bool = False,
) -> Study:
    """Create a study (or, with ``load_if_exists``, resume the one of that name).

    One objective: ``direction`` ("minimize", the default, or "maximize") of ``metric``
    (the objective's return value, or that key of the dict it returns). Several:
    ``directions={"val_accuracy": "maximize", "latency_ms": "minimize"}``; the objective
    then returns a dict with each name (or a tuple in that order) and ``study.best_trials``
    is the Pareto front. ``constraints={"gpu_mem_gb": ("<=", 16)}`` (or a function of the
    metrics returning violations, <= 0 satisfied) keeps infeasible trials out of the best.

    A resumed study must use the same objectives, constraints, space and sampler as before;
    a difference in space or sampler is refused with a diff unless ``allow_changes=True``.

    >>> study = hs.create_study("digits", space=space, direction="maximize",
    ...                         storage="sqlite:///hypersearch.db", seed=0)
    """
    objectives = _objectives_argument(direction, metric, directions)
    direction, metric = objectives[0].direction, objectives[0].name
    the_constraints = Constraints.parse(constraints)
    the_space = Space(space)
    if name is None:
        if storage is not None:
            raise InvalidArgumentError(
                "A study kept in storage needs a name, so it can be loaded later: "
                "create_study('my-study', storage=...)."
            )
        name = f"study-{uuid.uuid4().hex[:8]}"
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"A study name must be a non-empty string, got {name!r}.")
    check_name(name, "study name")
    check_name(metric, "metric name")
    backend = get_storage(storage)
    the_sampler = make_sampler(sampler, seed=seed)
    the_scheduler = make_scheduler(scheduler)
    if len(objectives) > 1 and the_scheduler is not None:
        check_multi_objective_scheduler(the_scheduler, objectives)
    try:
        record = backend.get_study(name)
    except StudyNotFoundError:
        record = None
    if record is not None and not load_if_exists:
        raise DuplicateStudyError(
            f"A study named {name!r} already exists in {backend.url}. Pass load_if_exists=True "
            "to resume it, use hs.load_study, or choose another name."
        )
    if seed is not None:  # seed= also seeds a sampler object built without one
        the_sampler = with_seed(the_sampler, seed)
    stored_seed = None if record is None else dict(record.config).get("seed")
    if stored_seed is not None and not the_sampler.seed_given:
        # Resuming without a seed keeps the stored one (a fresh random seed would be drift).
        the_sampler = with_seed(the_sampler, stored_seed)
    config = _study_config(the_sampler, the_scheduler)
    if record is None:
        try:
            record = backend.create_study(
                name,
                direction=direction,
                metric=metric,
                space=the_space.to_dict(),
                config=config,
                objectives=objectives,
                constraints=None if the_constraints is None else the_constraints.to_stored(),
            )
        except DuplicateStudyError:
            if not load_if_exists:
                raise
            # Another worker created it a moment ago: resume it like any existing study.
            return create_study(
                name,
                space=the_space,
                directions={o.name: o.direction for o in objectives},
                constraints=the_constraints,
                sampler=sampler,
                scheduler=scheduler,
                storage=backend,
                seed=seed,
                load_if_exists=True,
                allow_changes=allow_changes,
            )
    else:
        _check_goal(record, objectives, the_constraints)
        _check_drift(record, direction, metric, the_space, config, allow_changes)
        if allow_changes:
            backend.update_study(record.id, space=the_space.to_dict(), config=config)
    study = Study(
        name=name,
        storage=backend,
        study_id=record.id,
        direction=direction,
        metric=metric,
        space=the_space,
        sampler=the_sampler,
        scheduler=the_scheduler,
        objectives=objectives,
        constraints=the_constraints,
    )
    logger.info("Study %r in %s uses the %s.", name, backend.url, the_sampler.describe())
    study.reap_lost_trials()
    return study


def _objectives_argument(
    direction: str | None, metric: str | None, directions: Mapping[str, str] | None
) -> tuple[Objective, ...]:
    """The study's objectives from ``direction``/``metric`` or from ``directions``."""
    if directions is None:
        direction = Direction.parse("minimize" if direction is None else direction)
        metric = "value" if metric is None else metric
        if not isinstance(metric, str) or not metric:
            raise InvalidArgumentError(f"metric must be a non-empty name, got {metric!r}.")
        return (Objective(metric, direction),)
    given = [k for k, v in (("direction", direction), ("metric", metric)) if v is not None]
    if given:
        raise InvalidArgumentError(
            f"create_study got directions= and {' and '.join(f'{k}=' for k in given)}: "
            "directions names every objective and its direction, so leave "
            f"{' and '.join(given)} out (one objective: directions={{'val_loss': 'minimize'}} "
            "or direction='minimize', metric='val_loss')."
        )
    return parse_directions(directions)


def _check_goal(
    record: Any, objectives: Sequence[Objective], constraints: Constraints | None
) -> None:
    """A resumed study keeps what it optimises: its objectives and its constraints."""
    stored = tuple(record.objectives) or (Objective(record.metric, record.direction),)
    if stored != tuple(objectives):

        def show(objs: Sequence[Objective]) -> str:
            return ", ".join(f"{o.name} ({o.direction})" for o in objs)

        raise InvalidArgumentError(
            f"Study {record.name!r} optimizes {show(stored)}; got {show(objectives)}. Use a "
            "new study for different objectives."
        )
    before = Constraints.from_stored(record.constraints, None)
    if before != constraints:

        def describe(c: Constraints | None) -> str:
            return "no constraints" if c is None else c.describe()

        raise InvalidArgumentError(
            f"Study {record.name!r} has {describe(before)}; got {describe(constraints)}. "
            "Resume with the same constraints (a changed constraint would judge old and new "
            "trials differently), or use a new study."
        )


def _check_drift(
    record: Any,
    direction: str,
    metric: str,
    space: Space,
    config: Mapping[str, Any],
    allow_changes: bool,
) -> None:
    if record.direction != direction or record.metric != metric:  # (_check_goal said more)
        raise InvalidArgumentError(
            f"Study {record.name!r} optimizes {record.metric!r} ({record.direction}); "
            f"got {metric!r} ({direction}). Use a new study for a different objective."
        )
    if allow_changes:
        return
    stored_space = Space.from_dict(record.space or {})
    diff = stored_space.diff(space)
    old = dict(record.config)
    changes = [f"space {line}" for line in diff]
    for key in ("sampler", "seed", "scheduler"):
        if old.get(key) != config.get(key):
            changes.append(f"{key}: {old.get(key)!r} -> {config.get(key)!r}")
    if changes:
        raise InvalidArgumentError(
            f"Study {record.name!r} was created with other settings:\n  "
            + "\n  ".join(changes)
            + "\nResume with the same settings (hs.load_study reuses them), or pass "
            "allow_changes=True to switch."
        )


def load_study(
    name: str,
    *,
    storage: str | Storage,
    sampler: str | Sampler | None = None,
    scheduler: str | Scheduler | None = None,
    constraints: Callable[..., Any] | None = None,
) -> Study:
    """Open an existing study, with the space, sampler (and seed), objectives and
    constraints it was created with, so a resumed search proposes exactly what an
    uninterrupted one would have. A study whose constraint is a function needs it again
    as ``constraints=`` to run trials (functions are not stored, only their names).

    >>> study = hs.load_study("digits", storage="sqlite:///hypersearch.db")
    """
    # Loading never creates a database: a mistyped path is an error, not a new empty file.
    backend = open_existing_storage(storage) if isinstance(storage, str) else get_storage(storage)
    record = backend.get_study(name)
    config = dict(record.config)
    the_sampler = make_sampler(
        sampler if sampler is not None else config.get("sampler"), seed=config.get("seed")
    )
    if config.get("seed") is not None and not the_sampler.seed_given:
        the_sampler = with_seed(the_sampler, config["seed"])  # an object built without one
    the_scheduler = make_scheduler(scheduler if scheduler is not None else config.get("scheduler"))
    the_constraints = Constraints.from_stored(record.constraints, constraints)
    if constraints is not None:
        given = Constraints.parse(constraints)
        if given != the_constraints:
            stored = "none" if the_constraints is None else the_constraints.describe()
            raise InvalidArgumentError(
                f"Study {name!r} has the constraints {stored}; load_study(constraints=...) "
                f"got {given.describe() if given is not None else None}. Pass the function "
                "the study was created with."
            )
    study = Study(
        name=name,
        storage=backend,
        study_id=record.id,
        direction=record.direction,
        metric=record.metric,
        space=Space({k: param_from_dict(v) for k, v in (record.space or {}).items()}),
        sampler=the_sampler,
        scheduler=the_scheduler,
        objectives=record.objectives or None,
        constraints=the_constraints,
    )
    study.reap_lost_trials()
    return study
