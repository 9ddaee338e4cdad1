"""What `bench_reads.py` asks for: the read API's views (issue 20 §5) and every page people
open at their desks, as their role (issue 21: each page's first byte ≤ 300 ms p99 at 1M).
The pages are the GET routes of web/pages/*.py a person opens; not the photo download, the
Excel exports, the service worker or the big screen's event stream (not a test)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from reads_people import DEPARTMENT, DISTRICT, signed_in
from reads_timing import page_100, timed
from sqlalchemy import text

from engine.db import make_engine, new_session


@dataclass(frozen=True)
class Picked:
    """Values to look up in the store: a caller's phone and ticket, cases to open."""

    phone: str
    ticket: str
    newest: int  # the newest case with a caller: open, as the newest cases are
    closed: int  # the newest closed case
    in_department: int  # the newest open case of the handler's department
    cases: int


def picked(url: str) -> Picked:
    def one(sql: str) -> Any:
        found = session.execute(text(sql)).first()
        assert found is not None, sql
        return found

    db = make_engine(url)
    with new_session(db) as session:
        newest, ticket, phone = one(
            'SELECT id, external_id, reporter_phone FROM "case" '
            "WHERE reporter_phone IS NOT NULL ORDER BY id DESC LIMIT 1"
        )
        closed = one('SELECT max(id) FROM "case" WHERE closed_at IS NOT NULL')[0]
        in_department = one(
            'SELECT max(id) FROM "case" WHERE closed_at IS NULL '
            f"AND lead_department = '{DEPARTMENT}'"
        )[0]
        cases = one('SELECT count(*) FROM "case"')[0]
    db.dispose()
    closed = closed or newest  # a store of open cases only
    return Picked(phone, ticket, newest, closed, in_department or newest, cases)


def parameters(spec: dict[str, Any], path: str) -> set[str]:
    operation = spec.get("paths", {}).get(path, {}).get("get")
    if operation is None:
        return set()
    return {p["name"] for p in operation.get("parameters", [])} | {"<route>"}


def api_views(
    client: httpx.Client, auth: dict, found: Picked, samples: int, pid: int, today: date
) -> dict[str, Any]:
    """The read API's views of issue 20 §5, each with the token of the role that asks."""
    month_end = today.replace(day=1) - timedelta(days=1)
    month_start = month_end.replace(day=1)
    year_start = today - timedelta(days=365)
    spec = client.get("/openapi.json").json()
    cases = parameters(spec, "/api/v1/cases")
    queue = parameters(spec, "/api/v1/dispatch/queue")
    inbox = parameters(spec, "/api/v1/inbox")
    board = parameters(spec, "/api/v1/board")
    kpis = parameters(spec, "/api/v1/kpis")
    knowledge = parameters(spec, "/api/v1/knowledge/search")
    checks: list[tuple[str, str, str, set[str], str]] = [
        # name, path, token, the parameters the route must offer, which
        ("board_api_city", "/api/v1/board", "supervisor_city", board, "<route>"),
        ("board_api_district", f"/api/v1/board?unit={DISTRICT}", "supervisor_city", board,
         "unit"),
        ("kpis_month_all_units", f"/api/v1/kpis?period_start={month_start}"
         f"&period_end={month_end}", "admin", kpis, "period_start"),
        ("kpis_year_district", f"/api/v1/kpis?period_start={year_start}&period_end={today}"
         f"&unit={DISTRICT}", "admin", kpis, "unit"),
        ("lookup_phone", f"/api/v1/cases?phone={found.phone}", "operator", cases, "phone"),
        ("lookup_ticket", f"/api/v1/cases?ticket={found.ticket}", "operator", cases, "ticket"),
        ("lookup_case_number", f"/api/v1/cases?q={found.newest}", "operator", cases, "q"),
        ("search_text", "/api/v1/cases?q=垃圾桶", "operator", cases, "q"),
        ("search_no_match", "/api/v1/cases?q=不存在的说法", "operator", cases, "q"),
        ("queue_first_page", "/api/v1/dispatch/queue", "dispatcher", queue, "<route>"),
        ("inbox_first_page", "/api/v1/inbox", "handler", inbox, "<route>"),
        ("list_filtered_first_page", f"/api/v1/cases?category=06&unit={DISTRICT}", "operator",
         cases, "category"),
        ("case_api", f"/api/v1/cases/{found.newest}", "operator",
         parameters(spec, "/api/v1/cases/{case_id}"), "<route>"),
        ("knowledge_search", "/api/v1/knowledge/search?q=社保卡丢了怎么补办", "operator",
         knowledge, "q"),
        ("knowledge_search_category", "/api/v1/knowledge/search?q=晚上楼下噪音太大"
         "&category=12001", "operator", knowledge, "category"),
    ]  # fmt: skip
    out: dict[str, Any] = {}
    for name, path, who, offered, needs in checks:
        if needs not in offered:
            out[name] = {"not_available": f"{path.split('?')[0]} has no '{needs}'"}
            continue
        out[name] = timed(client, path, auth[who], samples, pid)
    for name, path, who, offered in (
        ("list_filtered_page_100", f"/api/v1/cases?category=06&unit={DISTRICT}", "operator",
         cases),
        ("queue_page_100", "/api/v1/dispatch/queue", "dispatcher", queue),
        ("inbox_page_100", "/api/v1/inbox", "handler", inbox),
    ):  # fmt: skip
        if "cursor" not in offered and "offset" not in offered:
            out[name] = {"not_available": f"{path.split('?')[0]} pages by neither"}
            continue
        where = page_100(client, path, auth[who], offered)
        out[name] = timed(client, where, auth[who], samples, pid)
    return out


def pages(found: Picked, today: date) -> dict[str, list[tuple[str, str]]]:
    """Every page each desk opens: (name, path) per desk, as web/pages/*.py routes them."""
    month_end = today.replace(day=1) - timedelta(days=1)
    return {
        "operator": [
            ("home", "/"),
            ("intake", "/intake"),
            ("search_words", "/cases?q=垃圾桶"),
            ("search_phone", f"/cases?q={found.phone}"),
            ("case_list", "/cases"),
            ("case_open", f"/cases/{found.newest}"),
            ("case_closed", f"/cases/{found.closed}"),
            ("knowledge", "/knowledge"),
        ],
        "dispatcher": [
            ("queue", "/dispatch"),
            ("queue_filtered", f"/dispatch?unit={DISTRICT}&category=06&channel=hotline"),
            ("approvals", "/approvals"),
        ],
        "handler": [
            ("inbox", "/inbox"),
            ("inbox_filtered", "/inbox?category=06"),
            ("case_in_department", f"/cases/{found.in_department}"),
        ],
        "grid_worker": [("grid", "/grid")],
        "supervisor": [
            ("board", "/board"),
            ("board_data", "/board/data.json"),
            ("board_kpis", "/board/kpis.json"),
            ("board_grids", "/board/grids.json"),
            ("kpis", "/kpis"),
            ("kpis_month", f"/kpis?period_start={month_end.replace(day=1)}&period_end={month_end}"),
            (
                "kpis_year_district",
                f"/kpis?period_start={today - timedelta(days=365)}"
                f"&period_end={today}&unit={DISTRICT}",
            ),
        ],
        "admin": [
            ("admin", "/admin"),
            ("rules", "/admin/rules"),  # the backtest form, not run
            ("users", "/admin/users"),
            ("departments", "/admin/departments"),
            ("calendar", "/admin/calendar"),
            ("outbox", "/admin/outbox"),
            ("incidents", "/admin/incidents"),
            ("knowledge_review", "/knowledge/review"),
        ],
    }


def page_views(base_url: str, found: Picked, samples: int, pid: int, today: date) -> dict:
    """Each desk's pages, timed through its own signed-in session: ``desk.page``."""
    out: dict[str, Any] = {}
    for desk, listed in pages(found, today).items():
        client = signed_in(base_url, desk)
        try:
            for name, path in listed:
                out[f"{desk}.{name}"] = timed(client, path, {}, samples, pid) | {"path": path}
        finally:
            client.close()
    return out
