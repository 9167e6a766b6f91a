"""Import PyTorch only when a tool needs it, with an install hint when it is missing
(``hypersearch.optional``, named here for the tools that import it from this module)."""

from __future__ import annotations

from hypersearch.optional import lazy_import, require_torch

__all__ = ["lazy_import", "require_torch"]
