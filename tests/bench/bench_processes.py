"""Benchmark: how intake and timer firing scale from 1 to 3 server processes on PostgreSQL.

For each process count: a throw-away PostgreSQL server (tests/pg_server.py) and a fresh
demo-city database with its dispatch rules active; N uvicorn processes sharing one FileClock;
clients file hotline cases (batches of 100, round-robin over the processes); then the shared
clock jumps past every deadline and the processes' own sweepers fire the timers. Prints one
JSON object with cases/s and timers/s for 1 and 3 processes and their ratio.

Run: ``python tests/bench/bench_processes.py [--cases 3000]``. On a 2-core machine three
processes share two cores with the database, so expect well under 3x: the figures say how
much of the work is the database's and how much the Python processes'.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]
os.environ["GRIDFLOW_TEST_DB"] = "postgresql"

import backends  # noqa: E402
import httpx  # noqa: E402
from servers import Server  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.clock import FileClock  # noqa: E402
from engine.db import make_engine, new_session  # noqa: E402
from engine.users.models import Role  # noqa: E402
from engine.users.service import issue_token  # noqa: E402

DEMO_CITY = TESTS.parent / "examples" / "demo_city"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
GRIDS = ["01010101", "01020101", "02010101", "02020101"]


def run(processes: int, cases: int, workdir: Path) -> dict[str, float]:
    url = backends.fresh_database(backends.demo_city_fill(DEMO_CITY))
    db = make_engine(url)
    clock = workdir / f"clock-{processes}"
    FileClock.write(clock, START)
    with new_session(db) as session, session.begin():
        token = issue_token(session, role=Role.admin, scope="00", now=START, ttl=None)
    headers = {"Authorization": f"Bearer {token}"}
    env = {"GRIDFLOW_CLOCK_FILE": str(clock)}
    servers = [Server(url, workdir, **env) for _ in range(processes)]
    try:
        rules = (DEMO_CITY / "rules.toml").read_text(encoding="utf-8")
        httpx.put(f"{servers[0].url}/api/v1/rules", json={"text": rules}, headers=headers,
                  timeout=60).raise_for_status()  # fmt: skip

        def batch(n: int) -> None:
            items = [
                {"channel": "hotline", "external_id": f"B{processes}-{n}-{i}",
                 "category": "06002" if i % 2 else "09001", "description": "占道经营，垃圾堆放",
                 "grid_code": GRIDS[(n + i) % len(GRIDS)]}
                for i in range(100)
            ]  # fmt: skip
            with httpx.Client(base_url=servers[n % processes].url, timeout=300) as http:
                http.post("/api/v1/cases/batch", json={"items": items}, headers=headers)

        began = time.perf_counter()
        with ThreadPoolExecutor(2 * processes) as pool:
            list(pool.map(batch, range(cases // 100)))
        intake_s = time.perf_counter() - began

        with db.connect() as conn:
            due = conn.execute(text("SELECT count(*) FROM timer WHERE status='pending'")).scalar()
        FileClock.write(clock, START + timedelta(days=10))
        began = time.perf_counter()
        while True:
            with db.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM timer WHERE status='pending' AND due_at <= :now"),
                    {"now": START + timedelta(days=10)},
                ).scalar()
            if left == 0:
                break
            time.sleep(0.5)
        fire_s = time.perf_counter() - began
        with db.connect() as conn:
            fired = conn.execute(text("SELECT count(*) FROM timer WHERE status='fired'")).scalar()
    finally:
        for server in servers:
            server.kill()
        db.dispose()
        backends.drop_database(url)
    return {
        "processes": processes,
        "cases": cases,
        "intake_seconds": round(intake_s, 2),
        "cases_per_s": round(cases / intake_s, 1),
        "timers_due": due,
        "timers_fired": fired,
        "fire_seconds": round(fire_s, 2),
        "timers_per_s": round(fired / fire_s, 1) if fire_s else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = run(1, args.cases, Path(tmp))
        three = run(3, args.cases, Path(tmp))
    print(json.dumps({
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "one_process": one,
        "three_processes": three,
        "scaling": {
            "intake": round(three["cases_per_s"] / one["cases_per_s"], 2),
            "timers": round((three["timers_per_s"] or 0) / (one["timers_per_s"] or 1), 2),
        },
    }))  # fmt: skip


if __name__ == "__main__":
    main()
