"""Optional dependencies (PyTorch, Lightning, ...): imported on first use, with an install hint.

The core package imports without them; a module that needs one calls ``lazy_import`` when it
is used (or at its own import, for modules that only make sense with it).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_import", "require_torch"]


def lazy_import(name: str, *, hint: str) -> ModuleType:
    """Import ``name`` or raise ``ImportError`` that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"{name} is needed here but is not installed: {hint}") from exc


def require_torch() -> Any:
    """PyTorch, or an ``ImportError`` naming the extra that installs it."""
    return lazy_import("torch", hint='pip install "hypersearch[torch]"')
