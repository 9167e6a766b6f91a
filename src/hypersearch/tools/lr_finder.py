"""The learning-rate range test: one short run that tells which learning rates train a model.

The rate rises every batch from ``start_lr`` to ``end_lr`` (exponentially by default) while the
loss is recorded; the run stops when the loss diverges, and the model, the optimizer, the
gradients and PyTorch's random state are put back exactly as they were. The suggestion combines
the two usual readings of the curve, each made robust where popular finders are not:

- *steepest descent*: the rate where the smoothed loss falls fastest per decade of rate, measured
  by a local linear fit over several points (a single noisy step cannot win);
- *a tenth of the minimum*: the rate at the lowest smoothed loss, divided by 10.

The suggestion is their geometric mean, never above the minimum's rate / 3. Losses are first
median-filtered (spikes vanish) and then averaged over a centred window, so the curve has no lag;
the first 10 % of the run is ignored (early spikes).

The run stops as soon as the loss has diverged (``divergence``): a NaN or infinite loss, or a
running average of the loss (exponential, weight 0.9 on the past) above ``diverge_factor`` (4)
times its lowest, or back above its level at 10 % of the run after falling below three quarters
of that. Rates past that point only train a broken model, so they are not run.
When the curve gives no trustworthy answer (no clear decrease, or lowest at the very start) the
suggestion is ``None`` and ``reason`` says what to change, instead of an absurd number.

The pieces: ``lr_run`` (the run and its stop rule), ``lr_analysis`` (reading the curve),
``lr_result`` (the result, its plot and ``narrow_space``) and ``lr_cli`` (``hypersearch
lr-find``); every name stays importable from here.

>>> result = lr_find(model, optimizer, nn.CrossEntropyLoss(), train_loader)
>>> result.suggestion, result.reason
>>> result.plot("lr_finder.png"); space = {"lr": result.space(), ...}
"""

from __future__ import annotations

from hypersearch.tools.lr_analysis import analyse as analyse
from hypersearch.tools.lr_cli import add_cli_arguments as add_cli_arguments
from hypersearch.tools.lr_cli import cli_main as cli_main
from hypersearch.tools.lr_cli import lr_find_from_spec
from hypersearch.tools.lr_cli import run_cli as run_cli
from hypersearch.tools.lr_result import ATTR_KEY, LRFinderError, LRFinderResult, narrow_space
from hypersearch.tools.lr_run import divergence, lr_find

__all__ = [
    "ATTR_KEY",
    "LRFinderError",
    "LRFinderResult",
    "divergence",
    "lr_find",
    "lr_find_from_spec",
    "narrow_space",
]
