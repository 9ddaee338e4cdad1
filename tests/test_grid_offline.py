"""The grid worker's report kept on the phone with no signal and sent later: the page route
takes the report's ``report_id`` (the case's external id), so a resend is the first case."""

from __future__ import annotations

import re

import pytest
from dispatch_support import IN_01010101, activate
from page_support import PNG, login, post
from sqlmodel import col, func, select

from engine.cases.models import Case
from engine.db import new_session


@pytest.fixture
async def pages(make_ctx, make_api, tmp_path):
    ctx = make_ctx(attachments_dir=tmp_path / "att")
    activate(ctx)
    async with make_api(ctx) as api:
        yield api


def cases_with(ctx, external_id: str) -> int:
    with new_session(ctx.db) as session:
        query = select(func.count()).where(col(Case.external_id) == external_id)
        return session.exec(query).one()


def stored(tmp_path) -> int:
    return sum(1 for path in (tmp_path / "att").rglob("*") if path.is_file())


async def test_a_resend_with_the_same_report_id_is_one_case(pages, tmp_path):
    csrf = await login(pages, "grid_worker", "01010101")
    page = (await pages.client.get("/grid")).text
    given = re.search(r'name="report_id" value="([0-9a-f]{32})"', page)
    assert given, "the form carries a fresh report id"
    assert 'id="outbox"' in page and "/static/grid_offline.js" in page
    assert "待发送" in page and 'data-owner="' in page
    fields = {"category": "06002", "description": "断网时写的报告", "report_id": "kept-1",
              "lat": str(IN_01010101["lat"]), "lng": str(IN_01010101["lng"])}  # fmt: skip
    photo = {"photos": ("现场.png", PNG, "image/png")}
    first = await post(pages, "/grid/report", csrf, photo, **fields)
    photos = stored(tmp_path)
    assert photos >= 1
    again = await post(pages, "/grid/report", csrf, photo, **fields)
    assert stored(tmp_path) == photos  # the resend's photos are not stored again
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert cases_with(pages.ctx, "kept-1") == 1
    other = await post(pages, "/grid/report", csrf, photo, **(fields | {"report_id": "kept-2"}))
    assert other.headers["location"] != first.headers["location"]


async def test_a_refused_report_keeps_its_id_on_the_form(pages):
    csrf = await login(pages, "grid_worker", "01010101")
    answer = await post(pages, "/grid/report", csrf, category="06002", description="x",
                        report_id="kept-3", lat=str(IN_01010101["lat"]),
                        lng=str(IN_01010101["lng"]))  # fmt: skip
    assert answer.status_code == 422
    assert 'name="report_id" value="kept-3"' in answer.text
    assert cases_with(pages.ctx, "kept-3") == 0
