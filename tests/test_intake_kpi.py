"""直办率 (answered at intake, docs/READ_SIDE.md): the daily intake facts kept in the case
transaction equal a rebuild, a call answered at intake counts for the operator who filed it
and its category, a normal hotline case only below the line, and the API, the Excel sheet
and the KPI page show the figures by display name, scoped by unit."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from openpyxl import load_workbook
from page_support import PASSWORD, login
from sqlmodel import select

from engine.cases.models import CaseCreate
from engine.db import new_session
from engine.knowledge.answers import DirectAnswer, answer_at_intake
from engine.kpis import Period
from engine.users.models import Principal, Role, User, UserCreate
from engine.users.service import create_user
from engine.views import service
from engine.views.intake_reads import intake_report

DAY = date(2026, 3, 2)  # the virtual clock's day (tests/conftest.py START, Shanghai)
PERIOD = {"period_start": DAY.isoformat(), "period_end": DAY.isoformat()}
EAST, WEST = "01010101", "02010101"  # a grid of district 01, one of district 02


def person(ctx, username: str, display_name: str) -> Principal:
    with new_session(ctx.db) as session, session.begin():
        data = UserCreate(
            username=username, display_name=display_name, role=Role.operator, scope="00",
            password=PASSWORD,
        )  # fmt: skip
        create_user(session, data, ctx.city, ctx.clock.now())
    return Principal(username, Role.operator, "00")


def user_id(ctx, username: str) -> str:
    with new_session(ctx.db) as session:
        found = session.exec(select(User).where(User.username == username)).one()
    return str(found.id)


def calls(ctx) -> None:
    """li files two hotline cases in district 01 (one answered at intake) and a web case;
    wang files one hotline case in district 02."""
    li, wang = person(ctx, "op.li", "李接线"), person(ctx, "op.wang", "王接线")
    call = DirectAnswer(
        "来电咨询垃圾清运时间", answer="每天早上六点清运。", category="06002", grid_code=EAST
    )
    answered = answer_at_intake(ctx.cases, li, call, DAY)
    assert answered.case.state == "closed"

    def file(who: Principal, channel: str, category: str, grid: str) -> None:
        report = CaseCreate(channel=channel, category=category, description="垃圾", grid_code=grid)
        ctx.cases.intake(who, report)

    file(li, "hotline", "06002", EAST)
    file(li, "web", "06002", EAST)  # not a hotline case: counts nowhere
    file(wang, "hotline", "12005", WEST)


def _check(ctx) -> list[str]:
    with ctx.db.connect() as conn:
        return service.check(conn, ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now())


def _report(ctx, unit: str | None = None):
    period = Period.of(DAY, DAY, ctx.city.timezone)
    with ctx.db.connect() as conn:
        return intake_report(conn, ctx.city, period, ctx.clock.now(), unit=unit)


def test_an_answer_at_intake_counts_for_its_operator_and_category(ctx):
    calls(ctx)
    report = _report(ctx)
    assert (report.total.hotline_cases, report.total.answered_at_intake) == (3, 1)
    assert report.total.intake_answer_rate == round(1 / 3, 4)
    li, wang = user_id(ctx, "op.li"), user_id(ctx, "op.wang")
    operators = {
        r.code: (r.name, r.hotline_cases, r.answered_at_intake, r.intake_answer_rate)
        for r in report.operators
    }
    assert operators == {li: ("李接线", 2, 1, 0.5), wang: ("王接线", 1, 0, 0.0)}
    categories = {r.code: (r.hotline_cases, r.answered_at_intake) for r in report.categories}
    assert categories == {"06002": (2, 1), "12005": (1, 0)}
    east = _report(ctx, unit="01")  # the unit subtree: district 01 only
    assert [(r.name, r.hotline_cases) for r in east.operators] == [("李接线", 2)]
    assert _report(ctx, unit="02").total.answered_at_intake == 0


def test_kept_equals_rebuilt_and_a_tampered_fact_is_named(ctx):
    calls(ctx)
    assert _check(ctx) == []
    kept = _report(ctx).model_dump()
    with ctx.db.begin() as conn:
        conn.exec_driver_sql("UPDATE view_intake_day SET answered_at_intake = 5")
    found = _check(ctx)
    assert any(f.startswith("view_intake_day 2026-03-02/01010101/op.li/06002:") for f in found)
    with ctx.db.begin() as conn:
        service.rebuild(conn, ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now())
    assert _check(ctx) == []
    assert _report(ctx).model_dump() == kept


async def test_the_api_and_the_excel_sheet(api):
    calls(api.ctx)
    url = "/api/v1/kpis/intake"
    district = await api.client.get(url, params=PERIOD, headers=api.auth("supervisor", "01"))
    assert district.status_code == 200, district.text
    body = district.json()
    assert body["unit"] == "01" and body["total"]["intake_answer_rate"] == 0.5
    assert [r["name"] for r in body["operators"]] == ["李接线"]
    assert "op.li" not in district.text  # never the username
    other = await api.client.get(
        url, params=PERIOD | {"unit": "02"}, headers=api.auth("supervisor", "01")
    )
    assert other.status_code == 403
    handler = await api.client.get(url, params=PERIOD, headers=api.auth("handler", "HW-01"))
    assert handler.status_code == 403
    definitions = await api.client.get("/api/v1/kpis/definitions", headers=api.auth("admin"))
    assert {"key": "intake_answer_rate", "zh": "直办率"}.items() <= next(
        d for d in definitions.json() if d["key"] == "intake_answer_rate"
    ).items()
    xlsx = await api.client.get("/api/v1/kpis.xlsx", params=PERIOD, headers=api.auth("admin"))
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.content))["直办率"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "合计"
    assert rows[1][:5] == ["代码", "名称", "直办率", "热线受理数", "直接答复数"]
    assert rows[2][1:5] == ["示范市", round(1 / 3, 4), 3, 1]
    named = {r[1]: r[2:5] for r in rows if len(r) > 1 and r[1] in ("李接线", "王接线")}
    assert named == {"李接线": [0.5, 2, 1], "王接线": [0.0, 1, 0]}
    assert any(r[0] == "06002" and list(r[2:5]) == [0.5, 2, 1] for r in rows if r)
    assert "op.li" not in str(rows)


async def test_the_kpi_page_renders_and_scopes_by_unit(api):
    calls(api.ctx)
    await login(api, "supervisor", "01")
    page = await api.client.get("/kpis", params=PERIOD)
    assert page.status_code == 200, page.text
    text = page.text
    assert "直办率" in text and "李接线" in text and "50.0%" in text
    assert "王接线" not in text and "op.li" not in text  # district 02's operator; usernames
    assert 'href="/kpis/export.xlsx?' in text and "<script>" not in text
    outside = await api.client.get("/kpis", params=PERIOD | {"unit": "02"})
    assert outside.status_code == 200 and "王接线" not in outside.text  # back to the scope
    xlsx = await api.client.get("/kpis/export.xlsx", params=PERIOD)
    assert xlsx.status_code == 200
    assert "直办率" in load_workbook(BytesIO(xlsx.content)).sheetnames
    english = await api.client.get("/kpis", params=PERIOD | {"lang": "en"})
    assert "Answered at intake" in english.text
    await login(api, "admin", None)
    city = await api.client.get("/kpis", params=PERIOD)
    assert "王接线" in city.text and "李接线" in city.text
    await login(api, "handler", "HW-01")
    assert (await api.client.get("/kpis")).status_code == 403


def test_a_later_answer_counts_for_the_operator_who_filed_the_call(ctx, clock):
    """A call filed and left for registration (no rule for it), answered at intake later by
    another operator: it counts for its filer, on its filing day."""
    li, wang = person(ctx, "op.li", "李接线"), person(ctx, "op.wang", "王接线")
    report = CaseCreate(channel="hotline", category="12005", description="咨询", grid_code=EAST)
    case = ctx.cases.intake(li, report).case
    assert case.state == "registered"
    clock.advance(hours=1)
    ctx.cases.act(wang, case.id, "answer_at_intake", {"answer": "请携带身份证办理。"})
    report = _report(ctx)
    assert [(r.name, r.hotline_cases, r.answered_at_intake) for r in report.operators] == [
        ("李接线", 1, 1)
    ]
    assert _check(ctx) == []


def test_the_migration_fills_the_daily_rollup_and_a_rebuild_the_intake_facts(ctx):
    """Upgrading a database that holds cases to 2b8e6f0a1c0a: ``view_kpi_day_unit`` is filled
    from the daily facts at once; ``view_intake_day`` waits for ``views rebuild``."""
    from engine.schema import downgrade_schema, upgrade_schema

    calls(ctx)
    downgrade_schema(ctx.db, "2b8e6f0a1c09")
    upgrade_schema(ctx.db)
    found = _check(ctx)
    assert found and all(f.startswith("view_intake_day ") for f in found), found
    with ctx.db.begin() as conn:
        service.rebuild(conn, ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now())
    assert _check(ctx) == []
    assert _report(ctx).total.answered_at_intake == 1
