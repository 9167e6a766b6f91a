"""``hypersearch report``: one self-contained HTML file with the dashboard's plots.

Plotly.js, the dashboard's script and style, and the study's data are all inlined, so the
file opens offline, from an e-mail attachment or a shared drive, with nothing to install.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from hypersearch.dashboard import assets
from hypersearch.dashboard.app import IMPORTANCE_SAMPLE, study_config, templates_env, to_json
from hypersearch.dashboard.importance import main_effects
from hypersearch.dashboard.queries import MAX_PAGE, DashboardData
from hypersearch.exceptions import HypersearchError, StudyNotFoundError

__all__ = ["ReportError", "build_report", "write_report"]

#: Curves embedded in a report: the best, running and latest trials, as on the study page.
REPORT_CURVES = 200


class ReportError(HypersearchError, OSError):
    """The report could not be written."""


def _script_safe(js: str) -> str:
    """JavaScript source that cannot end its ``<script>`` element early."""
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def build_report(data: DashboardData, study_name: str) -> str:
    """The report's HTML for the study named ``study_name``."""
    found = [s for s in data.list_studies() if s["name"] == study_name]
    if not found:
        names = ", ".join(repr(s["name"]) for s in data.list_studies()[:20]) or "none"
        raise StudyNotFoundError(f"No study named {study_name!r}. Studies there: {names}.")
    study = data.study(found[0]["id"])
    assert study is not None  # it was just listed; a concurrent delete is reported as absent
    sid = study["id"]
    numbers = data.default_curve_numbers(sid, study["direction"], k=REPORT_CURVES // 3)
    params, values = data.finished_values(sid, limit=IMPORTANCE_SAMPLE)
    n_complete = int(study["counts"].get("COMPLETE", 0))
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = data.trials_page(sid, offset=offset, limit=MAX_PAGE)
        rows.extend(page["trials"])
        offset += MAX_PAGE
        if offset >= page["total"]:
            break
    payload = {
        "points": data.points(sid),
        "curves": data.curves(sid, numbers),
        "importance": {
            "importance": main_effects(params, values),
            "n_trials": n_complete,
            "sample": len(values),
            "method": "fanova-main",
        },
        "trials": rows,
    }
    inline = {
        "css": assets.read_static("dashboard.css"),
        "js": _script_safe(assets.read_static("dashboard.js")),
        "plotly": _script_safe(assets.read_static("plotly.min.js")),
        "data": to_json(payload),
    }
    return (
        templates_env()
        .get_template("study.html")
        .render(
            study=study,
            config=study_config(study),
            inline=inline,
            allow_edit=False,
            generated=time.strftime("%Y-%m-%d %H:%M"),
        )
    )


def write_report(data: DashboardData, study_name: str, output: str | os.PathLike[str]) -> Path:
    """Write the report to ``output`` (atomically: a partial file never replaces a good one).

    >>> write_report(DashboardData.open("sqlite:///hypersearch.db"), "digits", "report.html")
    """
    html = build_report(data, study_name)
    path = Path(output)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write the report to {path}: {exc.strerror or exc}") from None
    return path
