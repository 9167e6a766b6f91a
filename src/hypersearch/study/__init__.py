"""Studies: a named search, its trials in storage, and the ask/tell kernel that runs them.

One job per module: ``kernel`` (``Study``: ask, tell, run a trial, hand a run to an
executor), ``factory`` (``create_study`` / ``load_study``), ``reading`` (trials, best,
tables, annotations), ``manual`` (``enqueue`` / ``add_trial``), ``proposal`` (a claimed
trial's parameters: history, the scheduler's plan, the sampler), ``hooks`` (what a live trial
calls: define-by-run parameters, reports, checkpoints), ``results`` (reading an objective's
return value), ``history`` (the cached copy of the trials), ``recovery`` (reaping trials of
dead workers) and ``spec`` (``StudySpec``, to open the study in a worker).
"""

from __future__ import annotations

from hypersearch.study.factory import create_study, load_study
from hypersearch.study.kernel import Study
from hypersearch.study.reading import MultiObjectiveError, NoCompletedTrialsError
from hypersearch.study.spec import StudySpec

__all__ = [
    "MultiObjectiveError",
    "NoCompletedTrialsError",
    "Study",
    "StudySpec",
    "create_study",
    "load_study",
]
