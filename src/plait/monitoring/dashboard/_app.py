"""The dashboard web application (Starlette): one page, a JSON API, and server-sent events.

    browser ── GET / (page, static js/css) ──▶ app
            ── GET /api/... (JSON) ──────────▶ app ──▶ database (read-only, one engine)
            ◀─ /api/runs/{id}/events (SSE) ── app re-reads the run's last update each second

The database belongs to the run's writer process; the dashboard only reads (SQLite WAL:
readers never block the writer), so "what changed" has no event to wait on and is polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from plait.monitoring import _schema as s
from plait.monitoring._db import open_engine, resolve_url
from plait.monitoring.dashboard import _data as D

_STATIC = resources.files("plait.monitoring.dashboard") / "static"
POLL_S = 1.0
HEAVY_READS = 2  # reads of every task or try of a run served at once


def page(data: dict[str, Any] | None = None) -> str:
    """The dashboard page; with ``data`` embedded it needs no server (the report)."""
    html = (_STATIC / "index.html").read_text()
    if data is None:
        return html.replace("<!--head-->", '<link rel="stylesheet" href="static/dashboard.css">'
                            ).replace("<!--script-->",
                                      '<script src="static/dashboard.js"></script>')
    css = (_STATIC / "dashboard.css").read_text()
    js = (_STATIC / "dashboard.js").read_text()
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return html.replace("<!--head-->", f"<style>{css}</style>").replace(
        "<!--script-->", f"<script>window.PLAIT_REPORT = {payload};</script>\n"
                         f"<script>{js}</script>")


def create_app(target: str) -> Starlette:
    """The dashboard for the database of ``target`` (URL, file or run directory)."""
    engine = open_engine(resolve_url(target))

    def read_json(fn: Any, *args: Any) -> Response:
        with engine.connect() as conn:
            value = fn(conn, *args)
        if value is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(json.dumps(value, separators=(",", ":"), default=str),
                        media_type="application/json")

    async def json_of(fn: Any, *args: Any) -> Response:
        # in a thread: a 100,000-task graph takes seconds to read, and on the event loop it
        # would hold up every other request (the page, another page's first paint)
        return await asyncio.to_thread(read_json, fn, *args)

    bulk = asyncio.Semaphore(HEAVY_READS)

    async def bulk_json_of(request: Request, fn: Any, *args: Any) -> Response:
        # graph, timeline, apps, resources read every task or try: a few at a time, so that
        # first paints and task details are not starved; a page gone meanwhile costs nothing
        async with bulk:
            if await request.is_disconnected():
                return Response(status_code=499)
            return await json_of(fn, *args)

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page())

    async def runs(request: Request) -> Response:
        return await json_of(D.runs)

    async def summary(request: Request) -> Response:
        return await json_of(D.summary, request.path_params["run_id"])

    async def apps(request: Request) -> Response:
        return await bulk_json_of(request, D.apps, request.path_params["run_id"])

    async def graph(request: Request) -> Response:
        fn = D.graph_states if request.query_params.get("states_only") else D.graph
        return await bulk_json_of(request, fn, request.path_params["run_id"])

    async def timeline(request: Request) -> Response:
        return await bulk_json_of(request, D.timeline, request.path_params["run_id"])

    async def task(request: Request) -> Response:
        return await json_of(D.task, request.path_params["run_id"],
                             request.path_params["task_id"])

    async def samples(request: Request) -> Response:
        return await bulk_json_of(request, D.resources, request.path_params["run_id"])

    def last_update(run_id: str) -> tuple[Any, Any]:
        p = s.plait_workflow
        with engine.connect() as conn:
            row = conn.execute(sa.select(p.c.last_update, p.c.outcome).where(
                p.c.run_id == run_id)).first()
        return (str(row[0]), row[1]) if row else (None, None)

    async def events(request: Request) -> StreamingResponse:
        run_id = request.path_params["run_id"]

        async def stream() -> Any:
            seen = None
            while True:
                update, outcome = await asyncio.to_thread(last_update, run_id)
                if (update, outcome) != seen:
                    seen = (update, outcome)
                    yield f"data: {json.dumps({'update': update, 'outcome': outcome})}\n\n"
                if outcome not in (None, "running") or await request.is_disconnected():
                    return
                await asyncio.sleep(POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    def control_of(run_id: str) -> str | None:
        p = s.plait_workflow
        with engine.connect() as conn:
            row = conn.execute(sa.select(p.c.control, p.c.outcome).where(
                p.c.run_id == run_id)).first()
        return row[0] if row and row[1] == "running" else None

    async def retry(request: Request) -> Response:
        from plait.monitoring._live_retry import request_retry

        run_id, task_id = request.path_params["run_id"], request.path_params["task_id"]
        path = await asyncio.to_thread(control_of, run_id)
        if not path:
            return JSONResponse({"ok": False, "error": "this run is not live with "
                                 "MonitoringHub(live_retry=True): re-run its failed tasks "
                                 "with `plait retry RUN --failed`"}, status_code=409)
        try:
            answer = await asyncio.to_thread(request_retry, path, task_id)
        except OSError as exc:
            return JSONResponse({"ok": False, "error": f"the run did not answer ({exc})"},
                                status_code=503)
        return JSONResponse(answer, status_code=200 if answer.get("ok") else 409)

    async def metrics(request: Request) -> Response:
        from plait.monitoring._metrics import exposition

        def read() -> bytes:
            with engine.connect() as conn:
                return exposition(conn)

        return Response(await asyncio.to_thread(read), media_type="text/plain; version=0.0.4")

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/runs", runs),
        Route("/api/runs/{run_id}", summary),
        Route("/api/runs/{run_id}/apps", apps),
        Route("/api/runs/{run_id}/graph", graph),
        Route("/api/runs/{run_id}/timeline", timeline),
        Route("/api/runs/{run_id}/tasks/{task_id:int}", task),
        Route("/api/runs/{run_id}/tasks/{task_id:int}/retry", retry, methods=["POST"]),
        Route("/api/runs/{run_id}/resources", samples),
        Route("/api/runs/{run_id}/events", events),
        Route("/metrics", metrics),
        Mount("/static", StaticFiles(directory=str(_STATIC)), name="static"),
    ], lifespan=_disposing(engine))
    return app


def _disposing(engine: sa.Engine) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.dispose()

    return lifespan
