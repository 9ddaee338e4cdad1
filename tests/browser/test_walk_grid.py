"""Issue 21's grid worker (网格员) walk at 360 px first, then 1366 and 1920: the login lands
on the phone page, which names the worker's grid; 获取当前位置 (the browser's geolocation,
allowed) puts the pin on the map and names the grid under it; the category is found by
typing its name and by its class; the photos are labelled 处置前 / 处置后; the report is
filed, fixed on the spot, with both photos on the case. (The report kept with no signal is
walked in test_grid_offline_walk.py.) Every page visited passes check_desk."""

from __future__ import annotations

import re

import pytest
from browser_support import (
    WALK_SCREENS,
    at_desk,
    check_desk,
    photo,
    screen_name,
    walk_server,
)
from playwright.sync_api import expect

IN_01010101 = {"latitude": 30.30333, "longitude": 120.1096}
PHONE_FIRST = sorted(WALK_SCREENS, key=lambda s: s["width"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return walk_server(tmp_path_factory)


@pytest.mark.parametrize("screen", PHONE_FIRST, ids=screen_name)
def test_grid_worker_locates_picks_a_category_and_reports_with_photos(server, screen):
    width = screen["width"]
    located = {"geolocation": IN_01010101, "permissions": ["geolocation"]}
    with at_desk(server, "grid", screen, "grid_01010101", "/grid", **located) as worker:
        page = worker.page
        expect(page.locator("#my-grid")).to_contain_text("东坡社区第一网格")
        check_desk(page)

        # Where am I: the pin and the grid's name.
        page.get_by_role("button", name="获取当前位置").click()
        expect(page.get_by_role("status").filter(has_text="已定位")).to_have_text(
            "已定位：东坡社区第一网格"
        )
        expect(page.locator("#map-pin")).not_to_have_class(re.compile("off"))
        expect(page.get_by_label("纬度")).to_have_value(re.compile(r"^30\.30"))

        # The category: by its class, then by its name.
        search = page.get_by_label("事项分类", exact=True).first
        categories = page.locator("#g-category option:not([hidden])")
        search.fill("市容环境")
        expect(categories.first).to_be_visible()
        assert categories.count() > 1
        expect(categories.filter(has_text="垃圾满溢")).to_have_count(1)
        search.fill("满溢")
        expect(categories).to_have_count(1)
        page.locator("#g-category").select_option(label="垃圾满溢")

        page.get_by_label("诉求内容").fill(f"{width}号楼下垃圾桶满溢，已现场清理")
        page.get_by_label("处置前照片（现场）").set_input_files(
            str(photo(server.workdir, f"before-{width}.png"))
        )
        expect(page.locator("#g-photos-status")).to_have_text("已选 1 张")
        page.get_by_label("已现场处置（自处置）").check()
        page.get_by_label(re.compile("^处理结果")).fill("已清运干净")
        page.get_by_label(re.compile("^处置后照片")).set_input_files(
            str(photo(server.workdir, f"after-{width}.png"))
        )
        expect(page.locator("#g-after-status")).to_have_text("已选 1 张")
        if width == 360:
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        check_desk(page)
        page.get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(r"/grid\?reported=\d+"))
        check_desk(page)
        case_id = page.url.rsplit("=", 1)[1]
        worker.visit(f"/cases/{case_id}")
        expect(page.locator(".photos img")).to_have_count(2)
        assert worker.foreign_requests() == []
