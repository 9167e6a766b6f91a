"""Gradient check: correct modules pass, a deliberately wrong backward is caught."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import hypersearch as hs  # noqa: E402
from hypersearch.tools.gradcheck import gradcheck, verdict  # noqa: E402

pytestmark = pytest.mark.torch
torch.set_num_threads(1)


class BadSquare(torch.autograd.Function):
    """y = x**2 with a wrong backward (x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def, override]
        (x,) = ctx.saved_tensors
        return grad * x


class Broken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 3)
        self.b = nn.Linear(3, 2)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.b(BadSquare.apply(self.a(x)))


def test_verdict_bands():
    assert verdict(1e-9) == "excellent"
    assert verdict(1e-6) == "good"
    assert verdict(1e-4) == "suspect"
    assert verdict(1e-2) == "wrong"
    assert verdict(float("nan")) == "wrong"


def test_smooth_model_is_excellent_and_original_untouched():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(6, 5), torch.randint(0, 3, (6,))
    report = gradcheck(model, x, target=y, loss_fn=nn.CrossEntropyLoss())
    assert report.verdict == "excellent" and report.passed, str(report)
    assert [p.name for p in report.params] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(p.max_rel_error < 1e-7 for p in report.params)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert next(model.parameters()).dtype == torch.float32
    assert "overall: excellent" in str(report)
    assert report.to_dict()["params"][0]["verdict"] == "excellent"


def test_cnn_with_projection_loss():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(2 * 6 * 6, 4))
    report = gradcheck(model, torch.randn(2, 1, 8, 8), max_checks=8)
    assert report.passed and all(p.checked == min(8, p.checked) for p in report.params)


def test_wrong_backward_is_caught():
    torch.manual_seed(0)
    report = gradcheck(Broken(), torch.randn(5, 4))
    by_name = {p.name: p for p in report.params}
    assert by_name["a.weight"].verdict == "wrong" and by_name["a.bias"].verdict == "wrong"
    assert by_name["b.weight"].verdict in ("excellent", "good")  # after the bad op: fine
    assert report.verdict == "wrong" and not report.passed


class SlightlyOffSquare(torch.autograd.Function):
    """y = x**2 with a backward 1e-4 too large: a real error, far above float64 rounding."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def, override]
        (x,) = ctx.saved_tensors
        return grad * 2 * x * (1 + 1e-4)


class SlightlyOff(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 3)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return SlightlyOffSquare.apply(self.a(x))


def test_rounding_allowance_does_not_hide_a_small_real_error():
    torch.manual_seed(0)
    report = gradcheck(SlightlyOff(), torch.randn(5, 4))
    # A relative error of 1e-4 in every entry lands in the "suspect" band (1e-5, 1e-3]; the
    # rounding allowance (~1e-10 absolute here) is six orders smaller and cannot absorb it.
    assert {p.verdict for p in report.params} == {"suspect"}, str(report)


def test_bad_arguments():
    model = nn.Linear(2, 2)
    with pytest.raises(hs.InvalidArgumentError, match="no parameter named"):
        gradcheck(model, torch.randn(1, 2), params=["nope"])
    with pytest.raises(hs.InvalidArgumentError, match="scalar"):
        gradcheck(model, torch.randn(1, 2), loss_fn=lambda out: out)
    with pytest.raises(hs.InvalidArgumentError, match="eps"):
        gradcheck(model, torch.randn(1, 2), eps=1.0)
