"""Benchmark: the timer sweep on a SQLite file with 1,000,000 pending timers (not a test).

Measures, on one database file (WAL, as the server runs it):

* ``idle_sweep_ms``: a sweep with nothing due, median and p95 over 50 runs. The target is
  at most 5 ms; the (status, due_at) index makes it one index probe.
* ``claim_and_drop_10k``: 10,000 due timers whose stage run is over (stale generations),
  i.e. the claim + classify + mark path with the cheapest effect. Target: at most 2 s.
* ``real_reminders``: due yellow timers fired for real, each a ``remind`` action through
  the case service (its own transaction, audit event and hooks), to be honest about what a
  timer that does something costs.

Prints one JSON object. Run: ``python tests/bench/bench_timers.py``.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.cases.models import CaseCreate  # noqa: E402
from engine.city.loader import read_city, store_city  # noqa: E402
from engine.clock import VirtualClock  # noqa: E402
from engine.db import new_session  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.users.models import Principal, Role  # noqa: E402
from web.context import build_context  # noqa: E402

SEED = 20261121
PENDING = 1_000_000
STALE_DUE = 10_000
REAL = 300
IDLE_RUNS = 50
CHUNK = 100_000
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
DEMO_CITY = ROOT / "examples" / "demo_city"
OPERATOR = Principal("bench", Role.operator, "00")
DISPATCHER = Principal("bench", Role.dispatcher, "00")
HANDLER = Principal("bench", Role.handler, "HW-01")
INSERT = (
    "INSERT INTO timer (case_id, kind, stage, generation, due_at, status, attempts, created_at)"
    " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?)"
)


def stamp(at: datetime) -> str:
    """How ``UTCDateTime`` stores an instant in SQLite (naive UTC, microseconds)."""
    return at.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def in_progress_cases(ctx, count: int) -> list[int]:
    ids = []
    for i in range(count):
        report = CaseCreate(
            channel="hotline",
            category="06002",
            description=f"垃圾堆积 {i}",
            grid_code="01010101",
        )
        case_id = ctx.cases.intake(OPERATOR, report).case.id
        ctx.cases.act(DISPATCHER, case_id, "dispatch", {"department": "HW-01"})
        ctx.cases.act(HANDLER, case_id, "accept", {})
        ids.append(case_id)
    return ids


def bulk_insert(path: Path, rows) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            with conn:
                conn.executemany(INSERT, batch)
            batch = []
    if batch:
        with conn:
            conn.executemany(INSERT, batch)
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


def main() -> None:
    rng = random.Random(SEED)
    workdir = Path(tempfile.mkdtemp(prefix="gridflow-bench-timers-"))
    path = workdir / "timers.db"
    clock = VirtualClock(START)
    ctx = build_context(Settings(database_url=f"sqlite:///{path}", city_dir=DEMO_CITY), clock)
    with new_session(ctx.db) as session, session.begin():
        store_city(session, read_city(DEMO_CITY))

    # Real cases in handling: their yellow timers fire through the case service later.
    began = time.perf_counter()
    real_ids = in_progress_cases(ctx, REAL)
    setup_cases = time.perf_counter() - began
    created = stamp(START)

    # One million pending timers due over the next year (after the real reminders), in due
    # order as a live table fills up, so the (status, due_at) index grows at its end.
    offsets = sorted(rng.randrange(365 * 86400) for _ in range(PENDING))

    def future():  # type: ignore[no-untyped-def]
        for offset in offsets:
            due = START + timedelta(days=30, seconds=offset)
            kind = rng.choice(("yellow", "red", "escalate"))
            stage = rng.choice(("dispatch", "accept", "handle", "verify"))
            yield (rng.choice(real_ids), kind, stage, 1, stamp(due), created)

    insert_seconds = bulk_insert(path, future())
    sweeper = ctx.sweeper

    # An idle sweep: nothing due.
    idle = []
    for _ in range(IDLE_RUNS):
        t0 = time.perf_counter()
        report = sweeper.sweep(clock.now())
        idle.append((time.perf_counter() - t0) * 1000)
        assert report.claimed == 0
    with ctx.db.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM timer WHERE status = 'pending' AND due_at <= ?"
            " AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT 1000",
            (stamp(START), stamp(START)),
        ).all()

    # 10,000 due timers of stage runs that are over: claimed, found stale, dropped.
    stale_due = stamp(START - timedelta(hours=1))
    stale = (
        (rng.choice(real_ids), "red", "dispatch", 99, stale_due, created) for _ in range(STALE_DUE)
    )
    bulk_insert(path, stale)
    t0 = time.perf_counter()
    dropped = 0
    while (report := sweeper.sweep(clock.now())).claimed:
        dropped += report.dropped
    drop_seconds = time.perf_counter() - t0
    assert dropped == STALE_DUE, dropped

    # The real reminders: 80 % of 1wd from Monday 09:00 is Tuesday 15:06.
    clock.set(datetime(2026, 3, 3, 7, 6, tzinfo=UTC))
    t0 = time.perf_counter()
    fired = 0
    while (report := sweeper.sweep(clock.now())).claimed:
        fired += report.fired
    real_seconds = time.perf_counter() - t0
    assert fired == REAL, fired

    ctx.db.dispose()
    shutil.rmtree(workdir, ignore_errors=True)  # ~160 MB
    print(
        json.dumps(
            {
                "sqlite": sqlite3.sqlite_version,
                "pending_timers": PENDING,
                "bulk_insert_seconds": round(insert_seconds, 2),
                "idle_sweep_ms": {
                    "median": round(statistics.median(idle), 3),
                    "p95": round(sorted(idle)[int(0.95 * len(idle)) - 1], 3),
                    "runs": IDLE_RUNS,
                    "target": 5,
                },
                "claim_and_drop_10k": {
                    "timers": STALE_DUE,
                    "seconds": round(drop_seconds, 3),
                    "timers_per_second": round(STALE_DUE / drop_seconds),
                    "target_seconds": 2,
                },
                "real_reminders": {
                    "timers": REAL,
                    "seconds": round(real_seconds, 3),
                    "timers_per_second": round(REAL / real_seconds),
                    "setup_cases_per_second": round(REAL / setup_cases),
                },
                "claim_query_plan": [row[-1] for row in plan],
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
