"""A top-k ensemble from a search on digits, against the best single model (CPU, ~1 minute).

    python examples/digits_ensemble.py --trials 12 --k 5

Each trial trains the digits MLP of examples/digits_mlp.py and saves its weights with
``trial.save_checkpoint``; the study keeps the checkpoints of its ``k`` best trials.
``Ensemble.from_study`` rebuilds them and averages their class probabilities. Trials are
ranked on a validation split; both the best single model and the ensemble are then scored on a
held-out test split that no choice saw, so the comparison is fair.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

try:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    from torch import nn
except ImportError as exc:  # pragma: no cover - depends on the environment
    sys.exit(
        f"This example needs PyTorch and scikit-learn ({exc}): pip install 'hypersearch[examples]'"
    )

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_mlp import SPACE, build_model, make_optimizer

import hypersearch as hs
from hypersearch.tools import Ensemble


def splits(seed: int) -> list[torch.Tensor]:
    """Train 60 % / validation 20 % (ranks trials) / test 20 % (scores the final models)."""
    x, y = load_digits(return_X_y=True)
    x_rest, x_te, y_rest, y_te = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=seed
    )
    x_tr, x_va, y_tr, y_va = train_test_split(
        x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=seed
    )
    sc = StandardScaler().fit(x_tr)
    f = torch.float32
    return [torch.as_tensor(sc.transform(a), dtype=f) for a in (x_tr, x_va, x_te)] + [
        torch.as_tensor(b) for b in (y_tr, y_va, y_te)
    ]


def build(p: dict[str, Any]) -> nn.Module:
    return build_model(64, 10, units=p["units"], layers=p["layers"], dropout=p["dropout"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    x_tr, x_va, x_te, y_tr, y_va, y_te = splits(args.seed)

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        p["layers"] = trial.int("layers", 1, 3)
        torch.manual_seed(args.seed * 100_003 + trial.number)
        model = build(p)
        opt = make_optimizer(model, p)
        order = torch.Generator().manual_seed(trial.number)
        acc = 0.0
        for epoch in range(args.epochs):
            model.train()
            for idx in torch.randperm(len(x_tr), generator=order).split(p["batch_size"]):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                acc = float((model(x_va).argmax(1) == y_va).float().mean())
            trial.report(acc, step=epoch)
        trial.save_checkpoint({"model": model.state_dict()})
        return acc

    study = hs.create_study(
        space=SPACE, direction="maximize", metric="val_accuracy", seed=args.seed
    )
    study.keep_checkpoints = args.k  # keep the k best trials' weights
    study.optimize(objective, n_trials=args.trials)

    ens = Ensemble.from_study(study, k=args.k, build=build)
    best = Ensemble.from_study(study, k=1, build=build)  # the best single model
    print(
        f"best single model (trial {best.trial_numbers[0]}): "
        f"val {study.best_value:.4f}, test {best.accuracy(x_te, y_te):.4f}"
    )
    print(
        f"ensemble of top {len(ens.models)} (trials {ens.trial_numbers}): "
        f"test {ens.accuracy(x_te, y_te):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
