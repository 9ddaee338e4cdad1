"""Benchmark: case look-ups, full-text search and keyset lists on a big SQLite database (not
a pytest test). See docs/SEARCH.md.

Fills a database at the newest migration with N synthetic cases of the demo city (SQL only,
through the FTS triggers, so the fill rate is the bulk write cost of the indexes), then times
at the engine level (no HTTP) each list and look-up the API runs: lists by scope and filter,
phone, ticket, case number, common / rare / absent / two-character text, the dispatch queue,
the inbox, and pages 1..100 by cursor. Optionally runs ``ANALYZE`` first (``--analyze``) to
show the plans SQLite picks with statistics. Prints one JSON object.

Run: ``python tests/bench/bench_search.py --cases 1000000 --db /tmp/search.db`` (an existing
file is reused as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from engine.cases import queries  # noqa: E402
from engine.cases.queries import CaseFilter  # noqa: E402
from engine.city.directory import CityDirectory  # noqa: E402
from engine.city.loader import read_city, store_city  # noqa: E402
from engine.db import make_engine, new_session  # noqa: E402
from engine.dispatch.inbox import Section, section_page  # noqa: E402
from engine.dispatch.queue import QUEUE_ORDER, manual_queue  # noqa: E402
from engine.schema import upgrade_schema  # noqa: E402
from engine.search import views as search  # noqa: E402
from engine.users.models import Principal, Role  # noqa: E402
from engine.views.models import ViewStageLight  # noqa: E402

CITY = ROOT / "examples" / "demo_city"
PROBLEMS = [
    "小区门口垃圾堆积无人清理", "路灯不亮晚上很黑", "楼上广场舞噪声扰民", "井盖缺失很危险",
    "外墙瓷砖松动有掉落危险", "占道经营影响通行", "下水道堵塞污水外溢", "违章搭建影响采光",
    "绿化带被毁坏", "共享单车乱停放",
]  # fmt: skip
STREETS = ["湖滨路", "东坡路", "解放路", "建国路", "文三路", "学院路", "凤起路", "延安路"]
STATES = ["closed"] * 85 + ["in_progress"] * 5 + ["assigned"] * 4 + ["dispatching"] * 3
STATES += ["resolved"] * 3
DEPARTMENTS = ["HW-01", "CG-01", "CG-0101", "ZJ-00", "SW-01"]
INSERT = """INSERT INTO "case" (channel, external_id, category, description, grid_code, address,
    reporter_phone, urgency, state, owning_unit, lead_department, dispatch_queue, resolution,
    rework_count, alert_count, sla_limits, version, audit_head, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '{}', 1, '', ?, ?)"""


def fill(path: Path, n: int) -> dict[str, Any]:
    db = make_engine(f"sqlite:///{path}")
    upgrade_schema(db)
    with new_session(db) as session, session.begin():
        store_city(session, read_city(CITY))
    db.dispose()
    grids = [
        f["properties"]["code"]
        for f in json.loads((CITY / "grids.geojson").read_text())["features"]
    ]
    rng = random.Random(20261207)
    con = sqlite3.connect(path)
    started = time.perf_counter()
    for first in range(0, n, 20_000):
        rows = []
        for i in range(first, min(n, first + 20_000)):
            grid, state = rng.choice(grids), rng.choice(STATES)
            day = f"2026-{1 + i * 11 // n:02d}-{1 + i % 28:02d}"
            rows.append((
                rng.choice(["hotline"] * 6 + ["grid"] * 3 + ["open311"]), f"GD{i:09d}",
                rng.choice(["06002", "06001", "12001", "11009", "09004"]),
                f"{rng.choice(PROBLEMS)}，第{rng.randint(1, 99999)}号{rng.choice(PROBLEMS)[:4]}",
                grid, f"{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                f"13{rng.randint(100000000, 999999999)}",
                "urgent" if rng.random() < 0.05 else "normal", state, grid,
                rng.choice(DEPARTMENTS) if state != "dispatching" else None,
                grid[:4] if state == "dispatching" else None,
                "已处理完毕" if state == "closed" else None,
                f"{day} 08:00:00.000000", f"{day} 09:{i % 60:02d}:00.000000",
            ))  # fmt: skip
        con.executemany(INSERT, rows)
        con.commit()
    seconds = time.perf_counter() - started
    con.execute(
        "INSERT INTO case_task (case_id, department, lead, done) "
        'SELECT id, lead_department, 1, 0 FROM "case" WHERE lead_department IS NOT NULL'
    )
    con.commit()
    con.close()
    return {"cases": n, "fill_s": round(seconds, 1), "fill_rows_per_s": round(n / seconds)}


def timed(run: Callable[[Session], Any], db: Any, repeat: int) -> dict[str, Any]:
    times, got = [], None
    for _ in range(repeat):
        with new_session(db) as session:
            start = time.perf_counter()
            got = run(session)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "max_ms": round(times[-1], 2),
        "rows_total": got,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/gridflow-bench-search.db"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE before timing")
    args = parser.parse_args()
    out: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    if not args.db.exists():
        out["fill"] = fill(args.db, args.cases)
    db = make_engine(f"sqlite:///{args.db}")
    with new_session(db) as session:
        if args.analyze:
            session.execute(text("ANALYZE"))
            session.commit()
        phone = session.execute(text('SELECT reporter_phone FROM "case" WHERE id = 4242')).scalar()
        ticket = session.execute(
            text(
                """SELECT external_id FROM "case" WHERE channel = 'hotline' AND id > 4242 LIMIT 1"""
            )
        ).scalar()
        newest = session.execute(text('SELECT max(id) FROM "case"')).scalar() or 0
        city = CityDirectory.load(session)
    out["cases"] = newest

    def person(role: Role, scope: str) -> Principal:
        return Principal(name="bench", role=role, scope=scope)

    supervisor, district = person(Role.supervisor, "00"), person(Role.dispatcher, "01")
    street, handler = person(Role.dispatcher, "0101"), person(Role.handler, "HW-01")
    operator = person(Role.operator, "00")

    def cases(
        principal: Principal,
        filters: CaseFilter | None = None,
        where: tuple = (),
        q: str | None = None,
        pages: int = 1,
    ) -> Callable[[Session], Any]:
        def run(session: Session) -> Any:
            conditions = list(where)
            if q is not None:
                conditions += search.understand(session, principal, city, q).where
            cursor, found, total = None, [], 0
            for _ in range(pages):
                found, total = queries.list_cases(
                    session,
                    principal,
                    city,
                    filters or CaseFilter(),
                    50,
                    cursor=cursor,
                    where=conditions,
                )
                cursor = queries.NEWEST_FIRST.next_cursor(found, 50)
                if cursor is None:
                    break
            return [len(found), total]

        return run

    def queue(pages: int = 1) -> Callable[[Session], Any]:
        def run(session: Session) -> Any:
            cursor, items, total = None, [], 0
            for _ in range(pages):
                items, total = manual_queue(session, city, "01", 50, cursor=cursor)
                cursor = QUEUE_ORDER.next_cursor([i.case for i in items], 50)
            return [len(items), total]

        return run

    def box(section: Section) -> Callable[[Session], Any]:
        def run(session: Session) -> Any:
            found, total, _ = section_page(session, ViewStageLight, "HW-01", section, 50)
            return [len(found), total]

        return run

    views = {
        "list city (supervisor)": cases(supervisor),
        "list district 01": cases(district),
        "list street 0101": cases(street),
        "list category=06 unit=0101": cases(district, CaseFilter(category="06", unit="0101")),
        "list handler HW-01": cases(handler),
        "lookup phone (q)": cases(operator, q=phone),
        "lookup ticket": cases(operator, where=(search.by_ticket(ticket),)),
        "lookup case number (q)": cases(operator, q=f"#{newest // 2}"),
        "text common 垃圾堆积": cases(district, q="垃圾堆积"),
        "text rare 第12345号": cases(district, q="第12345号"),
        "text absent 不存在的内容": cases(district, q="不存在的内容"),
        "text two characters 路灯": cases(district, q="路灯"),
        "queue district 01": queue(),
        "inbox to_accept": box(Section.to_accept),
        "inbox in_progress": box(Section.in_progress),
    }
    for name, run in views.items():
        out[name] = timed(run, db, args.repeat)
    for name, run in {
        "list district 01, pages 1..100": cases(district, pages=100),
        "queue district 01, pages 1..100": queue(pages=100),
    }.items():
        out[name + " (per page)"] = {"ms": round(timed(run, db, 1)["p50_ms"] / 100, 2)}
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
