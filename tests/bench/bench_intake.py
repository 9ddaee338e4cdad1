"""Benchmark: hotline-style intake through the HTTP API on the demo city (not a pytest test).

Files realistic 12345 tickets (Chinese text, random categories and grids) through
``POST /api/v1/intake/hotline`` one by one and through ``/hotline/batch``, in-process (httpx
ASGITransport) and against a real uvicorn on 127.0.0.1 with a bounded client (at most 8
connections). Each mode reports cases/s and p50/p99 latency, plus an open-loop run paced at
200 requests/s. The same rows are inserted with raw sqlite3 (one transaction per row, and
in batches) so the API's cost shows as a ratio, and the same client runs against the route
with nothing behind it (noop_app: FastAPI parsing the same body) to show the framework's own
ceiling on this machine. An alert storm posts many AI video alerts for one camera at once
and checks they make one case. Prints one JSON object.

Run: ``python tests/bench/bench_intake.py`` (``--help`` for sizes). The load average is
reported: on a shared machine other work skews every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine.city.directory import CityDirectory  # noqa: E402
from engine.city.loader import read_city, store_city  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.db import make_engine, new_session  # noqa: E402
from engine.dispatch.rule_versions import LiveRules  # noqa: E402
from engine.schema import upgrade_schema  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.users.models import Role  # noqa: E402
from engine.users.service import issue_token  # noqa: E402
from tests.bench.intake_load import (  # noqa: E402
    batched,
    concurrent,
    paced,
    post,
    sequential,
    tickets,
)

CITY = ROOT / "examples" / "demo_city"
SEED = 20260302


def city_db(directory: Path, name: str) -> tuple[str, str]:
    url = f"sqlite:///{directory / name}"
    db = make_engine(url)
    upgrade_schema(db)
    files, now = read_city(CITY), SystemClock().now()
    with new_session(db) as session, session.begin():
        store_city(session, files)
        # Auto-dispatch, as the issue asks: the demo rule table active, as `gridflow init` does.
        LiveRules().activate(session, files.rules_text, CityDirectory.load(session), "bench", now)
        token = issue_token(
            session, role=Role.operator, scope="00", now=now,
            ttl=timedelta(days=1), label="bench",
        )  # fmt: skip
    db.dispose()
    return url, token


async def run_modes(client, headers, make_rows, args) -> dict[str, Any]:
    cpu = time.process_time()
    out = {
        "single_sequential": await sequential(client, headers, make_rows("seq", args.single)),
        "single_concurrent": await concurrent(client, headers, make_rows("con", args.single), 8),
        "paced_200_per_s": await paced(client, headers, make_rows("pace", args.paced), 200.0),
        "batched": await batched(client, headers, make_rows("bat", args.batch), args.batch_size),
    }
    # The latency at a rate this machine sustains: half of what one client achieved.
    rate = max(1.0, round(out["single_sequential"]["cases_per_s"] / 2))
    count = min(args.paced, int(rate * 10))
    out["paced_sustainable"] = await paced(client, headers, make_rows("sus", count), rate)
    out["bench_process_cpu_s"] = round(time.process_time() - cpu, 2)
    return out


def states(db) -> dict[str, int]:
    with new_session(db) as session:
        rows = session.execute(text('SELECT state, count(*) FROM "case" GROUP BY state'))
        return dict(rows.all())


async def in_process(args, directory: Path, make_rows) -> dict[str, Any]:
    from web.app import create_app
    from web.context import build_context

    url, token = city_db(directory, "asgi.db")
    settings = Settings(
        database_url=url, city_dir=CITY, intake_rate_per_second=0, outbox_poll_seconds=0
    )
    ctx = build_context(settings)
    app = create_app(context=ctx)
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        result = await run_modes(client, headers, make_rows, args)
        result["hooks"] = [type(h).__name__ for h in ctx.cases.hooks]
        result["states"] = states(ctx.db)  # auto-dispatch: mostly assigned, some queued
        result["storm"] = await storm(client, headers, ctx, args.storm)
    ctx.db.dispose()
    return result


async def storm(client, headers, ctx, n: int) -> dict[str, Any]:
    """n alerts from one camera and event type, 32 in flight: they must make one case."""
    if n <= 0:
        return {}
    from sqlmodel import select

    from engine.cases.models import Case

    at = datetime.now(UTC).isoformat()
    bodies = [
        {"alert_id": f"storm-{i}", "camera_id": "CAM-010102-01", "event_type": "outdoor_bbq",
         "confidence": 0.95, "snapshot": f"https://v.test/s/{i}.jpg", "occurred_at": at}
        for i in range(n)
    ]  # fmt: skip
    queue = list(reversed(bodies))

    async def worker() -> None:
        while queue:
            await post(client, "/api/v1/intake/video", queue.pop(), headers)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(32)))
    seconds = time.perf_counter() - start
    with new_session(ctx.db) as session:
        cases = list(session.exec(select(Case).where(Case.channel == "video")))
    return {
        "alerts": n,
        "seconds": round(seconds, 2),
        "alerts_per_s": round(n / seconds, 1),
        "cases_created": len(cases),
        "alert_count": [c.alert_count for c in cases],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def real_server(args, directory: Path, make_rows) -> dict[str, Any]:
    url, token = city_db(directory, "uvicorn.db")
    env = os.environ | {
        "GRIDFLOW_DATABASE_URL": url,
        "GRIDFLOW_CITY_DIR": str(CITY),
        "GRIDFLOW_INTAKE_RATE_PER_SECOND": "0",
        "GRIDFLOW_OUTBOX_POLL_SECONDS": "0",
    }
    headers = {"Authorization": f"Bearer {token}"}

    async def modes(client: httpx.AsyncClient) -> dict[str, Any]:
        return await run_modes(client, headers, make_rows, args)

    return await against_uvicorn(["web.app:create_app", "--factory"], env, modes)


async def framework_ceiling(args, make_rows) -> dict[str, Any]:
    """The same client against the intake route with nothing behind it (noop_app)."""

    async def modes(client: httpx.AsyncClient) -> dict[str, Any]:
        return {
            "single_sequential": await sequential(client, {}, make_rows("nseq", args.single)),
            "single_concurrent": await concurrent(client, {}, make_rows("ncon", args.single), 8),
        }

    return await against_uvicorn(["tests.bench.noop_app:app"], dict(os.environ), modes)


async def against_uvicorn(app: list[str], env: dict[str, str], modes) -> dict[str, Any]:
    """Serve ``app`` with uvicorn in a process of its own; run ``modes`` with a client of at
    most 8 connections."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    try:
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            for _ in range(200):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("uvicorn did not come up")
            result = await modes(client)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return result | {"max_connections": 8}


def raw_sqlite(directory: Path, rows: list[dict], size: int) -> dict[str, Any]:
    """The same case rows inserted with sqlite3 into the same schema, no API, no ORM."""
    url, _ = city_db(directory, "raw.db")
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    sql = (
        'INSERT INTO "case" (channel, external_id, category, description, address, '
        "request_type, reporter_name, reporter_phone, grid_code, urgency, state, owning_unit, "
        "rework_count, sla_limits, alert_count, version, audit_head, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'normal', 'registered', ?, 0, '{}', 0, 1, '', ?, ?)"
    )

    def values(prefix: str) -> list[tuple]:
        return [("hotline", f"{prefix}{r['ticket_no']}", r["category"], r["content"],
                 r["address"], "complaint", r["caller_name"], r["caller_phone"], r["grid_code"],
                 r["grid_code"], now, now) for r in rows]  # fmt: skip

    start = time.perf_counter()
    for row in values("s"):
        conn.execute("BEGIN")
        conn.execute(sql, row)
        conn.execute("COMMIT")
    single = time.perf_counter() - start
    batch_rows = values("b")
    start = time.perf_counter()
    for i in range(0, len(batch_rows), size):
        conn.execute("BEGIN")
        conn.executemany(sql, batch_rows[i : i + size])
        conn.execute("COMMIT")
    batched_s = time.perf_counter() - start
    conn.close()
    return {
        "rows": len(rows),
        "single_rows_per_s": round(len(rows) / single, 1),
        "batched_rows_per_s": round(len(rows) / batched_s, 1),
    }


def ratios(api: dict[str, Any], raw: dict[str, Any]) -> dict[str, float]:
    return {
        "raw_over_api_single": round(
            raw["single_rows_per_s"] / api["single_sequential"]["cases_per_s"], 1
        ),
        "raw_over_api_batched": round(raw["batched_rows_per_s"] / api["batched"]["cases_per_s"], 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=1000, help="single requests per mode")
    parser.add_argument("--paced", type=int, default=1000, help="requests at 200/s")
    parser.add_argument("--batch", type=int, default=5000, help="tickets sent in batches")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--storm", type=int, default=10000, help="video alerts in the storm")
    parser.add_argument("--no-server", action="store_true", help="skip the uvicorn run")
    args = parser.parse_args()

    from engine.city.loader import read_city as read

    files = read(CITY)
    categories = [c.code for c in files.categories]
    grids = [u.code for u in files.units if u.tier == "grid"]
    rng = random.Random(SEED)

    def make_rows(prefix: str, n: int) -> list[dict]:
        return list(tickets(n, prefix, rng, categories, grids))

    with tempfile.TemporaryDirectory(prefix="gridflow-bench-") as tmp:
        directory = Path(tmp)
        result: dict[str, Any] = {
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in os.getloadavg()],
                "python": sys.version.split()[0],
                "sqlite": sqlite3.sqlite_version,
            },
        }
        result["in_process"] = await in_process(args, directory, make_rows)
        if not args.no_server:
            result["uvicorn"] = await real_server(args, directory, make_rows)
            result["framework_ceiling"] = await framework_ceiling(args, make_rows)
        result["raw_sqlite"] = raw_sqlite(directory, make_rows("raw", args.single), args.batch_size)
        result["ratios_in_process"] = ratios(result["in_process"], result["raw_sqlite"])
        if "uvicorn" in result:
            result["ratios_uvicorn"] = ratios(result["uvicorn"], result["raw_sqlite"])
        result["targets"] = {
            "single_cases_per_s": 1000,
            "batched_cases_per_s": 5000,
            "p99_ms_at_200_per_s": 20,
        }
        result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
