"""Executors: where trials run. In-process (``Study.optimize``), local worker processes with
GPU assignment (``execution.local``), Ray tasks (``execution.ray``), and the ``hypersearch
worker`` command (``execution.worker``). Workers coordinate only through the study's storage.

Submodules are imported on use, so importing this package costs nothing.
"""

from __future__ import annotations

__all__: list[str] = []
