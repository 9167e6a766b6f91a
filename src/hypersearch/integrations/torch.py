"""A PyTorch training-loop helper that connects any hand-written loop to a study.

``TorchTrialLoop`` resumes from the trial's checkpoint (its own, or the one a scheduler
continues it from: PBT exploit, Hyperband/ASHA promotion), yields the epochs still to train,
reports the monitored value each epoch, saves a checkpoint, and ends the loop when the
scheduler says stop.

The step reported is the number of epochs completed (1 after the first epoch), as in every
hypersearch callback, so ``Hyperband(min_resource=1, max_resource=max_epochs)`` rungs cost
exactly their configured epochs and the top rung is the full training.

>>> def objective(trial):
...     model = build(trial.params)
...     opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"])
...     loop = TorchTrialLoop(trial, model, opt)
...     for epoch in loop.epochs(20):
...         train_one_epoch(model, opt)
...         loop.report(evaluate(model))       # reports, saves a checkpoint, honours should_stop
...     return loop.last_value

On a study with several objectives, report them together: ``loop.report({"val_accuracy":
acc, "latency_ms": ms})`` (or a tuple in the study's order); ``last_value`` is then that dict
(or tuple), which the objective can return as is.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.integrations.steps import epochs_done
from hypersearch.optional import lazy_import

__all__ = ["TorchTrialLoop", "apply_hparams", "epochs_done", "group_hparams"]

torch = lazy_import("torch", hint='pip install "hypersearch[torch]"')

#: Optimizer settings taken from the optimizer as built for *this* trial when a checkpoint is
#: loaded, so PBT's new parameters win over the donor's (the donor's buffers are kept).
_HPARAMS = ("lr", "momentum", "weight_decay", "betas", "eps", "dampening", "alpha", "initial_lr")


def group_hparams(optimizer: Any) -> list[dict[str, Any]]:
    """The hyperparameters (not the state) of each of ``optimizer``'s param groups."""
    return [{k: g[k] for k in _HPARAMS if k in g} for g in optimizer.param_groups]


def apply_hparams(optimizer: Any, hparams: list[dict[str, Any]]) -> None:
    for g, h in zip(optimizer.param_groups, hparams, strict=False):
        g.update(h)


class TorchTrialLoop:
    """Epoch loop bookkeeping for one trial: resume, report, checkpoint, stop.

    ``lr_scheduler`` (any object with ``state_dict``/``load_state_dict``) is checkpointed too.
    ``checkpoint=False`` turns saving off; ``checkpoint_every`` saves every n-th epoch (the last
    reported epoch before a stop is always saved).
    """

    def __init__(
        self,
        trial: Any,
        model: Any,
        optimizer: Any = None,
        *,
        lr_scheduler: Any = None,
        checkpoint: bool = True,
        checkpoint_every: int = 1,
    ) -> None:
        if not isinstance(model, torch.nn.Module):
            raise InvalidArgumentError(f"TorchTrialLoop needs a torch.nn.Module, got {model!r}.")
        if (
            isinstance(checkpoint_every, bool)
            or not isinstance(checkpoint_every, int)
            or (checkpoint_every < 1)
        ):
            raise InvalidArgumentError(
                f"checkpoint_every must be an integer >= 1, got {checkpoint_every!r}."
            )
        self.trial = trial
        self.model = model
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.epoch = 0
        self.last_value: float | dict[str, float] | tuple[float, ...] | None = None
        self.stopped = False
        self.resumed_from: int | None = None  # epochs the loaded checkpoint had completed

    # checkpoints -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model.state_dict(), "epochs_done": self.epoch + 1}
        if self.optimizer is not None:
            out["optimizer"] = self.optimizer.state_dict()
        if self.lr_scheduler is not None:
            out["lr_scheduler"] = self.lr_scheduler.state_dict()
        return out

    def load_state(self, ckpt: dict[str, Any]) -> None:
        """Load a checkpoint made by ``state()``; this trial's optimizer settings are kept."""
        self.model.load_state_dict(ckpt["model"])
        if self.optimizer is not None and "optimizer" in ckpt:
            mine = group_hparams(self.optimizer)
            self.optimizer.load_state_dict(ckpt["optimizer"])
            apply_hparams(self.optimizer, mine)
        if self.lr_scheduler is not None and "lr_scheduler" in ckpt:
            self.lr_scheduler.load_state_dict(ckpt["lr_scheduler"])
        self.resumed_from = epochs_done(ckpt)

    def resume(self) -> int:
        """Load the trial's checkpoint if there is one; return the first epoch to train
        (0-based: the number of epochs the checkpoint had completed; 0 without one)."""
        ckpt = self.trial.load_checkpoint() if hasattr(self.trial, "load_checkpoint") else None
        if ckpt is None:
            return 0
        self.load_state(ckpt)
        return epochs_done(ckpt)

    # the loop ---------------------------------------------------------------------------
    def epochs(self, max_epochs: builtins.int) -> Iterator[builtins.int]:
        """Yield the epochs to train, from where the trial resumes to ``max_epochs - 1``;
        stop early when a report made the scheduler stop the trial."""
        start = self.resume()
        for epoch in range(start, max_epochs):
            if self.stopped:
                return
            self.epoch = epoch
            yield epoch

    def report(
        self,
        value: float | Mapping[str, float] | Sequence[float],
        *,
        save: bool | None = None,
    ) -> bool:
        """Report ``value`` (several objectives: a dict or a tuple of every objective) at step
        ``epoch + 1`` (epochs completed), checkpoint, and return ``should_stop()``."""
        self.trial.report(value, step=self.epoch + 1)
        if isinstance(value, Mapping):
            self.last_value = {str(k): float(v) for k, v in value.items()}
        elif isinstance(value, Sequence) and not isinstance(value, str):
            self.last_value = tuple(float(v) for v in value)
        else:
            self.last_value = float(value)
        self.stopped = bool(self.trial.should_stop())
        due = (self.epoch + 1) % self.checkpoint_every == 0 or self.stopped
        if self.checkpoint and (save if save is not None else due):
            self.trial.save_checkpoint(self.state())
        return self.stopped
