"""Studies for the dashboard tests: a small one with failures, stopped trials and odd strings,
and a bulk one written straight into the schema (for scale)."""

from __future__ import annotations

import json
import math
import random
import sqlite3
import time
from pathlib import Path

import hypersearch as hs

XSS_NOTE = "<script>alert(1)</script>"
ODD_NAME = "odd <b>study</b> & 'quotes' \"dq\" / ünïcode ✓"
ODD_CHOICE = "<img src=x onerror=alert(2)>"
ODD_TAG = "<i>tag</i>&amp;"


def build_odd_study(path: Path, *, n_trials: int = 24) -> str:
    """A study with complete, stopped, failed (with traceback), running and waiting trials,
    and user strings that must stay text. Returns the storage URL."""
    url = f"sqlite:///{path}"
    space = {
        "lr": hs.Float(1e-5, 1e-1, log=True),
        "units": hs.Int(32, 512, step=32),
        "optimizer": hs.Choice(["sgd", "adam", ODD_CHOICE]),
        "dropout": hs.Float(0.0, 0.5),
    }
    study = hs.create_study(
        ODD_NAME,
        space=space,
        direction="maximize",
        metric="val <acc>",
        storage=url,
        seed=0,
        sampler="random",
    )
    rng = random.Random(0)

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        if trial.number % 7 == 3:
            raise RuntimeError(f"CUDA out of memory <oops> & {ODD_CHOICE}")
        base = 0.9 - abs(math.log10(p["lr"]) + 3) * 0.08 - p["dropout"] * 0.1
        value = 0.0
        for epoch in range(12):
            value = base * (1 - math.exp(-(epoch + 1) / 3)) + rng.uniform(-0.01, 0.01)
            trial.report(value, step=epoch)
            if trial.number % 5 == 4 and epoch == 4:
                trial.stop()
        return value

    study.optimize(objective, n_trials=n_trials, show_progress=False, max_failures=None)
    study.set_note(0, XSS_NOTE)
    study.add_tags(0, ODD_TAG, "baseline")
    study.add_tags(1, "baseline")
    study.set_note(2, "line one\nline two with a very long note " + "x" * 80)
    study.set_attrs(1, {"checkpoints": ["/ckpt/epoch-3.pt", "/ckpt/<best>.pt"], "size": 12})
    running = study.ask()  # stays RUNNING: the dashboard shows it live
    running.report(0.41, step=0)
    running.report(0.52, step=1)
    study.enqueue({"lr": 1e-3, "optimizer": "sgd"}, note="queued by hand <u>")
    # a second, empty study
    hs.create_study(
        "empty study", space=space, direction="minimize", storage=url, sampler="random"
    )
    return url


def build_bulk_study(
    path: Path, *, n_trials: int, n_reports: int, name: str = "bulk", seed: int = 0
) -> str:
    """A study of ``n_trials`` finished trials with ``n_reports`` reports each, written with bulk
    inserts into the real schema (fast: about 1 s per million reports)."""
    url = f"sqlite:///{path}"
    space = {
        "lr": hs.Float(1e-5, 1e-1, log=True),
        "units": hs.Int(32, 512, step=32),
        "optimizer": hs.Choice(["sgd", "adam", "rmsprop"]),
        "dropout": hs.Float(0.0, 0.5),
        "layers": hs.Int(1, 6),
    }
    study = hs.create_study(name, space=space, direction="maximize", storage=url)
    study.storage.close()
    rng = random.Random(seed)
    dists = json.dumps({k: p.to_dict() for k, p in space.items()})
    conn = sqlite3.connect(path)
    try:
        study_id = conn.execute("SELECT id FROM hs_studies WHERE name = ?", (name,)).fetchone()[0]
        first_id = (conn.execute("SELECT max(id) FROM hs_trials").fetchone()[0] or 0) + 1
        now = time.time() - n_trials * 2.0
        trials, reports = [], []
        for i in range(n_trials):
            lr = 10 ** rng.uniform(-5, -1)
            params = {
                "lr": lr,
                "units": rng.randrange(32, 513, 32),
                "optimizer": rng.choice(["sgd", "adam", "rmsprop"]),
                "dropout": rng.uniform(0, 0.5),
                "layers": rng.randint(1, 6),
            }
            top = 0.95 - abs(math.log10(lr) + 3) * 0.07 - params["dropout"] * 0.1
            state = "COMPLETE" if i % 10 else ("STOPPED" if i % 20 else "FAILED")
            steps = n_reports if state == "COMPLETE" else n_reports // 3
            curve = [
                top * (1 - math.exp(-(s + 1) / 8)) + rng.uniform(-0.01, 0.01) for s in range(steps)
            ]
            value = None if state == "FAILED" else curve[-1]
            start = now + i * 2.0
            trials.append(
                (
                    first_id + i,
                    study_id,
                    i,
                    state,
                    "sampler",
                    json.dumps(params),
                    dists,
                    value,
                    "{}",
                    "",
                    "[]",
                    "{}",
                    "diverged" if state == "FAILED" else None,
                    start,
                    start,
                    start + 1.5,
                )
            )
            reports.extend((first_id + i, s, v, start + s * 0.01) for s, v in enumerate(curve))
        conn.executemany(
            "INSERT INTO hs_trials (id, study_id, number, state, source, params, distributions,"
            " value, metrics, note, tags, attrs, fail_reason, created_at, started_at,"
            " finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            trials,
        )
        conn.executemany(
            "INSERT INTO hs_reports (trial_id, step, value, at) VALUES (?, ?, ?, ?)", reports
        )
        conn.commit()
    finally:
        conn.close()
    return url


def build_hyperband_study(path: Path, *, n_trials: int = 30, name: str = "hyperband") -> str:
    """A Hyperband study where almost every trial is STOPPED at a rung (the case the
    dashboard must still analyse), with a define-by-run parameter (``layers``) and a
    log-scaled learning rate. Returns the storage URL."""
    url = f"sqlite:///{path}"
    space = {
        "lr": hs.Float(1e-4, 1e-1, log=True),
        "units": hs.Int(32, 512, step=32),
        "optimizer": hs.Choice(["sgd", "adam"]),
    }
    study = hs.create_study(
        name,
        space=space,
        direction="maximize",
        metric="val_accuracy",
        storage=url,
        seed=1,
        sampler="random",
        scheduler=hs.schedulers.Hyperband(min_resource=1, max_resource=27),
    )

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        layers = trial.suggest("layers", hs.Int(1, 4))
        top = 0.97 - abs(math.log10(p["lr"]) + 2.3) * 0.12 - abs(layers - 2) * 0.02
        top += 0.02 if p["optimizer"] == "adam" else 0.0
        value = 0.0
        for epoch in range(1, 28):
            value = top * (1 - math.exp(-epoch / 5)) + 0.002 * math.sin(trial.number + epoch)
            trial.report(value, step=epoch)
            if trial.should_stop():
                break
        return value

    study.optimize(objective, n_trials=n_trials, show_progress=False)
    return url


def build_single_fidelity_study(path: Path, *, n_trials: int = 40, name: str = "mlp") -> str:
    """A plain study (no scheduler) with learning curves, a few failures with tracebacks, a
    define-by-run parameter, notes and tags, as the dashboard's screenshots show it."""
    url = f"sqlite:///{path}"
    space = {
        "lr": hs.Float(1e-4, 1e-1, log=True),
        "momentum": hs.Float(0.5, 0.99, scale="log1m"),
        "batch_size": hs.Int(16, 256, scale="pow2"),
        "optimizer": hs.Choice(["sgd", "adam"]),
        "dropout": hs.Float(0.0, 0.5),
    }
    study = hs.create_study(
        name,
        space=space,
        direction="maximize",
        metric="val_accuracy",
        storage=url,
        seed=3,
        sampler="tpe",
    )

    def objective(trial: hs.Trial) -> float:
        p = trial.params
        layers = trial.suggest("layers", hs.Int(1, 4))
        if p["lr"] > 0.02 and p["optimizer"] == "adam":
            raise FloatingPointError(f"loss is NaN at epoch 3 (lr={p['lr']:.3g} with adam)")
        top = 0.975 - abs(math.log10(p["lr"]) + 2.2) * 0.07 - p["dropout"] * 0.08
        top -= abs(layers - 2) * 0.015 + abs(math.log2(p["batch_size"]) - 6) * 0.01
        value = 0.0
        for epoch in range(15):
            value = top * (1 - math.exp(-(epoch + 1) / 3.5)) + 0.003 * math.sin(
                trial.number * epoch
            )
            trial.report(value, step=epoch)
        return value

    study.optimize(objective, n_trials=n_trials, show_progress=False, max_failures=None)
    best = study.best_trial.number
    study.set_note(best, "best so far: try a longer schedule with this learning rate")
    study.add_tags(best, "candidate")
    study.set_note(0, "baseline from the paper's defaults")
    study.add_tags(0, "baseline")
    lrs = [10 ** (-6 + i / 10) for i in range(50)]  # an LR-finder sweep, as its page plots it
    losses = [2.3 - 1.5 / (1 + math.exp(-3 * (math.log10(lr) + 3.5))) + 30 * lr for lr in lrs]
    study.set_attrs(0, {"lr_finder": {"lrs": lrs, "losses": losses, "suggestion": 3e-4}})
    return url


def build_multiobjective_study(
    path: Path, *, name: str = "mlp-tradeoff", n_trials: int = 40, three: bool = False
) -> str:
    """A study of accuracy against latency (and parameter count with ``three``) under a memory
    constraint, on SQLite: completed trials on and off the front, infeasible ones, failures."""
    url = f"sqlite:///{path}"
    directions = {"val_accuracy": "maximize", "latency_ms": "minimize"}
    if three:
        directions["params_k"] = "minimize"
    study = hs.create_study(
        name,
        space={
            "units": hs.Int(16, 512, log=True),
            "layers": hs.Int(1, 4),
            "dropout": hs.Float(0.0, 0.5),
        },
        directions=directions,
        constraints={"gpu_mem_gb": ("<=", 6.0)},
        storage=url,
        seed=0,
        sampler="random",
    )

    def objective(trial: hs.Trial) -> dict[str, float]:
        p = trial.params
        if trial.number % 13 == 6:
            raise RuntimeError("CUDA out of memory")
        size = p["units"] * p["layers"]
        accuracy = 0.99 - 0.25 / math.sqrt(size / 16) - 0.2 * p["dropout"]
        for epoch in range(4):
            step = {"val_accuracy": accuracy * (epoch + 1) / 4, "latency_ms": 0.5 + size / 300}
            if three:
                step["params_k"] = size * 0.784 + 10 * p["layers"]
            trial.report(step, step=epoch)
        out = {
            "val_accuracy": accuracy,
            "latency_ms": 0.5 + size / 300 + 2.0 * p["dropout"],
            "gpu_mem_gb": 1.0 + size / 250,
        }
        if three:
            out["params_k"] = size * 0.784 + 10 * p["layers"]
        return out

    study.optimize(objective, n_trials=n_trials, show_progress=False, max_failures=None)
    return url
