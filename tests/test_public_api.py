"""The curated public surface: pinned names, a side-effect-free import, and the error tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hypersearch as hs
from hypersearch import exceptions

PUBLIC = [
    "Bool",
    "Choice",
    "Direction",
    "Float",
    "HypersearchError",
    "Int",
    "InvalidArgumentError",
    "InvalidSpaceError",
    "Objective",
    "ParameterConflictError",
    "SchemaVersionError",
    "SearchSpaceExhaustedError",
    "Space",
    "StaleTrialError",
    "StorageError",
    "Study",
    "StudyNotFoundError",
    "TooManyFailuresError",
    "Trial",
    "TrialPruned",
    "TrialRecord",
    "TrialState",
    "__version__",
    "create_study",
    "load_study",
    "report",
    "samplers",
    "schedulers",
    "zoom",
]


def test_all_is_pinned() -> None:
    # Changing the public surface is a decision: update this list, the docs and the changelog.
    assert hs.__all__ == PUBLIC
    assert len(set(hs.__all__)) == len(hs.__all__)


def test_every_public_name_exists() -> None:
    for name in hs.__all__:
        assert getattr(hs, name) is not None, name
    for module in (hs.samplers, hs.schedulers):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_version_is_a_string() -> None:
    assert isinstance(hs.__version__, str)
    assert hs.__version__.count(".") >= 1


def test_documented_entry_points_are_reachable() -> None:
    assert hs.schedulers.MedianStopping.name == "median"
    assert hs.samplers.RandomSampler.name == "random"
    assert callable(hs.samplers.make_sampler) and callable(hs.schedulers.make_scheduler)


def _fresh_import(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


HEAVY = [
    "torch",
    "pandas",
    "sklearn",
    "matplotlib",
    "tensorflow",
    "keras",
    "lightning",
    "ray",
    "optuna",
    "starlette",
    "uvicorn",
    "plotly",
    "jinja2",
]


def test_import_is_light_and_side_effect_free(tmp_path: Path) -> None:
    # One fresh interpreter (importing scipy is the slow part) checks the import, then an
    # in-memory study, for heavy imports, logging set-up, output and files in the cwd.
    code = (
        "import json, logging, os, sys\n"
        "handlers = list(logging.getLogger().handlers)\n"
        "import hypersearch as hs\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "root_changed = logging.getLogger().handlers != handlers\n"
        "own = [type(h).__name__ for h in logging.getLogger('hypersearch').handlers]\n"
        "files_after_import = os.listdir('.')\n"
        "s = hs.create_study(space={'x': hs.Float(0, 1)}, seed=0)\n"
        "s.optimize(lambda t: t.params['x'], n_trials=2)\n"
        "print(json.dumps({'heavy': heavy, 'root_changed': root_changed, 'own': own,\n"
        "                  'files_after_import': files_after_import}))\n"
    )
    result = _fresh_import(code, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["root_changed"] is False
    assert report["own"] == ["NullHandler"]
    assert report["files_after_import"] == []
    assert result.stderr == ""  # a library does not print or log by itself
    assert list(tmp_path.iterdir()) == []  # no database, log or cache file appeared


ERRORS = [
    ("InvalidSpaceError", ValueError),
    ("ParameterConflictError", ValueError),
    ("InvalidArgumentError", ValueError),
    ("StorageError", RuntimeError),
    ("SchemaVersionError", RuntimeError),
    ("StudyNotFoundError", KeyError),
    ("StaleTrialError", RuntimeError),
    ("TooManyFailuresError", RuntimeError),
    ("SearchSpaceExhaustedError", RuntimeError),
    ("DuplicateStudyError", ValueError),
    ("TrialNotFoundError", KeyError),
]


@pytest.mark.parametrize(("name", "builtin"), ERRORS, ids=[n for n, _ in ERRORS])
def test_every_error_is_also_its_builtin_type(name: str, builtin: type[Exception]) -> None:
    cls = getattr(exceptions, name)
    assert issubclass(cls, exceptions.HypersearchError)
    assert issubclass(cls, builtin)
    if name in hs.__all__:
        assert getattr(hs, name) is cls
    error = cls("a readable message")
    assert str(error) == "a readable message"  # KeyError subclasses are not quoted


def test_error_hierarchy_details() -> None:
    assert issubclass(hs.ParameterConflictError, hs.InvalidSpaceError)
    assert issubclass(hs.SchemaVersionError, hs.StorageError)
    assert issubclass(hs.HypersearchError, Exception)
    # TrialPruned is a control-flow signal: not a ValueError/RuntimeError a user might catch.
    assert issubclass(hs.TrialPruned, hs.HypersearchError)
    assert not issubclass(hs.TrialPruned, ValueError | RuntimeError | KeyError)


def test_every_public_error_is_covered() -> None:
    public_errors = {
        n
        for n in hs.__all__
        if isinstance(getattr(hs, n), type) and issubclass(getattr(hs, n), BaseException)
    }
    covered = {n for n, _ in ERRORS} | {"HypersearchError", "TrialPruned"}
    assert public_errors <= covered


def test_errors_raised_in_practice_have_the_builtin_types() -> None:
    with pytest.raises(ValueError):
        hs.Float(1.0, 0.0)
    with pytest.raises(ValueError):
        hs.create_study(direction="up")
    with pytest.raises(KeyError):
        hs.load_study("missing", storage=hs.create_study().storage)
