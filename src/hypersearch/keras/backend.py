"""Importing Keras 3 for hypersearch, and the one place that may pick its backend.

Keras reads its backend once, on its first import: ``$KERAS_BACKEND``, else the ``"backend"``
of ``~/.keras/keras.json`` (``$KERAS_HOME``), else TensorFlow. ``pip install
"hypersearch[keras]"`` brings Keras with PyTorch, not TensorFlow, so ``default_backend()``
sets ``KERAS_BACKEND=torch``, and only when all of these hold:

- Keras is not imported yet (afterwards the variable would change nothing);
- the user has not chosen: ``KERAS_BACKEND`` is unset and keras.json names no backend other
  than TensorFlow (Keras writes ``"tensorflow"`` into a new keras.json by itself, so that
  entry is not taken as a choice);
- PyTorch is installed (without it Keras keeps its own default).

It runs right before hypersearch imports Keras (``import_keras``), and when
``hypersearch.keras`` is imported: code written for KerasTuner imports Keras right after
``import keras_tuner``, and must find PyTorch chosen by then.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from hypersearch.exceptions import HypersearchError

__all__ = ["default_backend", "import_keras"]

#: Keras's own default backend, and the one hypersearch picks when the user has not chosen.
KERAS_DEFAULT, OURS = "tensorflow", "torch"


def default_backend() -> str | None:
    """Set ``KERAS_BACKEND=torch`` when Keras is not imported yet, the user has not chosen a
    backend and PyTorch is installed (see the module's docstring); return what was set."""
    if "keras" in sys.modules or "KERAS_BACKEND" in os.environ:
        return None
    if _configured_backend() not in (None, KERAS_DEFAULT):
        return None
    if importlib.util.find_spec(OURS) is None:
        return None
    os.environ["KERAS_BACKEND"] = OURS
    return OURS


def _configured_backend() -> str | None:
    """The ``backend`` of keras.json, or None (no file, unreadable, or no such entry)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        config = json.loads((Path(home) / "keras.json").read_text())
    except (OSError, ValueError):
        return None
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend if isinstance(backend, str) else None


def import_keras() -> Any:
    """Import Keras 3 (its backend chosen as ``default_backend`` says), or say why it fails."""
    keras: Any = sys.modules.get("keras")
    if keras is None:
        default_backend()
        backend = os.environ.get("KERAS_BACKEND") or _configured_backend() or KERAS_DEFAULT
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
