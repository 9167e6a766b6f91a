"""Find a learning rate with one short run, then search only around it (digits MLP, CPU).

    python examples/lr_finder_digits.py                    # range test, plot, 8-trial study
    cd examples && hypersearch lr-find lr_finder_digits:setup --plot lr.png   # CLI form

1. The LR range test raises the rate every batch until the loss diverges, puts the model back
   exactly as it was, and suggests a rate with its reasoning; the curve is saved as a PNG.
2. The study's learning-rate range is narrowed around the suggestion, the suggested rate is
   enqueued as the first trial (carrying the curve, shown in the dashboard), and every trial
   keeps training diagnostics (update/weight ratios, dead units, flags) in its attributes.
"""

from __future__ import annotations

import argparse
import sys
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

import hypersearch as hs
from hypersearch.tools import Diagnostics, lr_find, narrow_space

SPACE = {
    "lr": hs.Float(1e-5, 1.0, log=True),  # wide on purpose: the range test narrows it
    "units": hs.Int(32, 256, step=32),
}


def data(seed: int = 0) -> tuple[torch.Tensor, ...]:
    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    sc = StandardScaler().fit(x_tr)
    f = torch.float32
    return (
        torch.as_tensor(sc.transform(x_tr), dtype=f),
        torch.as_tensor(y_tr),
        torch.as_tensor(sc.transform(x_va), dtype=f),
        torch.as_tensor(y_va),
    )


def build(units: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, units), nn.ReLU(), nn.Linear(units, 10))


def loader(x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> Any:
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )


def setup() -> dict[str, Any]:
    """What `hypersearch lr-find lr_finder_digits:setup` runs the range test on."""
    torch.manual_seed(0)
    x_tr, y_tr, _, _ = data()
    model = build(128)
    return {
        "model": model,
        "optimizer": torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
        "loss_fn": nn.CrossEntropyLoss(),
        "loader": loader(x_tr, y_tr),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--plot", default="lr_finder_digits.png")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    parts = setup()
    result = lr_find(parts["model"], parts["optimizer"], parts["loss_fn"], parts["loader"])
    print(result)
    print(f"plot: {result.plot(args.plot)}")
    if result.suggestion is None:
        return 1
    space = narrow_space(SPACE, result)
    print(
        f"lr range: {SPACE['lr'].low:g}..{SPACE['lr'].high:g} -> "
        f"{space['lr'].low:.3g}..{space['lr'].high:.3g}"
    )

    x_tr, y_tr, x_va, y_va = data()

    def objective(trial: hs.Trial) -> float:
        torch.manual_seed(trial.number)
        model = build(trial.params["units"])
        opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"], momentum=0.9)
        acc = 0.0
        with Diagnostics(model, opt, every=5) as diag:
            for epoch in range(args.epochs):
                model.train()
                for xb, yb in loader(x_tr, y_tr, epoch):
                    loss = nn.functional.cross_entropy(model(xb), yb)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    diag.record_loss(loss)
                model.eval()
                with torch.no_grad():
                    acc = float((model(x_va).argmax(1) == y_va).float().mean())
                trial.report(acc, step=epoch)
        diag.attach(trial)  # attrs["diagnostics"]: per-layer statistics and flags
        for flag in diag.flags:
            print(f"  trial {trial.number}: {flag['message']}")
        return acc

    study = hs.create_study(space=space, direction="maximize", metric="val_accuracy", seed=0)
    number = result.attach(study)  # the suggested rate runs first, with the curve in its attrs
    study.optimize(objective, n_trials=args.trials)
    first = study.get_trial(number)  # type: ignore[arg-type]
    print(f"suggested lr {result.suggestion:.3g}: val accuracy {first.value:.4f}")
    print(f"best of {args.trials}: {study.best_value:.4f} with {study.best_params}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
