"""KPIs on a hand-computed case set: each definition, the scopes, the period and the export.

The week of Monday 2026-03-02 (06002 暴露垃圾: accept 1wh, handle 1wd; work 08:30–12:00 and
14:00–18:00). Four cases, all in grid 01010101 (district 01):

A  web      HW-01 accepts 09:30 (in time), resolves 11:00; 核查 passes.
B  hotline  HW-01 accepts 11:00 (late: due 10:00), resolves 14:30; 回访 satisfied/solved;
            核查 passes.
C  hotline  HW-01 returns it 09:15 (before its accept deadline), redispatched to CG-0101,
            which accepts 09:20 and resolves Wednesday 10:00 (late: due Tuesday 18:00);
            回访 unsatisfied/unsolved → rework; resolves 11:00; 回访 basic/partly; 核查 passes.
D  web      HW-01 accepts 11:00 (late), resolves 15:00; 核查 fails → rework; resolves 16:00;
            核查 passes.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sla_support import auth, sh

from engine.cases.models import CaseCreate
from engine.city.models import CityConfig
from engine.db import new_session
from engine.users.models import Principal, Role

GRID = "01010101"
PHOTO = {"photos": ["p/after.jpg"]}
WEEK = {"period_start": "2026-03-02", "period_end": "2026-03-08"}
OPERATOR = Principal("op", Role.operator, "00")
DISPATCHER = Principal("disp", Role.dispatcher, "00")
WORKER = Principal("gw", Role.grid_worker, GRID)


def handler(department: str) -> Principal:
    return Principal(f"h-{department}", Role.handler, department)


def build_week(ctx, clock) -> dict[str, int]:
    act = ctx.cases.act

    def new(channel: str) -> int:
        report = CaseCreate(channel=channel, category="06002", description="垃圾", grid_code=GRID)
        case_id = ctx.cases.intake(OPERATOR, report).case.id
        act(DISPATCHER, case_id, "dispatch", {"department": "HW-01"})
        return case_id

    hw, cg = handler("HW-01"), handler("CG-0101")
    ids = {
        name: new(channel)
        for name, channel in zip("ABCD", ["web", "hotline", "hotline", "web"], strict=True)
    }
    a, b, c, d = ids.values()
    clock.set(sh(2026, 3, 2, 9, 15))
    act(hw, c, "return", {"reason": "非本单位职责"})
    act(DISPATCHER, c, "redispatch", {"department": "CG-0101"})
    clock.set(sh(2026, 3, 2, 9, 20))
    act(cg, c, "accept", {})
    clock.set(sh(2026, 3, 2, 9, 30))
    act(hw, a, "accept", {})
    clock.set(sh(2026, 3, 2, 11))
    act(hw, a, "resolve", {"result": "已清运"})
    act(WORKER, a, "verify", {"passed": True, **PHOTO})
    act(hw, b, "accept", {})
    act(hw, d, "accept", {})
    clock.set(sh(2026, 3, 2, 14, 30))
    act(hw, b, "resolve", {"result": "已清运"})
    act(OPERATOR, b, "callback", {"satisfaction": "satisfied", "resolved_state": "solved"})
    act(WORKER, b, "verify", {"passed": True, **PHOTO})
    clock.set(sh(2026, 3, 2, 15))
    act(hw, d, "resolve", {"result": "已清运"})
    act(WORKER, d, "verify", {"passed": False, "note": "仍有垃圾"})
    clock.set(sh(2026, 3, 2, 16))
    act(hw, d, "resolve", {"result": "已全部清运"})
    act(WORKER, d, "verify", {"passed": True, **PHOTO})
    clock.set(sh(2026, 3, 4, 10))
    act(cg, c, "resolve", {"result": "已清运"})
    act(OPERATOR, c, "callback", {"satisfaction": "unsatisfied", "resolved_state": "unsolved"})
    clock.set(sh(2026, 3, 4, 11))
    act(cg, c, "resolve", {"result": "已清运并消杀"})
    act(OPERATOR, c, "callback", {"satisfaction": "basic", "resolved_state": "partly"})
    act(WORKER, c, "verify", {"passed": True, **PHOTO})
    clock.set(sh(2026, 3, 9, 9))
    return ids


@pytest.fixture
async def week(api, ctx, clock) -> dict[str, int]:
    return build_week(ctx, clock)


async def kpis(api, role: str = "admin", scope: str | None = "00", **params) -> dict:
    response = await api.client.get(
        "/api/v1/kpis", params=WEEK | params, headers=auth(api.ctx, role, scope)
    )
    assert response.status_code == 200, response.text
    return response.json()


def row(report: dict, code: str) -> dict:
    return next(r for r in report["departments"] if r["code"] == code)


async def test_all_cases_closed(api, ctx, week):
    for case_id in week.values():
        case = await api.client.get(f"/api/v1/cases/{case_id}", headers=auth(ctx, "admin"))
        assert case.json()["state"] == "closed"


async def test_on_time_acceptance(api, week):
    report = await kpis(api)
    hw, cg, total = row(report, "HW-01"), row(report, "CG-0101"), report["total"]
    # HW-01: A in time, B and D late; C was returned before its deadline (not counted).
    assert (hw["accept_due"], hw["accepted_on_time"], hw["on_time_accept_rate"]) == (3, 1, 0.3333)
    assert (cg["accept_due"], cg["on_time_accept_rate"]) == (1, 1.0)
    assert (total["accept_due"], total["on_time_accept_rate"]) == (4, 0.5)


async def test_resolved_within_the_limit(api, week):
    report = await kpis(api)
    hw, cg = row(report, "HW-01"), row(report, "CG-0101")
    assert (hw["handle_due"], hw["resolved_on_time"], hw["on_time_resolve_rate"]) == (4, 4, 1.0)
    # C's first run went overdue Tuesday 18:00; its rework run was resolved in time.
    assert (cg["handle_due"], cg["resolved_on_time"], cg["on_time_resolve_rate"]) == (2, 1, 0.5)
    assert report["total"]["on_time_resolve_rate"] == 0.8333


async def test_resolution_rate(api, week):
    report = await kpis(api)
    hw, cg = row(report, "HW-01"), row(report, "CG-0101")
    # HW-01: 3 of 4 checks passed + B's callback answered solved: 4 / 5.
    assert (hw["verifies"], hw["verifies_passed"], hw["answered"], hw["solved"]) == (4, 3, 1, 1)
    assert hw["resolution_rate"] == 0.8
    # CG-0101: 1 passing check, callbacks answered unsolved and partly: 1 / 3.
    assert (cg["verifies_passed"], cg["answered"], cg["solved"]) == (1, 2, 0)
    assert cg["resolution_rate"] == 0.3333
    assert report["total"]["resolution_rate"] == 0.625


async def test_satisfaction_rate(api, week):
    report = await kpis(api)
    hw, cg = row(report, "HW-01"), row(report, "CG-0101")
    assert (hw["callbacks"], hw["satisfied"], hw["satisfaction_rate"]) == (1, 1, 1.0)
    assert (cg["callbacks"], cg["basic"], cg["unsatisfied"], cg["satisfaction_rate"]) == (
        2,
        1,
        1,
        0.5,
    )
    assert report["total"]["satisfaction_rate"] == 0.6667


async def test_unsatisfied_not_the_departments_fault_is_left_out(api, ctx, clock):
    report = CaseCreate(channel="hotline", category="06002", description="垃圾", grid_code=GRID)
    case_id = ctx.cases.intake(OPERATOR, report).case.id
    ctx.cases.act(DISPATCHER, case_id, "dispatch", {"department": "HW-01"})
    ctx.cases.act(handler("HW-01"), case_id, "accept", {})
    ctx.cases.act(handler("HW-01"), case_id, "resolve", {"result": "已清运"})
    ctx.cases.act(OPERATOR, case_id, "callback", {"satisfaction": "unsatisfied", "fault": "other"})
    hw = row(await kpis(api), "HW-01")
    assert (hw["callbacks"], hw["unsatisfied"], hw["unsatisfied_other"]) == (1, 1, 1)
    assert hw["satisfaction_rate"] is None  # 0 ÷ (1 − 1): nothing to judge the department by
    assert hw["reworks"] == 0


async def test_rework_rate(api, week):
    report = await kpis(api)
    hw, cg = row(report, "HW-01"), row(report, "CG-0101")
    assert (hw["resolves"], hw["reworks"], hw["rework_rate"]) == (4, 1, 0.25)  # D's failed 核查
    assert (cg["resolves"], cg["reworks"], cg["rework_rate"]) == (2, 1, 0.5)  # C's 回访
    assert report["total"]["rework_rate"] == 0.3333


async def test_return_and_redispatch_rates(api, week):
    report = await kpis(api)
    hw, cg = row(report, "HW-01"), row(report, "CG-0101")
    assert (hw["assigned"], hw["returns"], hw["redispatched"]) == (4, 1, 1)
    assert (hw["return_rate"], hw["redispatch_rate"]) == (0.25, 0.25)
    assert (cg["assigned"], cg["return_rate"], cg["redispatch_rate"]) == (1, 0.0, 0.0)
    assert (report["total"]["return_rate"], report["total"]["redispatch_rate"]) == (0.2, 0.2)


async def test_overdue_cases(api, week):
    report = await kpis(api)
    assert row(report, "HW-01")["overdue_cases"] == 2  # B and D, late to accept
    assert row(report, "CG-0101")["overdue_cases"] == 1  # C, late to resolve
    assert report["total"]["overdue_cases"] == 3


async def test_average_handling_hours(api, week):
    report = await kpis(api)
    # HW-01: A 1.5 + B 1.5 (11–12, 14–14:30) + D 2.0 (11–12, 14–15) + D again 1.0.
    assert row(report, "HW-01")["avg_handle_hours"] == 1.5
    # CG-0101: Monday 09:20–18:00 less lunch (6h40) + Tuesday 7.5 + Wednesday 1.5, then 1.0.
    assert row(report, "CG-0101")["avg_handle_hours"] == round((15 + 2 / 3 + 1) / 2, 2)


async def test_composite_score_and_its_weights(api, ctx, week):
    report = await kpis(api)
    assert report["weights"] == {"response": 30.0, "resolution": 35.0, "satisfaction": 35.0}
    assert row(report, "HW-01")["score"] == 73.0  # 30×0.3333 + 35×0.8 + 35×1.0
    assert row(report, "CG-0101")["score"] == 59.17  # 30×1.0 + 35×0.3333 + 35×0.5
    assert report["total"]["score"] == 60.21  # 30×0.5 + 35×0.625 + 35×0.6667
    with new_session(ctx.db) as session, session.begin():
        config = session.get(CityConfig, 1)
        config.settings = {**config.settings, "kpi": {"weights": {"response": 100}}}
        session.add(config)
    ctx.reload_city()
    reweighted = await kpis(api)
    assert row(reweighted, "HW-01")["score"] == round(100 * (100 * 0.3333 + 35 * 0.8 + 35) / 170, 2)


async def test_units_and_scopes(api, ctx, week):
    report = await kpis(api)
    units = {r["code"]: r for r in report["units"]}
    assert report["unit"] == "00" and next(iter(units)) == "00"
    assert units["01"]["resolves"] == report["total"]["resolves"] == 6
    assert units["02"]["resolves"] == 0 and units["02"]["score"] is None
    street = await kpis(api, "supervisor", "0101")
    assert street["unit"] == "0101" and street["total"]["resolves"] == 6
    forbidden = await api.client.get(
        "/api/v1/kpis", params={"unit": "02"}, headers=auth(ctx, "supervisor", "0101")
    )
    assert forbidden.status_code == 403
    own = await kpis(api, "handler", "CG-0101")
    assert [r["code"] for r in own["departments"]] == ["CG-0101"]
    assert own["total"]["resolves"] == 2
    grid = await api.client.get("/api/v1/kpis", headers=auth(ctx, "grid_worker", GRID))
    assert grid.status_code == 403


async def test_one_department_filter(api, week):
    report = await kpis(api, department="HW-01")
    assert [r["code"] for r in report["departments"]] == ["HW-01"]
    assert report["total"]["assigned"] == 4


async def test_period_counts_what_was_decided_in_it(api, week):
    monday = await kpis(api, period_start="2026-03-02", period_end="2026-03-02")
    cg = row(monday, "CG-0101")
    assert (cg["accept_due"], cg["handle_due"], cg["resolves"]) == (1, 0, 0)
    tuesday = await kpis(api, period_start="2026-03-03", period_end="2026-03-03")
    # C's first handle run went overdue Tuesday 18:00 while still open.
    assert row(tuesday, "CG-0101")["handle_due"] == 1
    assert row(tuesday, "CG-0101")["on_time_resolve_rate"] == 0.0
    bad = await api.client.get(
        "/api/v1/kpis",
        params={"period_start": "2026-03-08", "period_end": "2026-03-01"},
        headers=auth(api.ctx, "admin"),
    )
    assert bad.status_code == 422
    far = await api.client.get(
        "/api/v1/kpis",
        params={"period_start": "9999-12-31", "period_end": "9999-12-31"},
        headers=auth(api.ctx, "admin"),
    )
    assert far.status_code == 422


async def test_excel_export(api, ctx, week):
    response = await api.client.get("/api/v1/kpis.xlsx", params=WEEK, headers=auth(ctx, "admin"))
    assert response.status_code == 200
    assert "kpis-00-2026-03-02-2026-03-08.xlsx" in response.headers["content-disposition"]
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["部门考核", "区域考核", "直办率", "说明"]
    sheet = book["部门考核"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["代码", "名称", "综合得分", "及时签收率"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(2, values_only=True)}
    assert rows["HW-01"]["综合得分"] == 73.0 and rows["HW-01"]["退单率"] == 0.25
    assert sheet.cell(2, 4).number_format == "0.0%"
    assert any(r[0] == "满意率" for r in book["说明"].iter_rows(values_only=True))


async def test_definitions_are_served(api, ctx):
    response = await api.client.get("/api/v1/kpis/definitions", headers=auth(ctx, "operator"))
    keys = [d["key"] for d in response.json()]
    assert {"on_time_accept_rate", "satisfaction_rate", "score"} <= set(keys)


async def test_the_kpi_page_charts_the_ranking_it_tabulates(api, week):
    """/kpis draws the composite score of each area and department as a ranking chart (the
    highest first), the same figures as its tables and the API."""
    import re

    from page_support import login

    report = await kpis(api)
    await login(api, "admin", None)
    html = (await api.client.get("/kpis", params=WEEK)).text
    chart = html.split('id="kp-deps-chart"')[1].split("</svg>")[0]
    bars = re.findall(r'data-name="([^"]+)" data-value="([\d.]+)"', chart)
    assert bars and [float(v) for _, v in bars] == sorted((float(v) for _, v in bars), reverse=True)
    scores = [d["score"] for d in report["departments"] if d["score"] is not None]
    assert sorted(float(v) for _, v in bars) == sorted(round(s, 1) for s in scores)
    assert all(not re.fullmatch(r"[A-Z]+-\d+", name) for name, _ in bars)  # names, not codes
    assert 'id="kp-units-chart"' in html and "考核排名" in html
    areas = html.split('id="kp-units-chart"')[1].split("</svg>")[0]
    ranked = {name for name, _ in re.findall(r'data-name="([^"]+)" data-value="([\d.]+)"', areas)}
    city = report["units"][0]["name"]
    below = {u["name"] for u in report["units"][1:] if u["score"] is not None}
    assert city not in ranked and ranked == below  # the parts, not the whole beside them
