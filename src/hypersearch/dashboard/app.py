"""The dashboard's Starlette application: HTML pages and the JSON API under ``/api``.

Pages are Jinja2 templates with autoescaping; every user string reaches the browser either
escaped by Jinja2 or through ``textContent`` in ``dashboard.js``. Static files are served by
name from a fixed list, never by path. Writes (notes, tags) exist only with ``allow_edit``
and must come from a page this server served (Origin check).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from hypersearch.dashboard import assets
from hypersearch.dashboard.analysis import analysis
from hypersearch.dashboard.charts import (
    analysis_charts,
    contour_chart,
    curves_chart,
    history_chart,
    pareto_charts,
)
from hypersearch.dashboard.queries import Cursor, DashboardData
from hypersearch.dashboard.security import Guard, allowed_hosts
from hypersearch.exceptions import HypersearchError, InvalidArgumentError
from hypersearch.plot import specs
from hypersearch.storage.base import Storage

__all__ = ["create_app", "study_config", "templates_env", "to_json"]

MAX_NOTE = 10_000
#: Importance is estimated from at most this many completed trials (evenly spaced); the
#: estimate's standard error is then about 0.01, and it takes well under a second.
IMPORTANCE_SAMPLE = 5_000
MAX_TAG = 100
#: ``/changes`` answers at most this many trials per call unless ``limit`` says otherwise;
#: ``more`` tells the client to call again at once with the cursor it got.
CHANGES_PAGE = 1_000
MAX_CHANGES_PAGE = 5_000
#: The largest id, number, step or offset a query may name (SQL BIGINT).
MAX_DB_INT = 2**63 - 1


def templates_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(assets.TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt_time"] = _fmt_time
    env.filters["fmt_value"] = _fmt_value
    env.filters["fmt_duration"] = _fmt_duration
    env.filters["pretty"] = lambda obj: json.dumps(obj, indent=2, ensure_ascii=False)
    env.filters["tojson_safe"] = lambda obj: Markup(to_json(obj))
    return env


def to_json(obj: Any) -> str:
    """JSON that can sit inside a ``<script type="application/json">`` element."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _fmt_time(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _fmt_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return {"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}.get(value, value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class _Analysis:
    """The analysis (basis, compared values, importance) per study, recomputed only when a
    trial was added or changed state."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[tuple[Any, ...], dict[str, Any]]] = {}

    def get(self, data: DashboardData, study_id: int) -> dict[str, Any]:
        key = data.signature(study_id)
        hit = self._cache.get(study_id)
        if hit is not None and hit[0] == key:
            return hit[1]
        result = analysis(data, study_id, sample=IMPORTANCE_SAMPLE)
        self._cache[study_id] = (key, result)
        return result


class _Charts:
    """Chart specifications that depend only on which trials exist and their states (the
    history and the analysis charts), rebuilt only when a trial was added or changed state."""

    def __init__(self, analyses: _Analysis) -> None:
        self._analyses = analyses
        self._cache: dict[tuple[int, str], tuple[tuple[Any, ...], dict[str, Any]]] = {}

    def get(self, data: DashboardData, study: dict[str, Any], chart: str) -> dict[str, Any]:
        key = data.signature(study["id"])
        hit = self._cache.get((study["id"], chart))
        if hit is not None and hit[0] == key:
            return hit[1]
        if chart == "history":
            result = history_chart(data, study)
        elif chart == "pareto":
            result = pareto_charts(data, study)
        else:
            result = analysis_charts(data, study, self._analyses.get(data, study["id"]))
        self._cache[(study["id"], chart)] = (key, result)
        return result


def create_app(
    data: DashboardData,
    *,
    editor: Storage | None = None,
    bind_host: str = "127.0.0.1",
    poll_seconds: float = 2.0,
    token: str | None = None,
    extra_hosts: Iterable[str] = (),
) -> Starlette:
    """The dashboard over ``data``; notes and tags are editable when ``editor`` is given.
    Every request must show ``token`` when one is given; Host names other than IP
    addresses and localhost must be ``bind_host`` or in ``extra_hosts``.

    >>> app = create_app(DashboardData.open("sqlite:///hypersearch.db"))
    """
    env = templates_env()
    hosts = allowed_hosts(bind_host, extra_hosts)
    analyses = _Analysis()
    charts = _Charts(analyses)
    allow_edit = editor is not None

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.update(allow_edit=allow_edit, poll_ms=int(poll_seconds * 1000))
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def not_found(request: Request, what: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": what}, status_code=404)
        return page(request, "404.html", status=404, what=what)

    async def blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def load_study(request: Request) -> dict[str, Any] | None:
        study_id = request.path_params["study_id"]
        study: dict[str, Any] | None = await blocking(data.study, study_id)
        return study

    # pages -------------------------------------------------------------------------------
    async def index(request: Request) -> Response:
        studies = await blocking(data.list_studies)
        return page(request, "studies.html", studies=studies)

    async def study_page(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, f"No study with id {request.path_params['study_id']}.")
        config = await blocking(study_config, study, poll_seconds=poll_seconds, data=data)
        return page(request, "study.html", study=study, config=config)

    async def trial_page(request: Request) -> Response:
        study = await load_study(request)
        number = request.path_params["number"]
        if study is None:
            return not_found(request, f"No study with id {request.path_params['study_id']}.")
        trial = await blocking(data.trial, study["id"], number)
        if trial is None:
            return not_found(request, f"No trial number {number} in study {study['name']!r}.")
        config = {
            "page": "trial",
            "study_id": study["id"],
            "metric": study["metric"],
            "poll_ms": int(poll_seconds * 1000),
            "trial": {
                "number": trial["number"],
                "state": trial["state"],
                "reports": len(trial["curve"]),
            },
            "charts": trial_charts(trial, study["metric"]),
        }
        shown = {k: v for k, v in trial["attrs"].items() if k != "lr_finder"}  # it is plotted
        return page(
            request, "trial.html", study=study, trial=trial, config=config, attrs_shown=shown
        )

    async def compare_page(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, f"No study with id {request.path_params['study_id']}.")
        try:
            numbers = _numbers(request.query_params.get("trials", ""))
        except InvalidArgumentError as exc:
            return page(request, "error.html", status=400, message=str(exc), study=study)
        if not 2 <= len(numbers) <= 5:
            return page(
                request,
                "error.html",
                status=400,
                study=study,
                message=f"Choose 2 to 5 trials to compare, got {len(numbers)}.",
            )
        trials = [await blocking(data.trial, study["id"], n) for n in numbers]
        missing = [n for n, t in zip(numbers, trials, strict=True) if t is None]
        if missing:
            return not_found(request, f"No trial number {missing[0]} in study {study['name']!r}.")
        names = sorted({k for t in trials if t for k in t["params"]})
        rows = []
        for name in names:
            values = [_fmt_value(t["params"].get(name)) if t else "" for t in trials]
            rows.append({"name": name, "cells": values, "differs": len(set(values)) > 1})
        config = {
            "page": "compare",
            "chart": specs.compare_spec(
                [(t["number"], t["curve"]) for t in trials if t], metric=study["metric"]
            ),
        }
        return page(request, "compare.html", study=study, trials=trials, rows=rows, config=config)

    async def static(request: Request) -> Response:
        path = assets.static_file(request.path_params["name"])
        if path is None:
            return not_found(request, "No such file.")
        return FileResponse(path, headers={"Cache-Control": "max-age=3600"})

    # JSON API ------------------------------------------------------------------------------
    async def api_studies(request: Request) -> Response:
        return JSONResponse({"studies": await blocking(data.list_studies)})

    async def api_study(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, "no such study")
        study["cursor"] = (await blocking(data.cursor, study["id"])).encode()
        return JSONResponse(study)

    async def api_trials(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, "no such study")
        q = request.query_params
        result = await blocking(
            data.trials_page,
            study["id"],
            offset=_int(q.get("offset", "0"), "offset"),
            limit=_int(q.get("limit", "50"), "limit"),
            **_table_filters(q),
        )
        return JSONResponse(result)

    async def api_trials_csv(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, "no such study")
        filters = _table_filters(request.query_params)
        names = list(await blocking(data.param_definitions, study["id"], study["space"]))
        objectives = [o["name"] for o in study["objectives"]]
        lines = await blocking(
            lambda: list(data.trials_csv(study["id"], names, objectives, **filters))
        )
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in study["name"])[:80]
        filename = f"{safe or 'study'}-trials.csv"
        return Response(
            "".join(lines),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    points_cache: dict[tuple[int, bool], tuple[tuple[Any, ...], bytes]] = {}

    def cached_points(study_id: int, with_params: bool) -> bytes:
        key = data.signature(study_id)
        hit = points_cache.get((study_id, with_params))
        if hit is not None and hit[0] == key:
            return hit[1]
        body = data.points_json(study_id, with_params=with_params).encode()
        points_cache[(study_id, with_params)] = (key, body)
        return body

    async def api_points(request: Request) -> Response:
        study_id = request.path_params["study_id"]
        if not await blocking(data.study_exists, study_id):
            return not_found(request, "no such study")
        with_params = request.query_params.get("params", "1") != "0"
        body = await blocking(cached_points, study_id, with_params)
        return Response(body, media_type="application/json")

    async def api_curves(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, "no such study")
        given = request.query_params.get("trials")
        if given:
            numbers = _numbers(given)
        else:
            numbers = await blocking(data.default_curve_numbers, study["id"], study["direction"])
        return JSONResponse({"curves": await blocking(data.curves, study["id"], numbers)})

    async def api_importance(request: Request) -> Response:
        study_id = request.path_params["study_id"]
        if not await blocking(data.study_exists, study_id):
            return not_found(request, "no such study")
        result = await blocking(analyses.get, data, study_id)
        keys = ("importance", "n_trials", "sample", "method", "basis")
        return JSONResponse({k: result[k] for k in keys})

    async def api_analysis(request: Request) -> Response:
        study_id = request.path_params["study_id"]
        if not await blocking(data.study_exists, study_id):
            return not_found(request, "no such study")
        return JSONResponse(await blocking(analyses.get, data, study_id))

    async def api_chart(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, "no such study")
        chart = request.path_params["chart"]
        q = request.query_params
        if chart in ("history", "analysis", "pareto"):
            return JSONResponse(await blocking(charts.get, data, study, chart))
        if chart == "curves":
            extra = _numbers(q.get("trials", ""))
            return JSONResponse(await blocking(curves_chart, data, study, extra))
        if chart == "contour":
            compared = await blocking(analyses.get, data, study["id"])
            names = [p for p in (q.get("x"), q.get("y")) if p]
            known = {k for p in compared["params"] for k in p}
            unknown = [p for p in names if p not in known]
            if unknown or (len(names) == 2 and names[0] == names[1]):
                raise InvalidArgumentError(
                    f"contour needs two different parameters with values, got {names}; "
                    f"parameters: {sorted(known)}."
                )
            return JSONResponse(
                await blocking(contour_chart, data, study, compared, q.get("x"), q.get("y"))
            )
        return not_found(request, "no such chart: history, curves, analysis, contour or pareto")

    async def api_changes(request: Request) -> Response:
        study_id = request.path_params["study_id"]
        if not await blocking(data.study_exists, study_id):
            return not_found(request, "no such study")
        cursor = _cursor(request.query_params.get("cursor", "0"))
        limit = _int(request.query_params.get("limit", str(CHANGES_PAGE)), "limit")
        if not 1 <= limit <= MAX_CHANGES_PAGE:
            raise InvalidArgumentError(
                f"limit must be 1..{MAX_CHANGES_PAGE} trials per page, got {limit}."
            )
        return JSONResponse(await blocking(data.changes, study_id, cursor, limit=limit))

    async def api_trial(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, "no such study")
        trial = await blocking(data.trial, study["id"], request.path_params["number"])
        if trial is None:
            return not_found(request, "no such trial")
        return JSONResponse(trial)

    async def api_trial_charts(request: Request) -> Response:
        study = await load_study(request)
        if study is None:
            return not_found(request, "no such study")
        trial = await blocking(data.trial, study["id"], request.path_params["number"])
        if trial is None:
            return not_found(request, "no such trial")
        charts = trial_charts(trial, study["metric"])
        return JSONResponse({"state": trial["state"], "reports": len(trial["curve"]), **charts})

    async def api_annotate(request: Request) -> Response:
        if editor is None:
            return JSONResponse(
                {"error": "read-only dashboard: start it with --allow-edit to edit notes"},
                status_code=403,
            )
        # the Guard middleware has checked that the write came from this dashboard's page
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "send JSON (Content-Type: application/json)"}, 415)
        study = await load_study(request)
        number = request.path_params["number"]
        if study is None or await blocking(data.trial, study["id"], number) is None:
            return not_found(request, "no such trial")
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise InvalidArgumentError("the body is not valid JSON.") from None
        note, add, remove = _annotation_changes(body)
        await blocking(
            editor.update_trial_annotations,
            study["id"],
            number,
            note=note,
            add_tags=add,
            remove_tags=remove,
        )
        return JSONResponse(await blocking(data.trial, study["id"], number))

    # errors and middleware ----------------------------------------------------------------
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return not_found(request, "No such page.")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return page(request, "error.html", status=exc.status_code, message=exc.detail)

    async def bad_request(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return page(request, "error.html", status=400, message=str(exc))

    async def storage_error(request: Request, exc: Exception) -> Response:
        message = f"The storage could not be read: {exc}"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=503)
        return page(request, "error.html", status=503, message=message)

    routes = [
        Route("/", index),
        Route("/studies/{study_id:int}", study_page),
        Route("/studies/{study_id:int}/trials/{number:int}", trial_page),
        Route("/studies/{study_id:int}/compare", compare_page),
        Route("/static/{name}", static),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/studies", api_studies),
        Route("/api/studies/{study_id:int}", api_study),
        Route("/api/studies/{study_id:int}/trials", api_trials),
        Route("/api/studies/{study_id:int}/trials.csv", api_trials_csv),
        Route("/api/studies/{study_id:int}/points", api_points),
        Route("/api/studies/{study_id:int}/curves", api_curves),
        Route("/api/studies/{study_id:int}/importance", api_importance),
        Route("/api/studies/{study_id:int}/analysis", api_analysis),
        Route("/api/studies/{study_id:int}/charts/{chart}", api_chart),
        Route("/api/studies/{study_id:int}/changes", api_changes),
        Route("/api/studies/{study_id:int}/trials/{number:int}", api_trial),
        Route("/api/studies/{study_id:int}/trials/{number:int}/charts", api_trial_charts),
        Route(
            "/api/studies/{study_id:int}/trials/{number:int}/annotations",
            api_annotate,
            methods=["POST"],
        ),
    ]

    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, hosts=hosts, token=token)],
        exception_handlers={
            HTTPException: http_error,
            InvalidArgumentError: bad_request,
            HypersearchError: storage_error,
        },
    )
    return app


def trial_charts(trial: dict[str, Any], metric: str) -> dict[str, Any]:
    """The trial page's charts: its learning curve and, when stored, its LR range test."""
    out = {"curve": specs.trial_curve_spec(trial["curve"], state=trial["state"], metric=metric)}
    lr = trial["attrs"].get("lr_finder")
    lrs, losses = (lr.get("lrs"), lr.get("losses")) if isinstance(lr, dict) else (None, None)
    if isinstance(lrs, list) and isinstance(losses, list) and lrs and len(lrs) == len(losses):
        out["lr_finder"] = specs.lr_finder_spec(lr)
    return out


#: Rows of the trials table embedded in the study page, so it paints without a request.
FIRST_PAGE = 50


def study_config(
    study: dict[str, Any], *, data: DashboardData, poll_seconds: float = 2.0
) -> dict[str, Any]:
    """What ``dashboard.js`` needs to know about a study page: the study, every parameter's
    definition (declared and define-by-run) and the first page of the table, best first."""
    keys = ("id", "name", "direction", "metric", "space", "objectives")
    first = data.trials_page(
        study["id"],
        limit=FIRST_PAGE,
        sort="value",
        descending=study["direction"] == "maximize",
    )
    return {
        "page": "study",
        "poll_ms": int(poll_seconds * 1000),
        "study": {k: study[k] for k in keys},
        "params": data.param_definitions(study["id"], study["space"]),
        "first_page": first,
    }


def _int(text: str, name: str) -> int:
    """A query parameter as a number a database column can hold (0 to 2**63 - 1)."""
    try:
        value = int(text)
    except ValueError:
        raise InvalidArgumentError(f"{name} must be a whole number, got {text[:40]!r}.") from None
    if not 0 <= value <= MAX_DB_INT:
        raise InvalidArgumentError(f"{name} must be 0..{MAX_DB_INT}, got {text[:40]}.")
    return value


def _cursor(text: str) -> Cursor:
    """A ``/changes`` cursor whose ids and steps a database column can hold."""
    cursor = Cursor.decode(text)
    numbers = [cursor.max_id, *cursor.live, *(s + 1 for s in cursor.live.values())]
    if not all(0 <= n <= MAX_DB_INT for n in numbers):
        raise InvalidArgumentError(
            f"cursor holds a number outside 0..{MAX_DB_INT} (steps from -1): {text[:80]!r}; "
            "take cursors from /api/studies/{id} or the last /changes answer."
        )
    return cursor


def _table_filters(q: Any) -> dict[str, Any]:
    """The trials table's sort and filters from a query string (shared by the JSON and CSV)."""
    given = q.get("numbers")
    return {
        "sort": q.get("sort", "number"),
        "descending": q.get("order", "asc") == "desc",
        "states": [s for s in q.get("state", "").split(",") if s],
        "tag": q.get("tag") or None,
        "search": q.get("q") or None,
        "numbers": _numbers(given) if given is not None else None,
    }


def _numbers(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if part.strip():
            out.append(_int(part.strip(), "trials"))
    return list(dict.fromkeys(out))


def _annotation_changes(body: Any) -> tuple[str | None, list[str], list[str]]:
    if not isinstance(body, dict):
        raise InvalidArgumentError('send an object like {"note": "...", "add_tags": ["x"]}.')
    unknown = set(body) - {"note", "add_tags", "remove_tags"}
    if unknown:
        raise InvalidArgumentError(f"unknown field {sorted(unknown)[0]!r}.")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise InvalidArgumentError(f"note must be a string of at most {MAX_NOTE} characters.")
    tags: dict[str, list[str]] = {}
    for key in ("add_tags", "remove_tags"):
        value = body.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(t, str) and 0 < len(t.strip()) <= MAX_TAG for t in value
        ):
            raise InvalidArgumentError(f"{key} must be a list of tags of 1..{MAX_TAG} characters.")
        tags[key] = [t.strip() for t in value]
    return note, tags["add_tags"], tags["remove_tags"]
