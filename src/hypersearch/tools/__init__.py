"""Training-loop tools: the LR range test, diagnostics, gradient check and top-k ensembles.

None of them imports PyTorch until it runs, so ``import hypersearch.tools`` is cheap.

>>> from hypersearch.tools import lr_find, narrow_space, Diagnostics, gradcheck, Ensemble
"""

from __future__ import annotations

from hypersearch.tools.diagnostics import Diagnostics
from hypersearch.tools.ensemble import Ensemble, EnsembleError
from hypersearch.tools.gradcheck import GradCheckReport, gradcheck
from hypersearch.tools.lr_finder import LRFinderError, LRFinderResult, lr_find, narrow_space

__all__ = [
    "Diagnostics",
    "Ensemble",
    "EnsembleError",
    "GradCheckReport",
    "LRFinderError",
    "LRFinderResult",
    "gradcheck",
    "lr_find",
    "narrow_space",
]
