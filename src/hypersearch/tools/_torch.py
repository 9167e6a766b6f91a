"""Import PyTorch only when a tool needs it, with an install hint when it is missing."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


def lazy_import(name: str, *, hint: str) -> ModuleType:
    """Import ``name`` or raise ``ImportError`` that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"{name} is needed here but is not installed: {hint}") from exc


def require_torch() -> Any:
    return lazy_import("torch", hint='pip install "hypersearch[torch]"')
