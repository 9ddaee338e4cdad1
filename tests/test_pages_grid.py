"""The grid worker's phone page: a report with photo and location, and the checks to do."""

from __future__ import annotations

import pytest
from dispatch_support import IN_01010101, IN_02020203, activate, case_row
from page_support import PNG, file_hotline, login, post

from engine.users.models import Principal, Role


@pytest.fixture
async def pages(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "att")
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


def where(point: dict) -> dict[str, str]:
    return {"lat": str(point["lat"]), "lng": str(point["lng"])}


async def test_report_with_photo_and_location(pages):
    csrf = await login(pages, "grid_worker", "01010101")
    page = (await pages.client.get("/grid")).text
    assert 'name="viewport"' in page and "data-locate" in page and 'capture="environment"' in page
    photo = {"photos": ("现场.png", PNG, "image/png")}
    answer = await post(pages, "/grid/report", csrf, photo, category="06002",
                        description="路边垃圾堆", **where(IN_01010101))  # fmt: skip
    assert answer.status_code == 303
    case_id = int(answer.headers["location"].split("=")[1])
    case = case_row(pages.ctx, case_id)
    assert (case.channel, case.owning_unit, case.state) == ("grid", "01010101", "assigned")
    no_photo = await post(pages, "/grid/report", csrf, category="06002", description="x",
                          **where(IN_01010101))  # fmt: skip
    assert no_photo.status_code == 422 and "照片：至少需要一项" in no_photo.text
    outside = await post(pages, "/grid/report", csrf, photo, category="06002",
                         description="别人的网格", **where(IN_02020203))  # fmt: skip
    assert outside.status_code == 403 and "位置不在您负责的区域内" in outside.text


async def test_checks_to_do_pass_with_a_photo(pages):
    case_id = file_hotline(pages.ctx)
    handler = Principal("h", Role.handler, "HW-01")
    pages.ctx.cases.act(handler, case_id, "accept", {})
    pages.ctx.cases.act(handler, case_id, "resolve", {"result": "已清运"})
    csrf = await login(pages, "grid_worker", "01010101")
    page = (await pages.client.get("/grid")).text
    assert f'data-case="{case_id}"' in page and "已清运" in page
    photo = {"photos": ("核查.png", PNG, "image/png")}
    answer = await post(pages, f"/cases/{case_id}/act/verify", csrf, photo, passed="true",
                        next="/grid")  # fmt: skip
    assert answer.headers["location"] == "/grid?done=verify"
    assert f'data-case="{case_id}"' not in (await pages.client.get("/grid")).text
    await login(pages, "grid_worker", "01010102")
    assert f'data-case="{case_id}"' not in (await pages.client.get("/grid")).text
    await login(pages, "operator")
    assert (await pages.client.get("/grid")).status_code == 403


async def test_phone_page_names_things(pages):
    await login(pages, "grid_worker", "01010101")
    page = (await pages.client.get("/grid")).text
    assert 'id="my-grid"' in page and "东坡社区第一网格" in page.split('id="my-grid"')[1]
    drawn = page.split('<svg xmlns="http://www.w3.org/2000/svg"')[1].split("</svg>")[0]
    assert "data-map" in drawn and 'id="map-pin"' in drawn and "data-min-lng=" in drawn
    assert 'class="grid-shape mine" data-grid="01010101"' in drawn
    assert 'data-name="东坡社区第一网格"' in drawn and "<text" in drawn
    assert 'data-grid="02' not in drawn  # only the worker's community
    picker = page.split('id="g-category"')[1].split("</select>")[0]
    assert "<optgroup" in picker and ">06002" not in picker  # names, grouped by class
    assert 'data-filter-select="g-category"' in page
    assert "处置前照片" in page and "处置后照片" in page and "拍照或选择照片" in page
