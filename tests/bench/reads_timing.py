"""Timing a request as `bench_reads.py` does: wall-clock time to the first byte of the body
and to the last, p50 / p99 over samples asked one after another after two warm-ups, the
server's CPU per request and its resident memory (not a test)."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn may fork), in KiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_ms(pid: int | None) -> float:
    """The server process's CPU time so far (user + system), in ms: unlike the wall-clock
    figures, hardly moved by other work on a shared machine."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def ask(client: httpx.Client, path: str, headers: dict[str, str]) -> tuple[int, float, float]:
    """One GET: its status, ms to the first byte of the body (to the headers when it has
    none) and ms to the last byte."""
    started = time.perf_counter()
    first = None
    with client.stream("GET", path, headers=headers) as response:
        for _ in response.iter_raw():
            if first is None:
                first = time.perf_counter()
        ended = time.perf_counter()
    return response.status_code, ((first or ended) - started) * 1000, (ended - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(
    client: httpx.Client, path: str, headers: dict[str, str], samples: int, pid: int | None = None
) -> dict[str, Any]:
    """p50 / p99 of the whole answer (``p50_ms`` / ``p99_ms``) and of its first byte
    (``first_byte_p50_ms`` / ``first_byte_p99_ms``), ms; the server's CPU ms a request."""
    statuses = {ask(client, path, headers)[0] for _ in range(2)}
    firsts, wholes = [], []
    cpu_before = cpu_ms(pid)
    for _ in range(samples):
        status, first, whole = ask(client, path, headers)
        statuses.add(status)
        firsts.append(first)
        wholes.append(whole)
    cpu = (cpu_ms(pid) - cpu_before) / samples
    out: dict[str, Any] = {
        "p50_ms": round(statistics.median(wholes), 1),
        "p99_ms": round(percentile(wholes, 0.99), 1),
        "first_byte_p50_ms": round(statistics.median(firsts), 1),
        "first_byte_p99_ms": round(percentile(firsts, 0.99), 1),
    }
    if pid is not None:
        out["server_cpu_ms"] = round(cpu, 1)  # per request, the mean
    if statuses != {200}:
        out["statuses"] = sorted(statuses)
    return out


def page_100(client: httpx.Client, path: str, headers: dict[str, str], params: set[str]) -> str:
    """The path of the list's 100th page of 50: by cursor (walked to once) or by offset."""
    glue = "&" if "?" in path else "?"
    if "cursor" not in params:
        return f"{path}{glue}limit=50&offset={99 * 50}"
    cursor = None
    for _ in range(99):
        query = f"{path}{glue}limit=50" + (f"&cursor={cursor}" if cursor else "")
        cursor = client.get(query, headers=headers).json().get("next_cursor")
        if cursor is None:
            return f"{path}{glue}limit=50&offset={99 * 50}"  # fewer than 100 pages
    return f"{path}{glue}limit=50&cursor={cursor}"
