"""Load generators for bench_intake.py: realistic 12345 tickets, and closed- and open-loop
request runs that time every answer."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

TYPES = ["咨询", "求助", "投诉", "举报", "建议"]
PLACES = ["东坡路", "湖滨路", "柳岸街", "涌金广场", "清河坊", "松风路", "翠微巷", "枫林桥"]
PROBLEMS = [
    "垃圾堆积三天无人清理，气味很大", "路灯晚上不亮，行人出行不便", "烧烤店油烟直排扰民",
    "机动车长期占用人行道停放", "井盖松动，踩上去晃动", "工地夜间施工噪音扰民",
    "小广告贴满电线杆", "道路积水严重，车辆无法通行", "共享单车堆满盲道", "绿化带树木倒伏",
]  # fmt: skip


def tickets(n: int, prefix: str, rng: random.Random, categories: list[str], grids: list[str]):
    for i in range(n):
        yield {
            "ticket_no": f"{prefix}-{i:07d}",
            "caller_name": rng.choice("王李张刘陈杨赵黄周吴")
            + rng.choice(["芳", "伟", "敏", "强"]),
            "caller_phone": f"13{rng.randrange(10**9):09d}",
            "content": f"{rng.choice(PLACES)}{rng.randrange(1, 200)}号附近{rng.choice(PROBLEMS)}",
            "address": f"{rng.choice(PLACES)}{rng.randrange(1, 200)}号",
            "request_type": rng.choice(TYPES),
            "category": rng.choice(categories),
            "grid_code": rng.choice(grids),
        }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def summary(latencies: list[float], seconds: float, cases: int) -> dict[str, Any]:
    return {
        "cases": cases,
        "seconds": round(seconds, 3),
        "cases_per_s": round(cases / seconds, 1),
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
    }


async def post(client: httpx.AsyncClient, path: str, body: Any, headers: dict) -> float:
    start = time.perf_counter()
    response = await client.post(path, json=body, headers=headers)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - start


async def sequential(client, headers, rows) -> dict[str, Any]:
    start, latencies = time.perf_counter(), []
    for row in rows:
        latencies.append(await post(client, "/api/v1/intake/hotline", row, headers))
    return summary(latencies, time.perf_counter() - start, len(rows))


async def concurrent(client, headers, rows, in_flight: int) -> dict[str, Any]:
    queue = list(reversed(rows))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            latencies.append(await post(client, "/api/v1/intake/hotline", queue.pop(), headers))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return summary(latencies, time.perf_counter() - start, len(rows)) | {"in_flight": in_flight}


async def paced(client, headers, rows, rate: float) -> dict[str, Any]:
    """Open loop: request i is sent at start + i/rate whatever the answers do."""
    latencies: list[float] = []
    start = time.perf_counter()

    async def one(i: int, row: dict) -> None:
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        latencies.append(await post(client, "/api/v1/intake/hotline", row, headers))

    await asyncio.gather(*(one(i, row) for i, row in enumerate(rows)))
    seconds = time.perf_counter() - start
    return summary(latencies, seconds, len(rows)) | {"target_rate": rate}


async def batched(client, headers, rows, size: int) -> dict[str, Any]:
    start, latencies = time.perf_counter(), []
    for i in range(0, len(rows), size):
        body = {"tickets": rows[i : i + size]}
        latencies.append(await post(client, "/api/v1/intake/hotline/batch", body, headers))
    result = summary(latencies, time.perf_counter() - start, len(rows))
    return result | {"batch_size": size, "p50_ms_per_batch": result.pop("p50_ms"),
                     "p99_ms_per_batch": result.pop("p99_ms")}  # fmt: skip
