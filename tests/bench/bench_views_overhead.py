"""Benchmark: what the read models (ViewsHook) cost batched hotline intake (not a pytest test).

Two in-process apps on the demo city (same code, two SQLite files): A with every hook of
``web/context.py``, B with the ``ViewsHook`` dropped from ``ctx.cases.hooks`` after building;
both started as a server starts its app (the lifespan: background work, and start-up frozen
out of the garbage collector's full passes).
Runs of ``--batches`` × ``POST /api/v1/intake/hotline/batch`` (``--batch-size`` tickets) go
to A and B in turn (A, B, A, B, …) after a warm-up batch each; each run is timed in this
process's CPU (``time.process_time``: the machine is shared, wall clock is noise). A's
hook is also timed from inside (the worker thread's CPU in ``ViewsHook.after_change`` and
``Pending.write``), which the load skews far less. Prints one JSON object: CPU µs per case
of each run, the medians, A / B (also per adjacent pair), and the hook's own µs per case
and its share.

Run: ``python tests/bench/bench_views_overhead.py [--runs 5] [--no-gc] [--profile]``. ``--profile``
adds one A run profiled inside the hook (the route runs in a worker thread, so only the
hook's calls are profiled there): the top functions by tottime.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from engine.settings import Settings  # noqa: E402
from engine.views.facts import Pending  # noqa: E402
from engine.views.hooks import ViewsHook  # noqa: E402
from tests.bench.bench_intake import CITY, SEED, city_db  # noqa: E402
from tests.bench.intake_load import tickets  # noqa: E402

NO_GC = False


async def app_client(directory: Path, name: str, with_views: bool, served):  # type: ignore[no-untyped-def]
    """A client of a fresh app, started (its lifespan entered on ``served``) as a server
    starts it."""
    from web.app import create_app
    from web.context import build_context

    url, token = city_db(directory, name)
    settings = Settings(
        database_url=url,
        city_dir=CITY,
        intake_rate_per_second=0,
        outbox_poll_seconds=0,
        secret_key="bench-views-overhead-" + "k" * 32,
    )
    ctx = build_context(settings)
    if not with_views:
        ctx.cases.hooks[:] = [h for h in ctx.cases.hooks if not isinstance(h, ViewsHook)]
    app = create_app(context=ctx)
    await served.enter_async_context(app.router.lifespan_context(app))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    return ctx, client, {"Authorization": f"Bearer {token}"}


async def run(client, headers, rows: list[dict], size: int) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds of this process to post ``rows`` in batches of ``size``."""
    if NO_GC:  # the garbage collector's passes land on whichever code allocates: noise
        gc.collect()
        gc.disable()
    try:
        return await _run(client, headers, rows, size)
    finally:
        gc.enable()


async def _run(client, headers, rows: list[dict], size: int) -> float:  # type: ignore[no-untyped-def]
    cpu = time.process_time()
    for i in range(0, len(rows), size):
        answer = await client.post(
            "/api/v1/intake/hotline/batch", json={"tickets": rows[i : i + size]}, headers=headers
        )
        answer.raise_for_status()
    return time.process_time() - cpu


class HookTimer:
    """The worker thread's CPU inside the hook's two entry points (and, when ``profile`` is
    set, a cProfile of them)."""

    def __init__(self, hook: ViewsHook) -> None:
        self.seconds = {"steps": 0.0, "write": 0.0}
        self.depth = 0
        self.profile: cProfile.Profile | None = None
        hook.after_change = self.timed(hook.after_change, "steps")  # type: ignore[method-assign]
        write = self.timed(Pending.write, "write")
        Pending.write = lambda pending, connection: write(pending, connection)  # type: ignore[method-assign]

    def timed(self, fn, name: str):  # type: ignore[no-untyped-def]
        def call(*args):  # type: ignore[no-untyped-def]
            if self.depth:
                return fn(*args)
            self.depth += 1
            start = time.thread_time()
            try:
                if self.profile is not None:
                    return self.profile.runcall(fn, *args)
                return fn(*args)
            finally:
                self.seconds[name] += time.thread_time() - start
                self.depth -= 1

        return call


def top_functions(profile: cProfile.Profile, top: int) -> list[str]:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(top)
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    start = next(i for i, line in enumerate(lines) if "tottime" in line)
    return [line.replace(str(ROOT) + "/", "") for line in lines[start:] if line]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each of A and B")
    parser.add_argument("--batches", type=int, default=4, help="batches per run")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="one cProfile'd A run")
    parser.add_argument("--no-gc", action="store_true", help="garbage collector off in runs")
    args = parser.parse_args()
    global NO_GC
    NO_GC = args.no_gc

    from engine.city.loader import read_city

    files = read_city(CITY)
    categories = [c.code for c in files.categories]
    grids = [u.code for u in files.units if u.tier == "grid"]
    rng = random.Random(SEED)
    per_run = args.batches * args.batch_size
    load_before = [round(x, 2) for x in os.getloadavg()]
    result: dict[str, Any] = {
        "batch_size": args.batch_size, "cases_per_run": per_run, "gc": not args.no_gc,
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gridflow-views-bench-") as tmp:
        directory = Path(tmp)
        served = contextlib.AsyncExitStack()
        a = await app_client(directory, "a.db", True, served)
        b = await app_client(directory, "b.db", False, served)
        result["hooks_a"] = [type(h).__name__ for h in a[0].cases.hooks]
        result["hooks_b"] = [type(h).__name__ for h in b[0].cases.hooks]
        timer = HookTimer(next(h for h in a[0].cases.hooks if isinstance(h, ViewsHook)))
        for name, (_, client, headers) in (("a", a), ("b", b)):  # warm-up
            rows = list(tickets(args.batch_size, f"w{name}", rng, categories, grids))
            await run(client, headers, rows, args.batch_size)
        times: dict[str, list[float]] = {"a": [], "b": [], "hook": [], "steps": [], "write": []}
        for i in range(args.runs):
            for name, (_, client, headers) in (("a", a), ("b", b)):
                rows = list(tickets(per_run, f"{name}{i}", rng, categories, grids))
                timer.seconds = dict.fromkeys(timer.seconds, 0.0)
                seconds = await run(client, headers, rows, args.batch_size)
                times[name].append(round(seconds / per_run * 1e6, 1))
                if name == "a":
                    for part, spent in timer.seconds.items():
                        times[part].append(round(spent / per_run * 1e6, 1))
                    times["hook"].append(round(times["steps"][-1] + times["write"][-1], 1))
        if args.profile:
            _, client, headers = a
            rows = list(tickets(per_run, "prof", rng, categories, grids))
            timer.profile = cProfile.Profile()
            await run(client, headers, rows, args.batch_size)
            result["profile_a_hook"] = top_functions(timer.profile, 30)
        await served.aclose()
        for ctx, client, _ in (a, b):
            await client.aclose()
            ctx.db.dispose()
    median_a, median_b = statistics.median(times["a"]), statistics.median(times["b"])
    result |= {
        "cpu_us_per_case_with_views": times["a"],
        "cpu_us_per_case_without_views": times["b"],
        "median_with_views": median_a,
        "median_without_views": median_b,
        "ratio_with_over_without": round(median_a / median_b, 3),
        # each A run against the B run right after it: drift over the runs cancels out
        "median_paired_ratio": round(
            statistics.median(x / y for x, y in zip(times["a"], times["b"], strict=True)), 3
        ),
        "hook_cpu_us_per_case": times["hook"],
        "median_hook": statistics.median(times["hook"]),
        "hook_share_of_with_views": round(statistics.median(times["hook"]) / median_a, 3),
        # the hook's own CPU over the rest of the same run's: the overhead without the noise
        # of the B runs (a garbage collection it sets off elsewhere is not counted)
        "median_hook_over_rest": round(
            statistics.median(h / (x - h) for h, x in zip(times["hook"], times["a"], strict=True)),
            3,
        ),
        "median_hook_steps": statistics.median(times["steps"]),
        "median_hook_write": statistics.median(times["write"]),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
