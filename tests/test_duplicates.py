"""Cross-channel duplicates: a report near an open case of the same category is flagged; the
dispatcher merges it (并单) and its caller then hears the master's outcome."""

from __future__ import annotations

import json

from engine.intake.duplicates import distance_m
from tests.intake_support import configure, hotline_webhook, outbox

# Two points about 40 m apart near 东坡路 (grid 01010101), and one about 300 m away.
HERE = (30.30333, 120.10960)
NEAR = (30.30360, 120.10990)
FAR = (30.30600, 120.10960)


def test_distance():
    assert 35 < distance_m(*HERE, *NEAR) < 45
    assert 290 < distance_m(*HERE, *FAR) < 300


async def file(api, external_id, where, channel="hotline", category="06002", **fields):
    return await api.file(
        channel=channel, external_id=external_id, category=category, lat=where[0], lng=where[1],
        **fields,
    )  # fmt: skip


async def test_nearby_same_category_is_flagged_across_channels(api):
    master = await file(api, None, HERE, channel="web")
    dup = await file(api, "12345-0001", NEAR)
    assert dup["duplicate_of"] == master["id"]
    assert master["duplicate_of"] is None
    events = (
        await api.client.get(f"/api/v1/cases/{dup['id']}/events", headers=api.auth("admin"))
    ).json()
    flag = next(e for e in events if e["action"] == "flag_duplicate")
    assert flag["actor_role"] == "system" and flag["data"]["master_id"] == master["id"]
    assert dup["state"] == "registered"  # flagging never moves the case


async def test_far_other_category_or_closed_is_not_flagged(api):
    master = await file(api, None, HERE, channel="web")
    assert (await file(api, "t-far", FAR))["duplicate_of"] is None
    assert (await file(api, "t-cat", NEAR, category="09004"))["duplicate_of"] is None
    assert (await file(api, "t-same", HERE))["duplicate_of"] == master["id"]
    await api.act(master["id"], "dispatch", "dispatcher", department="HW-01")
    await api.act(master["id"], "accept", "handler", "HW-01")
    await api.act(master["id"], "resolve", "handler", "HW-01", result="已清运")
    await api.act(master["id"], "close", "dispatcher", reason="已核实")
    # The master is closed; the next report points at the open duplicate's original instead.
    later = await file(api, "t-later", NEAR)
    assert later["duplicate_of"] != master["id"]


async def test_prefers_the_original_over_another_duplicate(api):
    master = await file(api, None, HERE, channel="web")
    first_dup = await file(api, "d-1", NEAR)
    second_dup = await file(api, "d-2", NEAR)
    assert first_dup["duplicate_of"] == master["id"]
    assert second_dup["duplicate_of"] == master["id"]


async def test_radius_is_configurable(api, ctx):
    configure(ctx, "duplicates", {"radius_m": 10})
    await file(api, None, HERE, channel="web")
    assert (await file(api, "r-1", NEAR))["duplicate_of"] is None
    configure(ctx, "duplicates", {"radius_m": 500})
    assert (await file(api, "r-2", FAR))["duplicate_of"] is not None


async def test_merge_then_master_updates_reach_the_merged_caller(api, ctx):
    hotline_webhook(ctx)
    master = await file(api, None, HERE, channel="grid")
    child = await file(api, "12345-0002", NEAR, reporter_phone="13900001111")
    assert child["duplicate_of"] == master["id"]

    merged = await api.act(child["id"], "merge", "dispatcher", master_id=master["id"])
    assert merged.status_code == 200
    assert merged.json()["state"] == "merged" and merged.json()["merged_into"] == master["id"]

    await api.act(master["id"], "dispatch", "dispatcher", department="HW-01")
    await api.act(master["id"], "accept", "handler", "HW-01")
    await api.act(master["id"], "resolve", "handler", "HW-01", result="垃圾已清运，周边已冲洗")
    await api.act(
        master["id"], "verify", "grid_worker", "01010101", passed=True, photos=["p/after.jpg"]
    )

    to_child = [json.loads(m.body) for m in outbox(ctx, "hotline")]
    assert [(b["type"], b["ticket_no"]) for b in to_child] == [
        ("accepted", "12345-0002"),
        ("merged", "12345-0002"),
        ("reply", "12345-0002"),
        ("closed", "12345-0002"),
    ]
    assert to_child[1]["master_case_id"] == master["id"]
    assert to_child[2]["reply"] == "垃圾已清运，周边已冲洗"
    assert to_child[2]["master_case_id"] == master["id"] and to_child[2]["case_id"] == child["id"]
    assert to_child[3]["master_state"] == "closed"
