"""Lookups and search (docs/SEARCH.md): a caller's phone in any spelling, a 12345 ticket
number, a case number that jumps to its case, Chinese substrings of description, address
and result; always within the caller's scope; pages that continue by cursor."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.cases.models import PHONE_KEY_SQL
from engine.db import new_session
from engine.search.models import phone_key

CASES = "/api/v1/cases"


async def _ids(api, headers=None, **params) -> list[int]:
    response = await api.client.get(CASES, params=params, headers=headers or api.auth("operator"))
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


@pytest.mark.parametrize(
    "spelling",
    ["13812345678", "+86 138 1234 5678", "+86-138-1234-5678", "0086 13812345678", "8613812345678",
     " 138-1234-5678 "],
)  # fmt: skip
def test_phone_key_drops_prefix_spaces_and_dashes(spelling):
    assert phone_key(spelling) == "13812345678"


def test_phone_key_keeps_a_landline_area_code_and_refuses_non_phones():
    assert phone_key("010-6512 3456") == "01065123456"
    assert phone_key("路灯") is None and phone_key("") is None


@pytest.mark.parametrize(
    "stored", ["+86 138-1234-5678", "0086 13812345678", "8613812345678", "138 1234 5678"]
)
def test_the_database_computes_the_same_key(ctx, stored):
    """The generated column (PHONE_KEY_SQL) and phone_key are one rule."""
    sql = f"SELECT {PHONE_KEY_SQL.replace('reporter_phone', ':p')}"
    with new_session(ctx.db) as session:
        assert session.execute(text(sql), {"p": stored}).scalar() == phone_key(stored)


async def test_lookup_by_phone_in_any_spelling(api):
    mine = await api.file(reporter_phone="+86 138-1234-5678")
    other = await api.file(reporter_phone="13900001111")
    for spelling in ("13812345678", "0086 138 1234 5678", "138-1234-5678"):
        assert await _ids(api, phone=spelling) == [mine["id"]]
    assert await _ids(api, q="+8613812345678") == [mine["id"]]
    assert await _ids(api, phone="13900001111") == [other["id"]]
    assert await _ids(api, phone="13700000000") == []


async def test_phone_lookup_is_for_roles_that_see_phones(api):
    case = await api.file(reporter_phone="13812345678")
    await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    handler = api.auth("handler", "HW-01")
    response = await api.client.get(CASES, params={"phone": "13812345678"}, headers=handler)
    assert response.status_code == 403
    # In the search box the digits are not taken for a phone: no match by phone leaks.
    assert await _ids(api, handler, q="13812345678") == []
    bad = await api.client.get(CASES, params={"phone": "路灯"}, headers=api.auth("operator"))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "phone"


async def test_lookup_by_ticket_number(api):
    case = await api.file(external_id="GD20261207-0042")
    await api.file(external_id="GD20261207-0043")
    await api.file(channel="web", external_id="GD20261207-0042")  # not a hotline ticket
    assert await _ids(api, ticket="GD20261207-0042") == [case["id"]]
    assert await _ids(api, q=" GD20261207-0042 ") == [case["id"]]
    bad = await api.client.get(CASES, params={"ticket": "一二三"}, headers=api.auth("operator"))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "ticket"


async def test_a_case_number_in_the_search_box_jumps_to_the_case(api):
    first = await api.file(description="第一件：路灯不亮")
    await api.file(description=f"第二件：提到 {first['id']} 号路灯")
    for spelling in (
        str(first["id"]),
        f"#{first['id']}",
        f"案件 #{first['id']}",
        f"案件{first['id']}号",
    ):
        answer = (
            await api.client.get(CASES, params={"q": spelling}, headers=api.auth("operator"))
        ).json()
        assert [c["id"] for c in answer["items"]] == [first["id"]]
        assert answer["matched_as"] == "case_number" and answer["next_cursor"] is None


async def test_full_text_finds_chinese_substrings_of_description_address_and_result(api):
    garbage = await api.file(description="小区门口垃圾堆积三天无人清理", address="湖滨路12号")
    lamp = await api.file(description="路灯不亮，晚上很黑", address="东湖公园北门")
    assert await _ids(api, q="垃圾堆积") == [garbage["id"]]
    assert await _ids(api, q="湖滨路") == [garbage["id"]]
    assert await _ids(api, q="东湖公园") == [lamp["id"]]
    assert await _ids(api, q="垃圾堆 湖滨") == [garbage["id"]]  # every term, short ones too
    assert await _ids(api, q="不存在的内容") == []
    # Two characters have no trigram: matched among the newest cases, and said so.
    short = (await api.client.get(CASES, params={"q": "路灯"}, headers=api.auth("operator"))).json()
    assert [c["id"] for c in short["items"]] == [lamp["id"]]
    assert short["matched_as"] == "text" and short["searched_newest"] > 0
    # The result written by the department is searchable once resolved.
    await api.act(lamp["id"], "dispatch", "dispatcher", department="HW-01")
    await api.act(lamp["id"], "accept", "handler", "HW-01")
    resolved = await api.act(lamp["id"], "resolve", "handler", "HW-01", result="已更换灯泡恢复照明")
    assert resolved.status_code == 200, resolved.text
    assert await _ids(api, q="更换灯泡") == [lamp["id"]]


async def test_search_never_shows_a_case_outside_the_callers_area(api):
    inside = await api.file(
        grid_code="01010101",
        description="井盖缺失很危险",
        reporter_phone="13812345678",
        external_id="T-IN",
    )
    outside = await api.file(
        grid_code="02010101",
        description="井盖缺失很危险",
        reporter_phone="13812345678",
        external_id="T-OUT",
    )
    local = api.auth("dispatcher", "0101")
    assert await _ids(api, local, q="井盖缺失") == [inside["id"]]
    assert await _ids(api, local, phone="13812345678") == [inside["id"]]
    assert await _ids(api, local, ticket="T-OUT") == []
    answer = (await api.client.get(CASES, params={"q": f"#{outside['id']}"}, headers=local)).json()
    assert answer["items"] == [] and answer["matched_as"] != "case_number"
    both = await _ids(api, api.auth("supervisor", "00"), q="井盖缺失")
    assert both == [outside["id"], inside["id"]]


async def test_cursor_pages_are_stable_across_inserts(api):
    filed = [(await api.file(description=f"噪音扰民第{i}次"))["id"] for i in range(7)]
    headers = api.auth("operator")
    first = (await api.client.get(CASES, params={"limit": 3}, headers=headers)).json()
    assert [c["id"] for c in first["items"]] == filed[::-1][:3]
    newer = (await api.file(description="插队的新案件"))["id"]
    pages, cursor = [first["items"]], first["next_cursor"]
    while cursor:
        page = await api.client.get(CASES, params={"limit": 3, "cursor": cursor}, headers=headers)
        pages.append(page.json()["items"])
        cursor = page.json()["next_cursor"]
    seen = [c["id"] for items in pages for c in items]
    assert seen == filed[::-1] and newer not in seen
    searched = await _ids(api, q="噪音扰民", limit=4)
    assert searched == filed[::-1][:4]


async def test_a_bad_cursor_is_refused_naming_it(api):
    headers = api.auth("operator")
    for cursor in ("not-a-cursor", "eyJsIjoicXVldWUiLCJrIjpbMV19"):  # the second: another list
        response = await api.client.get(CASES, params={"cursor": cursor}, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "cursor"
    both = await api.client.get(CASES, params={"cursor": "x", "offset": 5}, headers=headers)
    assert both.status_code == 422


async def test_the_count_stops_at_its_limit_and_says_so(api, monkeypatch):
    from engine.cases import queries

    monkeypatch.setattr(queries, "COUNT_LIMIT", 3)
    for i in range(5):
        await api.file(description=f"第{i}件")
    answer = (await api.client.get(CASES, headers=api.auth("operator"))).json()
    assert (answer["total"], answer["total_capped"], len(answer["items"])) == (3, True, 5)
