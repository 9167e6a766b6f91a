"""Import Optuna studies: their trials become hypersearch history that any sampler continues.

Optuna's own reader opens the source (its RDB storage on SQLite or PostgreSQL, or its journal
file), so every schema version Optuna can read is readable here. Each Optuna study becomes a
hypersearch study of the same name (or ``into``): distributions become parameters (log, step,
int, categorical), trial states map COMPLETE → COMPLETE, PRUNED → STOPPED, FAIL → FAILED, and
intermediate values become learning curves. A multi-objective Optuna study becomes a
multi-objective study (its metric names, else ``value_0``, ``value_1``...; its directions),
each trial keeping every objective's value. Parameters every trial has are declared in the
study's space; the others stay define-by-run, as they were in Optuna.

An import is idempotent: each trial carries ``attrs["optuna"]`` (study name and trial number),
and a trial imported before is skipped. What cannot be carried over is said in the summary's
``notes``, never dropped silently.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypersearch.exceptions import InvalidArgumentError, StudyNotFoundError
from hypersearch.objectives import Objective
from hypersearch.space import Choice, Float, Int, Param
from hypersearch.storage import Storage, get_storage
from hypersearch.trial import TrialRecord, TrialState

__all__ = ["ImportSummary", "import_optuna"]

_log = logging.getLogger("hypersearch.importers")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_CHUNK = 2000  # trials written per transaction
_STATES = {
    "COMPLETE": TrialState.COMPLETE,
    "PRUNED": TrialState.STOPPED,
    "FAIL": TrialState.FAILED,
}


@dataclass
class ImportSummary:
    """What one Optuna study's import did: counts, and everything not carried over."""

    source_study: str
    study: str
    imported: int = 0
    already_imported: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{self.source_study} -> {self.study}: {self.imported} trial(s) imported"]
        if self.already_imported:
            parts.append(f"{self.already_imported} already there")
        parts += [f"{n} {why} skipped" for why, n in sorted(self.skipped.items())]
        lines = [", ".join(parts)]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _require_optuna() -> Any:
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InvalidArgumentError(
            "Importing Optuna studies needs Optuna itself to read them: "
            "pip install 'hypersearch[optuna]' (or pip install optuna)."
        ) from exc
    return optuna


def open_optuna_storage(source: str) -> Any:
    """Optuna's storage for a URL (``sqlite:///...``, ``postgresql://...``) or a file path:
    a SQLite database file or a journal file (``JournalFileBackend``)."""
    optuna = _require_optuna()
    if not isinstance(source, str) or not source.strip():
        raise InvalidArgumentError(
            f"The Optuna source must be a storage URL or a file path, got {source!r}."
        )
    if source.startswith("sqlite:///") and source != "sqlite:///:memory:":
        file = Path(source[len("sqlite:///") :])
        if not file.is_file():  # Optuna would create an empty database there
            raise InvalidArgumentError(
                f"No Optuna database at {str(file)!r} (from {source!r}): check the path."
            )
    if "://" in source:
        try:
            return optuna.storages.RDBStorage(source, skip_compatibility_check=False)
        except Exception as exc:
            raise InvalidArgumentError(
                f"Could not open the Optuna storage {source!r}: {exc}. Give an Optuna RDB URL "
                "(sqlite:///optuna.db, postgresql://user@host/db) or a journal file's path."
            ) from exc
    path = Path(source)
    if not path.is_file():
        raise InvalidArgumentError(
            f"No Optuna storage at {source!r}: not a URL and no such file. Give an Optuna RDB "
            "URL (sqlite:///optuna.db) or the path of a journal file."
        )
    with path.open("rb") as fh:
        is_sqlite = fh.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    if is_sqlite:
        return open_optuna_storage(f"sqlite:///{path.resolve()}")
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(str(path)))


def import_optuna(
    source: str,
    *,
    studies: Sequence[str] | None = None,
    storage: str | Storage | None = None,
    into: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ImportSummary]:
    """Import Optuna studies from ``source`` (an RDB URL or a journal file) into ``storage``.

    ``studies`` picks studies by name (default: all of them); ``into`` renames the study
    (only with a single study). Run it again after Optuna added trials: only new ones come.
    """
    optuna = _require_optuna()
    optuna_storage = open_optuna_storage(source)
    available = optuna.get_all_study_names(storage=optuna_storage)
    if not available:
        raise StudyNotFoundError(f"The Optuna storage {source!r} holds no study.")
    names = list(available) if studies is None else list(studies)
    missing = [n for n in names if n not in available]
    if missing:
        raise StudyNotFoundError(
            f"No Optuna study named {', '.join(map(repr, missing))} in {source!r}; "
            f"it has {', '.join(map(repr, available))}."
        )
    if into is not None and len(names) != 1:
        raise InvalidArgumentError(
            f"into={into!r} renames one study, but {len(names)} are being imported; "
            "pick one with studies=[...]."
        )
    backend = get_storage(storage)
    summaries = []
    for name in names:
        source_study = optuna.load_study(study_name=name, storage=optuna_storage)
        summary = _import_study(source_study, backend, into or name)
        summaries.append(summary)
        if progress is not None:
            progress(str(summary))
        _log.info("%s", summary)
    return summaries


def _objectives(source_study: Any) -> tuple[Objective, ...]:
    """The Optuna study's objectives: its metric names (``set_metric_names``), else
    ``value`` for one objective and ``value_0``, ``value_1``, ... for several."""
    directions = [d.name.lower() for d in source_study.directions]
    names = list(getattr(source_study, "metric_names", None) or [])
    if len(names) != len(directions):
        names = (
            ["value"] if len(directions) == 1 else [f"value_{i}" for i in range(len(directions))]
        )
    return tuple(Objective(n, d) for n, d in zip(names, directions, strict=True))


def _convert_distribution(dist: Any) -> Param:
    kind = type(dist).__name__
    if kind == "FloatDistribution":
        return Float(dist.low, dist.high, log=bool(dist.log), step=dist.step)
    if kind == "IntDistribution":
        return Int(int(dist.low), int(dist.high), log=bool(dist.log), step=int(dist.step))
    if kind == "CategoricalDistribution":
        return Choice(list(dist.choices))
    raise InvalidArgumentError(f"no hypersearch parameter for Optuna's {kind}")


def _merge(known: Param, new: Param) -> Param | None:
    """One definition covering both, or None when they cannot be merged (different kinds)."""
    if known == new:
        return known
    if isinstance(known, Choice) and isinstance(new, Choice):
        extra = [v for v in new.values if v not in known.values]
        return Choice([*known.values, *extra])
    if isinstance(known, Float) and isinstance(new, Float) and known.scale == new.scale:
        step = known.step if known.step == new.step else None
        low, high = min(known.low, new.low), max(known.high, new.high)
        if step is not None and not math.isclose((high - low) / step, round((high - low) / step)):
            step = None
        return Float(low, high, scale=known.scale, step=step)
    if isinstance(known, Int) and isinstance(new, Int) and known.scale == new.scale:
        step = math.gcd(known.step, new.step, abs(new.low - known.low))
        low, high = min(known.low, new.low), max(known.high, new.high)
        high = low + (high - low) // step * step
        return Int(low, high, step=step, scale=known.scale)
    return None


def _definitions(trials: Sequence[Any], summary: ImportSummary) -> dict[str, Param]:
    """One definition per parameter name, widened over every trial's distribution."""
    defs: dict[str, Param] = {}
    dropped: set[str] = set()
    widened: set[str] = set()
    for t in trials:
        for name, dist in t.distributions.items():
            if name in dropped:
                continue
            try:
                param = _convert_distribution(dist)
            except Exception as exc:
                dropped.add(name)
                defs.pop(name, None)
                summary.notes.append(f"parameter {name!r} skipped: {exc}.")
                continue
            known = defs.setdefault(name, param)
            if known == param:
                continue
            merged = _merge(known, param)
            if merged is None:
                dropped.add(name)
                del defs[name]
                summary.notes.append(
                    f"parameter {name!r} skipped: its trials use different kinds of "
                    f"distribution ({known!r} and {param!r}); the raw values stay in "
                    "attrs['optuna']['params']."
                )
            else:
                defs[name] = merged
                widened.add(name)
    for name in sorted(widened & set(defs)):
        summary.notes.append(
            f"parameter {name!r}: trials used different ranges; imported as {defs[name]!r}."
        )
    return defs


def _value_and_metrics(t: Any, metric_names: Sequence[str]) -> tuple[float | None, dict[str, Any]]:
    values = list(t.values) if t.values is not None else []
    metrics: dict[str, Any] = {}
    for i, v in enumerate(values[1:], start=1):
        key = metric_names[i] if i < len(metric_names) else f"value_{i}"
        metrics[key] = float(v)
    value = float(values[0]) if values else None
    if value is None and t.intermediate_values:  # a pruned trial: its last report
        value = float(t.intermediate_values[max(t.intermediate_values)])
    return value, metrics


def _timestamp(dt: Any) -> float | None:
    return None if dt is None else float(dt.timestamp())


def _import_study(source_study: Any, backend: Storage, name: str) -> ImportSummary:
    import hypersearch as hs

    summary = ImportSummary(source_study=source_study.study_name, study=name)
    objectives = _objectives(source_study)
    several = len(objectives) > 1
    metric_names = [o.name for o in objectives]
    trials = source_study.get_trials(deepcopy=False)
    for state in ("RUNNING", "WAITING"):
        count = sum(1 for t in trials if t.state.name == state)
        if count:
            summary.skipped[f"{state.lower()}"] = count
            summary.notes.append(
                f"{count} {state} trial(s) not imported: they have no result yet; "
                "import again once they finish."
            )
    finished = [t for t in trials if t.state.name in _STATES]
    defs = _definitions(finished, summary)
    everywhere = [n for n in defs if all(n in t.params for t in finished)]
    space = {n: defs[n] for n in everywhere}
    try:
        existing = backend.get_study(name)
    except StudyNotFoundError:
        existing = None
    if existing is not None:
        before = tuple(existing.objectives) or (Objective(existing.metric, existing.direction),)
        if [o.direction for o in before] != [o.direction for o in objectives]:

            def show(objs: Sequence[Objective]) -> str:
                return ", ".join(o.direction for o in objs)

            raise InvalidArgumentError(
                f"A hypersearch study {name!r} already exists with direction(s) "
                f"{show(before)}, but the Optuna study {source_study.study_name!r} has "
                f"{show(objectives)}; import it under another name with into=..."
            )
        objectives = before  # names kept as the first import gave them
    if several and any(t.system_attrs.get("constraints") is not None for t in trials):
        summary.notes.append(
            "Optuna constraint values (system_attrs['constraints']) are kept in "
            "attrs['optuna']; the hypersearch study has no constraints of its own."
        )
    study = hs.create_study(
        name,
        space=space or None,
        directions={o.name: o.direction for o in objectives},
        storage=backend,
        load_if_exists=True,
        allow_changes=True,
    )
    done = {
        t.attrs["optuna"].get("number")
        for t in study.trials
        if isinstance(t.attrs.get("optuna"), Mapping)
        and t.attrs["optuna"].get("study") == source_study.study_name
    }
    study_id = backend.get_study(name).id
    new = [t for t in finished if t.number not in done]
    summary.already_imported = len(finished) - len(new)
    for start in range(0, len(new), _CHUNK):  # each chunk is one transaction: all or none
        chunk = [
            _record(t, defs, metric_names, source_study, several)
            for t in new[start : start + _CHUNK]
        ]
        backend.add_finished_trials(study_id, chunk)
        summary.imported += len(chunk)
        if len(new) > _CHUNK:
            _log.info("%s: %d of %d trials imported", name, summary.imported, len(new))
    if source_study.user_attrs:
        summary.notes.append(
            f"study user attributes not carried over: {sorted(source_study.user_attrs)}."
        )
    return summary


def _record(
    t: Any, defs: Mapping[str, Param], metric_names: Sequence[str], src: Any, several: bool
) -> TrialRecord:
    state = _STATES[t.state.name]
    values: tuple[float, ...] | None = None
    metrics: dict[str, Any]
    if several:  # every objective, raw, in order (as the Optuna trial has them)
        value, metrics = None, {}
        raw = list(t.values) if t.values is not None else []
        if len(raw) == len(metric_names) and all(math.isfinite(float(v)) for v in raw):
            values = tuple(float(v) for v in raw)
    else:
        value, metrics = _value_and_metrics(t, metric_names)
    params = {k: v for k, v in t.params.items() if k in defs}
    optuna_info: dict[str, Any] = {"study": src.study_name, "number": t.number}
    if t.system_attrs:
        optuna_info["system_attrs"] = _jsonable(dict(t.system_attrs))
    unmapped = {k: v for k, v in t.params.items() if k not in defs}
    if unmapped:
        optuna_info["params"] = _jsonable(unmapped)
    attrs = {**_jsonable(dict(t.user_attrs)), "optuna": optuna_info}
    fail_reason = None
    if state is TrialState.FAILED:
        fail_reason = str(t.system_attrs.get("fail_reason") or "failed in Optuna")
        value = values = None
    elif several and state is TrialState.COMPLETE and values is None:
        state = TrialState.FAILED  # complete without every objective: nothing to rank
        fail_reason = f"imported from Optuna without a finite value for each objective: {t.values}"
    if value is not None and not math.isfinite(value):
        value = None
    curve = {int(s): float(v) for s, v in t.intermediate_values.items()}
    started = _timestamp(t.datetime_start)
    return TrialRecord(
        number=-1,
        state=state,
        params=params,
        distributions={k: defs[k] for k in params},
        value=value,
        metrics=metrics,
        intermediate=curve,
        source="optuna",
        attrs=attrs,
        fail_reason=fail_reason,
        created_at=started,
        started_at=started,
        finished_at=_timestamp(t.datetime_complete),
        values=values,
    )


def _jsonable(obj: Any) -> Any:
    """Attributes as JSON can hold them: containers kept, anything else as its repr."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else repr(obj)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return repr(obj)
