"""The PyTorch loop, Lightning and Keras 3 (torch backend) callbacks on a study with several
objectives: each epoch reports every monitored metric, in a real SQLite study, with real
training on small data."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import hypersearch as hs  # noqa: E402

pytestmark = pytest.mark.torch
torch.set_num_threads(1)

EPOCHS = 3
DIRECTIONS = {"val_accuracy": "maximize", "val_loss": "minimize"}


def blobs(n: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) + 2.0 * nn.functional.one_hot(y, 4).float()
    return x, y


def study_on(tmp_path: Path, name: str) -> hs.Study:
    return hs.create_study(
        name,
        space={"lr": hs.Float(1e-3, 0.3, log=True)},
        directions=DIRECTIONS,
        sampler="random",
        seed=0,
        storage=f"sqlite:///{tmp_path / 'mo.db'}",
    )


def assert_every_objective_every_epoch(study: hs.Study, n_trials: int) -> None:
    trials = study.trials
    assert len(trials) == n_trials
    for t in trials:
        assert t.state is hs.TrialState.COMPLETE, t.fail_reason
        assert sorted(t.intermediate_values) == list(range(1, EPOCHS + 1))
        for step, (acc, loss) in t.intermediate_values.items():
            assert 0 <= acc <= 1 and loss > 0
            assert t.intermediate[step] == acc  # the first objective's curve
        assert t.values is not None and t.values == t.intermediate_values[EPOCHS]
    assert study.best_trials


def test_torch_loop_reports_every_objective(tmp_path: Path) -> None:
    from hypersearch.integrations.torch import TorchTrialLoop

    x, y = blobs()
    saved: list[int] = []  # epochs_done of each trial's checkpoint

    def objective(trial: hs.Trial) -> Any:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"])
        loop = TorchTrialLoop(trial, model, opt)
        for _ in loop.epochs(EPOCHS):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                out = model(x)
                acc = float((out.argmax(1) == y).float().mean())
                val_loss = float(nn.functional.cross_entropy(out, y))
            if trial.number == 0:
                loop.report({"val_accuracy": acc, "val_loss": val_loss})
            else:
                loop.report((acc, val_loss))  # a tuple in the study's order
        saved.append(trial.load_checkpoint()["epochs_done"])
        return loop.last_value

    study = study_on(tmp_path, "torch")
    study.optimize(objective, n_trials=2, show_progress=False)
    assert_every_objective_every_epoch(study, 2)
    assert saved == [EPOCHS, EPOCHS]


def lightning_module(pl: Any) -> Any:
    class Net(pl.LightningModule):
        def __init__(self, lr: float) -> None:
            super().__init__()
            self.lr = lr
            self.net = nn.Linear(4, 3)

        def training_step(self, batch, _):  # type: ignore[no-untyped-def]
            return nn.functional.cross_entropy(self.net(batch[0]), batch[1])

        def validation_step(self, batch, _):  # type: ignore[no-untyped-def]
            out = self.net(batch[0])
            self.log("val_acc", (out.argmax(1) == batch[1]).float().mean())
            self.log("val_loss", nn.functional.cross_entropy(out, batch[1]))

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.SGD(self.parameters(), lr=self.lr)

    return Net


def test_lightning_callback_reports_every_monitored_metric(tmp_path: Path) -> None:
    pl = pytest.importorskip("lightning.pytorch")
    from hypersearch.integrations.lightning import HypersearchCallback

    x, y = blobs()
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    net = lightning_module(pl)

    def trainer(cb: HypersearchCallback) -> Any:
        return pl.Trainer(
            max_epochs=EPOCHS,
            callbacks=[cb],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
            num_sanity_val_steps=0,
        )

    def objective(trial: hs.Trial) -> Any:
        torch.manual_seed(0)
        # objective -> logged metric: the accuracy is logged as "val_acc"
        cb = HypersearchCallback(
            trial, monitor={"val_accuracy": "val_acc", "val_loss": "val_loss"}
        )
        trainer(cb).fit(net(trial.params["lr"]), data, data, ckpt_path=cb.ckpt_path())
        assert isinstance(cb.last_value, dict)
        return cb.last_value

    study = study_on(tmp_path, "lightning")
    study.optimize(objective, n_trials=2, show_progress=False)
    assert_every_objective_every_epoch(study, 2)

    # a monitored metric that was never logged fails the trial, naming it
    def unlogged(trial: hs.Trial) -> Any:
        cb = HypersearchCallback(trial, monitor=["val_accuracy", "val_loss"])
        trainer(cb).fit(net(0.1), data, data)
        return cb.last_value

    study.optimize(unlogged, n_trials=1, show_progress=False)
    failed = study.trials[-1]
    assert failed.state is hs.TrialState.FAILED
    assert "'val_accuracy' was not logged" in (failed.fail_reason or "")


def test_keras_callback_reports_every_monitored_metric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.environ.get("KERAS_BACKEND", "torch") != "torch":
        pytest.skip("needs KERAS_BACKEND=torch")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was imported with another backend")
    from hypersearch.integrations.keras import HypersearchKerasCallback

    x, y = (t.numpy() for t in blobs())
    saved: list[int] = []  # epochs_done of each trial's checkpoint

    def objective(trial: hs.Trial) -> Any:
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(trial.params["lr"]),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        cb = HypersearchKerasCallback(trial, monitor=["val_accuracy", "val_loss"])
        model.fit(
            x, y, validation_data=(x, y), epochs=EPOCHS, initial_epoch=cb.resume(model),
            callbacks=[cb], verbose=0, batch_size=32,
        )  # fmt: skip
        assert cb.best_value is None and sorted(cb.curve) == [1, 2, 3]
        saved.append(trial.load_checkpoint()["epochs_done"])
        return cb.last_value

    study = study_on(tmp_path, "keras")
    study.optimize(objective, n_trials=2, show_progress=False)
    assert_every_objective_every_epoch(study, 2)
    assert saved == [EPOCHS, EPOCHS]


@pytest.mark.parametrize(
    "monitor",
    ["", [], {}, ["val_loss", "val_loss"], {"val_accuracy": ""}, [1, 2], 3],
)
def test_a_bad_monitor_names_the_forms_it_takes(monitor: Any) -> None:
    pytest.importorskip("lightning.pytorch")
    from hypersearch.integrations.lightning import HypersearchCallback

    trial = hs.create_study(directions=DIRECTIONS).ask()
    with pytest.raises(hs.InvalidArgumentError, match="monitor"):
        HypersearchCallback(trial, monitor=monitor)


def test_report_transform_needs_a_single_monitored_metric(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if os.environ.get("KERAS_BACKEND", "torch") != "torch":
        pytest.skip("needs KERAS_BACKEND=torch")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from hypersearch.integrations.keras import HypersearchKerasCallback

    trial = hs.create_study(directions=DIRECTIONS).ask()
    with pytest.raises(hs.InvalidArgumentError, match="report_transform"):
        HypersearchKerasCallback(
            trial, monitor=["val_accuracy", "val_loss"], report_transform=lambda e, v: v
        )


def test_infinite_monitored_values_are_reported_as_nan() -> None:
    from hypersearch.integrations.monitor import reportable

    out = reportable({"val_accuracy": 0.5, "val_loss": math.inf})
    assert isinstance(out, dict) and out["val_accuracy"] == 0.5 and math.isnan(out["val_loss"])
