"""The scheduler interface: from reported learning curves, decide whether a trial goes on.

Schedulers decide *when* (continue, stop, pause for a later trial to continue from its
checkpoint); samplers decide *what*. A scheduler never sees the study: each hook receives a
frozen ``SchedulerContext`` (the trials, the space, the directions) and returns what it decided;
the study writes it. The simple interface is one method, ``should_stop``; multi-fidelity
schedulers also use the hooks below:

- ``plan(number, ctx)`` runs when a trial starts: it may fix some parameters (BOHB's model,
  PBT's explore step) and attach attributes (Hyperband bracket, the step a continued trial
  starts at, the trial whose checkpoint it continues from).
- ``decide(trial, ctx)`` runs after every report and returns a ``Decision``, or a ``Verdict``
  when the trial should also be annotated (ASHA's ``paused_at``).
- ``needed_checkpoints(trials)`` names the finished trials whose checkpoint a future trial may
  still read (PBT donors, promotions); the study deletes the other checkpoints.

The study calls the hooks through ``consult`` and ``plan_trial``. Hooks written in the v1
shape, ``should_stop(self, trial, trials, study)`` and so on, still run (with a
``DeprecationWarning``), the context standing in for the study; and every hook still answers a
v1-shaped call ``scheduler.decide(trial, trials, study)``.
"""

from __future__ import annotations

import enum
import functools
import inspect
import warnings
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypersearch.direction import Direction
from hypersearch.exceptions import InvalidArgumentError
from hypersearch.space import Space
from hypersearch.trial import TrialRecord

__all__ = [
    "Decision",
    "Scheduler",
    "SchedulerContext",
    "TrialPlan",
    "Verdict",
    "consult",
    "decision_of",
    "plan_trial",
]


class Decision(enum.StrEnum):
    """What a scheduler says after a report.

    CONTINUE: train on. STOP: hopeless, end as STOPPED. PAUSE: the trial's segment is done
    (PBT); it ends as STOPPED and a later trial continues its lineage from its checkpoint.
    """

    CONTINUE = "continue"
    STOP = "stop"
    PAUSE = "pause"


@dataclass(frozen=True)
class Verdict:
    """A decision and the annotations the study writes on the trial with it (e.g.
    ``{"paused_at": 9}``): a scheduler returns them rather than writing through the study."""

    decision: Decision
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialPlan:
    """What a scheduler decides for a trial that starts: parameters it fixes (the sampler
    proposes the rest) and attributes stored with the trial (``bracket``, ``start_step``,
    ``resume_from``, ``schedule``, ...). ``claim``: a key only one trial of the study may
    hold (``"promote:12"``); when another worker's trial took it first, the study plans
    again with that trial in the history, so parallel workers never duplicate the work."""

    params: Mapping[str, Any] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)
    claim: str | None = None


@dataclass(frozen=True)
class SchedulerContext:
    """What a scheduler may read when it decides: the study's trials, its space and directions."""

    #: Every trial of the study, as last read (the one decided about included).
    trials: Sequence[TrialRecord]
    space: Space
    #: One per objective, in study order: each a ``Direction`` (a str, "minimize"/"maximize").
    directions: tuple[str, ...]
    #: Annotations a v1 hook's nested v2 call returned; ``consult`` hands them on.
    _pending: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = tuple(
            Direction.parse(d, name="SchedulerContext.directions") for d in self.directions
        )
        object.__setattr__(self, "directions", parsed)

    @property
    def direction(self) -> Direction:
        """The single objective's direction."""
        if len(self.directions) != 1:
            raise InvalidArgumentError(
                f"SchedulerContext.direction: this study has {len(self.directions)} objectives "
                f"{self.directions}; read ctx.directions (one per objective) instead."
            )
        return Direction.parse(self.directions[0])

    def __getattr__(self, name: str) -> Any:
        # Only reached for a missing attribute: most likely a v1 hook using the study it was
        # given (study.set_attrs, study.trials, ...). Say what to do instead.
        raise AttributeError(
            f"SchedulerContext has no attribute {name!r}: scheduler hooks receive a context "
            "(ctx.trials, ctx.space, ctx.direction, ctx.directions), not the study. To annotate "
            "the trial, return Verdict(decision, attrs={...}) from decide(); see "
            "docs/schedulers.md, 'Writing a scheduler'."
        )


def decision_of(outcome: Decision | Verdict | str) -> Decision:
    """The decision in what ``decide`` returned (a ``Decision`` or a ``Verdict``)."""
    return outcome.decision if isinstance(outcome, Verdict) else Decision(outcome)


class Scheduler(ABC):
    """Base class. ``should_stop(trial, ctx)`` runs after every ``trial.report``."""

    name: ClassVar[str] = "scheduler"
    #: True when the scheduler cannot work unless the objective saves checkpoints (PBT).
    requires_checkpoints: ClassVar[bool] = False
    #: True when the scheduler ranks trials by several objectives (a multi-objective study
    #: refuses schedulers without it).
    supports_multi_objective: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _adapt_hooks(cls)

    @abstractmethod
    def should_stop(self, trial: TrialRecord, ctx: SchedulerContext) -> bool:
        """True to stop ``trial`` now, given its curve and every trial in ``ctx``."""

    def decide(self, trial: TrialRecord, ctx: SchedulerContext) -> Decision | Verdict:
        """The decision after a report; by default ``should_stop`` as STOP or CONTINUE."""
        return Decision.STOP if self.should_stop(trial, ctx) else Decision.CONTINUE

    def reacts_to(self, step: int, previous: int | None, attrs: Mapping[str, Any]) -> bool:
        """False when a report at ``step`` (after ``previous``) cannot change the decision, so
        the study need not read the history (rung schedulers decide only at rungs)."""
        return True

    def plan(self, number: int, ctx: SchedulerContext) -> TrialPlan | None:
        """Called when trial ``number`` starts; ``None`` leaves everything to the sampler."""
        return None

    def needed_checkpoints(self, trials: Sequence[TrialRecord]) -> set[int]:
        """Numbers of finished trials whose checkpoint a future trial may read."""
        return set()

    def config(self) -> dict[str, Any]:
        return {"name": self.name}


def consult(scheduler: Scheduler, trial: TrialRecord, ctx: SchedulerContext) -> Verdict:
    """Ask ``scheduler`` about ``trial`` after a report; the study applies the verdict (ends
    the trial unless CONTINUE, writes ``verdict.attrs`` on it)."""
    outcome = scheduler.decide(trial, ctx)
    if isinstance(outcome, Verdict):
        verdict = outcome
    else:
        try:
            verdict = Verdict(Decision(outcome))
        except ValueError:
            raise TypeError(
                f"{type(scheduler).__name__}.decide returned {outcome!r}; return a Decision "
                "(hypersearch.schedulers.Decision.STOP, ...) or a Verdict(decision, attrs)."
            ) from None
    if ctx._pending:  # annotations from a v1 hook's call into a v2 one
        verdict = Verdict(verdict.decision, {**ctx._pending, **verdict.attrs})
        ctx._pending.clear()
    return verdict


def plan_trial(scheduler: Scheduler, number: int, ctx: SchedulerContext) -> TrialPlan | None:
    """Ask ``scheduler`` for the plan of trial ``number`` as it starts (``None``: no plan)."""
    plan = scheduler.plan(number, ctx)
    if plan is not None and not isinstance(plan, TrialPlan):
        raise TypeError(
            f"{type(scheduler).__name__}.plan returned {plan!r}; return a "
            "hypersearch.schedulers.TrialPlan(params=..., attrs=...) or None."
        )
    return plan


# The v1 hook shape (deprecated) ------------------------------------------------------------
# v1 hooks took ``(first, trials, study)``; v2 hooks take ``(first, ctx)``. Every hook a
# subclass defines is wrapped so that it answers both call shapes: a v2 hook called the v1
# way gets a context built from (trials, study) and answers as v1 did (its verdict's attrs
# written through the study); a v1 hook called the v2 way gets (ctx.trials, ctx) and a
# DeprecationWarning, once per class and hook.

_HOOKS = {"should_stop": "trial", "decide": "trial", "plan": "number"}
_warned: weakref.WeakKeyDictionary[type, set[str]] = weakref.WeakKeyDictionary()


def _adapt_hooks(cls: type) -> None:
    for name in _HOOKS:
        func = cls.__dict__.get(name)
        if inspect.isfunction(func) and not getattr(func, "_hs_hook", False):
            setattr(cls, name, _adapt(name, func))


def _is_v1(func: Callable[..., Any]) -> bool:
    """A hook that takes ``(first, trials, study)`` after ``self``: three required arguments,
    or a parameter named ``study``."""
    params = list(inspect.signature(func).parameters.values())[1:]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in positional and p.default is p.empty]
    return len(required) >= 3 or any(p.name == "study" for p in params)


def _context_from(trials: Sequence[TrialRecord], study: Any) -> SchedulerContext:
    """A context for a v1-shaped call: ``study`` is a Study (or another context)."""
    directions = getattr(study, "directions", None) or (study.direction,)
    space = getattr(study, "space", None)
    return SchedulerContext(
        trials=trials,
        space=space if space is not None else Space({}),
        directions=tuple(directions),
    )


def _split_v1(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any] | None:
    """``(trials, study)`` when the arguments after the first are the v1 shape, else None."""
    if len(args) == 2 and not kwargs:
        return args[0], args[1]
    if "study" in kwargs or "trials" in kwargs:
        rest = dict(zip(("trials", "study"), args, strict=False))
        rest.update(kwargs)
        return rest["trials"], rest["study"]
    return None


def _adapt(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    if _is_v1(func):

        @functools.wraps(func)
        def v1_hook(self: Scheduler, first: Any, *args: Any, **kwargs: Any) -> Any:
            if _split_v1(args, kwargs) is not None:
                return func(self, first, *args, **kwargs)  # already the v1 shape
            ctx = args[0] if args else kwargs["ctx"]
            _warn_v1(type(self), name)
            return func(self, first, ctx.trials, ctx)

        v1_hook._hs_hook = True  # type: ignore[attr-defined]
        return v1_hook

    @functools.wraps(func)
    def hook(self: Scheduler, first: Any, *args: Any, **kwargs: Any) -> Any:
        old = _split_v1(args, kwargs)
        if old is None:
            return func(self, first, *args, **kwargs)
        trials, study = old
        if not isinstance(study, SchedulerContext):  # (inside a v1 hook: warned about that)
            _warn_once(type(self), f"call:{name}", _v1_call_message(type(self), name), 3)
        out = func(self, first, _context_from(trials, study))
        if name != "decide" or not isinstance(out, Verdict):
            return out
        if out.attrs:  # a v1 caller expects the scheduler to have written them
            if isinstance(study, SchedulerContext):
                study._pending.update(out.attrs)
            else:
                study.set_attrs(first.number, dict(out.attrs))
        return out.decision

    hook._hs_hook = True  # type: ignore[attr-defined]
    return hook


def _warn_v1(cls: type, name: str) -> None:
    first = _HOOKS[name]
    _warn_once(
        cls,
        name,
        f"{cls.__name__}.{name}(self, {first}, trials, study) has the v1 scheduler hook "
        f"shape, which is deprecated: define {name}(self, {first}, ctx) and read "
        "ctx.trials, ctx.space, ctx.direction (or ctx.directions); to annotate a trial, "
        "return Verdict(decision, attrs={...}) from decide() instead of calling "
        "study.set_attrs. It still runs, with the context in place of the study "
        "(docs/schedulers.md, 'Writing a scheduler').",
    )


def _v1_call_message(cls: type, name: str) -> str:
    first = _HOOKS[name]
    call = (
        "consult(scheduler, trial, ctx)"
        if name != "plan"
        else "plan_trial(scheduler, number, ctx)"
    )
    return (
        f"{cls.__name__}().{name}({first}, trials, study) is the v1 call shape, which is "
        f"deprecated: call {name}({first}, ctx) or hypersearch.schedulers.{call}, with ctx = "
        "SchedulerContext(trials=trials, space=study.space, directions=study.directions). "
        "It still works, and writes a decision's annotations through the study."
    )


def _warn_once(cls: type, key: str, message: str, stacklevel: int = 4) -> None:
    """A DeprecationWarning, once per class and ``key``; ``stacklevel`` 4 points at the
    hook's caller when called from the hook through one helper."""
    given = _warned.setdefault(cls, set())
    if key in given:
        return
    given.add(key)
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel)


_adapt_hooks(Scheduler)
