"""Every list and look-up query over the case table uses an index: the statements the API
really runs (captured as they go to the database) are explained (EXPLAIN QUERY PLAN on
SQLite, EXPLAIN on PostgreSQL with sequential scans priced out, as a big table would) and
none reads the whole case table (docs/SEARCH.md)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.dispatch_support import DEMO_RULES, activate

CASES = "/api/v1/cases"


@contextmanager
def captured(db):
    """The SELECTs over the case table run meanwhile, with their parameters."""
    found: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and re.search(
            r'(FROM|JOIN) "case"', statement
        ):
            found.append((statement, parameters))

    event.listen(db, "before_cursor_execute", keep)
    try:
        yield found
    finally:
        event.remove(db, "before_cursor_execute", keep)


def plan(db, statement: str, parameters: object) -> list[str]:
    with db.connect() as connection:
        if db.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [row[-1] for row in rows]
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return [row[0] for row in rows]


def full_scans(lines: list[str]) -> list[str]:
    """Plan lines that read the whole case table."""
    sqlite = [line for line in lines if re.fullmatch(r"SCAN case", line.strip())]
    postgres = [line for line in lines if re.search(r'Seq Scan on "?case"? ', line + " ")]
    return sqlite + postgres


# (role, scope, path, params, walk): ``walk`` marks the one list that may read the case
# table itself, in id order, stopping at the page's limit: everything, newest first.
REQUESTS = [
    ("supervisor", "00", CASES, {}, True),
    ("dispatcher", "0101", CASES, {}, False),
    ("dispatcher", "01", CASES, {"category": "06", "unit": "0101"}, False),
    ("handler", "HW-01", CASES, {}, False),
    ("dispatcher", "01", CASES, {"pending_request": "void"}, False),
    ("handler", "HW-01", CASES, {"pending_request": "extension"}, False),
    ("operator", "00", CASES, {"phone": "+86 138-1234-5678"}, False),
    ("operator", "00", CASES, {"ticket": "T-1"}, False),
    ("dispatcher", "01", CASES, {"q": "垃圾堆积"}, False),
    ("dispatcher", "01", CASES, {"q": "垃圾"}, False),
    ("operator", "00", CASES, {"q": "13812345678"}, False),
    ("operator", "00", CASES, {"q": "T-1"}, False),
    ("dispatcher", "01", "/api/v1/dispatch/queue", {}, False),
    ("dispatcher", "01", "/api/v1/dispatch/queue", {"category": "12"}, False),
    ("dispatcher", "01", "/api/v1/dispatch/queue", {"category": "12001"}, False),
    ("dispatcher", "01", "/api/v1/dispatch/queue", {"suggested": "ZJ-00"}, False),
    ("dispatcher", "01", "/api/v1/dispatch/queue", {"channel": "hotline"}, False),
    ("dispatcher", "01", "/api/v1/dispatch/queue", {"waited_hours": "1"}, False),
    ("dispatcher", "01", "/api/v1/dispatch/queue", {"sort": "newest"}, False),
    ("handler", "HW-01", "/api/v1/inbox", {"section": "to_accept"}, False),
    ("handler", "HW-01", "/api/v1/inbox", {"section": "in_progress"}, False),
    ("handler", "HW-01", "/api/v1/inbox", {"section": "co_tasks"}, False),
    ("operator", "00", "/open311/v2/requests.json", {"page_size": "1"}, False),
    ("operator", "00", "/open311/v2/requests.json", {"page_size": "1", "after": "9999"}, False),
]


@pytest.mark.parametrize("role, scope, path, params, walk", REQUESTS)
async def test_lists_and_lookups_use_indexes(api, ctx, role, scope, path, params, walk):
    activate(ctx)
    for i in range(2):
        case = await api.file(reporter_phone="13812345678", external_id=f"T-{i + 1}")
        await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    await api.act(case["id"], "accept", "handler", "HW-01")
    for i in range(2):
        await api.file(category="12001", description=f"楼上广场舞噪声扰民{i}")  # queued
        await api.file(grid_code="01010101", description=f"垃圾堆积{i}", channel="web")
    co = await api.file(description="协办的案件")
    await api.act(co["id"], "dispatch", "dispatcher", department="CG-01", co_handlers=["HW-01"])
    await _open311_requests(api)
    headers = api.auth(role, scope)
    pages = [params | ({"limit": 1} if "page_size" not in params else {})]
    checked = 0
    while pages:
        asked = pages.pop()
        with captured(ctx.db) as statements:
            response = await api.client.get(path, params=asked, headers=headers)
            assert response.status_code == 200, response.text
        for statement, parameters in statements:
            lines = plan(ctx.db, statement, parameters)
            scans = full_scans(lines)
            if walk and "ORDER BY" in statement and "TEMP B-TREE" not in str(lines):
                scans = []  # newest first over everything: the id order itself, LIMITed
            assert not scans, f"{path} {asked} reads all of case:\n{statement}\n{lines}"
            checked += 1
        body = response.json()
        if isinstance(body, dict) and body.get("next_cursor") and "cursor" not in asked:
            pages.append(asked | {"cursor": body["next_cursor"]})  # the keyset page too
    assert checked, f"{path} {params}: no query over the case table captured"


async def _open311_requests(api) -> None:
    key = api.auth("operator")["Authorization"].removeprefix("Bearer ")
    for i in range(2):
        body = {"api_key": key, "jurisdiction_id": "demo-city", "service_code": "06002"}
        body |= {"lat": "30.30333", "long": "120.1096", "description": f"第{i}处垃圾"}
        response = await api.client.post("/open311/v2/requests.json", data=body)
        assert response.status_code == 201, response.text


async def test_a_handlers_list_walks_the_departments_tasks_newest_first(api, ctx):
    """A handler's page reads its own rows from the (department, case_id) index, never the
    department's whole history first (no sort of all its cases, no IN list built of them)."""
    activate(ctx)
    for _ in range(3):
        case = await api.file()
        await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
    headers = api.auth("handler", "HW-01")
    with captured(ctx.db) as statements:
        first = await api.client.get(CASES, params={"limit": 2}, headers=headers)
    assert first.status_code == 200 and len(first.json()["items"]) == 2
    later = await api.client.get(
        CASES, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=headers
    )
    ids = [c["id"] for c in first.json()["items"] + later.json()["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3  # newest first, no repeats
    page = [s for s in statements if "ORDER BY" in s[0]]
    assert page, "the page query was not captured"
    for statement, parameters in page:
        lines = " ".join(plan(ctx.db, statement, parameters))
        assert "ix_case_task_department_case" in lines, lines
        assert "TEMP B-TREE" not in lines and "Sort" not in lines, lines  # no sort of them all


@pytest.mark.parametrize(
    "params",
    [{"category": "12"}, {"suggested": "ZJ-00"}, {"channel": "hotline", "waited_hours": "1"}],
)
async def test_a_filtered_queue_page_walks_the_queue_index_in_order(api, ctx, params):
    """Each filter is checked on the rows of the ordered ix_case_queue walks (state, queue,
    urgency, updated_at), which stop at the page's limit: no sort of the queue, no other
    index chosen for the filter, and the suggestion looked up by the decision's case_id."""
    activate(ctx)
    for i in range(3):
        await api.file(category="12001", description=f"楼上广场舞噪声扰民{i}")
        await api.file(category="11009", description=f"外墙瓷砖松动有掉落危险{i}")
    ctx.clock.advance(hours=2)
    with captured(ctx.db) as statements:
        response = await api.client.get(
            "/api/v1/dispatch/queue", params=params | {"limit": 2},
            headers=api.auth("dispatcher", "01"),
        )  # fmt: skip
    assert response.status_code == 200 and len(response.json()["items"]) == 2, response.text
    walks = [s for s in statements if "UNION ALL" in s[0]]
    assert walks, "the page's index walks were not captured"
    for statement, parameters in walks:
        lines = plan(ctx.db, statement, parameters)
        text = " ".join(lines)
        assert not full_scans(lines), text
        assert "ix_case_queue" in text, text
        if ctx.db.dialect.name == "sqlite":  # PostgreSQL sorts the one row it expects of a
            assert "TEMP B-TREE" not in text, text  # tiny table: no evidence either way
        if "suggested" in params:
            assert "dispatch_decision" in text and "ix_dispatch_decision_case_id" in text, text


@pytest.mark.parametrize("scope", ["00", "0101"])
async def test_the_approvals_and_their_counts_read_open_cases_by_index(api, ctx, scope):
    """The navigation's counts and the approvals queue read the open cases of the scope
    (ix_case_state_unit, ix_case_queue) and each one's own events (by case_id): neither the
    case table nor the audit trail is read whole, on every page of a dispatcher."""
    from page_support import login

    activate(ctx)
    for i in range(2):
        case = await api.file(description=f"路灯不亮{i}")
        await api.act(case["id"], "dispatch", "dispatcher", department="HW-01")
        await api.act(case["id"], "accept", "handler", "HW-01")
        await api.act(case["id"], "request_suspension", "handler", "HW-01", reason="等待答复")
    await login(api, "dispatcher", scope)
    with captured(ctx.db) as statements:
        response = await api.client.get("/approvals")
    assert response.status_code == 200 and 'data-count="approvals"' in response.text
    counts = [s for s in statements if "count(" in s[0].lower()]
    assert len(counts) >= 3, "the navigation's counts were not captured"
    for statement, parameters in statements:
        lines = plan(ctx.db, statement, parameters)
        whole = r"SCAN case(_event)?(_\d+)?"  # the case table or the audit trail, aliased too
        scans = [line for line in lines if re.fullmatch(whole, line.strip())]
        scans += [line for line in lines if re.search(r"Seq Scan on \"?case", line)]
        assert not scans, f"{statement}\n{lines}"


async def test_the_rule_backtest_page_reads_a_bounded_window_by_index(api, ctx):
    """The admin's backtest reads the newest cases of its window from the created_at index
    (no other condition, so the planner cannot pick the state index and sort every closed
    case) and then the closed ones by primary key."""
    from page_support import login, post

    activate(ctx)
    for _ in range(2):
        await api.file()
    csrf = await login(api, "admin")
    with captured(ctx.db) as statements:
        response = await post(api, "/admin/rules/backtest", csrf, text=DEMO_RULES)
    assert response.status_code == 200, response.text
    window = [s for s in statements if "created_at >=" in s[0] and "LIMIT" in s[0]]
    assert window, "the window's read was not captured"
    for statement, parameters in statements:
        lines = plan(ctx.db, statement, parameters)
        assert not full_scans(lines), f"{statement}\n{lines}"
    lines = " ".join(plan(ctx.db, *window[0]))
    assert "created_at" in lines and "ix_case_queue" not in lines and "TEMP B-TREE" not in lines
