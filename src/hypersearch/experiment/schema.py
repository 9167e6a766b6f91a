"""The experiment file: its schema, and validation with line-numbered errors.

An experiment file names a command to run, the space, the strategy, the scheduler, the budget
and the metric. Every key is checked: an unknown key, a wrong type or a bad value is a
``ConfigError`` that says ``file:line: what is wrong and what to write instead``. The full
schema is documented in docs/front-doors.md.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypersearch.exceptions import HypersearchError
from hypersearch.experiment.parse import Expression, OutputParser
from hypersearch.space import Bool, Choice, Float, Int, Param
from hypersearch.yaml_loader import YAMLDocument, load_yaml, load_yaml_file

__all__ = ["PARAMS_VIA", "ExperimentConfig", "load_experiment", "parse_experiment"]

#: How parameters reach the command (any combination).
PARAMS_VIA = ("args", "env", "json")

_TOP_KEYS = {
    "name": "study name (required)",
    "command": "command to run: a string (split like a shell) or a list (required)",
    "workdir": "folder the command runs in (default: the experiment file's folder)",
    "space": "parameters to tune (required)",
    "metric": "name of the reported metric to optimize (required, unless objectives)",
    "parse": "read metrics from the command's own output: {regex: ..., metrics: {...}, step: ...}",
    "direction": "minimize or maximize (required, unless objectives)",
    "objectives": "several metrics at once: {val_accuracy: maximize, latency_ms: minimize}",
    "constraints": "bounds on reported metrics: {gpu_mem_gb: <= 16} (or [<=, 16])",
    "strategy": "sampler name, or {name: ..., options...} (default: auto)",
    "scheduler": "scheduler name, {name: ..., options...} or null (default: null)",
    "budget": "{trials: N, timeout: seconds} (at least one)",
    "seed": "integer seed of the sampler",
    "storage": "database URL (default: --storage, $HYPERSEARCH_STORAGE, sqlite:///hypersearch.db)",
    "params_via": "args, env, json or a list of them (default: args)",
    "env": "extra environment variables for the command",
    "trial_timeout": "seconds one trial may run before it is killed and FAILED",
    "stop_grace": "seconds between SIGTERM and SIGKILL for a stopped trial (default: 10)",
    "max_output": "bytes of each trial's output kept in its log file (default: 1000000)",
    "max_failures": "failed trials in a row that end the run (default: 10)",
}
_PARSE_KEYS = {
    "regex": "a regular expression with named groups, or a list of them (required)",
    "metrics": "name: expression over the named groups, e.g. accuracy: correct / total",
    "step": "the named group that holds the step (default: count the lines, from 1)",
}
#: Parameter names: letters, digits, _ and - (``batch-size`` reaches a script as --batch-size).
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PARAM_KEYS: dict[str, tuple[str, ...]] = {
    "float": ("type", "low", "high", "log", "step", "scale"),
    "int": ("type", "low", "high", "log", "step", "scale"),
    "choice": ("type", "values"),
    "bool": ("type",),
}


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment file."""

    name: str
    command: tuple[str, ...]
    workdir: Path
    space: dict[str, Param]
    metric: str
    direction: str
    strategy: str | dict[str, Any] = "auto"
    scheduler: str | dict[str, Any] | None = None
    n_trials: int | None = None
    timeout: float | None = None
    seed: int | None = None
    storage: str | None = None
    params_via: tuple[str, ...] = ("args",)
    env: dict[str, str] = field(default_factory=dict)
    trial_timeout: float | None = None
    stop_grace: float = 10.0
    max_output: int = 1_000_000
    max_failures: int = 10
    parse: OutputParser | None = None
    source: str = "<string>"
    #: Several objectives (name -> direction, in order); ``metric``/``direction`` hold the
    #: first. ``None`` for a study of one metric.
    objectives: dict[str, str] | None = None
    #: Outcome constraints: metric -> (op, bound).
    constraints: dict[str, tuple[str, float]] | None = None

    @property
    def reported(self) -> tuple[str, ...]:
        """The metrics whose reports make the learning curve: the objective(s)."""
        return tuple(self.objectives) if self.objectives else (self.metric,)


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment file."""
    doc = load_yaml_file(path)
    return parse_experiment(doc, base=Path(path).resolve().parent)


def parse_experiment(doc: YAMLDocument | str, *, base: Path | None = None) -> ExperimentConfig:
    """Validate parsed YAML (or YAML text) against the schema; ``base`` resolves ``workdir``."""
    if isinstance(doc, str):
        doc = load_yaml(doc)
    base = base if base is not None else Path.cwd()
    data = doc.data
    if not isinstance(data, Mapping):
        raise doc.error((), f"an experiment file is a mapping of keys ({', '.join(_TOP_KEYS)})")
    _check_keys(doc, (), data, _TOP_KEYS, "experiment")
    several = "objectives" in data
    for key in ("name", "command", "space", *(() if several else ("metric", "direction"))):
        if key not in data:
            raise doc.error((), f"missing required key {key!r}: {_TOP_KEYS[key]}")
    for key in ("metric", "direction"):
        if several and key in data:
            raise doc.error(
                (key,),
                f"{key} and objectives both given: objectives names every metric and its "
                f"direction, so remove {key}",
            )

    name = _string(doc, ("name",), data["name"])
    command = _command(doc, data["command"])
    workdir = base / _string(doc, ("workdir",), data.get("workdir", "."))
    objectives = _objectives(doc, data["objectives"]) if several else None
    if objectives is not None:
        metric, direction = next(iter(objectives.items()))
    else:
        metric = _string(doc, ("metric",), data["metric"])
        direction = data["direction"]
    if direction not in ("minimize", "maximize"):
        raise doc.error(
            ("direction",), f"direction must be minimize or maximize, got {direction!r}"
        )
    constraints = _constraints(doc, data["constraints"]) if "constraints" in data else None
    space = _space(doc, data["space"])
    strategy = _component(doc, "strategy", data.get("strategy", "auto"), allow_null=False)
    scheduler = _component(doc, "scheduler", data.get("scheduler"), allow_null=True)
    n_trials, timeout = _budget(doc, data.get("budget"))
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise doc.error(("seed",), f"seed must be an integer, got {_show(seed)}")
    storage = data.get("storage")
    if storage is not None:
        storage = _string(doc, ("storage",), storage)
    via = _params_via(doc, data.get("params_via", "args"))
    env = _env(doc, data.get("env", {}))
    trial_timeout = _number(doc, ("trial_timeout",), data.get("trial_timeout"), optional=True)
    stop_grace = _number(doc, ("stop_grace",), data.get("stop_grace", 10.0), zero_ok=True)
    max_output = _positive_int(doc, ("max_output",), data.get("max_output", 1_000_000))
    max_failures = _positive_int(doc, ("max_failures",), data.get("max_failures", 10))
    reported = tuple(objectives) if objectives else (metric,)
    parser = _parse(doc, data["parse"], reported) if "parse" in data else None
    config = ExperimentConfig(
        name=name,
        command=command,
        workdir=workdir,
        space=space,
        metric=metric,
        direction=direction,
        strategy=strategy if strategy is not None else "auto",
        scheduler=scheduler,
        n_trials=n_trials,
        timeout=timeout,
        seed=seed,
        storage=storage,
        params_via=via,
        env=env,
        trial_timeout=trial_timeout,
        stop_grace=float(stop_grace) if stop_grace is not None else 10.0,
        max_output=max_output,
        max_failures=max_failures,
        parse=parser,
        source=doc.source,
        objectives=objectives,
        constraints=constraints,
    )
    _check_components(doc, config)
    return config


# helpers --------------------------------------------------------------------------------
def _show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _dotted(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path)


def _check_keys(
    doc: YAMLDocument, path: tuple[Any, ...], data: Mapping[Any, Any], allowed: Any, what: str
) -> None:
    for key in data:
        if key not in allowed:
            names = [str(k) for k in allowed]
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise doc.error(
                (*path, key),
                f"unknown key {key!r} in {what}{hint}; allowed: {', '.join(names)}",
            )


def _string(doc: YAMLDocument, path: tuple[Any, ...], value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise doc.error(path, f"{_dotted(path)} must be a non-empty string, got {_show(value)}")
    return value


def _number(
    doc: YAMLDocument,
    path: tuple[Any, ...],
    value: Any,
    *,
    optional: bool = False,
    zero_ok: bool = False,
) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(path, f"{_dotted(path)} must be a number of seconds, got {_show(value)}")
    if value < 0 or (value == 0 and not zero_ok):
        raise doc.error(path, f"{_dotted(path)} must be > 0, got {value!r}")
    return float(value)


def _positive_int(doc: YAMLDocument, path: tuple[Any, ...], value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise doc.error(path, f"{_dotted(path)} must be a positive integer, got {_show(value)}")
    return value


def _command(doc: YAMLDocument, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            raise doc.error(("command",), f"command cannot be split like a shell: {exc}") from None
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        parts = [str(v) for v in value]
    else:
        raise doc.error(
            ("command",),
            f"command must be a string or a list of strings, got {_show(value)}",
        )
    if not parts:
        raise doc.error(("command",), "command is empty; name the program to run")
    return tuple(parts)


def _space(doc: YAMLDocument, value: Any) -> dict[str, Param]:
    if not isinstance(value, Mapping) or not value:
        raise doc.error(
            ("space",),
            "space must be a non-empty mapping of name -> parameter, e.g. "
            "lr: {type: float, low: 1e-4, high: 1e-1, log: true}",
        )
    space: dict[str, Param] = {}
    for name, spec in value.items():
        path = ("space", name)
        if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
            raise doc.error(
                path,
                "parameter names are letters, digits, _ and - (not first), e.g. lr or "
                f"batch-size, got {name!r}",
            )
        space[name] = _param(doc, path, spec)
    return space


def _param(doc: YAMLDocument, path: tuple[Any, ...], spec: Any) -> Param:
    if isinstance(spec, list):  # shorthand: a list of options
        spec = {"type": "choice", "values": spec}
        fields: Mapping[str, Any] = spec
    elif isinstance(spec, Mapping):
        fields = spec
    else:
        raise doc.error(
            path,
            f"parameter {path[-1]!r} must be a mapping with a type (float, int, choice, bool) "
            f"or a list of choices, got {_show(spec)}",
        )
    kind = fields.get("type")
    if kind not in _PARAM_KEYS:
        raise doc.error(
            (*path, "type") if "type" in fields else path,
            f"parameter {path[-1]!r} needs type: float, int, choice or bool, got {kind!r}",
        )
    _check_keys(doc, path, fields, _PARAM_KEYS[kind], f"a {kind} parameter")
    for key in ("low", "high") if kind in ("float", "int") else ():
        if key not in fields:
            raise doc.error(path, f"{kind} parameter {path[-1]!r} needs {key}")
    for key in ("log",):
        if key in fields and not isinstance(fields[key], bool):
            raise doc.error((*path, key), f"log must be true or false, got {_show(fields[key])}")
    if kind == "choice":
        values = fields.get("values")
        if not isinstance(values, list):
            raise doc.error(
                (*path, "values") if "values" in fields else path,
                f"choice parameter {path[-1]!r} needs values: a list, got {_show(values)}",
            )
    try:
        if kind == "float":
            return Float(
                fields["low"],
                fields["high"],
                log=fields.get("log", False),
                step=fields.get("step"),
                scale=fields.get("scale"),
            )
        if kind == "int":
            return Int(
                fields["low"],
                fields["high"],
                step=fields.get("step", 1),
                log=fields.get("log", False),
                scale=fields.get("scale"),
            )
        if kind == "choice":
            return Choice(tuple(fields["values"]))
        return Bool()
    except HypersearchError as exc:
        raise doc.error(path, f"parameter {path[-1]!r}: {exc}") from None
    except TypeError as exc:
        raise doc.error(path, f"parameter {path[-1]!r}: {exc}") from None


def _component(
    doc: YAMLDocument, key: str, value: Any, *, allow_null: bool
) -> str | dict[str, Any] | None:
    if value is None and allow_null:
        return None
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return dict(value)
    null = ", null" if allow_null else ""
    raise doc.error(
        (key,), f"{key} must be a name or a mapping with a name{null}, got {_show(value)}"
    )


def _budget(doc: YAMLDocument, value: Any) -> tuple[int | None, float | None]:
    if value is None:
        raise doc.error((), "missing required key 'budget': {trials: N} and/or {timeout: seconds}")
    if not isinstance(value, Mapping):
        raise doc.error(
            ("budget",), f"budget must be a mapping like {{trials: 20}}, got {_show(value)}"
        )
    _check_keys(doc, ("budget",), value, ("trials", "timeout"), "budget")
    if not value:
        raise doc.error(("budget",), "budget needs trials and/or timeout")
    trials = value.get("trials")
    if trials is not None:
        trials = _positive_int(doc, ("budget", "trials"), trials)
    timeout = _number(doc, ("budget", "timeout"), value.get("timeout"), optional=True)
    return trials, timeout


def _objectives(doc: YAMLDocument, value: Any) -> dict[str, str]:
    """``objectives: {val_accuracy: maximize, latency_ms: minimize}``."""
    example = "{val_accuracy: maximize, latency_ms: minimize}"
    if not isinstance(value, Mapping) or len(value) < 2:
        raise doc.error(
            ("objectives",),
            f"objectives must map two or more metric names to minimize or maximize, e.g. "
            f"{example}, got {_show(value)} (one metric: use metric and direction)",
        )
    out = {}
    for key, direction in value.items():
        path = ("objectives", key)
        name = _string(doc, path, key)
        if direction not in ("minimize", "maximize"):
            raise doc.error(
                path, f"objectives.{name} must be minimize or maximize, got {_show(direction)}"
            )
        out[name] = str(direction)
    return out


_BOUND = re.compile(r"^\s*(<=|>=)\s*(\S+)\s*$")


def _constraints(doc: YAMLDocument, value: Any) -> dict[str, tuple[str, float]]:
    """``constraints: {gpu_mem_gb: <= 16}`` (or ``[<=, 16]``)."""
    example = "{gpu_mem_gb: <= 16, latency_ms: [<=, 10]}"
    if not isinstance(value, Mapping) or not value:
        raise doc.error(
            ("constraints",),
            f"constraints must map metric names to a bound, e.g. {example}, got {_show(value)}",
        )
    out = {}
    for key, rule in value.items():
        path = ("constraints", key)
        name = _string(doc, path, key)
        op: Any = None
        bound: Any = None
        if isinstance(rule, str) and (found := _BOUND.match(rule)):
            op, text = found.groups()
            try:
                bound = float(text)
            except ValueError:
                bound = text
        elif isinstance(rule, list) and len(rule) == 2:
            op, bound = rule
        if (
            op not in ("<=", ">=")
            or isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        ):
            raise doc.error(
                path,
                f"constraints.{name} must be '<= number' or '>= number' (or [<=, number]), "
                f"got {_show(rule)}",
            )
        out[name] = (str(op), float(bound))
    return out


def _parse(doc: YAMLDocument, value: Any, reported: tuple[str, ...]) -> OutputParser:
    if not isinstance(value, Mapping):
        raise doc.error(
            ("parse",),
            "parse must be a mapping like {regex: 'Accuracy: (?P<acc>[0-9.]+)'}, got "
            f"{_show(value)}",
        )
    _check_keys(doc, ("parse",), value, _PARSE_KEYS, "parse")
    if "regex" not in value:
        raise doc.error(("parse",), f"parse needs regex: {_PARSE_KEYS['regex']}")
    raw = value["regex"]
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise doc.error(("parse", "regex"), f"parse.regex: {_PARSE_KEYS['regex']}")
    patterns = []
    for i, item in enumerate(items):
        path = ("parse", "regex") if isinstance(raw, str) else ("parse", "regex", i)
        if not isinstance(item, str) or not item:
            raise doc.error(path, f"parse.regex must be a non-empty string, got {_show(item)}")
        try:
            pattern = re.compile(item)
        except re.error as exc:
            raise doc.error(
                path, f"parse.regex {item!r} is not a regular expression: {exc}"
            ) from None
        if not pattern.groupindex:
            raise doc.error(
                path,
                f"parse.regex {item!r} has no named group; name what to read, e.g. "
                "'Accuracy: (?P<accuracy>[0-9.]+)'",
            )
        patterns.append(pattern)
    groups = list(dict.fromkeys(g for p in patterns for g in p.groupindex))
    expressions: dict[str, Expression] = {}
    metrics = value.get("metrics", {})
    if not isinstance(metrics, Mapping):
        raise doc.error(
            ("parse", "metrics"),
            f"parse.metrics must map names to expressions, e.g. {{accuracy: correct / total}}, "
            f"got {_show(metrics)}",
        )
    for name, text in metrics.items():
        path = ("parse", "metrics", name)
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            raise doc.error(path, f"parse.metrics.{name} must be an expression, got {_show(text)}")
        try:
            expressions[str(name)] = Expression.compile(str(text), groups)
        except ValueError as exc:
            raise doc.error(path, f"parse.metrics.{name}: {exc}") from None
    step = value.get("step")
    if step is not None and step not in groups:
        raise doc.error(
            ("parse", "step"),
            f"parse.step must be one of the named groups ({', '.join(groups)}), got {step!r}",
        )
    if step is None and "step" in groups:
        step = "step"  # as in JSON lines: a group named step holds the step
    parser = OutputParser(tuple(patterns), expressions, step)
    for metric in reported:
        if metric not in parser.names:
            raise doc.error(
                ("parse",),
                f"metric {metric!r} is neither a named group of parse.regex "
                f"({', '.join(sorted(set(groups) - {step}))}) nor in parse.metrics; name a group "
                f"(?P<{metric}>...) or add metrics: {{{metric}: <expression>}}",
            )
    return parser


def _params_via(doc: YAMLDocument, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise doc.error(
            ("params_via",),
            f"params_via must be one of {PARAMS_VIA} or a list, got {_show(value)}",
        )
    for i, item in enumerate(items):
        if item not in PARAMS_VIA:
            path = ("params_via",) if isinstance(value, str) else ("params_via", i)
            raise doc.error(path, f"params_via: {item!r} is not one of {', '.join(PARAMS_VIA)}")
    return tuple(dict.fromkeys(items))


def _env(doc: YAMLDocument, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise doc.error(("env",), f"env must be a mapping of NAME: value, got {_show(value)}")
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not k or "=" in k:
            raise doc.error(("env", k), f"env: {k!r} is not a valid variable name")
        if isinstance(v, Mapping | list) or v is None:
            raise doc.error(("env", k), f"env.{k} must be a string or number, got {_show(v)}")
        out[k] = str(v).lower() if isinstance(v, bool) else str(v)
    return out


def _check_components(doc: YAMLDocument, config: ExperimentConfig) -> None:
    """Build the sampler and scheduler once, so a bad name or option points at its line."""
    from hypersearch import samplers, schedulers

    try:
        samplers.make_sampler(config.strategy, seed=config.seed)
    except HypersearchError as exc:
        raise doc.error(("strategy",), f"strategy: {exc}") from None
    try:
        scheduler = schedulers.make_scheduler(config.scheduler)
    except HypersearchError as exc:
        raise doc.error(("scheduler",), f"scheduler: {exc}") from None
    if scheduler is not None and scheduler.requires_checkpoints:
        raise doc.error(
            ("scheduler",),
            f"scheduler {scheduler.name!r} continues trials from checkpoints, which a command "
            "run by an experiment file cannot hand over; use median, asha, hyperband or a "
            "stopping rule",
        )
    if scheduler is not None and config.objectives and not scheduler.supports_multi_objective:
        raise doc.error(
            ("scheduler",),
            f"scheduler {scheduler.name!r} ranks trials by one metric, but objectives names "
            f"{len(config.objectives)}; use a multi-objective scheduler (MultiObjectiveASHA) "
            "or none",
        )
