"""Tune a PyTorch MLP on scikit-learn's digits: the whole hypersearch loop in one small file.

The data (1,797 8x8 images, shipped with scikit-learn, no download) is small enough that a
30-trial search runs in a minute or two on two CPU cores, yet the knobs are the real ones:
learning rate, momentum, batch size, width, depth, dropout, weight decay and the optimizer.

    pip install "hypersearch[examples]"
    python examples/digits_mlp.py                      # 30 trials into ./hypersearch.db
    python examples/digits_mlp.py --trials 10          # run again: the same study goes on

Everything lands in the storage the moment it happens, so Ctrl-C loses at most the running
trial, and the `hypersearch` command (printed at the end) reads the same database.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any

try:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    from torch import nn
except ImportError as exc:  # pragma: no cover - depends on the environment
    sys.exit(
        f"This example needs PyTorch and scikit-learn ({exc.name or exc} is missing):\n"
        '    pip install "hypersearch[examples]"'
    )

import hypersearch as hs
from hypersearch.cli import program_name
from hypersearch.tables import Column, fit_table, format_number, print_table, terminal_width

#: Declared up front, each on the scale practitioners search it on.
SPACE = {
    "lr": hs.Float(1e-4, 3e-1, log=True),
    "momentum": hs.Float(0.5, 0.99, scale="log1m"),  # SGD momentum, or Adam's beta1
    "batch_size": hs.Int(16, 256, scale="pow2"),
    "units": hs.Int(32, 512, step=32),
    "dropout": hs.Float(0.0, 0.5),
    "weight_decay": hs.Float(1e-6, 1e-2, log=True),
    "optimizer": hs.Choice(["sgd", "adam"]),
}

#: A sensible hand-picked setting, run first so every sampled trial is compared with it.
BASELINE = {
    "lr": 1e-2,
    "momentum": 0.9,
    "batch_size": 64,
    "units": 128,
    "dropout": 0.1,
    "weight_decay": 1e-4,
    "optimizer": "sgd",
    "layers": 2,  # define-by-run below; an enqueued trial may fix it too
}

Tensors = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def load_data(seed: int) -> Tensors:
    """Standardised digits, split 75/25 (stratified, seeded) into train and validation."""
    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(x_tr)
    return (
        torch.as_tensor(scaler.transform(x_tr), dtype=torch.float32),
        torch.as_tensor(y_tr, dtype=torch.long),
        torch.as_tensor(scaler.transform(x_va), dtype=torch.float32),
        torch.as_tensor(y_va, dtype=torch.long),
    )


def build_model(n_in: int, n_out: int, *, units: int, layers: int, dropout: float) -> nn.Module:
    blocks: list[nn.Module] = []
    width = n_in
    for _ in range(layers):
        blocks += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
        width = units
    blocks.append(nn.Linear(width, n_out))
    return nn.Sequential(*blocks)


def make_optimizer(model: nn.Module, p: dict[str, Any]) -> torch.optim.Optimizer:
    if p["optimizer"] == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=p["lr"],
            momentum=p["momentum"],
            weight_decay=p["weight_decay"],
        )
    return torch.optim.Adam(
        model.parameters(),
        lr=p["lr"],
        betas=(p["momentum"], 0.999),
        weight_decay=p["weight_decay"],
    )


def make_objective(data: Tensors, *, epochs: int, seed: int) -> Callable[[hs.Trial], float]:
    """The function the study calls once per trial: build, train, report, return."""
    x_tr, y_tr, x_va, y_va = data
    n_classes = int(y_tr.max()) + 1

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        layers = trial.int("layers", 1, 3)  # define-by-run: asked for while building
        # Same study seed and trial number -> same initialisation, dropout and batch order.
        torch.manual_seed(seed * 100_003 + trial.number)
        order = torch.Generator().manual_seed(seed * 100_003 + trial.number)
        model = build_model(
            x_tr.shape[1], n_classes, units=p["units"], layers=layers, dropout=p["dropout"]
        )
        trial.set_attr("n_params", sum(t.numel() for t in model.parameters()))
        optimizer = make_optimizer(model, p)
        loss_fn = nn.CrossEntropyLoss()
        val_acc = 0.0
        for epoch in range(epochs):
            model.train()
            for idx in torch.randperm(len(x_tr), generator=order).split(p["batch_size"]):
                optimizer.zero_grad()
                loss_fn(model(x_tr[idx]), y_tr[idx]).backward()
                optimizer.step()
            model.eval()
            with torch.inference_mode():
                val_acc = (model(x_va).argmax(dim=1) == y_va).sum().item() / len(y_va)
            trial.report(val_acc, step=epoch)  # the learning curve, live in storage
            if trial.should_stop():  # a scheduler (if any) ended it: recorded as STOPPED
                break
        return val_acc

    return objective


def print_summary(study: hs.Study, storage: str) -> None:
    """Best trial, a top-5 table and the commands that inspect the same storage."""
    try:
        best = study.best_trial
    except ValueError:
        print("No trial completed; see the failures with the commands below.")
    else:
        print(f"\nBest {study.metric}: {format_number(best.value)} (trial {best.number})")
        for name, value in best.params.items():
            print(f"  {name:<13} {format_number(value)}")
        _print_top(study)
    # The command as it can be typed here: `hypersearch` is on the PATH only once the
    # environment is activated; otherwise this is e.g. .venv/bin/hypersearch.
    cmd = program_name()
    q_storage = shlex.quote(storage)
    q_name = shlex.quote(study.name)
    print("\nWhere to look next:")
    print(f"  {cmd} studies --storage {q_storage}")
    print(f"  {cmd} trials {q_name} --storage {q_storage}")
    print(f"  {cmd} best {q_name} --storage {q_storage}")
    print(
        "Re-running this script resumes the same study (same name and storage): "
        "new trials add to the ones above."
    )


def _print_top(study: hs.Study) -> None:
    """The five best trials, in a table that fits the terminal (numbers are never cut)."""
    top = study.top(5)
    names = [*SPACE, "layers"]
    columns = [
        Column("#", tuple(str(t.number) for t in top), "right", priority=0),
        Column(study.metric, tuple(format_number(t.value) for t in top), "right", priority=1),
        *(
            Column(name, tuple(format_number(t.params.get(name)) for t in top), "right")
            for name in names
        ),
        Column("params", tuple(str(t.attrs.get("n_params", "-")) for t in top), "right"),
        Column("note", tuple(t.note for t in top), cut=True, priority=20),
    ]
    print()
    print_table(fit_table(columns, terminal_width(), title=f"Top 5 of {study.name}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30, help="trials to run now (default 30)")
    parser.add_argument("--epochs", type=int, default=15, help="epochs per trial (default 15)")
    parser.add_argument(
        "--storage",
        default="sqlite:///hypersearch.db",
        help="where the study lives (default sqlite:///hypersearch.db)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sampler and data seed (default 0)")
    parser.add_argument("--study-name", default="digits-mlp", help="default digits-mlp")
    args = parser.parse_args(argv)
    if args.trials < 1 or args.epochs < 1:
        parser.error("--trials and --epochs must be at least 1")

    # One thread: on matrices this small, more threads cost more in sync than they save, and
    # they slow to a crawl when other processes share the cores.
    torch.set_num_threads(1)
    try:
        study = hs.create_study(
            args.study_name,
            space=SPACE,
            direction="maximize",
            metric="val_accuracy",
            storage=args.storage,
            seed=args.seed,
            load_if_exists=True,  # a second run resumes the same study
        )
    except hs.HypersearchError as exc:
        print(
            f"error: {exc}\nTo start a separate search, pass --study-name or --storage.",
            file=sys.stderr,
        )
        return 2
    try:
        if not study.trials:
            # "layers" is define-by-run: no trial has asked for it yet, so say it is new.
            study.enqueue(BASELINE, note="baseline: a hand-picked setting", allow_new=True)
        else:
            print(f"Resuming {study.name!r}: {len(study.trials)} trials so far.")
        objective = make_objective(load_data(args.seed), epochs=args.epochs, seed=args.seed)
        start = time.perf_counter()
        study.optimize(objective, n_trials=args.trials, show_progress=True)
        print(f"{args.trials} trials in {time.perf_counter() - start:.1f} s.")
        print_summary(study, args.storage)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; results so far are kept in {args.storage}; re-run to resume",
            file=sys.stderr,
        )
        return 130
    except hs.HypersearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
