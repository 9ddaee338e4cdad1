"""Rule dispatch through the case service: each condition kind, FIRST-hit order, the default
row, and what a decision records on the case and in its audit event."""

from __future__ import annotations

import pytest

from engine.cases.hooks import FollowUp
from engine.cases.models import CaseCreate
from engine.users.models import Principal, Role
from tests.dispatch_support import activate, case_row, events
from tests.intake_support import png

OPERATOR = Principal(name="op", role=Role.operator, scope="00")

CONDITIONS = """\
[[rule]]
id = "by-channel"
channel = ["video"]
category = ["07001"]
department = "CG-00"

[[rule]]
id = "by-category"
category = ["04"]
department = "YL-00"

[[rule]]
id = "by-area"
category = ["06002"]
area = ["02"]
department = "HW-02"

[[rule]]
id = "by-tier"
category = ["12001"]
tier = "community"
department = "CG-0101"

[[rule]]
id = "by-urgency"
category = ["02001"]
urgency = ["urgent"]
department = "JJ-00"

[[rule]]
id = "by-request-type"
category = ["12002"]
request_type = ["complaint"]
department = "SJ-00"

[[rule]]
id = "by-weekdays"
category = ["08001"]
weekdays = [6, 7]
department = "CG-01"

[[rule]]
id = "by-hours"
category = ["08002"]
hours = "22:00-06:00"
department = "HB-00"

[[rule]]
id = "by-keywords-all"
keywords_all = ["燃气", "泄漏"]
department = "RQ-00"

[[rule]]
id = "by-keywords-any"
keywords_any = ["停电", "断电"]
department = "GD-00"

[[rule]]
id = "by-keywords-none"
category = ["10004"]
keywords_none = ["咨询"]
department = "CG-01"

[[rule]]
id = "default"
default = true
auto = false
queue = "city"
"""


def file(ctx, **fields):
    """File a case as an operator; untrusted channels are registered by the operator too."""
    data = {
        "channel": "hotline",
        "description": "市民反映问题",
        "grid_code": "01010101",
    } | fields
    result = ctx.cases.intake(OPERATOR, CaseCreate(**data), then=[FollowUp("register", {})])
    return case_row(ctx, result.case.id)


def assert_rule(case, rule: str, department: str | None) -> None:
    assert case.dispatch_rule == rule
    if department is None:
        assert (case.state, case.lead_department) == ("dispatching", None)
    else:
        assert (case.state, case.lead_department) == ("assigned", department)


@pytest.fixture
def version(ctx) -> str:
    return activate(ctx, CONDITIONS)


def test_a_rule_hit_dispatches_and_records_rule_and_version(ctx, version):
    case = file(ctx, category="04002")
    assert_rule(case, "by-category", "YL-00")
    assert (case.rules_version, case.dispatch_source) == (version, "rule")
    assert case.dispatch_queue == "00"  # a city department's returns go to the city
    last = events(ctx, case.id)[-1]
    assert (last.action, last.actor_role, last.from_state) == ("dispatch", "system", "registered")
    assert last.data["rule"] == "by-category" and last.data["rules_version"] == version
    assert last.data["dispatch_source"] == "rule"


def test_channel(ctx, version):
    assert_rule(file(ctx, channel="video", category="07001"), "by-channel", "CG-00")
    assert_rule(file(ctx, channel="hotline", category="07001"), "default", None)


def test_category_prefix(ctx, version):
    assert_rule(file(ctx, category="04004"), "by-category", "YL-00")
    assert_rule(file(ctx, category="06001"), "default", None)


def test_area_prefix(ctx, version):
    assert_rule(file(ctx, category="06002", grid_code="02020203"), "by-area", "HW-02")
    assert_rule(file(ctx, category="06002", grid_code="01010101"), "default", None)


def test_tier_of_the_known_location(ctx, version):
    assert_rule(file(ctx, category="12001", grid_code="010101"), "by-tier", "CG-0101")
    assert_rule(file(ctx, category="12001", grid_code="01010101"), "by-tier", "CG-0101")
    assert_rule(file(ctx, category="12001", grid_code="0101"), "default", None)


def test_urgency(ctx, version):
    assert_rule(file(ctx, category="02001", urgency="urgent"), "by-urgency", "JJ-00")
    assert_rule(file(ctx, category="02001", urgency="normal"), "default", None)


def test_request_type(ctx, version):
    assert_rule(file(ctx, category="12002", request_type="complaint"), "by-request-type", "SJ-00")
    assert_rule(file(ctx, category="12002", request_type="consult"), "default", None)
    assert_rule(file(ctx, category="12002"), "default", None)


def test_weekdays_follow_the_clock_in_the_city_zone(ctx, clock, version):
    assert_rule(file(ctx, category="08001"), "default", None)  # Monday 09:00
    clock.advance(days=5)  # Saturday 09:00 in Shanghai
    assert_rule(file(ctx, category="08001"), "by-weekdays", "CG-01")


def test_hours_window_wraps_midnight(ctx, clock, version):
    assert_rule(file(ctx, category="08002"), "default", None)  # 09:00
    clock.advance(hours=13)  # 22:00
    assert_rule(file(ctx, category="08002"), "by-hours", "HB-00")
    clock.advance(hours=7, minutes=59)  # 05:59 next day
    assert_rule(file(ctx, category="08002"), "by-hours", "HB-00")
    clock.advance(minutes=1)  # 06:00: the end is excluded
    assert_rule(file(ctx, category="08002"), "default", None)


def test_keywords_all(ctx, version):
    hit = file(ctx, category="06002", description="小区燃气管道泄漏")
    assert_rule(hit, "by-keywords-all", "RQ-00")
    assert_rule(file(ctx, description="燃气费怎么交"), "default", None)


def test_keywords_any(ctx, version):
    assert_rule(file(ctx, description="整栋楼断电了"), "by-keywords-any", "GD-00")
    assert_rule(file(ctx, description="路口停电，信号灯不亮"), "by-keywords-any", "GD-00")
    assert_rule(file(ctx, description="没有水"), "default", None)


def test_keywords_none(ctx, version):
    assert_rule(file(ctx, category="10004", description="楼道杂物"), "by-keywords-none", "CG-01")
    assert_rule(file(ctx, category="10004", description="咨询楼道杂物"), "default", None)


def test_default_row_queues_to_the_city_with_the_reason(ctx, version):
    case = file(ctx, category="09002")
    assert_rule(case, "default", None)
    assert case.dispatch_queue == "00" and case.rules_version == version
    queued = events(ctx, case.id)[-1]
    assert (queued.action, queued.to_state) == ("queue", "dispatching")
    assert queued.data["queue"] == "city" and "default" in queued.data["reason"]


def test_an_automatic_default_row_dispatches(ctx):
    activate(ctx, '[[rule]]\nid = "all"\ndefault = true\ndepartment = "CG-00"\n')
    assert_rule(file(ctx, category="09002"), "all", "CG-00")


WORDS = '[[rule]]\nid = "words"\nkeywords_any = ["垃圾"]\ndepartment = "HW-01"\n'
CATEGORY = '[[rule]]\nid = "category"\ncategory = ["06002"]\ndepartment = "CG-01"\n'
DEFAULT = '[[rule]]\nid = "default"\ndefault = true\nauto = false\n'


def test_first_hit_in_file_order_decides(ctx):
    both = {"category": "06002", "description": "门口垃圾没人清理"}
    activate(ctx, "\n".join([WORDS, CATEGORY, DEFAULT]))
    assert_rule(file(ctx, **both), "words", "HW-01")
    assert_rule(file(ctx, category="06002", description="门口很脏"), "category", "CG-01")
    activate(ctx, "\n".join([CATEGORY, WORDS, DEFAULT]))
    assert_rule(file(ctx, **both), "category", "CG-01")  # now the category row comes first
    assert_rule(file(ctx, category="04002", description="绿地垃圾"), "words", "HW-01")


def test_outputs_set_urgency_limits_and_co_handlers(ctx):
    activate(
        ctx,
        """\
[[rule]]
id = "gas"
keywords_all = ["燃气", "泄漏"]
department = "RQ-00"
co_handlers = ["YJ-00", "XF-00"]
set_urgency = "urgent"
limits = { accept = "10m", handle = "2h" }

[[rule]]
id = "default"
default = true
auto = false
""",
    )
    case = file(ctx, description="燃气泄漏，味道很大")
    assert (case.lead_department, case.urgency) == ("RQ-00", "urgent")
    assert case.sla_limits == {"accept": "10m", "handle": "2h"}
    assert events(ctx, case.id)[-1].data["co_handlers"] == ["YJ-00", "XF-00"]


def test_without_an_active_table_cases_wait_in_registered(ctx):
    case = file(ctx, category="04002")
    assert case.state == "registered" and case.dispatch_rule is None


async def test_a_channels_own_next_steps_follow_the_rule_dispatch(make_ctx, make_api, tmp_path):
    """A grid worker's report: registered, dispatched by the rule, then the worker's photo
    note, all in the intake transaction."""
    ctx = make_ctx(attachments_dir=tmp_path / "photos")
    activate(ctx)
    async with make_api(ctx) as api:
        worker = api.auth("grid_worker", "01010101")
        files = {"file": ("p.png", png(1), "image/png")}
        ref = (await api.client.post("/api/v1/attachments", files=files, headers=worker)).json()
        body = {
            "report_id": "grid-7",
            "category": "09007",
            "description": "楼道口堆放装修垃圾",
            "lat": 30.30333,
            "lng": 120.1096,
            "photos": [ref["ref"]],
        }
        response = await api.client.post("/api/v1/intake/grid", json=body, headers=worker)
        assert response.status_code == 201, response.text
        case = response.json()
    assert (case["state"], case["lead_department"]) == ("assigned", "CG-0101")
    assert [e.action for e in events(ctx, case["id"])] == ["report", "register", "dispatch", "note"]
