"""Does one LR range test find a rate as good as a 20-point log-scale grid?

For the digits MLP and a small CNN (digits as 1x8x8 images), per seed and optimizer:
  grid:   train with each of 20 log-spaced rates; keep the best validation accuracy;
  finder: one range test (100 batches), then one training run at the suggested rate.
Reports both accuracies, the gap, and the compute ratio in optimizer steps (forward+backward
passes), which is what costs time here.

    nice .venv/bin/python bench/lr_finder/run.py                 # full table (a few minutes)
    nice .venv/bin/python bench/lr_finder/run.py --quick         # one seed, SGD only
    nice .venv/bin/python bench/lr_finder/run.py --test-split --optimizers sgd   # + held-out test
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn

from hypersearch.tools.lr_finder import lr_find

torch.set_num_threads(1)

EPOCHS = 20
BATCH = 64
GRID = np.geomspace(1e-4, 1.0, 20)
GRID_ADAM = np.geomspace(1e-5, 1e-1, 20)


def data(seed: int, test: bool = False) -> tuple[torch.Tensor, ...]:
    """Train/validation 75/25; with ``test``, 20 % is held out first (60/20/20), so the grid's
    pick (by validation accuracy) is also scored on data that no choice saw."""
    x, y = load_digits(return_X_y=True)
    if test:
        x, x_te, y, y_te = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    if not test:
        x_te, y_te = x_va, y_va
    sc = StandardScaler().fit(x_tr)
    f = torch.float32
    return (
        torch.as_tensor(sc.transform(x_tr), dtype=f),
        torch.as_tensor(y_tr),
        torch.as_tensor(sc.transform(x_va), dtype=f),
        torch.as_tensor(y_va),
        torch.as_tensor(sc.transform(x_te), dtype=f),
        torch.as_tensor(y_te),
    )


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)
    )


def cnn() -> nn.Module:
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


def make_opt(name: str, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return torch.optim.Adam(model.parameters(), lr=lr)


def loader(x: torch.Tensor, y: torch.Tensor, seed: int) -> Any:
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )


def train(
    build: Any, opt_name: str, lr: float, d: tuple[torch.Tensor, ...], seed: int
) -> tuple[float, float]:
    """Validation and test accuracy after EPOCHS epochs (0 when the loss diverged)."""
    x_tr, y_tr, x_va, y_va, x_te, y_te = d
    torch.manual_seed(seed)
    model = build()
    opt = make_opt(opt_name, model, lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(EPOCHS):
        model.train()
        for xb, yb in loader(x_tr, y_tr, seed):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            if not torch.isfinite(loss):
                return 0.0, 0.0
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return (
            float((model(x_va).argmax(1) == y_va).float().mean()),
            float((model(x_te).argmax(1) == y_te).float().mean()),
        )


def run(build_name: str, opt_name: str, seed: int, test: bool = False) -> dict[str, Any]:
    build = {"mlp": mlp, "cnn": cnn}[build_name]
    d = data(seed, test)
    steps_per_run = EPOCHS * len(loader(d[0], d[1], seed))
    t0 = time.perf_counter()
    grid = GRID if opt_name == "sgd" else GRID_ADAM
    both = [train(build, opt_name, float(lr), d, seed) for lr in grid]
    t_grid = time.perf_counter() - t0
    best = int(np.argmax([v for v, _ in both]))
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = build()
    res = lr_find(
        model,
        make_opt(opt_name, model, 1e-3),
        nn.CrossEntropyLoss(),
        loader(d[0], d[1], seed),
        num_iter=100,
    )
    t_find = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc, acc_test = (
        train(build, opt_name, float(res.suggestion), d, seed) if res.suggestion else (0.0, 0.0)
    )
    t_train = time.perf_counter() - t0
    return {
        "model": build_name,
        "optimizer": opt_name,
        "seed": seed,
        "grid_best_lr": float(grid[best]),
        "grid_best_acc": both[best][0],
        "grid_best_test_acc": both[best][1],
        "finder_lr": res.suggestion,
        "finder_acc": acc,
        "finder_test_acc": acc_test,
        "finder_batches": len(res.lrs),
        "steps_grid": steps_per_run * len(grid),
        "steps_finder": len(res.lrs) + steps_per_run,
        "time_grid_s": t_grid,
        "time_finder_s": t_find + t_train,
    }


def table(rows: list[dict[str, Any]], key_grid: str, key_finder: str) -> None:
    print(
        "\n| model | optimizer | grid-best acc (lr per seed) | finder acc (lr per seed) "
        "| gap (worst seed) | steps finder/grid |"
    )
    print("|---|---|---|---|---|---|")
    for model in ("mlp", "cnn"):
        for opt in ("sgd", "adam"):
            rs = [r for r in rows if r["model"] == model and r["optimizer"] == opt]
            if not rs:
                continue
            g = statistics.mean(r[key_grid] for r in rs)
            f = statistics.mean(r[key_finder] for r in rs)
            worst = max(r[key_grid] - r[key_finder] for r in rs)
            glr = ", ".join(f"{r['grid_best_lr']:.3g}" for r in rs)
            flr = ", ".join(f"{r['finder_lr']:.3g}" for r in rs)
            ratio = statistics.mean(r["steps_finder"] / r["steps_grid"] for r in rs)
            tr = statistics.mean(r["time_finder_s"] / r["time_grid_s"] for r in rs)
            print(
                f"| {model} | {opt} | {g:.4f} ({glr}) | {f:.4f} ({flr}) "
                f"| {100 * (g - f):+.2f} pt ({100 * worst:+.2f}) | {ratio:.3f} (time {tr:.3f}) |"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one seed, SGD only")
    ap.add_argument("--test-split", action="store_true", help="hold out 20 %% as a test set")
    ap.add_argument("--optimizers", default="sgd,adam", help="comma-separated (default sgd,adam)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default="bench/lr_finder/results.json")
    args = ap.parse_args()
    seeds = [0] if args.quick else list(range(args.seeds))
    opts = ["sgd"] if args.quick else args.optimizers.split(",")
    rows = []
    for model in ("mlp", "cnn"):
        for opt in opts:
            for seed in seeds:
                r = run(model, opt, seed, args.test_split)
                rows.append(r)
                print(json.dumps(r), flush=True)
    print("\nValidation accuracy (the grid's best is picked on this same split):")
    table(rows, "grid_best_acc", "finder_acc")
    if args.test_split:
        print("\nHeld-out test accuracy (grid rate picked on validation):")
        table(rows, "grid_best_test_acc", "finder_test_acc")
    with open(args.out, "w") as fh:
        json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
