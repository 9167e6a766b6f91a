"""A Lightning callback that reports to a trial, honours its scheduler and keeps checkpoints.

>>> def objective(trial):
...     cb = HypersearchCallback(trial, monitor="val_acc")
...     trainer = lightning.pytorch.Trainer(max_epochs=20, callbacks=[cb])
...     trainer.fit(model, datamodule=dm, ckpt_path=cb.ckpt_path())   # resumes PBT / promotions
...     return cb.last_value

Each validation end it reports ``trainer.callback_metrics[monitor]`` at step
``trainer.current_epoch + 1`` (epochs completed, as every hypersearch callback does, so
``Hyperband(min_resource=1, max_resource=max_epochs)`` rungs cost exactly their epochs), saves
Lightning's own full checkpoint (model, optimizers, schedulers, loop state) with
``trial.save_checkpoint`` (serialised once, by the study), and sets ``trainer.should_stop`` when
the scheduler says so. The trial's checkpoint replaces Lightning's: the trainer's
``ModelCheckpoint`` callbacks are removed for the fit (no second copy under
``lightning_logs/``); pass ``keep_model_checkpoints=True`` to keep yours. ``ckpt_path()``
writes the trial's checkpoint (its own, or the one it continues from) to a temporary file for
``trainer.fit(ckpt_path=...)``; after the restore, the optimizers get
this trial's hyperparameters back (PBT's new learning rate wins over the donor's).

On a study with several objectives, monitor one logged metric per objective:
``monitor=["val_accuracy", "latency_ms"]`` (logged under the objectives' names) or
``monitor={"val_accuracy": "val_acc", "latency_ms": "latency"}`` (objective -> logged
metric); each epoch reports them together and ``last_value`` is ``{objective: value}``,
which the objective can return as is.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from hypersearch.exceptions import InvalidArgumentError
from hypersearch.integrations.monitor import (
    Monitor,
    check_monitor,
    missing,
    monitored_values,
    reportable,
)
from hypersearch.integrations.torch import apply_hparams, group_hparams
from hypersearch.optional import lazy_import

__all__ = ["HypersearchCallback"]

_pl = lazy_import("lightning.pytorch", hint='pip install "hypersearch[lightning]"')
torch = lazy_import("torch", hint='pip install "hypersearch[torch]"')


def _fresh_optimizers(pl_module: Any) -> list[Any]:
    made = pl_module.configure_optimizers()
    if isinstance(made, torch.optim.Optimizer):
        return [made]
    if isinstance(made, dict):
        return [made["optimizer"]]
    if isinstance(made, list | tuple):
        if len(made) == 2 and isinstance(made[0], list | tuple):
            made = made[0]
        return [o["optimizer"] if isinstance(o, dict) else o for o in made]
    return []


class HypersearchCallback(_pl.Callback):  # type: ignore[name-defined]
    """Report ``monitor`` (a metric, or one per objective) each validation epoch; stop when
    told; checkpoint for resumption."""

    def __init__(
        self,
        trial: Any,
        *,
        monitor: Monitor = "val_loss",
        checkpoint: bool = True,
        keep_model_checkpoints: bool = False,
    ) -> None:
        super().__init__()
        self.trial = trial
        self.monitor = check_monitor(monitor, "HypersearchCallback")
        self.checkpoint = checkpoint
        self.keep_model_checkpoints = keep_model_checkpoints
        self.last_value: float | dict[str, float] | None = None
        self._resuming = False
        self._tmpdir: str | None = None

    # resuming ---------------------------------------------------------------------------
    def ckpt_path(self) -> str | None:
        """A file holding the trial's checkpoint for ``trainer.fit(ckpt_path=...)``, or None."""
        ckpt = self.trial.load_checkpoint()
        if ckpt is None:
            return None
        self._tmpdir = tempfile.mkdtemp(prefix="hypersearch-lightning-")
        path = os.path.join(self._tmpdir, "resume.ckpt")
        torch.save(ckpt, path)
        self._resuming = True
        return path

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if self.keep_model_checkpoints:
            return
        # A new list: Lightning may be iterating over the old one while calling this hook.
        trainer.callbacks = [
            c for c in trainer.callbacks if not isinstance(c, _pl.callbacks.ModelCheckpoint)
        ]

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if not self._resuming:
            return
        fresh = _fresh_optimizers(pl_module)
        for opt, new in zip(trainer.optimizers, fresh, strict=False):
            apply_hparams(opt, group_hparams(new))

    # reporting --------------------------------------------------------------------------
    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        value = monitored_values(self.monitor, metrics)
        if value is None:
            absent = missing(self.monitor, metrics)
            raise InvalidArgumentError(
                f"HypersearchCallback: the metric {absent[0]!r} was not logged; logged "
                f"metrics are {sorted(metrics)}. Call self.log({absent[0]!r}, value) in "
                "validation_step, or pass monitor=... with one of those."
            )
        self.last_value = value
        self.trial.report(reportable(value), step=int(trainer.current_epoch) + 1)
        if self.checkpoint:
            self.trial.save_checkpoint(_lightning_checkpoint(trainer))
        if self.trial.should_stop():
            trainer.should_stop = True


def _lightning_checkpoint(trainer: Any) -> dict[str, Any]:
    """Lightning's full checkpoint as a dict, built in memory (the study serialises it once);
    through a file only on a Lightning without the checkpoint connector."""
    connector = getattr(trainer, "_checkpoint_connector", None)
    dump = getattr(connector, "dump_checkpoint", None)
    if dump is not None:
        return dict(dump(weights_only=False))
    with tempfile.TemporaryDirectory(prefix="hypersearch-lightning-") as tmp:
        path = os.path.join(tmp, "last.ckpt")
        trainer.save_checkpoint(path)
        return dict(torch.load(path, map_location="cpu", weights_only=False))
