"""Accuracy against size and speed: a multi-objective search on the digits MLP.

Deployment rarely wants only the most accurate network: it wants the most accurate one that
is small and fast enough. This search tunes a PyTorch MLP on scikit-learn's digits (1,797
8x8 images, no download) for three objectives at once: validation accuracy (maximise), the
number of parameters (minimise) and the measured inference latency of a batch (minimise),
subject to a memory budget (weights plus the activations of a batch must fit in
``--memory-mb``). The result is not one best trial but the Pareto front: every trial that no
other feasible trial beats on all three.

    pip install "hypersearch[examples]"
    python examples/digits_multiobjective.py                    # 40 trials, ./hypersearch.db
    python examples/digits_multiobjective.py --trials 10        # run again: the study goes on
    hypersearch best digits-multiobjective                      # the front, from the CLI

Latency is measured on this machine (median of repeated timed passes after a warm-up, one
thread), so it is noisy at the tenth of a millisecond; accuracy and size are exact.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import statistics
import sys
import time
from collections.abc import Callable

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

SPACE = {
    "lr": hs.Float(1e-3, 3e-1, log=True),
    "batch_size": hs.Int(16, 128, scale="pow2"),
    "units": hs.Int(8, 512, scale="pow2"),
    "layers": hs.Int(1, 3),
    "dropout": hs.Float(0.0, 0.4),
    "optimizer": hs.Choice(["sgd", "adam"]),
}
#: What the study optimises, in order; the objective returns a dict with these keys.
DIRECTIONS = {"val_accuracy": "maximize", "n_params": "minimize", "latency_ms": "minimize"}
#: Images per timed inference batch (and per batch in the memory estimate).
INFERENCE_BATCH = 256
BYTES_PER_FLOAT = 4

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


def memory_mb(model: nn.Module, n_in: int) -> float:
    """Inference memory in MB: the fp32 weights plus the two largest activations of a batch
    alive at once (a layer's input and output)."""
    widths = [n_in] + [m.out_features for m in model.modules() if isinstance(m, nn.Linear)]
    pairs = max(a + b for a, b in itertools.pairwise(widths))
    weights = sum(p.numel() for p in model.parameters())
    return (weights + INFERENCE_BATCH * pairs) * BYTES_PER_FLOAT / 1e6


def latency_ms(model: nn.Module, x: torch.Tensor, repeats: int) -> float:
    """Median wall time of one forward pass over ``INFERENCE_BATCH`` images, after a warm-up."""
    batch = x[:INFERENCE_BATCH]
    model.eval()
    times = []
    with torch.inference_mode():
        for i in range(repeats + 3):
            start = time.perf_counter()
            model(batch)
            if i >= 3:  # the first passes allocate and warm caches
                times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def make_objective(
    data: Tensors, *, epochs: int, seed: int, repeats: int
) -> Callable[[hs.Trial], dict[str, float]]:
    """Build, train (reporting accuracy and latency so far), then measure: one trial."""
    x_tr, y_tr, x_va, y_va = data
    n_classes = int(y_tr.max()) + 1

    def objective(trial: hs.Trial) -> dict[str, float]:
        p = trial.params
        torch.manual_seed(seed * 100_003 + trial.number)
        order = torch.Generator().manual_seed(seed * 100_003 + trial.number)
        model = build_model(
            x_tr.shape[1], n_classes, units=p["units"], layers=p["layers"], dropout=p["dropout"]
        )
        n_params = float(sum(t.numel() for t in model.parameters()))
        if p["optimizer"] == "sgd":
            optimizer: torch.optim.Optimizer = torch.optim.SGD(
                model.parameters(), lr=p["lr"], momentum=0.9
            )
        else:
            optimizer = torch.optim.Adam(model.parameters(), lr=p["lr"] / 10)
        loss_fn = nn.CrossEntropyLoss()
        speed = latency_ms(model, x_va, repeats)  # the architecture fixes it: measured once
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
            # every objective per epoch: curves for the dashboard and multi-objective ASHA
            trial.report(
                {"val_accuracy": val_acc, "n_params": n_params, "latency_ms": speed}, step=epoch
            )
            if trial.should_stop():
                break
        return {
            "val_accuracy": val_acc,
            "n_params": n_params,
            "latency_ms": latency_ms(model, x_va, repeats),
            "memory_mb": memory_mb(model, x_tr.shape[1]),  # a metric the constraint reads
        }

    return objective


def print_front(study: hs.Study, storage: str) -> None:
    """The Pareto front as a table, most accurate first, and where to look next."""
    front = sorted(study.best_trials, key=lambda t: (-(t.values or (0.0,))[0], t.number))
    done = [t for t in study.trials if t.state is hs.TrialState.COMPLETE]
    infeasible = sum(1 for t in done if not t.feasible)
    if not front:
        print("No feasible trial completed yet; see the trials with the commands below.")
    else:
        names = [o.name for o in study.objectives]
        columns = [
            Column("#", tuple(str(t.number) for t in front), "right", priority=0),
            *(
                Column(name, tuple(format_number(t.values[i]) for t in front), "right", priority=1)  # type: ignore[index]
                for i, name in enumerate(names)
            ),
            Column(
                "memory_mb",
                tuple(format_number(t.metrics.get("memory_mb")) for t in front),
                "right",
                priority=5,
            ),
            *(
                Column(name, tuple(format_number(t.params.get(name)) for t in front), "right")
                for name in SPACE
            ),
        ]
        title = (
            f"Pareto front of {study.name}: {len(front)} of {len(done)} completed trials "
            f"({infeasible} over the memory budget)"
        )
        print()
        print_table(fit_table(columns, terminal_width(), title=title))
    cmd = program_name()
    q_storage, q_name = shlex.quote(storage), shlex.quote(study.name)
    print("\nWhere to look next:")
    print(f"  {cmd} best {q_name} --storage {q_storage}      # the front")
    print(f"  {cmd} trials {q_name} --storage {q_storage}    # every trial, feasible or not")
    print(f"  {cmd} dashboard --storage {q_storage}          # the Pareto plot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40, help="trials to run now (default 40)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial (default 10)")
    parser.add_argument(
        "--memory-mb",
        type=float,
        default=1.0,
        help="memory budget of the deployed model in MB (default 1.0)",
    )
    parser.add_argument(
        "--repeats", type=int, default=20, help="timed passes per latency (default 20)"
    )
    parser.add_argument(
        "--storage",
        default="sqlite:///hypersearch.db",
        help="where the study lives (default sqlite:///hypersearch.db)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sampler and data seed (default 0)")
    parser.add_argument(
        "--study-name", default="digits-multiobjective", help="default digits-multiobjective"
    )
    args = parser.parse_args(argv)
    if args.trials < 1 or args.epochs < 1 or args.repeats < 1:
        parser.error("--trials, --epochs and --repeats must be at least 1")
    if not args.memory_mb > 0:
        parser.error("--memory-mb must be a positive number of megabytes")

    torch.set_num_threads(1)  # steadier latencies, and no fight over a shared machine's cores
    try:
        study = hs.create_study(
            args.study_name,
            space=SPACE,
            directions=DIRECTIONS,
            constraints={"memory_mb": ("<=", args.memory_mb)},
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
        if study.trials:
            print(f"Resuming {study.name!r}: {len(study.trials)} trials so far.")
        objective = make_objective(
            load_data(args.seed), epochs=args.epochs, seed=args.seed, repeats=args.repeats
        )
        start = time.perf_counter()
        study.optimize(objective, n_trials=args.trials, show_progress=True)
        print(f"{args.trials} trials in {time.perf_counter() - start:.1f} s.")
        print_front(study, args.storage)
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
