"""Reproducible parallel runs: trial n is proposed from trials 0..n-k only (k = workers).

Whatever order workers finish in, trial n then sees the same history, so a seeded study
proposes the same parameters under the same numbers every time. The price: a worker whose
trial n needs trial n-k waits for it to finish (measured in bench/RESULTS-parallel.md).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypersearch.study import Study

__all__ = ["wait_for_history"]


def wait_for_history(study: Study, upto: int, *, poll_s: float = 0.01) -> None:
    """Block until every trial numbered ``<= upto`` is finished (COMPLETE, STOPPED, FAILED).

    Lost workers' trials are reaped meanwhile, so a dead worker cannot block the others
    for longer than the study's grace period.
    """
    if upto < 0:
        return
    storage = study.storage
    delay = poll_s
    while True:
        pending = [
            n for _, n, st in storage.trial_states(study.id) if n <= upto and not st.is_finished
        ]
        if not pending:
            return
        study.reap_lost_trials(force=False)
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
