"""The GP sampler's search machinery, public for every sampler built on the package's GP
(``GPSampler``, ``EHVISampler``): how a space maps to the GP's inputs (``InputLayout``), the
feasibility model learned from failures (``feasibility_model``), and the multi-start search
for the best point of any acquisition (``maximise_acquisition``)."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_ndtr

from hypersearch.samplers.gp.model import GaussianProcess
from hypersearch.space import Choice, Space

__all__ = [
    "Acquisition",
    "FeasibilityModel",
    "InputLayout",
    "feasibility_model",
    "maximise_acquisition",
    "polish_candidates",
]

_MAX_SNAP = 5000


class Acquisition(Protocol):
    """What ``maximise_acquisition`` needs: the score of candidates (continuous coordinates,
    category codes; higher is better) and, in ``with_grad``, its gradient in the continuous
    coordinates."""

    def __call__(self, cc: np.ndarray, ck: np.ndarray) -> np.ndarray: ...

    def with_grad(self, cc: np.ndarray, ck: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class InputLayout:
    """How a space maps to the GP's inputs: numeric parameters as continuous coordinates
    (snapped to the cell centres of discrete ones), choices as category codes, single-value
    parameters left out."""

    def __init__(self, space: Space) -> None:
        self.d = len(space)
        self.num: list[int] = []
        self.snaps: list[np.ndarray | None] = []
        self.cat: list[int] = []
        self.k: list[int] = []
        for j, p in enumerate(space.values()):
            if p.cardinality == 1:
                continue
            if isinstance(p, Choice):
                self.cat.append(j)
                self.k.append(p.cardinality)
                continue
            self.num.append(j)
            count = p.cardinality
            if count is not None and count <= _MAX_SNAP:
                self.snaps.append(np.unique([p.encode(v) for v in p.grid(None)]))
            else:
                self.snaps.append(None)

    @property
    def only_categorical(self) -> bool:
        return not self.num and bool(self.cat)

    def snap(self, xc: np.ndarray) -> np.ndarray:
        out = xc.copy()
        for c, grid in enumerate(self.snaps):
            if grid is None or len(grid) < 2:
                continue
            mids = 0.5 * (grid[1:] + grid[:-1])
            out[:, c] = grid[np.searchsorted(mids, xc[:, c])]
        return out

    def features(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xc = self.snap(u[:, self.num])
        k = np.array(self.k, dtype=float)
        xk = np.minimum(np.floor(u[:, self.cat] * k), k - 1).astype(float)
        return xc, xk

    def unit(self, xc: np.ndarray, xk: np.ndarray) -> np.ndarray:
        u = np.full((len(xc), self.d), 0.5)
        u[:, self.num] = xc
        if self.cat:
            u[:, self.cat] = (xk + 0.5) / np.array(self.k, dtype=float)
        return u


def feasibility_model(
    lengthscales: np.ndarray, ok: np.ndarray, failed: np.ndarray, layout: InputLayout
) -> FeasibilityModel | None:
    """log P(trial succeeds) from a GP classifier-by-regression on ±1 labels (``ok`` unit-cube
    points and infeasible ``failed`` ones), with an objective GP's length scales; None
    without failures."""
    if not len(failed):
        return None
    fc, fk = layout.features(failed)
    sc, sk = layout.features(ok)
    labels = np.concatenate([np.ones(len(sc)), -np.ones(len(fc))])
    prior = float(labels.mean())
    clf = GaussianProcess(
        np.vstack([sc, fc]),
        np.vstack([sk, fk]),
        labels - prior,
        lengthscales,
        1.0,
        0.1,
    )
    return FeasibilityModel(clf, prior)


class FeasibilityModel:
    """log P(success) at candidate points, from the ±1 regression GP, with its gradient."""

    def __init__(self, clf: GaussianProcess, prior: float) -> None:
        self.clf, self.prior = clf, prior

    def __call__(self, cc: np.ndarray, ck: np.ndarray) -> np.ndarray:
        mean, var = self.clf.predict(cc, ck)
        return np.asarray(log_ndtr((mean + self.prior) / np.sqrt(var + 0.1)))

    def with_grad(self, cc: np.ndarray, ck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, var, dmean, dvar = self.clf.predict_with_grad(cc, ck)
        s = np.sqrt(var + 0.1)
        z = (mean + self.prior) / s
        lp = np.asarray(log_ndtr(z))
        ratio = np.exp(-0.5 * z * z - 0.5 * math.log(2 * math.pi) - lp)  # φ(z) / Φ(z)
        dz = dmean / s[:, None] - (z / (2.0 * s * s))[:, None] * dvar
        return lp, ratio[:, None] * dz


def maximise_acquisition(
    score: Acquisition,
    layout: InputLayout,
    rng: np.random.Generator,
    best_c: np.ndarray,
    best_k: np.ndarray,
    *,
    n_random: int = 768,
    n_starts: int = 6,
    n_local: int = 40,
    n_polish: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-start search on the mixed space: random and near-best candidates; shrinking
    Gaussian steps on continuous coordinates and random category flips from the best few;
    then L-BFGS-B on the continuous coordinates of the best distinct candidates. Returns
    candidates, best first."""
    dc, dk = len(layout.num), len(layout.cat)
    k = np.array(layout.k, dtype=int)

    def rand_cats(m: int) -> np.ndarray:
        if not dk:
            return np.zeros((m, 0))
        return np.floor(rng.random((m, dk)) * k).astype(float)

    m_near = 32 * len(best_c)
    near_c = np.repeat(best_c, 32, axis=0) + rng.normal(0, 0.05, (m_near, dc))
    near_k = np.repeat(best_k, 32, axis=0)
    cand_c = layout.snap(np.clip(np.vstack([rng.random((n_random, dc)), near_c]), 0, 1))
    cand_k = np.vstack([rand_cats(n_random), near_k])
    s = score(cand_c, cand_k)
    top = np.argsort(-s, kind="stable")[:n_starts]
    cur_c, cur_k, cur_s = cand_c[top], cand_k[top], s[top]
    flip = 1.0 / max(dk + dc, 1)
    for sigma in (0.1, 0.05, 0.02, 0.008, 0.003):
        m = len(cur_c)
        pc = np.repeat(cur_c, n_local, axis=0)
        mask = rng.random(pc.shape) < max(0.5, 2.0 / max(dc, 1))
        pc = layout.snap(np.clip(pc + mask * rng.normal(0, sigma, pc.shape), 0, 1))
        pk = np.repeat(cur_k, n_local, axis=0)
        if dk:
            do = rng.random(pk.shape) < flip
            pk = np.where(do, rand_cats(len(pk)), pk)
        ps = score(pc, pk).reshape(m, n_local)
        j = np.argmax(ps, axis=1)
        better = ps[np.arange(m), j] > cur_s
        idx = np.arange(m) * n_local + j
        cur_c[better], cur_k[better] = pc[idx[better]], pk[idx[better]]
        cur_s[better] = ps[np.arange(m), j][better]
    all_c = np.vstack([cur_c, cand_c])
    all_k = np.vstack([cur_k, cand_k])
    all_s = np.concatenate([cur_s, s])
    order = np.argsort(-all_s, kind="stable")
    all_c, all_k = all_c[order], all_k[order]
    _, first = np.unique(np.round(np.hstack([all_c, all_k]), 9), axis=0, return_index=True)
    starts = np.sort(first)[:n_polish]
    polished = polish_candidates(score, layout, all_c[starts], all_k[starts])
    all_c, all_k = np.vstack([polished, all_c]), np.vstack([all_k[starts], all_k])
    order = np.argsort(-score(all_c, all_k), kind="stable")
    return all_c[order], all_k[order]


def polish_candidates(
    score: Acquisition, layout: InputLayout, starts_c: np.ndarray, starts_k: np.ndarray
) -> np.ndarray:
    """L-BFGS-B on the continuous coordinates of every start at once (categories fixed; the
    sum over starts separates, so one call optimises each), then snapped to discrete values."""
    m, dc = starts_c.shape
    if not dc or not m:
        return starts_c

    def negative(flat: np.ndarray) -> tuple[float, np.ndarray]:
        a, g = score.with_grad(flat.reshape(m, dc), starts_k)
        return -float(a.sum()), -g.ravel()

    with np.errstate(all="ignore"):
        res = minimize(
            negative,
            starts_c.ravel(),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * (m * dc),
            options={"maxiter": 60},
        )
    x = res.x if np.all(np.isfinite(res.x)) else starts_c.ravel()
    return layout.snap(np.clip(x.reshape(m, dc), 0.0, 1.0))
