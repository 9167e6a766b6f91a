"""Population Based Training finds a learning-rate *schedule* for a small PyTorch net on digits.

Eight networks train side by side in 3-epoch segments. After each segment the worst quarter
copies the weights of a top network (exploit, through checkpoints) and perturbs its learning
rate and momentum (explore). The schedule that produced the final best network is printed.
``--compare`` also runs random search with the same compute (8 trials x 24 epochs).

    python examples/pbt_schedule.py
    python examples/pbt_schedule.py --compare --seeds 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
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

EPOCHS = 24
POPULATION = 8
SPACE = {"lr": hs.Float(1e-3, 1.0, log=True), "momentum": hs.Float(0.0, 0.99)}


def load(seed: int) -> list[torch.Tensor]:
    x, y = load_digits(return_X_y=True)
    # a small training set makes the schedule matter (overfitting late, slow progress early)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, train_size=400, stratify=y, random_state=seed)
    sc = StandardScaler().fit(x_tr)
    f = torch.float32
    return [torch.as_tensor(sc.transform(x_tr), dtype=f), torch.as_tensor(y_tr),
            torch.as_tensor(sc.transform(x_va), dtype=f), torch.as_tensor(y_va)]  # fmt: skip


def make_objective(data: list[torch.Tensor], seed: int, epochs: int = EPOCHS) -> Any:
    x_tr, y_tr, x_va, y_va = data

    def objective(trial: hs.Trial) -> float:
        torch.manual_seed(seed * 1000 + trial.number)
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        state = trial.load_checkpoint()  # None for a new member of the population
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
        for group in opt.param_groups:  # this segment's hyperparameters
            group["lr"], group["momentum"] = trial.params["lr"], trial.params["momentum"]
        acc = 0.0
        for epoch in range(trial.start_step, epochs):
            model.train()
            for idx in torch.randperm(len(x_tr)).split(32):
                opt.zero_grad()
                nn.functional.cross_entropy(model(x_tr[idx]), y_tr[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                acc = (model(x_va).argmax(1) == y_va).float().mean().item()
            trial.report(acc, step=epoch)
            trial.save_checkpoint({"model": model.state_dict(), "opt": opt.state_dict()})
            if trial.should_stop():  # end of the segment: a later trial continues it
                break
        return acc

    return objective


def run(seed: int, scheduler: Any, population: int = POPULATION, epochs: int = EPOCHS) -> hs.Study:
    # A SQLite file in a temporary folder; checkpoints go next to it (pbt.db.artifacts/).
    folder = tempfile.mkdtemp(prefix="pbt-example-")
    study = hs.create_study(
        f"pbt-{seed}",
        space=SPACE,
        direction="maximize",
        sampler="random",
        scheduler=scheduler,
        seed=seed,
        storage=f"sqlite:///{folder}/pbt.db",
    )
    n = 10_000 if scheduler is not None else population  # PBT ends when its lineages do
    study.optimize(make_objective(load(seed), seed, epochs), n_trials=n)
    return study


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", action="store_true", help="also run random search")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--population", type=int, default=POPULATION)
    ap.add_argument("--epochs", type=int, default=EPOCHS, help="a multiple of 3")
    args = ap.parse_args()
    torch.set_num_threads(1)
    wins = 0
    for seed in range(args.seeds):
        pbt = hs.schedulers.PBT(
            population_size=args.population,
            interval=3,
            max_resource=args.epochs,
            perturb=(0.5, 2.0),
            seed=seed,
        )
        study = run(seed, pbt, args.population, args.epochs)
        best = study.best_trial
        epochs = sum(len(t.intermediate) for t in study.trials)
        failed = len(study.get_trials(["FAILED"]))
        print(f"seed {seed}: PBT best val accuracy {best.value:.4f} ({epochs} epochs, "
              f"{failed} failed segments)")  # fmt: skip
        for start, params in hs.schedulers.schedule_of(best):
            print(
                f"   from epoch {start:2d}: lr={params['lr']:.4g} "
                f"momentum={params['momentum']:.3f}"
            )
        if args.compare:
            rand = run(seed, None, args.population, args.epochs)
            r_epochs = sum(len(t.intermediate) for t in rand.trials)
            wins += best.value > rand.best_value  # type: ignore[operator]
            print(
                f"seed {seed}: random best val accuracy {rand.best_value:.4f} ({r_epochs} epochs)"
            )
    if args.compare:
        print(f"PBT better than random search at equal compute in {wins}/{args.seeds} seeds")


if __name__ == "__main__":
    main()
