"""Split the sampler suite once into a development half and a validation half.

    .venv/bin/python -m bench.samplers.split      # writes bench/samplers/split.json

Constants, priors and defaults are chosen on the development half only; the validation half
is reported, never tuned on. The split is stratified by kind (synthetic, scikit-learn, YAHPO)
so each half has its share of each, and seeded (``SEED``): rerunning gives the same file.
Do not rerun it with another seed after results exist: that would leak validation problems
into development.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.problems import EXPENSIVE, NAMES, get

SEED = 20261205
OUT = Path(__file__).with_name("split.json")


def split(names: list[str], seed: int = SEED) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    by_kind: dict[str, list[str]] = {}
    for name in names:
        by_kind.setdefault(get(name).kind, []).append(name)
    dev: list[str] = []
    val: list[str] = []
    for kind in sorted(by_kind):
        group = sorted(by_kind[kind])
        order = rng.permutation(len(group))
        half = (len(group) + 1) // 2 if len(dev) <= len(val) else len(group) // 2
        dev += [group[i] for i in order[:half]]
        val += [group[i] for i in order[half:]]
    return {"development": sorted(dev), "validation": sorted(val)}


def main() -> None:
    names = [n for n in NAMES if n not in EXPENSIVE]
    out: dict[str, Any] = {"seed": SEED, **split(names)}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out['development'])} development, {len(out['validation'])} validation -> {OUT}")


if __name__ == "__main__":
    main()
