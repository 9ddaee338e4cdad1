"""The supervisor's big screen (督办大屏, per tier): the grid map, the daily trend, the lights
per department and the KPI ranking drawn by ECharts (vendored, web/static/board.js) from the
JSON below; light counts per department and per child unit and the supervision queue with
overdue time, updated live by server-sent events; the server-made SVG chart and map for
pages without script; and an Excel export.

The map is Leaflet with Leaflet.markercluster (vendored): the grids as GeoJSON polygons on a
plain background, or on the city's own tiles when city.toml names a tile server
(engine/city/tiles.py); only then does this page's Content-Security-Policy allow images from
that one origin."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from engine.city.grids import CityGrid
from engine.city.tiles import TileLayer, tile_layer
from engine.db import new_session
from web.context import AppContext
from web.deps import Ctx
from web.pages import sessions
from web.pages.board_data import (
    KPI_PERIODS,
    TREND_DAYS,
    Board,
    board,
    case_points,
    daily_series,
    grid_features,
    kpi_summary,
    lights_per_grid,
    open_per_grid,
)
from web.pages.export import board_workbook
from web.pages.i18n import language, translator
from web.pages.svg import daily_chart, grid_map
from web.pages.templating import TEMPLATES, PageUser
from web.pages.views import BOARD_ROLES, View, page, require_role, scope_unit
from web.security_headers import CSP

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 1.0  # how often a live board looks for changes
HEARTBEAT_EVERY = 15  # polls between keep-alive comments
STREAM_SECONDS = 600.0  # a stream ends after this; EventSource reconnects by itself
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Unit = Annotated[str | None, Query(max_length=32)]
KpiChoice = Annotated[str, Query(pattern="^(" + "|".join(KPI_PERIODS) + ")$")]
# The words board.js puts into the charts (the page's data-labels).
BIG_SCREEN_LABELS = (
    "bs_open_cases", "bs_overdue", "bs_case", "light_green", "light_yellow", "light_red",
    "opened", "closed", "bs_score", "no_department", "card_yellow", "card_red", "empty",
    "bs_zoom_in", "bs_zoom_out", "bs_cluster", "bs_fullscreen", "bs_fullscreen_exit",
)  # fmt: skip
DEPARTMENTS_SHOWN = 10  # bars in the lights-per-department chart
ESCALATIONS_SHOWN = 8  # the latest escalations listed on the first screen


def _unit(ctx: AppContext, user: sessions.PageSession, unit: str | None) -> str:
    principal = require_role(user, BOARD_ROLES)
    city = ctx.city
    scope = scope_unit(principal, city)
    return unit if unit in city.units and city.is_within(unit, scope) else scope


def board_policy(tiles: TileLayer | None) -> str:
    """The page's Content-Security-Policy: the app's own (web/security_headers.py), with the
    city's tile server, when city.toml names one, added to ``img-src``."""
    if tiles is None:
        return CSP
    directives = [d.strip() for d in CSP.split(";")]
    return "; ".join(
        f"{d} {tiles.origin}" if d.split(" ", 1)[0] == "img-src" else d for d in directives
    )


def _board(ctx: AppContext, user: sessions.PageSession, unit: str) -> Board:
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        return board(session, ctx.city, calendar, ctx.clock.now(), unit)


def _chart(ctx: AppContext, user: sessions.PageSession, unit: str, lang: str) -> str:
    t = translator(lang)
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        series = daily_series(session, ctx.city, calendar, ctx.clock.now(), unit)
    return daily_chart(series, t, t("chart_title"))


def _map(ctx: AppContext, user: sessions.PageSession, unit: str, lang: str) -> str:
    city = ctx.city
    with new_session(ctx.db) as session:
        row = session.get(CityGrid, 1)
        counts = open_per_grid(session, city, unit)
    names = {code: u.name for code, u in city.units.items()}
    geojson = row.geojson if row is not None else {}
    title = translator(lang)("map_title")
    return grid_map(geojson, counts, lambda code: city.is_within(code, unit), title, names)


def live_html(ctx: AppContext, user: sessions.PageSession, unit: str, lang: str) -> str:
    """The part of the board that updates live (counts and the supervision queue)."""
    template = TEMPLATES.get_template("supervisor/_live.html")
    view = View(ctx, lang)
    return template.render(t=view.t, v=view, board=_board(ctx, user, unit), lang=lang)


@router.get("/board", response_class=HTMLResponse)
def board_page(request: Request, ctx: Ctx, user: PageUser, unit: Unit = None) -> Response:
    unit = _unit(ctx, user, unit)
    lang = language(request)
    children = sorted(c for c, u in ctx.city.units.items() if u.parent == unit)
    tiles = tile_layer(ctx.city.settings)
    answer = page(
        request, ctx, "supervisor/board.html", user, unit=unit, children=children,
        live=live_html(ctx, user, unit, lang), chart=_chart(ctx, user, unit, lang),
        grid_svg=_map(ctx, user, unit, lang), kpi_periods=list(KPI_PERIODS),
        labels={key: translator(lang)(key) for key in BIG_SCREEN_LABELS},
        tiles=tiles,
    )  # fmt: skip
    answer.headers["Content-Security-Policy"] = board_policy(tiles)  # kept by the middleware
    return answer


@router.get("/board/grids.json")
def grids_json(ctx: Ctx, user: PageUser, unit: Unit = None) -> JSONResponse:
    """The grid polygons of the unit's subtree as GeoJSON (the map's shapes)."""
    unit = _unit(ctx, user, unit)
    with new_session(ctx.db) as session:
        features = grid_features(session, ctx.city, unit)
    headers = {"Cache-Control": "private, max-age=300"}  # the grids change with a new city
    return JSONResponse({"type": "FeatureCollection", "features": features}, headers=headers)


@router.get("/board/data.json")
def data_json(request: Request, ctx: Ctx, user: PageUser, unit: Unit = None) -> JSONResponse:
    """What the big screen draws, from the read models: lights, open cases per grid, the
    yellow / red case points, the daily series, lights per department, latest escalations."""
    unit = _unit(ctx, user, unit)
    view = View(ctx, language(request))
    data = _board(ctx, user, unit)
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        series = daily_series(session, ctx.city, calendar, data.now, unit, TREND_DAYS)
        per_grid = open_per_grid(session, ctx.city, unit)
        lit_per_grid = lights_per_grid(session, ctx.city, unit, data.now)
        points = case_points(session, ctx.city, unit, data.now)
    departments = [
        {"code": code, "name": view.dept(code) if code else view.t("no_department"), **n}
        for code, n in data.by_department[:DEPARTMENTS_SHOWN]
    ]
    escalations = [
        {"id": i.case_id, "card": i.card or "", "unit": view.unit(i.owning_unit),
         "category": view.category_name(i.category),
         "overdue": view.overdue(i.overdue_seconds)}
        for i in data.queue.items[:ESCALATIONS_SHOWN]
    ]  # fmt: skip
    return JSONResponse(
        {
            "unit": unit,
            "updated": view.local(data.now, True),
            "totals": data.totals,
            "open_per_grid": per_grid,
            "lights_per_grid": lit_per_grid,
            "points": points,
            "days": [d.isoformat()[5:] for d in series.days],
            "opened": series.opened,
            "closed": series.closed,
            "overdue": series.overdue,
            "departments": departments,
            "escalations": escalations,
        }
    )


@router.get("/board/kpis.json")
def kpis_json(
    ctx: Ctx, user: PageUser, unit: Unit = None, period: KpiChoice = "month"
) -> JSONResponse:
    """The period's KPI figures and ranking (by composite score) of departments and units."""
    unit = _unit(ctx, user, unit)
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        found = kpi_summary(session, ctx.city, calendar, ctx.clock.now(), unit, period)
    return JSONResponse(found)


@router.get("/board/stream")
async def board_stream(
    request: Request, ctx: Ctx, user: PageUser, unit: Unit = None, once: bool = False
) -> StreamingResponse:
    """Server-sent events: a ``board`` event with the live part whenever it changes."""
    unit = _unit(ctx, user, unit)
    lang = language(request)

    async def events():  # type: ignore[no-untyped-def]
        last, quiet, loop = None, 0, asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < STREAM_SECONDS:
            html = await run_in_threadpool(live_html, ctx, user, unit, lang)
            if html != last:
                last, quiet = html, 0
                yield "event: board\n" + "".join(f"data: {line}\n" for line in html.split("\n"))
                yield "\n"
            elif (quiet := quiet + 1) % HEARTBEAT_EVERY == 0:
                yield ": keep-alive\n\n"
            if once or await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/board/chart.svg")
def chart_svg(request: Request, ctx: Ctx, user: PageUser, unit: Unit = None) -> Response:
    svg = _chart(ctx, user, _unit(ctx, user, unit), language(request))
    return Response(svg, media_type="image/svg+xml")


@router.get("/board/map.svg")
def map_svg(request: Request, ctx: Ctx, user: PageUser, unit: Unit = None) -> Response:
    svg = _map(ctx, user, _unit(ctx, user, unit), language(request))
    return Response(svg, media_type="image/svg+xml")


@router.get("/board/export.xlsx")
def export(request: Request, ctx: Ctx, user: PageUser, unit: Unit = None) -> Response:
    unit = _unit(ctx, user, unit)
    view = View(ctx, language(request))
    data = _board(ctx, user, unit)
    with new_session(ctx.db) as session:
        calendar = ctx.calendars.get(session)
        series = daily_series(session, ctx.city, calendar, ctx.clock.now(), unit)
    body = board_workbook(data, series, view)
    stamp = view.local(data.now).replace(" ", "_").replace(":", "")
    filename = f"gridflow-board-{unit}-{stamp}.xlsx"
    headers = {"Content-Disposition": f"attachment; filename={json.dumps(filename)}"}
    return Response(body, media_type=XLSX, headers=headers)
