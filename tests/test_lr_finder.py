"""The LR range test on real small PyTorch models (CPU): suggestion, robustness, restoration."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import hypersearch as hs  # noqa: E402
from hypersearch.tools.lr_finder import (  # noqa: E402
    ATTR_KEY,
    LRFinderError,
    LRFinderResult,
    analyse,
    lr_find,
    narrow_space,
)

pytestmark = pytest.mark.torch
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)


def loader(data: tuple[torch.Tensor, torch.Tensor], batch: int = 64) -> object:
    ds = torch.utils.data.TensorDataset(*data)
    return torch.utils.data.DataLoader(
        ds, batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0)
    )


def mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))


def test_suggests_sane_rate_and_restores_model_bitwise(digits):
    model = mlp()
    model.eval()  # a mode the finder must put back
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    # give the optimizer real state (momentum buffers) and the params real grads
    loss = nn.CrossEntropyLoss()(model(digits[0][:32]), digits[1][:32])
    loss.backward()
    opt.step()
    loss = nn.CrossEntropyLoss()(model(digits[0][:32]), digits[1][:32])
    loss.backward()
    before_model = {k: v.clone() for k, v in model.state_dict().items()}
    before_opt = json.dumps(
        {k: v for k, v in opt.state_dict().items() if k != "state"}, sort_keys=True
    )
    before_buf = {k: v["momentum_buffer"].clone() for k, v in opt.state_dict()["state"].items()}
    before_grad = [p.grad.clone() for p in model.parameters()]
    rng = torch.get_rng_state()

    result = lr_find(model, opt, nn.CrossEntropyLoss(), loader(digits))

    assert all(torch.equal(before_model[k], v) for k, v in model.state_dict().items())
    after = opt.state_dict()
    assert (
        json.dumps({k: v for k, v in after.items() if k != "state"}, sort_keys=True) == before_opt
    )
    assert all(torch.equal(before_buf[k], v["momentum_buffer"]) for k, v in after["state"].items())
    assert all(
        torch.equal(g, p.grad) for g, p in zip(before_grad, model.parameters(), strict=True)
    )
    assert torch.equal(rng, torch.get_rng_state())
    assert not model.training and opt.param_groups[0]["lr"] == 0.1
    # SGD+momentum on standardised digits trains well at 1e-2 .. 3e-1
    assert result.suggestion is not None and 5e-3 <= result.suggestion <= 0.3, str(result)
    assert result.min_loss_lr is not None and result.suggestion < result.min_loss_lr
    assert "Steepest descent" in result.reason and "tenth" in result.reason
    assert "diverged" in result.stop_reason
    assert len(result.lrs) == len(result.losses) == len(result.raw_losses) < 100


def test_linear_mode_and_adam(digits):
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    result = lr_find(
        model,
        opt,
        nn.CrossEntropyLoss(),
        loader(digits),
        start_lr=1e-4,
        end_lr=1.0,
        mode="linear",
        num_iter=60,
    )
    diffs = np.diff(result.lrs)
    assert np.allclose(diffs, diffs[0])
    assert result.suggestion is not None and 1e-4 <= result.suggestion <= 0.1, str(result)


def test_model_trained_at_far_too_high_rate_is_caught(digits):
    """Rate 10 diverges; the finder suggests a rate at least 30x lower."""
    too_high = 10.0
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=too_high, momentum=0.9)
    result = lr_find(model, opt, nn.CrossEntropyLoss(), loader(digits))
    assert result.suggestion is not None and result.suggestion < too_high / 30
    assert result.min_loss_lr is not None and result.min_loss_lr < too_high


def test_range_entirely_too_high_gives_no_absurd_rate(digits):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    result = lr_find(
        model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=5.0, end_lr=1e4, num_iter=40
    )
    assert result.suggestion is None
    assert "start_lr" in result.reason
    with pytest.raises(LRFinderError, match="no suggestion"):
        result.space()


# -- robustness of the reading, on synthetic curves ---------------------------------------
def synthetic(n: int = 100, noise: float = 0.0, seed: int = 0) -> tuple[list[float], np.ndarray]:
    lrs = np.geomspace(1e-6, 10, n)
    x = np.log10(lrs)
    # flat at 2.3, falls between 1e-3 and 1e-1 to 0.3, blows up above 0.3
    y = 0.3 + 2.0 / (1 + np.exp(3.0 * (x + 2.0))) + np.where(x > -0.5, 10 * (x + 0.5) ** 2, 0.0)
    rng = np.random.default_rng(seed)
    return list(lrs), y * (1 + noise * rng.standard_normal(n))


def test_reading_is_robust_to_early_spikes_noise_and_nan():
    lrs, y = synthetic()
    clean = analyse(lrs, list(y)).suggestion
    assert clean is not None and 3e-3 <= clean <= 0.1
    spiky = y.copy()
    spiky[1:4] = [50.0, 0.01, 40.0]  # early spikes, including one absurdly low loss
    spiky[30] = 0.0
    noisy = synthetic(noise=0.15, seed=1)[1]
    with_nan = [*list(y[:85]), math.nan]
    for losses in (spiky, noisy, with_nan):
        s = analyse(lrs[: len(losses)], list(losses)).suggestion
        assert s is not None and clean / 4 <= s <= clean * 4, (s, clean)


def test_flat_loss_gives_no_suggestion():
    lrs = list(np.geomspace(1e-6, 1e-3, 80))
    r = analyse(lrs, list(2.3 + 0.01 * np.random.default_rng(0).standard_normal(80)))
    assert r.suggestion is None and "never fell" in r.reason


# -- bad input: clear errors, model restored -------------------------------------------------
def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def same(model: nn.Module, snap: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(snap[k], v) for k, v in model.state_dict().items())


def test_empty_loader(digits):
    model = mlp()
    snap = snapshot(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(LRFinderError, match="yielded no batch"):
        lr_find(model, opt, nn.CrossEntropyLoss(), [])
    assert same(model, snap)


def test_nan_from_first_batch(digits):
    model = mlp()
    snap = snapshot(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = digits[0][:128].clone()
    x[:, 3] = math.nan
    with pytest.raises(LRFinderError, match="from the first batch"):
        lr_find(model, opt, nn.CrossEntropyLoss(), loader((x, digits[1][:128])))
    assert same(model, snap)


def test_nan_midway_is_divergence_and_restores(digits):
    model = mlp()
    snap = snapshot(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = {"n": 0}

    def step(m: nn.Module, batch: object) -> torch.Tensor:
        calls["n"] += 1
        x, y = batch  # type: ignore[misc]
        loss = nn.CrossEntropyLoss()(m(x), y)
        return loss * math.nan if calls["n"] == 50 else loss

    result = lr_find(model, opt, None, loader(digits), step_fn=step)
    assert len(result.lrs) == 50 and "nan" in result.stop_reason
    assert same(model, snap)


def test_optimizer_without_lr_and_bad_rates(digits):
    model = mlp()
    snap = snapshot(model)

    class NoLR(torch.optim.Optimizer):
        def __init__(self, params: object) -> None:
            super().__init__(params, {"rho": 0.9})

        def step(self, closure: object = None) -> None:
            return None

    with pytest.raises(hs.InvalidArgumentError, match="no learning rate"):
        lr_find(model, NoLR(model.parameters()), nn.CrossEntropyLoss(), loader(digits))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(hs.InvalidArgumentError, match="start_lr < end_lr"):
        lr_find(model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=1.0, end_lr=1e-3)
    with pytest.raises(hs.InvalidArgumentError, match="mode"):
        lr_find(model, opt, nn.CrossEntropyLoss(), loader(digits), mode="cosine")
    with pytest.raises(hs.InvalidArgumentError, match="start_lr must be a positive"):
        lr_find(model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=0)
    assert same(model, snap)


def test_exception_inside_loss_restores(digits):
    model = mlp()
    snap = snapshot(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    calls = {"n": 0}

    def step(m: nn.Module, batch: object) -> torch.Tensor:
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("boom")
        x, y = batch  # type: ignore[misc]
        return nn.CrossEntropyLoss()(m(x), y)

    with pytest.raises(RuntimeError, match="boom"):
        lr_find(model, opt, None, loader(digits), step_fn=step)
    assert same(model, snap) and not opt.state


# -- space, storage, plot ---------------------------------------------------------------------
def test_space_narrow_and_store_with_trial_and_study(tmp_path):
    lrs, y = synthetic()
    result = analyse(lrs, list(y), stop_reason="test")
    s = result.suggestion
    assert s is not None
    space = result.space()
    assert space.log and space.low < s < space.high and space.high <= result.min_loss_lr
    narrowed = narrow_space({"lr": hs.Float(1e-3, 1.0, log=True), "units": hs.Int(8, 64)}, result)
    assert narrowed["units"] == hs.Int(8, 64)
    assert narrowed["lr"].low >= 1e-3 and narrowed["lr"].high <= space.high

    study = hs.create_study("lr", space=narrowed, storage=f"sqlite:///{tmp_path}/s.db")
    number = result.attach(study)
    trial = study.ask()
    assert trial.number == number and trial.params["lr"] == pytest.approx(s)
    stored = study.get_trial(number).attrs[ATTR_KEY]
    assert stored["suggestion"] == s and len(stored["lrs"]) == len(stored["losses"])
    json.dumps(stored, allow_nan=False)
    back = LRFinderResult.from_dict(stored)
    assert back.suggestion == s and back.lrs == pytest.approx(result.lrs)
    study.tell(trial, 1.0)

    other = study.ask()
    result.attach(other)
    assert study.get_trial(other.number).attrs[ATTR_KEY]["reason"] == result.reason


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    lrs, y = synthetic(noise=0.05)
    path = analyse(lrs, list(y), stop_reason="test").plot(tmp_path / "lr.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_core_package_imports_without_torch():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import hypersearch, hypersearch.tools, hypersearch.integrations\n"
        "try:\n    import hypersearch.integrations.torch\nexcept ImportError as e:\n"
        "    assert 'pip install' in str(e), e; print('hint ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "hint ok" in out.stdout


# -- stopping once the loss has diverged ------------------------------------------------------
def cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10),
    )


def test_loss_blown_up_to_chance_level_stops_the_run(digits):
    """A small CNN (SGD + momentum) whose loss falls to ~0.8 and then blows up only to chance
    level (~2.3 < 4 x 0.8): it used to run all 100 batches up to lr=10; now it stops once the
    smoothed loss is back above where it started, and says so once."""
    model = cnn()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    result = lr_find(model, opt, nn.CrossEntropyLoss(), loader(digits))
    assert len(result.lrs) < 100 and max(result.lrs) < 5.0, result.stop_reason
    assert "diverged" in result.stop_reason and "back above its start" in result.stop_reason
    assert result.suggestion is not None and 5e-3 <= result.suggestion <= 0.1, str(result)
    text = str(result)
    assert text.count(result.stop_reason) == 1 and result.stop_reason not in result.reason
    assert text.count("diverged") == 1


def test_a_run_that_never_diverges_says_so_once(digits):
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = lr_find(
        model, opt, nn.CrossEntropyLoss(), loader(digits), start_lr=1e-4, end_lr=3e-2, num_iter=40
    )
    assert len(result.lrs) == 40
    assert result.stop_reason == "ran all 40 batches; the loss did not diverge"
    assert str(result).count("ran all 40 batches") == 1 and "ran all" not in result.reason


def test_divergence_rule():
    from hypersearch.tools.lr_finder import divergence

    assert "4x its lowest" in divergence(1.3, 0.3, 2.3)
    assert "back above its start 2.3" in divergence(2.31, 0.9, 2.3)  # 2.31 < 4 x 0.9
    assert divergence(2.2, 0.9, 2.3) == ""  # still below its start
    assert divergence(2.4, 2.0, 2.3) == ""  # never fell clearly: noise around a flat start
    assert divergence(0.5, 0.3, math.nan) == ""  # no start yet: only the factor rule
    # a loss that is negative (a log-likelihood): no ratio rule, the start rule still works
    assert divergence(-4.0, -4.7, -2.7) == ""
    assert "back above its start" in divergence(-2.6, -4.7, -2.7)


def test_negative_losses_are_not_taken_for_divergence(digits):
    """The same training with the loss shifted by -5 (same gradients): it must not stop at the
    first check because 'loss > 4 x its minimum' holds trivially for negative numbers."""

    def run(shift: float) -> LRFinderResult:
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(m: nn.Module, batch: object) -> torch.Tensor:
            x, y = batch  # type: ignore[misc]
            return nn.CrossEntropyLoss()(m(x), y) + shift

        return lr_find(model, opt, None, loader(digits), step_fn=step)

    plain, shifted = run(0.0), run(-5.0)
    assert len(shifted.lrs) >= 60, shifted.stop_reason
    assert shifted.suggestion is not None and plain.suggestion is not None
    assert plain.suggestion / 3 <= shifted.suggestion <= plain.suggestion * 3
