"""Diagnostics on real training runs: a rate far too high, too low, dead units, healthy."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import hypersearch as hs  # noqa: E402
from hypersearch.tools import Diagnostics  # noqa: E402

pytestmark = pytest.mark.torch
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)


def train(digits, lr: float, *, steps: int = 60, model: nn.Module | None = None) -> Diagnostics:
    torch.manual_seed(0)
    model = model or nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    x, y = digits
    g = torch.Generator().manual_seed(0)
    with Diagnostics(model, opt) as diag:
        for _ in range(steps):
            idx = torch.randint(0, len(x), (64,), generator=g)
            loss = nn.CrossEntropyLoss()(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            diag.record_loss(loss)
    return diag


def codes(diag: Diagnostics) -> set[str]:
    return {f["code"] for f in diag.flags}


def test_healthy_run_has_no_flags_and_sane_stats(digits):
    diag = train(digits, 0.05)
    assert codes(diag) == set()
    layers = diag.layers()
    ratio = layers["0.weight"]["update_ratio"]
    assert ratio is not None and 1e-5 < ratio < 1e-1
    assert layers["0.weight"]["grad_norm"] > 0
    assert layers["0"]["activation_std"] > 0
    assert 0 <= layers["1"]["dead_fraction"] < 0.5


def test_rate_far_too_high_is_flagged(digits):
    diag = train(digits, 10.0)
    assert "diverging_loss" in codes(diag)
    msg = next(f["message"] for f in diag.flags if f["code"] == "diverging_loss")
    assert "too high" in msg


def test_rate_too_low_is_flat(digits):
    diag = train(digits, 1e-7)
    flags = {f["code"]: f["message"] for f in diag.flags}
    assert "flat_loss" in flags and "too low" in flags["flat_loss"]


def test_dead_units_are_flagged(digits):
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    with torch.no_grad():
        model[0].bias.fill_(-50.0)  # every hidden unit is off for every input
    diag = train(digits, 0.05, model=model, steps=20)
    assert "dead_units" in codes(diag)
    assert diag.layers()["1"]["dead_fraction"] == 1.0
    assert "dead" in " ".join(f["message"] for f in diag.flags if f["code"] == "flat_loss")


def test_stored_with_trial_and_hooks_removed(digits):
    study = hs.create_study(direction="minimize")
    trial = study.ask()
    diag = train(digits, 10.0, steps=20)
    diag.attach(trial)
    study.tell(trial, 1.0)
    stored = study.get_trial(trial.number).attrs["diagnostics"]
    json.dumps(stored)
    assert stored["flags"] and stored["steps"] == 20
    n = len(diag.losses)
    diag.model(digits[0][:4])  # hooks are gone after the with block
    assert len(diag.losses) == n and diag._handles == []


def test_every_n_steps_and_bad_args(digits):
    model = nn.Sequential(nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    diag = Diagnostics(model, opt, every=5)
    for _ in range(10):
        loss = model(digits[0][:8]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert len(diag._ratio["0.weight"]) == 2
    diag.close()
    with pytest.raises(hs.InvalidArgumentError):
        Diagnostics(model, every=0)
    with pytest.raises(hs.InvalidArgumentError):
        Diagnostics("not a model")


def test_too_high_rate_is_caught_by_finder_and_diagnostics_together(digits):
    """One model, one optimizer at rate 10: the diagnostics flag the run, the finder (run on
    the same model and optimizer first) suggests a rate far below and changes nothing."""
    from hypersearch.tools import lr_find

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=10.0, momentum=0.9)
    data = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*digits),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    result = lr_find(model, opt, nn.CrossEntropyLoss(), data)
    assert opt.param_groups[0]["lr"] == 10.0
    assert result.suggestion is not None and result.suggestion < 10.0 / 30
    diag = train(digits, 10.0, model=model)
    assert "diverging_loss" in codes(diag)
