"""The manual dispatch queue: a command center lists the cases its rows sent there (with the
rule's suggestion), a dispatcher assigns one, and the audit says a person chose it."""

from __future__ import annotations

from audit_support import findings
from dispatch_support import case_row
from page_support import file_hotline
from sqlalchemy import text

from engine.schema import downgrade_schema, upgrade_schema
from engine.users.models import SYSTEM
from tests.dispatch_support import activate, events

QUEUE = "/api/v1/dispatch/queue"


async def listed(api, scope: str, **params) -> dict:
    response = await api.client.get(QUEUE, params=params, headers=api.auth("dispatcher", scope))
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict) -> list[int]:
    return [item["case"]["id"] for item in page["items"]]


async def test_manual_rows_queue_at_the_command_center_of_their_tier(api, ctx):
    activate(ctx)
    noise = await api.file(category="12001", description="楼上广场舞噪声扰民")  # → street
    tiles = await api.file(category="11009", description="外墙瓷砖松动有掉落危险")  # → district
    assert (noise["state"], noise["dispatch_queue"]) == ("dispatching", "0101")
    assert (tiles["state"], tiles["dispatch_queue"]) == ("dispatching", "01")

    street = await listed(api, "0101")
    assert ids(street) == [noise["id"]] and street["unit"] == "0101"
    [item] = street["items"]
    assert item["rule"] == "noise-placed" and item["suggestion"] is None
    assert "noise-placed" in item["reason"] and item["return_reason"] is None

    district = await listed(api, "01")  # its own queue and the queues below it
    assert ids(district) == [tiles["id"], noise["id"]]  # urgent (高空坠物) first
    assert district["items"][0]["suggestion"] == "ZJ-00"
    assert "dispatch" in district["items"][0]["case"]["allowed_actions"]
    only_street = await listed(api, "01", unit="0101")
    assert ids(only_street) == [noise["id"]]
    assert ids(await listed(api, "0102")) == [] and ids(await listed(api, "02")) == []


async def test_a_dispatcher_assigns_and_the_audit_says_a_person_chose(api, ctx):
    activate(ctx)
    noise = await api.file(category="12001", description="楼上广场舞噪声扰民")
    response = await api.act(noise["id"], "dispatch", "dispatcher", "0101", department="CG-0101")
    assert response.status_code == 200, response.text
    case = response.json()
    assert (case["state"], case["lead_department"]) == ("assigned", "CG-0101")
    assert (case["dispatch_source"], case["dispatch_queue"]) == ("person", "0101")
    assert case["dispatch_rule"] == "noise-placed"  # the row that queued it stays on record
    event = events(ctx, noise["id"])[-1]
    assert (event.action, event.actor_role) == ("dispatch", "dispatcher")
    assert event.data["dispatch_source"] == "person" and event.data["department"] == "CG-0101"
    assert ids(await listed(api, "0101")) == []


async def test_a_person_cannot_pose_as_the_rule(api, ctx):
    activate(ctx)
    noise = await api.file(category="12001", description="噪声扰民")
    await api.act(
        noise["id"], "dispatch", "dispatcher", "0101", department="CG-0101", source="rule"
    )
    assert events(ctx, noise["id"])[-1].data["dispatch_source"] == "person"


async def test_queue_access_and_paging(api, ctx):
    activate(ctx)
    for _ in range(3):
        await api.file(category="12008", description="建议增加公交线路")  # → city desk
    page = await listed(api, "00", limit=2, offset=1)
    assert page["total"] == 3 and len(page["items"]) == 2
    handler = await api.client.get(QUEUE, headers=api.auth("handler", "HW-01"))
    assert handler.status_code == 403
    outside = await api.client.get(
        QUEUE, params={"unit": "02"}, headers=api.auth("dispatcher", "01")
    )
    assert outside.status_code == 403
    unknown = await api.client.get(QUEUE, params={"unit": "99"}, headers=api.auth("admin"))
    assert unknown.status_code == 422
    assert (await api.client.get(QUEUE, headers=api.auth("admin"))).json()["total"] == 3


async def test_contact_details_stay_masked_for_supervisors(api, ctx):
    activate(ctx)
    await api.file(category="12008", description="建议", reporter_phone="13812345678")
    page = await api.client.get(QUEUE, headers=api.auth("supervisor", "00"))
    assert page.json()["items"][0]["case"]["reporter_phone"] == "138****5678"


def test_urgency_descending_is_urgent_first():
    """The queue's keyset sorts urgency descending for "urgent first" (engine.dispatch.queue)."""
    from engine.cases.models import Urgency

    assert sorted((u.value for u in Urgency), reverse=True) == ["urgent", "normal"]


async def test_the_queue_pages_by_cursor_urgent_first_then_oldest(api, ctx, clock):
    activate(ctx)
    queued = []
    for i in range(5):
        category = "11009" if i in (1, 3) else "12001"  # 11009 urgent, queued at the district
        queued.append((await api.file(category=category, description=f"排队案件{i}"))["id"])
        clock.advance(minutes=1)
    expected = [queued[1], queued[3], queued[0], queued[2], queued[4]]
    first = await listed(api, "01", limit=2)
    assert ids(first) == expected[:2] and first["total"] == 5
    seen, cursor = ids(first), first["next_cursor"]
    late = (await api.file(category="12001", description="后来的案件"))["id"]
    while cursor:
        page = await listed(api, "01", limit=2, cursor=cursor)
        seen += ids(page)
        cursor = page["next_cursor"]
    assert seen == [*expected, late]  # the newest waits least: it comes last, once
    assert ids(await listed(api, "01", limit=2, offset=2)) == expected[2:4]
    bad = await api.client.get(QUEUE, params={"cursor": "zz"}, headers=api.auth("dispatcher", "01"))
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "cursor"


async def test_the_department_inbox_pages_by_cursor(api, clock):
    handler = api.auth("handler", "HW-01")
    mine = []
    for i in range(4):
        case = await api.file(description=f"待签收案件{i}", urgency="urgent" if i == 2 else None)
        await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
        mine.append(case["id"])
        clock.advance(minutes=1)
    other = await api.file(description="别的部门的")
    await api.act(other["id"], "dispatch", "dispatcher", department="CG-01", co_handlers=["HW-01"])
    await api.act(mine[3], "accept", "handler", "HW-01")

    async def section(name: str, **params) -> dict:
        params |= {"section": name}
        response = await api.client.get("/api/v1/inbox", params=params, headers=handler)
        assert response.status_code == 200, response.text
        return response.json()

    first = await section("to_accept", limit=2)
    assert [c["id"] for c in first["items"]] == [mine[2], mine[0]] and first["total"] == 3
    rest = await section("to_accept", limit=2, cursor=first["next_cursor"])
    assert [c["id"] for c in rest["items"]] == [mine[1]] and rest["next_cursor"] is None
    assert [c["id"] for c in (await section("in_progress"))["items"]] == [mine[3]]
    assert [c["id"] for c in (await section("co_tasks"))["items"]] == [other["id"]]
    refused = await api.client.get("/api/v1/inbox", headers=api.auth("dispatcher", "01"))
    assert refused.status_code == 403


async def test_queue_filters_by_category_channel_suggestion_and_time_waited(api, ctx):
    activate(ctx)
    noise = await api.file(category="12001", description="楼上广场舞噪声扰民")  # street 0101
    tiles = await api.file(category="11009", description="外墙瓷砖松动有掉落危险")  # 01, ZJ-00
    web = await api.file(category="12001", description="广场舞噪声", channel="web")
    assert ids(await listed(api, "01", category="11")) == [tiles["id"]]  # a class
    assert ids(await listed(api, "01", category="12001")) == [noise["id"], web["id"]]
    assert ids(await listed(api, "01", suggested="ZJ-00")) == [tiles["id"]]
    assert ids(await listed(api, "01", suggested="HW-01")) == []
    only_web = await listed(api, "01", channel="web", category="12")
    assert ids(only_web) == [web["id"]] and only_web["total"] == 1
    assert ids(await listed(api, "01", waited_hours=2)) == []
    ctx.clock.advance(hours=3)
    assert len(ids(await listed(api, "01", waited_hours=2))) == 3
    paged = await listed(api, "01", category="12", limit=1)
    assert paged["total"] == 2 and ids(paged) == [noise["id"]]
    rest = await listed(api, "01", category="12", limit=1, cursor=paged["next_cursor"])
    assert ids(rest) == [web["id"]]


async def test_a_note_or_reminder_on_a_waiting_case_keeps_its_place_and_time_waited(api, ctx):
    """The queue's order and its 等待超过 filter read when the case entered the queue, not
    when it last changed: a 催办 note or the SLA reminder must not send it to the back."""
    activate(ctx)
    first = await api.file(category="12001", description="楼上广场舞噪声扰民")
    ctx.clock.advance(hours=2)
    second = await api.file(category="12001", description="广场舞噪声又来了")
    ctx.clock.advance(minutes=30)
    response = await api.act(first["id"], "note", "operator", "00", note="催办（再次来电）")
    assert response.status_code == 200, response.text
    ctx.cases.act(SYSTEM, first["id"], "remind", {"stage": "dispatch"})  # the SLA timer's
    assert ids(await listed(api, "0101")) == [first["id"], second["id"]]  # longest waiting
    assert ids(await listed(api, "0101", waited_hours=2)) == [first["id"]]


async def test_unknown_queue_filters_name_the_field(api, ctx):
    for params, field in (
        ({"category": "99"}, "category"),
        ({"category": "060"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"suggested": "NOPE"}, "suggested"),
    ):
        response = await api.client.get(QUEUE, params=params, headers=api.auth("dispatcher", "01"))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field


def test_the_migration_fills_when_the_waiting_cases_were_queued(ctx):
    """2b8e6f0a1c0d: a case waiting in a queue gets the time of its latest queue or return
    event, however much it changed since; the audit trail still verifies."""
    activate(ctx)
    queued = file_hotline(ctx, "楼上广场舞噪声扰民", category="12001")  # → street 0101's queue
    at = case_row(ctx, queued).queued_at
    ctx.clock.advance(hours=3)
    ctx.cases.act(SYSTEM, queued, "remind", {"stage": "dispatch"})
    downgrade_schema(ctx.db, "2b8e6f0a1c0c")
    with ctx.db.connect() as connection:
        columns = connection.execute(text('SELECT * FROM "case" LIMIT 1')).keys()
        assert "queued_at" not in columns
    upgrade_schema(ctx.db)
    row = case_row(ctx, queued)
    assert row.queued_at == at and row.updated_at > at
    assert findings(ctx) == []


async def test_the_queue_sorts_newest_first_on_request_with_its_own_cursor(api, ctx, clock):
    """sort=newest: urgent first, then the latest to arrive, paged through once by its own
    keyset (a cursor of the other order is refused); the page offers both orders."""
    activate(ctx)
    queued = []
    for i in range(5):
        category = "11009" if i in (1, 3) else "12001"  # 11009 urgent, queued at the district
        queued.append((await api.file(category=category, description=f"排队案件{i}"))["id"])
        clock.advance(minutes=1)
    expected = [queued[3], queued[1], queued[4], queued[2], queued[0]]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "sort": "newest"} | ({"cursor": cursor} if cursor else {})
        page = await listed(api, "01", **params)
        seen += ids(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == expected
    waiting = await listed(api, "01", limit=2)
    other = await api.client.get(
        QUEUE, params={"sort": "newest", "cursor": waiting["next_cursor"]},
        headers=api.auth("dispatcher", "01"),
    )  # fmt: skip
    assert other.status_code == 422 and other.json()["error"]["details"][0]["field"] == "cursor"
    bad = await api.client.get(QUEUE, params={"sort": "oldest"}, headers=api.auth("dispatcher"))
    assert bad.status_code == 422 and "sort" in bad.text
