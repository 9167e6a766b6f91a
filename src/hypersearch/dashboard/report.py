"""``hypersearch report``: one self-contained HTML file with the dashboard's plots.

The dashboard's chart code (SVG, no chart library), script and style and the study's data are
all inlined, so the file opens offline, from an e-mail attachment or a shared drive, with
nothing to install; a 1,000-trial study makes a file of about 1 MB, mostly its data.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from hypersearch.dashboard import assets
from hypersearch.dashboard.analysis import analysis
from hypersearch.dashboard.app import IMPORTANCE_SAMPLE, templates_env, to_json
from hypersearch.dashboard.charts import (
    analysis_charts,
    contour_chart,
    curves_chart,
    history_chart,
    pareto_charts,
)
from hypersearch.dashboard.queries import MAX_PAGE, DashboardData
from hypersearch.exceptions import HypersearchError, StudyNotFoundError
from hypersearch.plot import specs

__all__ = ["ReportError", "build_report", "write_report"]

#: Curves embedded in a report: the best, running and latest trials, as on the study page.
REPORT_CURVES = 200
#: The contours a report embeds: every pair of its most important parameters (the dashboard
#: draws any pair on request; a report cannot ask).
REPORT_CONTOUR_PARAMS = 3
#: Trials whose rows a report embeds (best first); a larger study's report says so.
REPORT_ROWS = 5_000
#: The fields of a table row the report's page uses (host, GPU and times of creation stay out).
ROW_KEYS = (
    "number",
    "state",
    "value",
    "params",
    "note",
    "tags",
    "fail_reason",
    "started_at",
    "finished_at",
    "duration",
    "last_step",
    "values",
    "constraint_violations",
    "feasible",
)


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
    rows: list[dict[str, Any]] = []
    descending = study["direction"] == "maximize"
    while len(rows) < REPORT_ROWS:
        page = data.trials_page(
            sid,
            offset=len(rows),
            limit=min(MAX_PAGE, REPORT_ROWS - len(rows)),
            sort="value",
            descending=descending,
        )
        rows.extend(page["trials"])
        if len(rows) >= page["total"] or not page["trials"]:
            break
    compared = analysis(data, sid, sample=IMPORTANCE_SAMPLE)
    charts = analysis_charts(data, study, compared)
    payload = {
        "charts": {
            "history": history_chart(data, study),
            "curves": curves_chart(data, study, k=REPORT_CURVES // 3),
            "analysis": charts,
            **pareto_charts(data, study),
        },
        "contours": _contours(data, study, compared, charts["contour"]),
        "palette": list(specs.PALETTE),
        "n_trials": study["n_trials"],
        "params": data.param_definitions(sid, study["space"]),
        "trials": [{k: r[k] for k in ROW_KEYS} for r in rows],
    }
    inline = {
        "css": assets.read_static("dashboard.css"),
        "charts": _script_safe(assets.read_static("charts.js")),
        "js": _script_safe(assets.read_static("dashboard.js")),
        "data": to_json(payload),
    }
    keys = ("id", "name", "direction", "metric", "space", "objectives")
    config = {"page": "study", "poll_ms": 0, "study": {k: study[k] for k in keys}}
    return (
        templates_env()
        .get_template("study.html")
        .render(
            study=study,
            config=config,
            inline=inline,
            allow_edit=False,
            generated=time.strftime("%Y-%m-%d %H:%M"),
        )
    )


def _contours(
    data: DashboardData, study: dict[str, Any], compared: dict[str, Any], first: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The contours of the other pairs of the most important parameters, by "x|y" (one
    orientation each; the page swaps the axes for the other), the default one left out."""
    if first.get("empty"):
        return {}
    imp = compared["importance"]
    top = sorted(first["params"], key=lambda p: -imp.get(p, 0.0))[:REPORT_CONTOUR_PARAMS]
    have = {(first["x"]["name"], first["y"]["name"]), (first["y"]["name"], first["x"]["name"])}
    out: dict[str, dict[str, Any]] = {}
    for i, x in enumerate(top):
        for y in top[i + 1 :]:
            if (x, y) not in have:
                out[f"{x}|{y}"] = contour_chart(data, study, compared, x, y)
    return out


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
