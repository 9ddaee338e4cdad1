"""The HTTP closed loop of `bench_reads.py` (issue 20 §4): web reports filed, dispatched,
accepted, resolved and verified one request after another (not a test)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from engine.db import make_engine, new_session
from engine.users.models import Role
from engine.users.service import issue_token


class Tokens:
    """Bearer headers per (role, scope), minted in the database on first use."""

    def __init__(self, url: str) -> None:
        self.db = make_engine(url)
        self.made: dict[tuple[Role, str | None], dict[str, str]] = {}

    def __call__(self, role: Role, scope: str | None) -> dict[str, str]:
        if (role, scope) not in self.made:
            with new_session(self.db) as session, session.begin():
                now, label = datetime.now(UTC), f"loop-{role}-{scope}"
                token = issue_token(session, role=role, scope=scope, now=now,
                                    ttl=timedelta(days=1), label=label)  # fmt: skip
            self.made[role, scope] = {"Authorization": f"Bearer {token}"}
        return self.made[role, scope]


def closed_loop(base_url: str, url: str, cases: int) -> dict[str, Any]:
    """One client takes ``cases`` web reports through the loop over HTTP, one request after
    another: file, dispatch (unless the rules did), accept, resolve, verify (which closes)."""
    if cases <= 0:
        return {}
    auth = Tokens(url)
    times: dict[str, list[float]] = {}
    closed, refused = 0, []
    body = {"channel": "web", "category": "06002", "grid_code": "01010101",
            "description": "小区门口垃圾堆积三天无人清理，气味很大"}  # fmt: skip

    def call(client: httpx.Client, name: str, path: str, headers, json: dict) -> dict | None:
        started = time.perf_counter()
        try:
            response = client.post(path, json=json, headers=headers)
        except httpx.TransportError as exc:  # the server dropped the connection (a 500)
            refused.append(f"{name}: {exc!r}")
            return None
        times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        if response.status_code not in (200, 201):
            refused.append(f"{name}: {response.status_code} {response.text[:120]}")
            return None
        return response.json()

    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for _ in range(cases):
            case = call(client, "file", "/api/v1/cases", auth(Role.operator, "00"), body)
            if case is None:
                continue
            act = f"/api/v1/cases/{case['id']}/actions/"
            if case["state"] == "registered":
                case = call(client, "dispatch", act + "dispatch", auth(Role.dispatcher, "00"),
                            {"department": "HW-01"})  # fmt: skip
            if case is None or case["state"] != "assigned":
                continue
            handler = auth(Role.handler, case["lead_department"])
            if call(client, "accept", act + "accept", handler, {}) is None:
                continue
            if call(client, "resolve", act + "resolve", handler, {"result": "已清运"}) is None:
                continue
            check = {"passed": True, "photos": ["p/after.jpg"]}
            case = call(client, "verify", act + "verify", auth(Role.grid_worker, "01010101"),
                        check)  # fmt: skip
            closed += case is not None and case["state"] == "closed"
    seconds = time.perf_counter() - started
    auth.db.dispose()
    return {
        "cases": cases,
        "closed": closed,
        "seconds": round(seconds, 1),
        "cases_per_s": round(cases / seconds, 1),
        "requests_p50_ms": {k: round(statistics.median(v), 1) for k, v in times.items()},
        "refused": refused[:5],
    }
