"""A process's copy of a study's trials, kept up to date by reading only what can have changed
(finished trials never change), so proposing a trial stays cheap with thousands of them."""

from __future__ import annotations

import bisect
import time

from hypersearch.storage import Storage
from hypersearch.trial import TrialRecord

__all__ = ["KnownTrials"]


class KnownTrials:
    """A process's copy of a study's trials, refreshed by reading only what can have changed.

    Finished records do not change, so they are kept and never read again. ``after`` is the
    highest number seen finished: new trials are numbered above every existing one, which
    includes that finished trial, so a refresh reads the trials above ``after`` plus the
    ones at or below it last seen unfinished. One case escapes that rule: a claim that
    computed its number before a trial below ``after`` was deleted (a RUNNING trial that
    never started) may reuse that number. Every ``resync_s`` a narrow read of all numbers
    catches such a trial.
    """

    resync_s = 30.0

    def __init__(self) -> None:
        self.finished: list[TrialRecord] = []  # by number
        self.after = -1
        self.unfinished_below: list[int] = []  # numbers <= after last seen unfinished
        self.synced_at = time.monotonic()

    def refresh(
        self, storage: Storage, study_id: int, exclude: int | None = None
    ) -> list[TrialRecord]:
        """Every trial of the study (but the one with id ``exclude``), by number, as storage
        has it now."""
        if time.monotonic() - self.synced_at > self.resync_s:
            self._resync(storage, study_id)
        fresh = storage.get_trials_after(study_id, self.after, self.unfinished_below)
        live = []
        for record in fresh:
            if record.state.is_finished:
                self._keep(record)
            elif record.id != exclude:
                live.append(record)
        self.unfinished_below = [r.number for r in live if r.number <= self.after]
        if exclude is not None:  # the excluded trial may be one at or below ``after``
            self.unfinished_below += [
                r.number for r in fresh if r.id == exclude and r.number <= self.after
            ]
        out = list(self.finished)
        for record in live:  # few: the running and waiting trials
            bisect.insort(out, record, key=_number)
        return out

    def _resync(self, storage: Storage, study_id: int) -> None:
        """Re-read trials at or below ``after`` that this copy has never seen."""
        known = {r.number for r in self.finished}.union(self.unfinished_below)
        self.unfinished_below += [
            n for _, n, _ in storage.trial_states(study_id) if n <= self.after and n not in known
        ]
        self.synced_at = time.monotonic()

    def _keep(self, record: TrialRecord) -> None:
        if not self.finished or record.number > self.finished[-1].number:
            self.finished.append(record)  # the usual case: finished in number order
        else:
            bisect.insort(self.finished, record, key=_number)
        self.after = max(self.after, record.number)


def _number(record: TrialRecord) -> int:
    return record.number
