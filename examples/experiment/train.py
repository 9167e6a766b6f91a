"""A plain training script, as a team would have it: arguments in, JSON lines out.

It knows nothing about hypersearch except the output format (one JSON object per line with
the metric and the step); `hypersearch.report(val_accuracy=acc, step=epoch)` prints the same.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    # Stopped by the scheduler: end cleanly (a real script would save a checkpoint here).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    torch.set_num_threads(1)
    torch.manual_seed(0)

    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
    X_train, X_val = (torch.tensor(a, dtype=torch.float32) for a in (X_train, X_val))
    y_train, y_val = torch.tensor(y_train), torch.tensor(y_val)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 10)
    )
    opt_cls = torch.optim.SGD if args.optimizer == "sgd" else torch.optim.Adam
    optimizer = opt_cls(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(X_train))
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            optimizer.zero_grad()
            loss_fn(model(X_train[idx]), y_train[idx]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            acc = (model(X_val).argmax(1) == y_val).float().mean().item()
        print(json.dumps({"val_accuracy": acc, "step": epoch}), flush=True)


if __name__ == "__main__":
    main()
