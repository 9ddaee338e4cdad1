"""The closed loop of bench_http_loop.py through the ASGI app itself: no server, no client.

Run by ``bench_http_loop.py --in-process`` with the tree to measure as the working directory
(its code is imported), with the database and tokens of ``measure`` in the environment and
on the command line. Each request is one ASGI call with a prepared scope; the figure is this
process's CPU (every thread: the routes' worker threads too) per case, so it is what the app
costs without uvicorn's HTTP parsing and the client. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.getcwd())

from web.app import create_app

REPORT = {"channel": "web", "category": "06002", "grid_code": "01010101",
          "description": "小区门口垃圾堆积三天无人清理，气味很大"}  # fmt: skip


class Loop:
    def __init__(self, app: Any, tokens: dict[str, str]) -> None:
        self.app, self.tokens = app, tokens
        self.times: dict[str, list[float]] = {}

    async def post(self, name: str, path: str, who: str, body: dict) -> dict:
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                   (b"content-length", str(len(raw)).encode()),
                   (b"authorization", f"Bearer {self.tokens[who]}".encode())]  # fmt: skip
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "headers": headers,
                 "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 50000)}  # fmt: skip
        messages = [{"type": "http.request", "body": raw, "more_body": False}]
        status, chunks = 0, []

        async def receive() -> dict:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # no disconnect while the answer is written
            return {}

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                chunks.append(message.get("body", b""))

        started = time.process_time()
        await self.app(scope, receive, send)
        self.times.setdefault(name, []).append(time.process_time() - started)
        if status not in (200, 201):
            raise RuntimeError(f"{name}: {status} {b''.join(chunks)[:300]!r}")
        return json.loads(b"".join(chunks))

    async def one(self) -> bool:
        case = await self.post("file", "/api/v1/cases", "operator", REPORT)
        act = f"/api/v1/cases/{case['id']}/actions/"
        if case["state"] == "registered":
            case = await self.post("dispatch", act + "dispatch", "dispatcher",
                                   {"department": "HW-01"})  # fmt: skip
        await self.post("accept", act + "accept", "handler", {})
        await self.post("resolve", act + "resolve", "handler", {"result": "已清运"})
        check = {"passed": True, "photos": ["p/after.jpg"]}
        case = await self.post("verify", act + "verify", "grid_worker", check)
        return case["state"] == "closed"


async def run(tokens: dict[str, str], cases: int, warmup: int) -> dict[str, Any]:
    app = create_app()
    async with app.router.lifespan_context(app):
        loop = Loop(app, tokens)
        for _ in range(warmup):
            await loop.one()
        loop.times.clear()
        started = time.process_time()
        closed = 0
        for _ in range(cases):
            closed += await loop.one()
        cpu = time.process_time() - started
    requests = sum(len(v) for v in loop.times.values())
    return {
        "closed": closed,
        "requests": requests,
        "cpu_ms_per_case": round(cpu * 1000 / cases, 2),
        "cpu_ms_per_request": round(cpu * 1000 / requests, 2),
        "p50_cpu_ms": {k: round(statistics.median(v) * 1000, 2) for k, v in loop.times.items()},
    }


if __name__ == "__main__":
    tokens, cases, warmup = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(asyncio.run(run(tokens, cases, warmup))))
