"""``hypersearch.report()``: the one-line way for a training script to report a metric.

The script prints one JSON object per line on standard output; ``hypersearch run`` reads
them as they come. This helper only formats and flushes that line, so it works the same when
the script runs on its own (you just see the lines).

>>> import hypersearch
>>> hypersearch.report(val_accuracy=0.91, step=3)
{"val_accuracy": 0.91, "step": 3}
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["report"]


def report(
    metrics: Mapping[str, Any] | None = None, /, *, step: int | None = None, **more: Any
) -> None:
    """Print ``{"metric": value, ..., "step": step}`` as one JSON line and flush it.

    ``step`` (epochs completed, batches...) orders the learning curve that schedulers judge;
    leave it out and ``hypersearch run`` makes the n-th report step n (1, 2, 3, ...). Values
    must be JSON-serialisable (numpy and torch scalars are converted with ``float``).
    """
    data: dict[str, Any] = {}
    for key, value in {**(dict(metrics) if metrics else {}), **more}.items():
        if not isinstance(key, str):
            raise TypeError(f"report(): metric names are strings, got {key!r}.")
        if not isinstance(value, str | int | float | bool) and value is not None:
            try:
                value = float(value)  # numpy / torch scalars
            except (TypeError, ValueError):
                raise TypeError(
                    f"report(): {key}={value!r} is not a number or a string."
                ) from None
        data[key] = value
    if not data:
        raise TypeError("report() needs at least one metric, e.g. report(val_loss=0.3).")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise TypeError(f"report(step=...) needs an integer >= 0, got {step!r}.")
        data["step"] = step
    line = json.dumps(data)  # NaN / Infinity are written as such; the runner reads them
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
