"""The supervisor's big screen in a real browser at 1920x1080: the ECharts map, the trend and
the KPI ranking are drawn on the first screen (no scrolling) from the app's own files only,
the map shows the yellow / red case points, and a click on a grid opens its case list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from browser_support import ARTIFACTS, DEMO_CITY, Person, running, shot, skip_unless_browser
from playwright.sync_api import expect, sync_playwright

from engine.cases.models import CaseCreate
from engine.clock import VirtualClock
from engine.settings import Settings
from engine.users.models import Principal, Role
from web.context import build_context

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
SCREENS = [{"width": 1920, "height": 1080}, {"width": 3840, "height": 2160}]


POINT_OF_CASE = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('bs-map'));
  const geo = chart.getModel().getComponent('geo').coordinateSystem;
  const first = chart.getOption().series[1].data[0];
  return geo.dataToPoint(first.value); }"""
MIDDLE_OF_AN_EMPTY_GRID = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('bs-map'));
  const geo = chart.getModel().getComponent('geo').coordinateSystem;
  const empty = chart.getOption().series[0].data.find(d => d.value === 0);
  return [empty.name, geo.dataToPoint(geo.getRegion(empty.name).getCenter())]; }"""

NAME_IN_THE_UNIT_RANKING = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('bs-rank-unit'));
  const rect = chart.getModel().getComponent('grid').coordinateSystem.getRect();
  return [rect.x - 20, chart.convertToPixel({yAxisIndex: 0}, '东湖区')]; }"""


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
            canvas = page.locator("#bs-map canvas").first
            expect(canvas).to_be_visible()
            for chart in ("#bs-map", "#bs-trend", "#bs-rank-dep", "#bs-rank-unit"):
                box = page.locator(chart).bounding_box()
                assert box and box["height"] > 100, chart
                assert box["y"] + box["height"] <= screen["height"], chart  # the first screen
            map_box = page.locator("#bs-map").bounding_box()
            assert map_box["width"] > screen["width"] * 0.4  # full width: no empty third
            # The server's sweep escalates the late cases; the stream's change redraws the
            # screen without a reload: the latest escalations appear on the first screen.
            expect(page.locator("#bs-latest li").first).to_be_visible(timeout=40_000)
            page.wait_for_timeout(800)  # ECharts' drawing animation
            wide = screen["width"]
            shot(page, f"50-big-screen-{wide}")  # the whole page
            page.screenshot(path=str(ARTIFACTS / f"51-first-screen-{wide}.png"))  # no scrolling
            assert board.foreign_requests() == [] and errors == []
            # A click on a yellow / red point opens its case; on a grid, the grid's cases.
            point = page.evaluate(POINT_OF_CASE)
            page.mouse.click(map_box["x"] + point[0], map_box["y"] + point[1])
            page.wait_for_url(re.compile(r"/cases/\d+$"), timeout=10_000)
            page.go_back()
            expect(page.locator('[data-total="red"]')).to_have_text(str(filed), timeout=15_000)
            page.wait_for_timeout(800)
            code, point = page.evaluate(MIDDLE_OF_AN_EMPTY_GRID)
            page.mouse.click(map_box["x"] + point[0], map_box["y"] + point[1])
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
