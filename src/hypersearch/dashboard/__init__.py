"""The web dashboard and the HTML report, over the same storage every worker writes to.

    $ hypersearch dashboard --storage sqlite:///hypersearch.db       # http://127.0.0.1:8080/
    $ hypersearch report digits -o digits.html                        # one self-contained file

Needs the ``dashboard`` extra (Starlette, uvicorn, Jinja2): nothing here is imported by
``import hypersearch``, and the names below load on first use, so the framework-free modules
(``analysis``, ``importance``) serve ``hypersearch.plot`` without the web stack. See
docs/dashboard.md for the pages and the JSON API.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["DashboardData", "build_report", "create_app", "serve", "write_report"]

_HOME = {
    "DashboardData": "hypersearch.dashboard.queries",
    "build_report": "hypersearch.dashboard.report",
    "create_app": "hypersearch.dashboard.app",
    "serve": "hypersearch.dashboard.server",
    "write_report": "hypersearch.dashboard.report",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'hypersearch.dashboard' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
