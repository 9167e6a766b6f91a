"""Real tuning problems: scikit-learn with cross-validation, and a small PyTorch net on digits.

Losses are ``1 - accuracy`` (minimised); optima are unknown, so regret is measured against
the best value any optimizer found.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bench.problems import Problem
from hypersearch.space import Choice, Float, Int, Space


@functools.cache
def _cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def svc_cancer() -> Problem:
    """An SVM on the breast-cancer data, 5-fold CV accuracy (cheap: ~20 ms a trial)."""

    def loss(p: dict[str, Any]) -> float:
        from sklearn.model_selection import StratifiedKFold, cross_val_score
        from sklearn.svm import SVC

        x, y = _cancer()
        model = SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"], coef0=p["coef0"])
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        return 1.0 - float(cross_val_score(model, x, y, cv=cv).mean())

    space = Space(
        {
            "C": Float(1e-3, 1e3, log=True),
            "gamma": Float(1e-5, 1e1, log=True),
            "kernel": Choice(["rbf", "sigmoid", "poly"]),
            "coef0": Float(-1.0, 1.0),
        }
    )
    return Problem("svc_cancer", space, loss, None, kind="real")


@functools.cache
def _digits() -> tuple[Any, ...]:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    xt, xv, yt, yv = train_test_split(x / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    f = torch.float32
    return (
        torch.tensor(xt, dtype=f),
        torch.tensor(yt),
        torch.tensor(xv, dtype=f),
        torch.tensor(yv),
    )


def torch_digits() -> Problem:
    """A one-hidden-layer MLP on digits, 10 epochs of Adam/SGD (about a second a trial)."""

    def loss(p: dict[str, Any]) -> float:
        import torch

        torch.set_num_threads(1)
        torch.manual_seed(0)
        xt, yt, xv, yv = _digits()
        model = torch.nn.Sequential(
            torch.nn.Linear(64, p["units"]),
            torch.nn.ReLU(),
            torch.nn.Dropout(p["dropout"]),
            torch.nn.Linear(p["units"], 10),
        )
        opt: torch.optim.Optimizer
        if p["optimizer"] == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=p["lr"], weight_decay=p["wd"])
        else:
            opt = torch.optim.SGD(
                model.parameters(), lr=p["lr"], momentum=0.9, weight_decay=p["wd"]
            )
        n = len(xt)
        for _ in range(10):
            model.train()
            perm = torch.randperm(n)
            for i in range(0, n, p["batch_size"]):
                idx = perm[i : i + p["batch_size"]]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(xv).argmax(1) == yv).float().mean())
        return 1.0 - acc

    space = Space(
        {
            "lr": Float(1e-4, 1.0, log=True),
            "wd": Float(1e-6, 1e-1, log=True),
            "units": Int(16, 256, scale="pow2"),
            "batch_size": Int(16, 256, scale="pow2"),
            "dropout": Float(0.0, 0.6),
            "optimizer": Choice(["adam", "sgd"]),
        }
    )
    return Problem("torch_digits", space, loss, None, kind="real")


PROBLEMS = {"svc_cancer": svc_cancer, "torch_digits": torch_digits}
