"""Trial checkpoints: ``trial.save_checkpoint(obj)`` / ``trial.load_checkpoint()``.

A checkpoint is one pickled object per trial (the latest save wins), written atomically to
the study's artifact folder: ``<db file>.artifacts/<study folder>/<trial number>/checkpoint.pkl``
for SQLite files, ``$HYPERSEARCH_ARTIFACTS/<study folder>/...`` when that variable is set, or a
temporary folder for in-memory studies (``study.artifact_dir = path`` overrides all three).
Storage keeps the reference in the trial's ``attrs["checkpoint"]`` (file relative to the
artifact folder, step, size), so every worker and the CLI find it.

The study folder is the study's name when that is already a plain, short, lower-case file
name (``mnist-cnn``); any other name gets a cleaned, shortened form plus ``~`` and a hash of
the exact name (``exp/1`` -> ``exp_1~3b1f...``), so two studies never share a folder (not
even on a case-insensitive disk) and a long name never exceeds the file-name limit.
Checkpoints written by older versions under the plain cleaned name are still read from there.

Checkpoints are deleted as soon as nothing can need them: after each finished trial the study
keeps those of running trials, of trials a running or future trial continues from (the
scheduler's ``needed_checkpoints``: PBT donors, promotions) and of the ``keep_checkpoints`` best
completed trials; every other one goes, so disk use stays bounded.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import HypersearchError
from hypersearch.objectives import best_ranked, pareto_front
from hypersearch.trial import TrialRecord

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = [
    "CheckpointError",
    "artifact_root",
    "cleanup",
    "default_artifact_dir",
    "load",
    "save",
    "study_folder",
    "temporary_artifact_dir",
]

logger = logging.getLogger("hypersearch")

FILE = "checkpoint.pkl"


class CheckpointError(HypersearchError, RuntimeError):
    """A checkpoint is missing, unreadable, or needed but never saved."""


#: Longest study folder name (the file system's limit is 255 bytes per name).
_MAX_FOLDER = 80


def _safe(name: str) -> str:
    """The folder name earlier versions used: every character outside [A-Za-z0-9_.-]
    replaced, so different names could share it (``exp/1``, ``exp 1``, ``exp_1``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "_"


def study_folder(name: str) -> str:
    """A folder name only this study name maps to: the name itself when it is a plain,
    lower-case file name of at most 80 characters, else a cleaned prefix, ``~`` (which no
    plain name holds) and 12 hex digits of the name's SHA-256."""
    if re.fullmatch(r"[a-z0-9_-][a-z0-9_.-]*", name) and len(name) <= _MAX_FOLDER:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    cleaned = re.sub(r"[^a-z0-9_.-]", "_", name.lower())[:_MAX_FOLDER].lstrip(".")
    return f"{cleaned or '_'}~{digest}"


def _base(storage_url: str) -> Path | None:
    """The folder that holds every study's folder (None: the study is in memory)."""
    env = os.environ.get("HYPERSEARCH_ARTIFACTS")
    if env:
        return Path(env)
    if storage_url.startswith("sqlite"):
        import sqlalchemy as sa

        database = sa.engine.make_url(storage_url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            return Path(database + ".artifacts")
    return None


def default_artifact_dir(name: str, storage_url: str) -> Path | None:
    """Where study ``name`` keeps its artifacts unless told otherwise: under
    ``$HYPERSEARCH_ARTIFACTS`` or beside its SQLite file; ``None`` for a study in memory."""
    base = _base(storage_url)
    return None if base is None else base / study_folder(name)


def temporary_artifact_dir(name: str) -> Path:
    """A new temporary folder for the artifacts of study ``name`` (a study in memory)."""
    return Path(tempfile.mkdtemp(prefix="hypersearch-artifacts-")) / study_folder(name)


def artifact_root(study: Study) -> Path:
    """The folder that holds this study's artifacts (created on first use only)."""
    return study.artifact_dir


def _legacy_root(study: Study) -> Path | None:
    """Where earlier versions kept this study's checkpoints, when that differs (never for a
    study whose artifact folder was set elsewhere)."""
    base = _base(study.storage_url)
    if base is None or _safe(study.name) == study_folder(study.name):
        return None
    if study.artifact_dir != base / study_folder(study.name):
        return None
    return base / _safe(study.name)


def save(study: Study, number: int, obj: Any, step: int | None) -> dict[str, Any]:
    """Pickle ``obj`` as trial ``number``'s checkpoint (atomically); return the reference.
    A folder deleted meanwhile (someone cleaned the artifacts) is made again; a full disk
    is a ``CheckpointError`` that says what to do, and the previous checkpoint is kept."""
    folder = artifact_root(study) / str(number)
    for attempt in range(5):
        try:
            size = _write(folder, obj)
            break
        except (FileNotFoundError, FileExistsError):  # the folder vanished mid-way (mkdir
            if attempt == 4:  # saw it, then it was gone; or gone before the write)
                raise
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise CheckpointError(
                f"No space left for the checkpoint of trial {number} in {folder} (the disk or "
                "quota is full); its previous checkpoint is kept. Free space there, or point "
                "study.artifact_dir (or $HYPERSEARCH_ARTIFACTS) at a disk with room."
            ) from None
    return {"file": f"{number}/{FILE}", "step": step, "bytes": size}


def _write(folder: Path, obj: Any) -> int:
    """Write ``obj`` to ``folder/checkpoint.pkl`` through a temporary file; return its size."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pkl")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / FILE)
        return (folder / FILE).stat().st_size
    except BaseException:
        with _quiet():
            os.unlink(tmp)
        raise


def load(study: Study, record: TrialRecord) -> Any:
    """The object trial ``record`` saved; ``CheckpointError`` when it has none on disk."""
    ref = record.attrs.get("checkpoint")
    if not ref:
        raise CheckpointError(
            f"Trial {record.number} has no checkpoint: its objective never called "
            "trial.save_checkpoint(...)."
        )
    path = artifact_root(study) / str(ref["file"])
    legacy = _legacy_root(study)
    if not path.exists() and legacy is not None and (legacy / str(ref["file"])).exists():
        path = legacy / str(ref["file"])  # written by an older version
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        raise CheckpointError(
            f"The checkpoint of trial {record.number} ({path}) is gone; it was deleted or the "
            "artifact folder moved (set study.artifact_dir or $HYPERSEARCH_ARTIFACTS)."
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(
            f"The checkpoint of trial {record.number} ({path}) cannot be read: "
            f"{type(exc).__name__}: {exc}. The file is damaged (a full disk, a copy cut short) "
            "or was pickled by other code; delete it (the trial then starts from scratch) or "
            "restore it from a backup."
        ) from None


def cleanup(study: Study, trials: Sequence[TrialRecord] | None = None) -> list[int]:
    """Delete the checkpoints nothing can need any more; return the trial numbers cleaned."""
    if trials is None:
        trials = study.trials
    with_ckpt = [t for t in trials if t.attrs.get("checkpoint")]
    if not with_ckpt:
        return []
    keep: set[int] = set()
    for t in trials:
        if not t.state.is_finished:  # running or waiting: its own and its source
            keep.add(t.number)
            source = t.attrs.get("resume_from")
            if source is not None:
                keep.add(int(source))
    if study.scheduler is not None:
        keep |= study.scheduler.needed_checkpoints(trials)
    if study.is_multi_objective:  # every trade-off on the Pareto front may be the one chosen
        keep |= {t.number for t in pareto_front(trials, study.directions)}
    best = best_ranked(trials, study.direction)
    keep |= {t.number for t in best[: study.keep_checkpoints]}
    removed = []
    root = artifact_root(study)
    for t in with_ckpt:
        if t.number in keep:
            continue
        shutil.rmtree(root / str(t.number), ignore_errors=True)
        study.set_attrs(t.number, {"checkpoint": None})
        removed.append(t.number)
    if removed:
        logger.debug("Deleted checkpoints of trials %s (no longer needed).", removed)
    return removed


def disk_usage(study: Study) -> int:
    """Bytes in this study's artifact folder."""
    root = artifact_root(study)
    if not root.exists():
        return 0
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True
