"""Top-k ensembles rebuilt from a study's checkpoints."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import hypersearch as hs  # noqa: E402
from hypersearch.tools import Ensemble, EnsembleError  # noqa: E402

pytestmark = pytest.mark.torch
torch.set_num_threads(1)


def blobs(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) + 1.5 * nn.functional.one_hot(y, 4).float()
    return x, y


def build(p: dict) -> nn.Module:
    return nn.Sequential(nn.Linear(4, p["units"]), nn.ReLU(), nn.Linear(p["units"], 3))


def test_ensemble_from_top_k_checkpoints(tmp_path):
    x, y = blobs()
    xv, yv = blobs(seed=1)

    def objective(trial: hs.Trial) -> float:
        torch.manual_seed(trial.number)
        model = build(trial.params)
        opt = torch.optim.Adam(model.parameters(), lr=trial.params["lr"])
        for _ in range(30):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        trial.save_checkpoint({"model": model.state_dict()})
        with torch.no_grad():
            return float((model(xv).argmax(1) == yv).float().mean())

    study = hs.create_study(
        "ens",
        space={"lr": hs.Float(1e-3, 1e-1, log=True), "units": hs.Int(4, 16)},
        direction="maximize",
        storage=f"sqlite:///{tmp_path}/e.db",
        seed=0,
    )
    study.keep_checkpoints = 3
    study.optimize(objective, n_trials=6)
    ens = Ensemble.from_study(study, k=3, build=build)
    top = [t.number for t in study.top(3)]
    assert ens.trial_numbers == top and len(ens.models) == 3
    probs = ens.predict_proba(xv)
    assert probs.shape == (len(xv), 3)
    assert torch.allclose(probs.sum(1), torch.ones(len(xv)))
    manual = sum(torch.softmax(m(xv), -1) for m in ens.models) / 3
    assert torch.allclose(probs, manual.detach())
    acc = ens.accuracy(xv, yv)
    assert 0.5 < acc <= 1.0 and acc >= study.top(3)[-1].value - 0.05
    # asking for more than were kept: what there is, with a warning in the log
    assert len(Ensemble.from_study(study, k=5, build=build).models) == 3


def test_ensemble_errors():
    study = hs.create_study(space={"units": hs.Int(4, 8)}, direction="maximize")
    study.tell(study.ask(), 0.5)  # no checkpoint
    with pytest.raises(EnsembleError, match="save_checkpoint"):
        Ensemble.from_study(study, k=2, build=build)
    with pytest.raises(EnsembleError):
        Ensemble([])
    with pytest.raises(hs.InvalidArgumentError, match="weights"):
        Ensemble([nn.Linear(2, 2)], weights=[-1.0])
    weighted = Ensemble([nn.Linear(2, 2), nn.Linear(2, 2)], weights=[3, 1])
    assert weighted.weights == [0.75, 0.25]
