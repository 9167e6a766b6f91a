"""Early stopping on the digits MLP: most trials stop after 2 or 3 epochs, the promising ones
get 27.

    pip install "hypersearch[examples]"
    python examples/digits_hyperband.py                       # MultiFidelity, 60 trials
    python examples/digits_hyperband.py --scheduler hyperband # or asha, bohb
    python examples/digits_hyperband.py --screening           # a small budget: see below

The default scheduler is the recommended one, ``MultiFidelity(max_resource=27)``: its first two
full trainings go to the best of each group of 14 configurations screened at 2 epochs; later
configurations climb ASHA's rungs 3, 9 (derived from max_resource), proposed by a model of
every reported epoch, stopped and paused trials included.

The resource is the epoch: the objective reports ``step=epoch`` (1, 2, ...) and stops when
``trial.should_stop()`` says so; stopped trials are kept (state STOPPED) with their curves.
The objective saves a checkpoint after every epoch, so a trial that falls short at a rung is
*paused*, and if it later ranks among the best of its rung a new trial continues it from its
checkpoint (``trial.start_step``, ``trial.load_checkpoint()``) instead of retraining it.
``--no-checkpoints`` trains without them: ``MultiFidelity`` still pauses at rungs and a
promotion retrains the configuration from epoch 1 (ASHA, Hyperband and BOHB use the
stopping form: the best trials simply train on).

``--screening`` is ``MultiFidelity(max_resource=27, screening=True)``, for a budget of a few
full trainings: every configuration trains 2 epochs (about 8% of 27), and the best of every 14
screened trains in full, throughout the study.
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
        f"This example needs PyTorch and scikit-learn ({exc.name}): "
        'pip install "hypersearch[examples]"'
    )

import hypersearch as hs

EPOCHS = 27
SPACE = {
    "lr": hs.Float(1e-4, 3e-1, log=True),
    "momentum": hs.Float(0.5, 0.99, scale="log1m"),
    "batch_size": hs.Int(16, 256, scale="pow2"),
    "units": hs.Int(32, 512, step=32),
    "dropout": hs.Float(0.0, 0.5),
    "weight_decay": hs.Float(1e-6, 1e-2, log=True),
}


def load(seed: int = 0) -> list[torch.Tensor]:
    x, y = load_digits(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    sc = StandardScaler().fit(x_tr)
    f = torch.float32
    return [torch.as_tensor(sc.transform(x_tr), dtype=f), torch.as_tensor(y_tr),
            torch.as_tensor(sc.transform(x_va), dtype=f), torch.as_tensor(y_va)]  # fmt: skip


def make_objective(
    data: list[torch.Tensor], epochs: int = EPOCHS, checkpoints: bool = True
) -> Any:
    x_tr, y_tr, x_va, y_va = data

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        torch.manual_seed(trial.number)
        model = nn.Sequential(nn.Linear(64, p["units"]), nn.ReLU(), nn.Dropout(p["dropout"]),
                              nn.Linear(p["units"], 10))  # fmt: skip
        opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"],
                              weight_decay=p["weight_decay"])  # fmt: skip
        first = 1
        state = trial.load_checkpoint() if checkpoints else None  # set for a promotion
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            first = state["epoch"] + 1  # == trial.start_step
        acc = 0.0
        for epoch in range(first, epochs + 1):
            model.train()
            for idx in torch.randperm(len(x_tr)).split(p["batch_size"]):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                acc = (model(x_va).argmax(1) == y_va).float().mean().item()
            trial.report(acc, step=epoch)  # the resource axis: epochs done
            if checkpoints:
                trial.save_checkpoint(
                    {"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch}
                )
            if trial.should_stop():
                break
        return acc

    return objective


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument(
        "--scheduler", choices=["multifidelity", "hyperband", "asha", "bohb"],
        default="multifidelity",
    )  # fmt: skip
    ap.add_argument("--storage", default="sqlite:///hypersearch.db")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help="max_resource")
    ap.add_argument("--no-checkpoints", action="store_true", help="save no checkpoints")
    ap.add_argument("--screening", action="store_true",
                    help="MultiFidelity(screening=True): one rung, for small budgets")  # fmt: skip
    args = ap.parse_args()
    torch.set_num_threads(1)
    scheduler: hs.schedulers.Scheduler
    if args.scheduler == "multifidelity":  # only max_resource is needed
        scheduler = hs.schedulers.MultiFidelity(max_resource=args.epochs,
                                                screening=args.screening)  # fmt: skip
    else:
        cls = {"hyperband": hs.schedulers.Hyperband, "asha": hs.schedulers.ASHA,
               "bohb": hs.schedulers.BOHB}[args.scheduler]  # fmt: skip
        scheduler = cls(min_resource=1, max_resource=args.epochs, reduction_factor=3)
    name = f"digits-{args.scheduler}" + ("-screening" if args.screening else "")
    study = hs.create_study(
        name, space=SPACE, direction="maximize", metric="val_accuracy",
        scheduler=scheduler,
        storage=args.storage, seed=0, load_if_exists=True,
    )  # fmt: skip
    objective = make_objective(load(), args.epochs, checkpoints=not args.no_checkpoints)
    study.optimize(objective, n_trials=args.trials)
    trials = study.trials
    epochs = sum(len(t.intermediate) for t in trials)
    promoted = sum(t.attrs.get("promoted_from") is not None for t in trials)
    resumed = sum(t.attrs.get("resume_from") is not None for t in trials)
    configs = len(trials) - promoted  # a promotion continues a configuration
    stopped = sum(t.state is hs.TrialState.STOPPED for t in trials)
    print(f"best val accuracy {study.best_value:.4f} with {study.best_params}")
    print(
        f"{configs} configurations in {len(trials)} trials ({resumed} promotions from a "
        f"checkpoint, {promoted - resumed} retrained), {stopped} stopped or paused early; "
        f"{epochs} epochs trained of {configs * args.epochs} for full training "
        f"({epochs / (configs * args.epochs):.0%})"
    )


if __name__ == "__main__":
    main()
