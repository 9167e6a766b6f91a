"""Where the dashboard's templates and static files are, served only by name from a fixed list.

The charts are the package's own SVG code (``charts.js``, about 25 KB), so the dashboard and
the report work offline, never load anything from a CDN, and the report stays small.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STATIC", "TEMPLATES", "read_static", "static_file"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
#: The only files ``/static/<name>`` serves.
_OWN_FILES = frozenset({"charts.js", "dashboard.js", "dashboard.css"})


def static_file(name: str) -> Path | None:
    """The file served as ``/static/<name>``, or None: names outside the list are refused."""
    if name in _OWN_FILES:
        return STATIC / name
    return None


def read_static(name: str) -> str:
    path = static_file(name)
    if path is None:
        raise KeyError(name)
    return path.read_text(encoding="utf-8")
