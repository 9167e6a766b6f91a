"""Where the dashboard's templates and static files are, served only by name from a fixed list.

Plotly.js comes from the installed ``plotly`` Python package (its bundled ``plotly.min.js``),
so the dashboard and the report work offline and never load anything from a CDN.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from hypersearch.exceptions import HypersearchError

__all__ = ["STATIC", "TEMPLATES", "plotly_js_path", "read_static", "static_file"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
#: The only files ``/static/<name>`` serves.
_OWN_FILES = frozenset({"dashboard.js", "dashboard.css"})


class MissingPlotlyError(HypersearchError, RuntimeError):
    """The ``plotly`` package (which ships Plotly.js) is not installed."""


@cache
def plotly_js_path() -> Path:
    try:
        root = resources.files("plotly")
    except ModuleNotFoundError:
        raise MissingPlotlyError(
            "The dashboard needs Plotly.js from the plotly package: "
            'pip install "hypersearch[dashboard]"'
        ) from None
    path = Path(str(root)) / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise MissingPlotlyError(f"plotly is installed but {path} is missing; reinstall plotly.")
    return path


def static_file(name: str) -> Path | None:
    """The file served as ``/static/<name>``, or None: names outside the list are refused."""
    if name == "plotly.min.js":
        return plotly_js_path()
    if name in _OWN_FILES:
        return STATIC / name
    return None


def read_static(name: str) -> str:
    path = static_file(name)
    if path is None:
        raise KeyError(name)
    return path.read_text(encoding="utf-8")
