"""SIGKILL the server mid-stream: every acknowledged case survives with its audit event and its
SLA timers, and retrying the unacknowledged ones creates no duplicates."""

from __future__ import annotations

import threading

import httpx
from servers import Server
from sqlalchemy import text

from engine.clock import SystemClock
from engine.db import make_engine, new_session
from engine.users.models import Role
from engine.users.service import issue_token

TOTAL = 200
CLIENTS = 4


def report(i: int) -> dict:
    return {
        "channel": "hotline",
        "external_id": f"CRASH-{i:04d}",
        "category": "06002",
        "description": f"第{i}号来电：小区垃圾桶满溢",
        "grid_code": "01010101",
    }


def test_sigkill_loses_no_acknowledged_case(tmp_path, db_url):
    db = make_engine(db_url)
    with new_session(db) as session, session.begin():
        token = issue_token(
            session, role=Role.operator, scope="00", now=SystemClock().now(), ttl=None
        )
    db.dispose()
    headers = {"Authorization": f"Bearer {token}"}

    server = Server(db_url, tmp_path)
    acked: dict[str, int] = {}
    lock = threading.Lock()
    killed = threading.Event()
    enough = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
            for i in range(worker, TOTAL, CLIENTS):
                if killed.is_set():
                    return
                try:
                    response = http.post("/api/v1/cases", json=report(i))
                except httpx.TransportError:
                    return
                if response.status_code in (200, 201):
                    with lock:
                        acked[report(i)["external_id"]] = response.json()["id"]
                        if len(acked) >= TOTAL // 4:
                            enough.set()

    threads = [threading.Thread(target=client, args=(w,)) for w in range(CLIENTS)]
    for thread in threads:
        thread.start()
    assert enough.wait(timeout=60)
    server.kill()  # while the other clients' requests are in flight
    killed.set()
    for thread in threads:
        thread.join()
    assert 0 < len(acked) < TOTAL

    server = Server(db_url, tmp_path)
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
            for external_id, case_id in acked.items():
                case = http.get(f"/api/v1/cases/{case_id}").json()
                assert case["external_id"] == external_id
                events = http.get(f"/api/v1/cases/{case_id}/events").json()
                assert events[0]["action"] == "report"
                sla = http.get(f"/api/v1/cases/{case_id}/sla")
                assert sla.status_code == 200, sla.text
                assert any(stage["started_at"] for stage in sla.json()["stages"])
            for i in range(TOTAL):  # the client retries everything
                assert http.post("/api/v1/cases", json=report(i)).status_code in (200, 201)
            for external_id, case_id in list(acked.items())[:20]:
                again = http.post("/api/v1/cases", json=report(int(external_id[-4:])))
                assert again.json()["id"] == case_id
            listed = http.get("/api/v1/cases", params={"limit": 1}).json()
            assert listed["total"] == TOTAL
    finally:
        server.kill()
    with new_session(make_engine(db_url)) as session:
        dupes = session.execute(
            text('SELECT external_id FROM "case" GROUP BY external_id HAVING count(*) > 1')
        ).all()
    assert dupes == []
