"""The step convention every hypersearch callback follows, in one place.

The step a callback reports is the number of epochs *completed*: 1 after the first epoch,
``max_epochs`` after the last. So ``Hyperband(min_resource=1, max_resource=max_epochs)`` puts
its rungs at exactly the configured epochs and its top rung is the full training. Checkpoints
record the same count as ``"epochs_done"``; a resumed trial starts at that (0-based) epoch.
No framework is imported here.
"""

from __future__ import annotations

from typing import Any

from hypersearch.exceptions import InvalidArgumentError

__all__ = ["epochs_done"]


def epochs_done(ckpt: Any) -> int:
    """Epochs a checkpoint of these callbacks had completed (``"epochs_done"``)."""
    if isinstance(ckpt, dict) and "epochs_done" in ckpt:
        return int(ckpt["epochs_done"])
    raise InvalidArgumentError(
        "This checkpoint has no 'epochs_done' entry: it was not saved by a hypersearch "
        "callback of this version. Start the trial afresh (delete the study's checkpoints)."
    )
