"""The web dashboard and the HTML report, over the same storage every worker writes to.

    $ hypersearch dashboard --storage sqlite:///hypersearch.db       # http://127.0.0.1:8080/
    $ hypersearch report digits -o digits.html                        # one self-contained file

Needs the ``dashboard`` extra (Starlette, uvicorn, Jinja2): nothing here is imported by
``import hypersearch``. See docs/dashboard.md for the pages and the JSON API.
"""

from __future__ import annotations

from hypersearch.dashboard.app import create_app
from hypersearch.dashboard.queries import DashboardData
from hypersearch.dashboard.report import build_report, write_report
from hypersearch.dashboard.server import serve

__all__ = ["DashboardData", "build_report", "create_app", "serve", "write_report"]
