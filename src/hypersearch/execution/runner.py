"""What a run in other processes (local workers, Ray tasks) needs, checked before anything
starts: storage every worker can open, an objective that can be sent to another process, a
script guarded by ``if __name__ == "__main__":``. ``shareable_spec`` returns the study's spec.
"""

from __future__ import annotations

import ast
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.storage import SQLStorage

if TYPE_CHECKING:
    from hypersearch.study import Study, StudySpec

__all__ = ["check_main_guard", "check_objective", "shareable_spec"]


def check_objective(objective: Callable[..., Any], where: str) -> None:
    """Refuse, with what to do, an objective that cannot be sent to another process."""
    qualname = getattr(objective, "__qualname__", "") or ""
    name = getattr(objective, "__name__", type(objective).__name__)
    fix = (
        "Define it with `def` at the top level of a module (for a script, guard the run with "
        "`if __name__ == '__main__':`), or use n_workers=1."
    )
    if "<lambda>" in qualname:
        raise InvalidArgumentError(
            f"The objective is a lambda; {where} runs it in other processes, which need to "
            f"import it by name. {fix}"
        )
    if "<locals>" in qualname:
        raise InvalidArgumentError(
            f"The objective {qualname!r} is defined inside a function (a closure); {where} "
            f"runs it in other processes, which need to import it by name. {fix}"
        )
    try:
        pickle.dumps(objective)
    except Exception as exc:
        raise InvalidArgumentError(
            f"The objective {name!r} cannot be sent to a worker process ({exc}). {fix}"
        ) from None


def check_main_guard(where: str) -> None:
    """Refuse to start worker processes from a script whose study runs at its top level,
    outside ``if __name__ == "__main__":``: each worker process imports the script again
    (the "spawn" start method), so each would start its own study run, and so on."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py") or not os.path.isfile(path):
        return  # a notebook, python -c, a frozen program: nothing is re-run
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_globals is vars(main) and frame.f_code.co_name == "<module>"
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return  # not called from the script's top level (a thread, a callback)
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return
    guards = [n for n in ast.walk(tree) if isinstance(n, ast.If) and _is_main_test(n.test)]
    if any(n.lineno <= line <= (n.end_lineno or n.lineno) for n in guards):
        return
    raise InvalidArgumentError(
        f"{where} starts worker processes, and each one imports {path} again; its study run "
        f"(File \"{path}\", line {line}) is not under `if __name__ == '__main__':`, so "
        "every worker would start a run of its own. Move the code that runs the study "
        "under that guard:\n\n    if __name__ == '__main__':\n        study.optimize(...)\n"
    )


def _is_main_test(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    values = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def shareable_spec(study: Study, where: str = "n_workers > 1") -> StudySpec:
    """The study's spec, once sure every worker can open its storage and receive its
    sampler, scheduler and constraints."""
    storage = study.storage
    if not isinstance(storage, SQLStorage):
        raise InvalidArgumentError(
            f"Parallel workers need a SQL storage they can all open, got {type(storage).__name__}."
        )
    if storage.in_memory:
        raise InvalidArgumentError(
            f"{where} needs a storage all workers can open, but this study is in memory. "
            "Pass storage='sqlite:///study.db' (one machine) or 'postgresql://...' (many) to "
            "create_study."
        )
    for label, obj in (
        ("sampler", study.sampler),
        ("scheduler", study.scheduler),
        ("constraints", study.constraints),
    ):
        try:
            pickle.dumps(obj)
        except Exception as exc:
            raise InvalidArgumentError(
                f"The study's {label} {obj!r} cannot be sent to a worker process ({exc})."
            ) from None
    return study.to_spec()
