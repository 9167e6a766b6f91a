"""The in-process executor: trials one after another in this process (the default for
``n_workers=1``). Ctrl-C or SIGTERM marks the running trial FAILED and re-raises."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypersearch.exceptions import SearchSpaceExhaustedError
from hypersearch.execution.base import Executor, RunOptions, run_policy

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["InProcessExecutor"]

logger = logging.getLogger("hypersearch")


class InProcessExecutor(Executor):
    """Run trials sequentially in the calling process: ask, run the objective, tell."""

    def __repr__(self) -> str:
        return "InProcessExecutor()"

    def run(self, study: Study, objective: Callable[..., Any], options: RunOptions) -> None:
        with run_policy(study, options) as policy:
            while policy.may_start():
                try:
                    trial = study.ask()
                except SearchSpaceExhaustedError as exc:
                    logger.info("%s", exc)
                    break
                policy.started()
                record = study.run_trial(objective, trial, options.catch)
                error = policy.finished(record)
                if error is not None:
                    raise error
