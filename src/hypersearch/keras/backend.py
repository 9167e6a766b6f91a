"""Keras 3 for hypersearch.keras: PyTorch as the default backend, never over a user's choice."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from hypersearch.exceptions import HypersearchError

__all__ = ["import_keras"]

# A default only: Keras reads KERAS_BACKEND on its first import, and a value the user set wins.
if "keras" not in sys.modules:
    os.environ.setdefault("KERAS_BACKEND", "torch")


def import_keras() -> Any:
    """Import Keras 3 (on ``KERAS_BACKEND``, PyTorch when unset), or say why it fails."""
    keras: Any = sys.modules.get("keras")
    if keras is None:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        backend = os.environ["KERAS_BACKEND"]
        try:
            keras = importlib.import_module("keras")
        except ImportError as exc:
            raise ImportError(
                f"hypersearch.keras needs Keras 3 and its backend {backend!r} "
                f"(KERAS_BACKEND): {exc}. Install them with pip install "
                '"hypersearch[keras]" (Keras on PyTorch), or set KERAS_BACKEND to an '
                "installed backend before anything imports keras."
            ) from None
    version = str(getattr(keras, "__version__", "0"))
    if int(version.split(".")[0]) < 3:
        raise HypersearchError(f"hypersearch.keras needs Keras 3, found Keras {version}.")
    return keras
