"""The training-label feed reads closed cases; returns and redispatches are corrections."""

from __future__ import annotations

from datetime import timedelta

from engine.classifier import closed_case_labels
from engine.db import new_session
from tests.router_support import close_case


async def test_final_department_wins_and_earlier_ones_are_negatives(api, ctx):
    plain = await close_case(api, "小区门口垃圾堆积三天无人清理", ["HW-01"])
    corrected = await close_case(
        api, "东坡路垃圾桶满了溢出来", ["CG-0101", "HW-01"], category="06008", address="东坡路8号"
    )
    still_open = (await api.file(description="路灯不亮", category="01003"))["id"]

    with new_session(ctx.db) as session:
        departments = {item.case_id: item for item in closed_case_labels(session, "department")}
        categories = {item.case_id: item for item in closed_case_labels(session, "category")}

    assert set(departments) == {plain, corrected} and still_open not in categories
    assert departments[plain].label == "HW-01" and not departments[plain].corrected
    fixed = departments[corrected]
    assert fixed.label == "HW-01" and "CG-0101" in fixed.rejected and fixed.corrected
    assert "HW-01" not in fixed.rejected
    assert fixed.text == "东坡路垃圾桶满了溢出来 东坡路8号"  # description and address
    assert categories[corrected].label == "06008" and categories[corrected].rejected == ()


async def test_feed_streams_in_batches_and_filters_by_closing_time(api, ctx, clock):
    first = await close_case(api, "垃圾没人清理", ["HW-01"])
    clock.advance(hours=3)
    since = clock.now()
    later = await close_case(api, "垃圾堆在路边", ["HW-01"])
    with new_session(ctx.db) as session:
        every = [i.case_id for i in closed_case_labels(session, "category", batch_size=1)]
        recent = [i.case_id for i in closed_case_labels(session, "category", since=since)]
        future = list(closed_case_labels(session, "category", since=since + timedelta(days=1)))
    assert every == [first, later]
    assert recent == [later] and future == []
