"""The supervisor's big screen in a real browser at 1280x720, 1920x1080 and 3840x2160: the
Leaflet map, the ECharts trend and the KPI ranking are drawn on the first screen (no
scrolling) from the app's own files only; the map clusters the yellow / red case points (a
cluster shows how many, a click zooms in until it splits, a point opens its case) and a click
on a grid opens its case list. At every size the figures fit their tiles ("100.0%"), the
grids' names do not overlap, an empty panel says 暂无, 最新督办 names the category, and
axe-core finds no serious violation."""

from __future__ import annotations

import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_support import (
    ARTIFACTS,
    DEMO_CITY,
    PNG,
    Person,
    check_axe,
    running,
    shot,
    skip_unless_browser,
)
from playwright.sync_api import expect, sync_playwright

from engine.cases.models import CaseCreate
from engine.city.loader import read_city, store_city
from engine.clock import VirtualClock
from engine.db import make_engine, new_session
from engine.settings import Settings
from engine.users.models import Principal, Role
from web.context import build_context

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
SCREENS = [
    {"width": 1280, "height": 720},
    {"width": 1920, "height": 1080},
    {"width": 3840, "height": 2160},
]


# A point inside a grid with no open case (the one under it, not a name or a point), in the
# page's coordinates: [code, x, y].
INSIDE_AN_EMPTY_GRID = """() => {
  const box = document.getElementById('bs-map').getBoundingClientRect();
  for (const path of document.querySelectorAll('#bs-map path[data-grid][data-value="0"]')) {
    const r = path.getBoundingClientRect();
    for (let i = 1; i < 10; i++) for (let j = 1; j < 10; j++) {
      const x = r.left + r.width * i / 10, y = r.top + r.height * j / 10;
      if (x > box.left + 40 && x < box.right - 40 && y > box.top + 40 && y < box.bottom - 40 &&
          document.elementFromPoint(x, y) === path) return [path.dataset.grid, x, y];
    }
  }
  return null; }"""

# What the clusters and the single points on the map stand for: how many cases.
CASES_ON_THE_MAP = """() => Array.from(document.querySelectorAll('#bs-map .bs-cluster-n'))
  .reduce((n, el) => n + Number(el.textContent), 0) +
  document.querySelectorAll('#bs-map .bs-point').length"""

# The middle of a single point inside the map, in the page's coordinates, or null.
A_POINT_IN_VIEW = """() => {
  const box = document.getElementById('bs-map').getBoundingClientRect();
  for (const el of document.querySelectorAll('#bs-map .bs-point')) {
    const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x > box.left + 20 && x < box.right - 20 && y > box.top + 20 && y < box.bottom - 20 &&
        document.elementFromPoint(x, y) === el) return [x, y];
  }
  return null; }"""

# The map has settled at a new zoom: Leaflet's and the clusters' animations are over.
SETTLED_AT_A_NEW_ZOOM = """(before) => {
  const map = document.getElementById('bs-map');
  return map.dataset.zoom !== before &&
    !map.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim'); }"""

NAME_IN_THE_UNIT_RANKING = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('bs-rank-unit'));
  const rect = chart.getModel().getComponent('grid').coordinateSystem.getRect();
  return [rect.x - 20, chart.convertToPixel({yAxisIndex: 0}, '东湖区')]; }"""


# The grids' names the map shows (a name hidden because it would overlap another is not
# shown): their boxes on the screen.
GRID_NAMES_DRAWN = """() => Array.from(
    document.querySelectorAll('#bs-map .bs-grid-label:not(.bs-hidden) span'))
  .map((el, i) => { const r = el.getBoundingClientRect();
    return { text: el.textContent, host: i, x: r.x, y: r.y, w: r.width, h: r.height }; })"""

# Figures wider than their tile (a "100.0%" spilling out), by tile label.
FIGURES_OVERFLOWING = """() => Array.from(document.querySelectorAll('.bs-counter'))
  .filter(tile => { const v = tile.querySelector('.bs-value');
    return v.scrollWidth > v.clientWidth + 1 || v.getBoundingClientRect().right >
      tile.getBoundingClientRect().right; })
  .map(tile => tile.querySelector('.bs-label').textContent)"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of names from different labels whose boxes overlap by more than a pixel."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a["host"] == b["host"]:
                continue  # two lines of one name
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > 1 and dy > 1:
                found.append((a["text"], b["text"]))
    return found


def open_a_case_from_the_map(page) -> None:
    """Click clusters (each zooms in) until single points show, then click one."""
    for _ in range(12):
        point = page.evaluate(A_POINT_IN_VIEW)
        if point is not None:
            check_axe(page)  # the single points too (buttons named by their title)
            page.mouse.click(*point)
            return
        zoom = page.get_attribute("#bs-map", "data-zoom")
        page.locator("#bs-map .bs-cluster").first.click()
        page.wait_for_function(SETTLED_AT_A_NEW_ZOOM, arg=zoom, timeout=10_000)
    raise AssertionError("no single point after zooming in twelve times")


def map_drawn(page) -> None:
    """The map's grids are shaded from data.json (each path has its value)."""
    expect(page.locator("#bs-map path[data-grid][data-value]").first).to_be_attached(timeout=15_000)


def close_one_on_time(db_url: str, tmp_path) -> None:
    """One case filed, handled and closed well within its limits: the month's 按期办结率 is
    100.0%, and nothing is late, so nothing is escalated."""
    settings = Settings(
        database_url=db_url, city_dir=DEMO_CITY, secret_key="browser-test-secret",
        models_dir=tmp_path / "models", instance_dir=tmp_path / "instance-closer",
    )  # fmt: skip
    ctx = build_context(settings, VirtualClock(START))
    try:
        data = CaseCreate(description="路边垃圾堆积，请尽快清理", channel="hotline",
                          category="06002", grid_code="01010101")  # fmt: skip
        case = ctx.cases.intake(Principal("operator", Role.operator, "00"), data).case
        handler = Principal("handler", Role.handler, case.lead_department)
        ctx.cases.act(handler, case.id, "accept", {})
        ctx.cases.act(handler, case.id, "resolve", {"result": "已清理"})
        dispatcher = Principal("dispatcher", Role.dispatcher, "00")
        ctx.cases.act(dispatcher, case.id, "close", {"reason": "已核实"})
    finally:
        ctx.db.dispose()


def file_cases_in_grids(db_url: str, tmp_path, per_grid: int = 2) -> int:
    """Hotline cases placed at the middle of each of the first grids (the case service, as
    the server would): returns how many."""
    settings = Settings(
        database_url=db_url, city_dir=DEMO_CITY, secret_key="browser-test-secret",
        models_dir=tmp_path / "models", instance_dir=tmp_path / "instance-filer",
    )  # fmt: skip
    ctx = build_context(settings, VirtualClock(START))
    operator = Principal("operator", Role.operator, "00")
    filed = 0
    try:
        from engine.city.grids import CityGrid
        from engine.db import new_session

        with new_session(ctx.db) as session:
            features = session.get(CityGrid, 1).geojson["features"]
        for feature in features[:8]:
            ring = feature["geometry"]["coordinates"][0]
            lng = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
            lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
            for i in range(per_grid):
                data = CaseCreate(
                    description=f"路边垃圾堆积第{filed + 1}处，请尽快清理", channel="hotline",
                    category="06002", lat=round(lat + 0.001 * (i + 1), 6), lng=round(lng, 6),
                )  # fmt: skip
                ctx.cases.intake(operator, data)
                filed += 1
    finally:
        ctx.db.dispose()
    return filed


# In full screen: what would scroll (the big screen itself, or a panel ending below it).
FULL_SCREEN_SCROLLS = """() => {
  const root = document.getElementById("bigscreen"), out = [];
  if (root.scrollHeight > root.clientHeight + 1) out.push("bigscreen " + root.scrollHeight);
  for (const el of root.querySelectorAll(".bs-panel, .bs-counter")) {
    const r = el.getBoundingClientRect();
    if (r.bottom > window.innerHeight + 1 || r.height < 20) out.push(el.className + " " + r.bottom);
  }
  return out;
}"""


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s['width']}x{s['height']}")
def test_the_big_screen_fits_the_first_screen(tmp_path, db_url, screen):
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        filed = file_cases_in_grids(db_url, tmp_path)
        server.set_time(START + timedelta(minutes=90))  # every accept run past its deadline
        board = Person(pw, server, tmp_path, "supervisor", viewport=screen)
        try:
            page = board.page
            errors: list[str] = []  # a CSP refusal or a script error shows here
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            board.login("supervisor")
            board.goto("/board")
            expect(page.locator('[data-total="red"]')).to_have_text(str(filed), timeout=15_000)
            map_drawn(page)
            expect(page.locator("#bs-map path[data-grid]").first).to_be_visible()
            # The 16 points stand close in pairs: the map shows them as clusters of cases.
            expect(page.locator("#bs-map .bs-cluster").first).to_be_visible()
            assert page.evaluate(CASES_ON_THE_MAP) == filed
            assert page.locator("#bs-map .bs-cluster").count() < filed
            for chart in ("#bs-map", "#bs-trend", "#bs-rank-dep", "#bs-rank-unit"):
                box = page.locator(chart).bounding_box()
                assert box and box["height"] > 100, chart
                assert box["y"] + box["height"] <= screen["height"], chart  # the first screen
            map_box = page.locator("#bs-map").bounding_box()
            assert map_box["width"] > screen["width"] * 0.4  # full width: no empty third
            page.wait_for_timeout(800)  # ECharts' drawing animation
            names = page.evaluate(GRID_NAMES_DRAWN)
            assert len(names) >= 8 and overlapping(names) == [], overlapping(names)
            assert page.evaluate(FIGURES_OVERFLOWING) == []
            check_axe(page)  # the map's zoom buttons, clusters and points included
            # The server's sweep escalates the late cases; the stream's change redraws the
            # screen without a reload: the latest escalations appear on the first screen.
            expect(page.locator("#bs-latest li").first).to_be_visible(timeout=40_000)
            latest = page.locator("#bs-latest li").first.inner_text()
            assert "暴露垃圾" in latest and "06002" not in latest, latest  # a name, not a code
            page.wait_for_timeout(800)  # ECharts' drawing animation
            wide = screen["width"]
            shot(page, f"50-big-screen-{wide}")  # the whole page
            page.screenshot(path=str(ARTIFACTS / f"51-first-screen-{wide}.png"))  # no scrolling
            assert board.foreign_requests() == [] and errors == []
            # The trend: the last 7 days, or 30 on request.
            days = (
                "echarts.getInstanceByDom(document.getElementById('bs-trend'))"
                ".getOption().xAxis[0].data.length"
            )
            assert page.evaluate(days) == 7
            page.get_by_label("趋势天数").select_option(label="近 30 天")
            page.wait_for_function(f"{days} === 30")
            # 全屏: the big screen alone fills the display, nothing to scroll, then back.
            page.get_by_role("button", name="全屏").click()
            page.wait_for_function("document.fullscreenElement?.id === 'bigscreen'")
            page.wait_for_timeout(500)  # the charts redraw at the new size
            assert page.evaluate(FULL_SCREEN_SCROLLS) == [], page.evaluate(FULL_SCREEN_SCROLLS)
            page.get_by_role("button", name="退出全屏").click()
            page.wait_for_function("document.fullscreenElement === null")
            # Enter on a cluster (a button, reached by Tab) zooms in too; a click on a cluster
            # zooms in until it splits; a click on a point opens its case; on a grid, the
            # grid's cases.
            zoom = page.get_attribute("#bs-map", "data-zoom")
            page.locator("#bs-map .bs-cluster").first.focus()
            page.keyboard.press("Enter")
            page.wait_for_function(SETTLED_AT_A_NEW_ZOOM, arg=zoom, timeout=10_000)
            open_a_case_from_the_map(page)
            page.wait_for_url(re.compile(r"/cases/\d+$"), timeout=10_000)
            page.go_back()
            expect(page.locator('[data-total="red"]')).to_have_text(str(filed), timeout=15_000)
            map_drawn(page)
            code, x, y = page.evaluate(INSIDE_AN_EMPTY_GRID)
            page.mouse.click(x, y)
            page.wait_for_url(re.compile(rf"/cases\?unit={code}$"), timeout=10_000)
            # A name in the areas' KPI ranking drills down to that area's board.
            page.go_back()
            expect(page.locator('[data-total="red"]')).to_have_text(str(filed), timeout=15_000)
            page.wait_for_timeout(800)
            rank_box = page.locator("#bs-rank-unit").bounding_box()
            point = page.evaluate(NAME_IN_THE_UNIT_RANKING)
            page.mouse.click(rank_box["x"] + point[0], rank_box["y"] + point[1])
            page.wait_for_url(re.compile(r"/board\?unit=01$"), timeout=10_000)
            expect(page.locator("h1")).to_contain_text("东湖区")
        finally:
            board.close()


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s['width']}x{s['height']}")
def test_figures_fit_their_tiles_and_an_empty_panel_says_so(tmp_path, db_url, screen):
    """A quiet day: one case closed on time, nothing late. The rate tiles show 100.0% inside
    the tile, 最新督办 says 暂无 instead of staying blank, and the first screen holds it all."""
    skip_unless_browser()
    with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
        close_one_on_time(db_url, tmp_path)
        server.set_time(START + timedelta(minutes=30))
        board = Person(pw, server, tmp_path, "supervisor", viewport=screen)
        try:
            page = board.page
            board.login("supervisor")
            board.goto("/board")
            rate = page.locator('[data-kpi="on_time_resolve_rate"]')
            expect(rate).to_have_text("100.0%", timeout=15_000)
            expect(page.locator("#bs-latest-empty")).to_be_visible()
            expect(page.locator("#bs-latest-empty")).to_have_text("暂无")
            page.wait_for_timeout(800)  # ECharts' drawing animation
            assert page.evaluate(FIGURES_OVERFLOWING) == []
            tile = page.locator(".bs-counter", has=rate).bounding_box()
            figure = rate.bounding_box()
            assert figure["x"] + figure["width"] <= tile["x"] + tile["width"]
            for panel in ("#bs-map", "#bs-trend", "#bs-rank-dep", "#bs-rank-unit", "#bs-latest-h"):
                box = page.locator(panel).bounding_box()
                assert box["y"] + box["height"] <= screen["height"], panel  # the first screen
            names = page.evaluate(GRID_NAMES_DRAWN)
            assert len(names) >= 8 and overlapping(names) == [], overlapping(names)
            check_axe(page)
            page.screenshot(path=str(ARTIFACTS / f"52-quiet-first-screen-{screen['width']}.png"))
        finally:
            board.close()


class TileServer:
    """A city's own tile server on another loopback port (another origin): answers every
    tile with a small PNG and records the paths asked for."""

    def __init__(self) -> None:
        asked = self.asked = []

        class Tiles(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name
                asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def use_tiles(db_url: str, tmp_path, url: str) -> None:
    """The demo city with ``[board] tile_url`` set, stored as `gridflow init` stores it."""
    city = shutil.copytree(DEMO_CITY, tmp_path / "tiled-city")
    with (city / "city.toml").open("a", encoding="utf-8") as toml:
        toml.write(f'\n[board]\ntile_url = "{url}"\ntile_attribution = "© 示范市规划局"\n')
    db = make_engine(db_url)
    with new_session(db) as session, session.begin():
        store_city(session, read_city(city))
    db.dispose()


def test_the_city_tile_server_draws_under_the_grids(tmp_path, db_url):
    """With a tile server in city.toml, the map asks it for tiles, the page's CSP lets the
    images in (a refusal would be a console error), the attribution shows, and nothing
    else leaves the app's origin."""
    skip_unless_browser()
    tiles = TileServer()
    try:
        use_tiles(db_url, tmp_path, tiles.origin + "/tiles/{z}/{x}/{y}.png")
        with running(db_url, tmp_path, START) as server, sync_playwright() as pw:
            board = Person(pw, server, tmp_path, "supervisor", viewport=SCREENS[1])
            try:
                page = board.page
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                board.login("supervisor")
                board.goto("/board")
                map_drawn(page)
                loaded = page.locator("#bs-map img.leaflet-tile-loaded")
                expect(loaded.first).to_be_attached(timeout=15_000)
                expect(page.locator("#bs-map .leaflet-control-attribution")).to_have_text(
                    "© 示范市规划局"
                )
                assert any(re.fullmatch(r"/tiles/\d+/\d+/\d+\.png", p) for p in tiles.asked)
                foreign = board.foreign_requests()
                assert foreign and all(url.startswith(tiles.origin + "/") for url in foreign)
                assert errors == []
                check_axe(page)
            finally:
                board.close()
    finally:
        tiles.close()
