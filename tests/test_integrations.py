"""Callbacks for PyTorch loops, Lightning and Keras 3 (torch backend) with real studies."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import hypersearch as hs  # noqa: E402

pytestmark = pytest.mark.torch
torch.set_num_threads(1)


def blobs(n: int = 128, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) + 2.0 * nn.functional.one_hot(y, 4).float()
    return x, y


# -- PyTorch loop -----------------------------------------------------------------------------
def torch_objective(seen: list[dict]):  # type: ignore[no-untyped-def]
    from hypersearch.integrations.torch import TorchTrialLoop

    x, y = blobs()

    def objective(trial: hs.Trial) -> float:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"], momentum=0.9)
        loop = TorchTrialLoop(trial, model, opt)
        for _ in loop.epochs(6):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loop.report(float((model(x).argmax(1) == y).float().mean()))
        seen.append(
            {
                "number": trial.number,
                "start": trial.start_step,
                "resumed_from": loop.resumed_from,
                "lr_used": opt.param_groups[0]["lr"],
                "lr_param": trial.params["lr"],
                "has_momentum": bool(opt.state),
            }
        )
        return loop.last_value  # type: ignore[return-value]

    return objective


def test_torch_loop_with_pbt_resumes_from_checkpoints_with_new_params():
    seen: list[dict] = []
    study = hs.create_study(
        space={"lr": hs.Float(1e-3, 1e-1, log=True)},
        direction="maximize",
        scheduler=hs.schedulers.PBT(population_size=2, interval=2, max_resource=6, seed=0),
        seed=0,
    )
    study.optimize(torch_objective(seen), n_trials=6)
    resumed = [s for s in seen if s["start"] > 0]
    assert resumed, seen
    for s in resumed:
        assert s["resumed_from"] == s["start"] - 1  # the donor's epochs: its last step
        assert s["lr_used"] == pytest.approx(s["lr_param"])  # PBT's value, not the donor's
        assert s["has_momentum"]
    assert any(t.attrs.get("checkpoint") for t in study.trials)


def test_torch_loop_stops_when_scheduler_says_and_fresh_start():
    from hypersearch.integrations.torch import TorchTrialLoop

    study = hs.create_study(direction="maximize")
    trial = study.ask()
    model = nn.Linear(4, 3)
    loop = TorchTrialLoop(trial, model, torch.optim.SGD(model.parameters(), lr=0.1))
    done = []
    for epoch in loop.epochs(10):
        done.append(epoch)
        trial._stop_requested = False
        if epoch == 3:
            trial.should_stop = lambda: True  # type: ignore[method-assign]
        loop.report(0.5)
    assert done == [0, 1, 2, 3] and loop.stopped and loop.resumed_from is None
    assert sorted(study.get_trial(trial.number).intermediate) == [1, 2, 3, 4]  # epochs done
    ckpt = trial.load_checkpoint()
    assert ckpt["epochs_done"] == 4 and set(ckpt) == {"model", "optimizer", "epochs_done"}
    with pytest.raises(hs.InvalidArgumentError):
        TorchTrialLoop(trial, "model")


# -- Keras 3 on the torch backend -------------------------------------------------------------
def test_keras_callback_reports_checkpoints_and_resumes(monkeypatch):
    if os.environ.get("KERAS_BACKEND", "torch") != "torch":
        pytest.skip("needs KERAS_BACKEND=torch")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was imported with another backend")
    from hypersearch.integrations.keras import HypersearchKerasCallback

    x, y = (t.numpy() for t in blobs())

    def build(lr: float):  # type: ignore[no-untyped-def]
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    study = hs.create_study(direction="maximize")
    trial = study.ask()
    model = build(0.01)
    cb = HypersearchKerasCallback(trial, monitor="val_accuracy")
    start = cb.resume(model)
    assert start == 0
    model.fit(
        x,
        y,
        validation_data=(x, y),
        epochs=3,
        initial_epoch=start,
        callbacks=[cb],
        verbose=0,
        batch_size=32,
    )
    assert sorted(study.get_trial(trial.number).intermediate) == [1, 2, 3]
    ckpt = trial.load_checkpoint()
    assert ckpt["epochs_done"] == 3 and "optimizer" in ckpt
    assert cb.best_value == max(cb.curve.values()) and cb.best_epoch in (1, 2, 3)
    assert cb.resume(model) == 3  # a continuation starts after the 3 epochs done

    # a continuation (as PBT makes it) loads weights and optimizer slots, keeps its own lr
    fresh = build(0.05)
    fresh.optimizer.build(fresh.trainable_variables)
    HypersearchKerasCallback.load_state(fresh, ckpt)
    for a, b in zip(fresh.get_weights(), model.get_weights(), strict=True):
        assert (a == b).all()
    assert int(fresh.optimizer.iterations) == int(model.optimizer.iterations)
    assert float(fresh.optimizer.learning_rate) == pytest.approx(0.05)

    # should_stop ends fit
    trial2 = study.ask()
    trial2.should_stop = lambda: True  # type: ignore[method-assign]
    cb2 = HypersearchKerasCallback(trial2, monitor="val_accuracy", checkpoint=False)
    hist = build(0.01).fit(x, y, validation_data=(x, y), epochs=5, callbacks=[cb2], verbose=0)
    assert len(hist.history["loss"]) == 1
    bad = HypersearchKerasCallback(trial2, monitor="val_nope")
    with pytest.raises(hs.InvalidArgumentError, match="val_nope"):
        build(0.01).fit(x, y, validation_data=(x, y), epochs=1, callbacks=[bad], verbose=0)


# -- Lightning --------------------------------------------------------------------------------
def test_lightning_callback_reports_stops_and_resumes(tmp_path):
    pl = pytest.importorskip("lightning.pytorch")
    from hypersearch.integrations.lightning import HypersearchCallback

    x, y = blobs()
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)

    class Net(pl.LightningModule):
        def __init__(self, lr: float) -> None:
            super().__init__()
            self.lr = lr
            self.net = nn.Linear(4, 3)

        def training_step(self, batch, _):  # type: ignore[no-untyped-def]
            return nn.functional.cross_entropy(self.net(batch[0]), batch[1])

        def validation_step(self, batch, _):  # type: ignore[no-untyped-def]
            acc = (self.net(batch[0]).argmax(1) == batch[1]).float().mean()
            self.log("val_acc", acc)

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)

    def trainer(cb: HypersearchCallback, epochs: int):  # type: ignore[no-untyped-def]
        return pl.Trainer(
            max_epochs=epochs,
            callbacks=[cb],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
            num_sanity_val_steps=0,
        )

    study = hs.create_study(direction="maximize")
    trial = study.ask()
    torch.manual_seed(0)
    cb = HypersearchCallback(trial, monitor="val_acc")
    assert cb.ckpt_path() is None
    trainer(cb, 2).fit(Net(0.1), data, data)
    assert sorted(study.get_trial(trial.number).intermediate) == [1, 2]
    assert cb.last_value is not None

    # resume: a new trial continuing from this one's checkpoint, with a new lr
    trial.should_stop = lambda: True  # type: ignore[method-assign]
    cb_resume = HypersearchCallback(trial, monitor="val_acc")
    path = cb_resume.ckpt_path()
    assert path is not None and os.path.exists(path)
    net = Net(0.01)
    t = trainer(cb_resume, 5)
    t.fit(net, data, data, ckpt_path=path)
    assert t.current_epoch == 3  # resumed at epoch 2, trained one epoch, then told to stop
    assert t.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.01)
    assert 3 in study.get_trial(trial.number).intermediate


# -- one step convention: steps are epochs completed, so Hyperband rungs cost their epochs ----
MAX_EPOCHS = 4
RUNGS = {1, 2, 4}  # Hyperband(min_resource=1, max_resource=4, reduction_factor=2)


def hyperband_study(kind: str = "hyperband") -> hs.Study:
    """Hyperband (stopping at rungs), or ASHA that pauses trials at rungs and promotes them
    from their checkpoints (so resuming is checked too)."""
    scheduler: hs.schedulers.Scheduler
    if kind == "hyperband":
        scheduler = hs.schedulers.Hyperband(
            min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=2
        )
    else:
        scheduler = hs.schedulers.ASHA(
            min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=2, pause=True
        )
    return hs.create_study(direction="maximize", scheduler=scheduler, seed=0)


def assert_rungs_cost_their_epochs(study: hs.Study, trained: dict[int, list[int]]) -> None:
    """Every trial trained exactly the epochs it reported (1-based steps), ended on a rung,
    and completed trials trained the full ``MAX_EPOCHS``."""
    finished = [t for t in study.trials if t.intermediate]
    assert len(finished) == len(study.trials)
    for t in finished:
        steps = sorted(t.intermediate)
        epochs = trained[t.number]  # 0-based epoch indices this trial actually trained
        assert steps == [e + 1 for e in epochs], (t.number, steps, epochs)
        assert steps[-1] in RUNGS, (t.number, steps)
        if t.attrs.get("resume_from") is not None:  # promoted: goes on where its parent paused
            assert steps[0] == t.attrs["start_step"] > 1, (t.number, steps)
        if t.state is hs.TrialState.COMPLETE:
            assert steps[-1] == MAX_EPOCHS
    assert any(t.state is hs.TrialState.STOPPED and max(t.intermediate) == 1 for t in finished)
    assert any(max(t.intermediate) == MAX_EPOCHS for t in finished)  # the top rung is reached


@pytest.mark.parametrize("kind", ["hyperband", "asha-promotions"])
def test_torch_loop_under_hyperband_rungs_cost_exactly_their_epochs(kind):
    from hypersearch.integrations.torch import TorchTrialLoop

    x, y = blobs()
    trained: dict[int, list[int]] = {}

    def objective(trial: hs.Trial) -> float:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = torch.optim.SGD(model.parameters(), lr=trial.float("lr", 1e-3, 1.0, log=True))
        loop = TorchTrialLoop(trial, model, opt)
        for epoch in loop.epochs(MAX_EPOCHS):
            trained.setdefault(trial.number, []).append(epoch)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loop.report(float((model(x).argmax(1) == y).float().mean()))
        return loop.last_value  # type: ignore[return-value]

    study = hyperband_study(kind)
    study.optimize(objective, n_trials=8)
    assert_rungs_cost_their_epochs(study, trained)
    if kind != "hyperband":
        assert any(t.attrs.get("resume_from") is not None for t in study.trials)


@pytest.mark.parametrize("kind", ["hyperband", "asha-promotions"])
def test_keras_model_under_hyperband_rungs_cost_exactly_their_epochs(kind):
    integration = pytest.importorskip("hypersearch.integrations.keras")  # before keras
    keras, HypersearchKerasCallback = integration.keras, integration.HypersearchKerasCallback

    x, y = (t.numpy() for t in blobs())
    trained: dict[int, list[int]] = {}

    class Count(keras.callbacks.Callback):  # type: ignore[misc, name-defined]
        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

        def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            trained.setdefault(self.number, []).append(epoch)

    def objective(trial: hs.Trial) -> float:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        model.compile(
            keras.optimizers.SGD(trial.float("lr", 1e-3, 1.0, log=True)),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        cb = HypersearchKerasCallback(trial, monitor="val_accuracy")
        model.fit(
            x,
            y,
            validation_data=(x, y),
            epochs=MAX_EPOCHS,
            initial_epoch=cb.resume(model),
            callbacks=[Count(trial.number), cb],
            batch_size=64,
            verbose=0,
        )
        return cb.best_value  # type: ignore[return-value]

    study = hyperband_study(kind)
    study.optimize(objective, n_trials=8)
    assert_rungs_cost_their_epochs(study, trained)
    if kind != "hyperband":
        assert any(t.attrs.get("resume_from") is not None for t in study.trials)


def lightning_net(pl):  # type: ignore[no-untyped-def]
    class Net(pl.LightningModule):
        def __init__(self, lr: float) -> None:
            super().__init__()
            self.lr = lr
            self.net = nn.Linear(4, 3)

        def training_step(self, batch, _):  # type: ignore[no-untyped-def]
            return nn.functional.cross_entropy(self.net(batch[0]), batch[1])

        def validation_step(self, batch, _):  # type: ignore[no-untyped-def]
            acc = (self.net(batch[0]).argmax(1) == batch[1]).float().mean()
            self.log("val_acc", acc)

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)

    return Net


@pytest.mark.parametrize("kind", ["hyperband", "asha-promotions"])
def test_lightning_under_hyperband_rungs_cost_exactly_their_epochs(tmp_path, monkeypatch, kind):
    pl = pytest.importorskip("lightning.pytorch")
    from hypersearch import checkpoints
    from hypersearch.integrations.lightning import HypersearchCallback

    Net = lightning_net(pl)
    x, y = blobs()
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    trained: dict[int, list[int]] = {}
    saves = {"study": 0, "lightning": 0}
    study_save, lightning_save = checkpoints.save, pl.Trainer.save_checkpoint

    def count_study(*args, **kwargs):  # type: ignore[no-untyped-def]
        saves["study"] += 1
        return study_save(*args, **kwargs)

    def count_lightning(*args, **kwargs):  # type: ignore[no-untyped-def]
        saves["lightning"] += 1
        return lightning_save(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "save", count_study)
    monkeypatch.setattr(pl.Trainer, "save_checkpoint", count_lightning)

    class Count(pl.Callback):
        def __init__(self, number: int) -> None:
            self.number = number

        def on_train_epoch_start(self, trainer, pl_module):  # type: ignore[no-untyped-def]
            trained.setdefault(self.number, []).append(trainer.current_epoch)

    def objective(trial: hs.Trial) -> float:
        torch.manual_seed(0)
        cb = HypersearchCallback(trial, monitor="val_acc")
        # Lightning's defaults: checkpointing on, a logger writing under default_root_dir
        trainer = pl.Trainer(
            max_epochs=MAX_EPOCHS,
            callbacks=[Count(trial.number), cb],
            default_root_dir=tmp_path,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )
        trainer.fit(
            Net(trial.float("lr", 1e-3, 1.0, log=True)), data, data, ckpt_path=cb.ckpt_path()
        )
        return cb.last_value  # type: ignore[return-value]

    study = hyperband_study(kind)
    study.optimize(objective, n_trials=6)
    assert_rungs_cost_their_epochs(study, trained)
    if kind != "hyperband":
        assert any(t.attrs.get("resume_from") is not None for t in study.trials)
    epochs = sum(len(v) for v in trained.values())
    assert saves["study"] == epochs  # one checkpoint per epoch, serialised by the study only
    assert saves["lightning"] == 0  # no file written by Lightning first, nor by ModelCheckpoint
    assert not list(tmp_path.rglob("*.ckpt"))  # Lightning's own ModelCheckpoint was turned off
