"""Three server processes on one PostgreSQL database.

Many cases whose timers fall due together, racing actions on shared cases from several
clients, one process SIGKILLed during the sweep. Afterwards: every timer fired once in effect
(no doubled reminder or escalation), every outbox message reached the receiver (by message
id), and no acknowledged write was lost. The processes share one virtual time (FileClock).

See docs/ARCHITECTURE.md#timers-and-escalation, #storage.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import backends
import httpx
import pytest
from conftest import DEMO_CITY, START
from servers import Receiver, Server
from sqlalchemy import text

from engine.clock import FileClock
from engine.db import make_engine, new_session
from engine.users.models import Role
from engine.users.service import issue_token

pytestmark = pytest.mark.skipif(
    backends.BACKEND != "postgresql",
    reason="several processes share one database on PostgreSQL: runs in that pass",
)

# CI runs 5,000 cases to stay within its time budget; GRIDFLOW_MP_CASES=20000 for the full run
# (measured: 20,000 cases, 50,000 timers, 70,000 messages in 22 minutes on a loaded 2-core box).
CASES = int(os.environ.get("GRIDFLOW_MP_CASES", "5000"))
BATCH = 500
SHARED = 100  # cases two clients race to accept
GRIDS = ["01010101", "01010201", "01020101", "02010101", "02020101", "02010201"]
HANDLER_DEPT = "HW-01"


def wait_for(condition, timeout: float, what: str) -> None:
    """Poll the database until ``condition()`` holds (processes work on their own)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def scalar(db, sql: str, **params):
    with db.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def file_cases(urls: list[str], headers: dict[str, str]) -> list[int]:
    def batch(n: int) -> list[int]:
        items = [
            {
                "channel": "hotline",
                "external_id": f"MP-{n}-{i}",
                # District sanitation (HW-01, supervised by the city) and a street 城管中队
                # (CG-0101: its district supervises first, then the city with a red card).
                "category": "06002" if i % 2 else "09001",
                "description": "路边垃圾堆积，无人清运" if i % 2 else "流动摊贩占道经营",
                "grid_code": GRIDS[(n + i) % len(GRIDS)],
            }
            for i in range(BATCH)
        ]
        with httpx.Client(base_url=urls[n % len(urls)], headers=headers, timeout=120) as http:
            response = http.post("/api/v1/cases/batch", json={"items": items})
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["results"]]

    with ThreadPoolExecutor(len(urls)) as pool:
        return [i for ids in pool.map(batch, range(CASES // BATCH)) for i in ids]


def race_accepts(urls: list[str], headers: dict[str, str], case_ids: list[int]) -> set[int]:
    """Two clients on different processes accept each shared case: one wins, one gets 409."""
    won: set[int] = set()

    def accept(args: tuple[int, int]) -> tuple[int, int]:
        case_id, client = args
        with httpx.Client(base_url=urls[client % len(urls)], headers=headers, timeout=60) as http:
            return case_id, http.post(
                f"/api/v1/cases/{case_id}/actions/accept", json={}
            ).status_code

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(accept, [(c, k) for c in case_ids for k in (0, 1)]))
    for case_id in case_ids:
        codes = sorted(code for cid, code in outcomes if cid == case_id)
        assert codes == [200, 409], (case_id, codes)
        won.add(case_id)
    return won


def test_three_processes_share_timers_outbox_and_cases(tmp_path, db_url):
    db = make_engine(db_url)
    receiver = Receiver()
    clock_file = tmp_path / "clock"
    FileClock.write(clock_file, START)
    with db.begin() as conn:
        conn.execute(text("UPDATE department SET webhook_url = :url"), {"url": receiver.url})
    with new_session(db) as session, session.begin():
        operator = issue_token(session, role=Role.operator, scope="00", now=START, ttl=None)
        handler = issue_token(session, role=Role.handler, scope=HANDLER_DEPT, now=START, ttl=None)
        admin = issue_token(session, role=Role.admin, scope="00", now=START, ttl=None)
    env = {"GRIDFLOW_CLOCK_FILE": str(clock_file), "GRIDFLOW_OUTBOX_POLL_SECONDS": "0.2"}
    servers = [Server(db_url, tmp_path, **env) for _ in range(3)]
    try:
        urls = [s.url for s in servers]
        rules = (DEMO_CITY / "rules.toml").read_text(encoding="utf-8")
        activated = httpx.put(
            f"{urls[0]}/api/v1/rules", json={"text": rules},
            headers={"Authorization": f"Bearer {admin}"}, timeout=60,
        )  # fmt: skip
        assert activated.status_code == 200, activated.text
        ids = file_cases(urls, {"Authorization": f"Bearer {operator}"})
        assert len(set(ids)) == CASES
        mine = [
            row[0]
            for row in db.connect().execute(
                text("SELECT id FROM \"case\" WHERE lead_department = :d AND state = 'assigned' "
                     "ORDER BY id LIMIT :n"),
                {"d": HANDLER_DEPT, "n": SHARED},
            )
        ]  # fmt: skip
        assert len(mine) == SHARED, "the demo rules send 06002 in district 01 to HW-01"
        accepted = race_accepts(urls, {"Authorization": f"Bearer {handler}"}, mine)

        # Every case's timers fall due together; kill one process once firing is under way.
        FileClock.write(clock_file, START + timedelta(days=10))
        wait_for(lambda: scalar(db, "SELECT count(*) FROM timer WHERE status = 'fired'") > 500,
                 300, "firing to start")  # fmt: skip
        servers[1].kill()
        leased = scalar(
            db, "SELECT count(*) FROM timer WHERE status='pending' AND lease_until IS NOT NULL"
        )
        # Its leases run out (5 minutes) and the survivors take its timers over.
        FileClock.write(clock_file, START + timedelta(days=10, minutes=6))
        due = "SELECT count(*) FROM timer WHERE status = 'pending' AND due_at <= :now"
        wait_for(lambda: scalar(db, due, now=START + timedelta(days=10, minutes=6)) == 0,
                 900, "every due timer to fire")  # fmt: skip
        # Red cards escalate a tier after the grace: let those fall due as well.
        FileClock.write(clock_file, START + timedelta(days=30))
        wait_for(lambda: scalar(db, due, now=START + timedelta(days=30)) == 0, 900,
                 "the escalations to fire")  # fmt: skip
        undelivered = "SELECT count(*) FROM outbox WHERE status <> 'delivered'"
        later = iter(range(1, 10_000))

        def drained() -> bool:  # failed posts retry after a backoff: let that time pass
            FileClock.write(clock_file, START + timedelta(days=30, minutes=10 * next(later)))
            return scalar(db, undelivered) == 0

        wait_for(drained, 600, "the outbox to drain")
    finally:
        for server in servers:
            server.kill()
        receiver.close()

    with db.connect() as conn:
        doubled = conn.execute(text(
            "SELECT case_id, data->>'timer' FROM case_event WHERE data->>'timer' IS NOT NULL "
            "GROUP BY 1, 2 HAVING count(*) > 1"
        )).all()  # fmt: skip
        fired = conn.execute(text("SELECT count(*) FROM timer WHERE status = 'fired'")).scalar()
        timer_events = conn.execute(
            text("SELECT count(*) FROM case_event WHERE data->>'timer' IS NOT NULL")
        ).scalar()
        incidents = conn.execute(
            text("SELECT count(*) FROM timer WHERE status = 'incident'")
        ).scalar()
        outbox_ids = {r[0] for r in conn.execute(text("SELECT message_id FROM outbox"))}
        accepts = dict(conn.execute(text(
            "SELECT case_id, count(*) FROM case_event WHERE action = 'accept' GROUP BY case_id"
        )).all())  # fmt: skip
        red = conn.execute(text("SELECT count(*) FROM \"case\" WHERE card = 'red'")).scalar()
    db.dispose()
    assert doubled == [] and fired == timer_events and incidents == 0
    assert fired >= 2 * CASES  # at least a reminder and a breach per case
    assert red > 0
    received = receiver.ids()
    assert set(received) == outbox_ids  # every message arrived, identified by its id
    assert all(accepts.get(case_id) == 1 for case_id in accepted)
    print(
        f"\n{CASES} cases, {fired} timers fired, {len(outbox_ids)} messages, "
        f"{len(received) - len(set(received))} redelivered after the kill, "
        f"{leased} timers were leased at the kill"
    )
