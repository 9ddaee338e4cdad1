"""Benchmark: `gridflow import history` on SQLite (not a test).

For each run a fresh SQLite instance of the demo city (``gridflow init --example demo_city``)
imports a JSON Lines history (made by ``gridflow history generate``, a year ending
yesterday, unless ``--file`` names one) in a child process, two ways:

- ``cli``: ``gridflow import history FILE --quiet``, as an operator runs it (the read models
  kept per batch);
- ``landing``: the same import without the read-model sink (cases, audit events, the
  full-text index, open cases' clocks and timers, nothing else), to show the sink's share.

Per run: wall seconds, cases/s, and the CPU seconds of the import process and of its worker
processes (``resource.getrusage``), which on a shared machine say more than the wall clock;
the median of ``--repeat`` runs per way. ``--check`` runs ``gridflow views check`` and
``gridflow audit verify`` after the last ``cli`` run. Prints one JSON object.

Run: ``python tests/bench/bench_import.py --cases 100000 --repeat 3 [--file F] [--check]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CITY = ROOT / "examples" / "demo_city"
CLI = [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]


def environment(workdir: Path) -> dict[str, str]:
    return {
        "GRIDFLOW_DATABASE_URL": f"sqlite:///{workdir / 'gridflow.db'}",
        "GRIDFLOW_INSTANCE_DIR": str(workdir / "instance"),
        "GRIDFLOW_CITY_DIR": str(CITY),
    }


def run(command: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Standard output, wall seconds and CPU seconds (the process and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=os.environ | env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: some records refused, or a check's findings
        raise RuntimeError(f"{' '.join(command[3:])}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, seconds, cpu


def history(directory: Path, cases: int) -> Path:
    path = directory / f"history-{cases}.jsonl"
    if not path.exists():
        end = (date.today() - timedelta(days=1)).isoformat()
        plan = ["--cases", str(cases), "--days", "365", "--end", end, "--quiet"]
        partial = path.with_suffix(".partial")
        run([*CLI, "history", "generate", str(partial), *plan], {"GRIDFLOW_CITY_DIR": str(CITY)})
        partial.rename(path)
    return path


def landing_only(source: str) -> None:
    """The child of a ``landing`` run: the import without the read-model sink."""
    sys.path.insert(0, str(ROOT))
    from engine.history.service import HistoryImport, read_jsonl
    from engine.settings import get_settings
    from web.cli.history import _summary, _workers
    from web.context import build_context

    ctx = build_context(get_settings())
    started = time.perf_counter()
    importer = HistoryImport(
        ctx.db, ctx.clock, ctx.workflow, ctx.city, ctx.calendars, ctx.audit_keys,
        workers=_workers(None),
    )  # fmt: skip
    report = importer.run(read_jsonl(Path(source)), lambda bad: None)
    _summary(report, time.perf_counter() - started)


def one_run(way: str, source: Path, workdir: Path) -> dict[str, Any]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    env = environment(workdir)
    run([*CLI, "init", "--example", "demo_city"], env)
    if way == "cli":
        command = [*CLI, "import", "history", str(source), "--quiet"]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--child-landing", str(source)]
    summary, wall, cpu = run(command, env)
    found = re.search(r"(\d+) cases imported.*?([\d.]+) s, ([\d,]+) cases/s", summary)
    if not found:
        raise RuntimeError(f"no summary: {summary[-500:]}")
    landed, seconds = int(found[1]), float(found[2])
    return {
        "cases": landed,
        "import_s": seconds,
        "cases_per_s": round(landed / seconds),
        "process_wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "cpu_us_per_case": round(cpu / landed * 1e6),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--file", help="a history to import (default: generated in --dir)")
    parser.add_argument("--dir", default=str(ROOT / "var" / "bench-import"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ways", default="cli,landing")
    parser.add_argument("--check", action="store_true", help="views check + audit verify")
    parser.add_argument("--child-landing", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_landing:
        landing_only(args.child_landing)
        return 0
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    source = Path(args.file) if args.file else history(directory, args.cases)
    result: dict[str, Any] = {"file": str(source), "cpus": os.cpu_count(), "load_before": load()}
    for way in args.ways.split(","):
        runs = [one_run(way, source, directory / f"sqlite-{way}") for _ in range(args.repeat)]
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        result[way] = {"median": median, "runs": runs}
    if args.check and "cli" in args.ways:
        env = environment(directory / "sqlite-cli")
        out, seconds, _ = run([*CLI, "views", "check"], env)
        result["views_check"] = {"seconds": round(seconds, 1), "output": out.strip()[-300:]}
        out, seconds, _ = run([*CLI, "audit", "verify"], env)
        result["audit_verify"] = {"seconds": round(seconds, 1), "output": out.strip()[-300:]}
    result["load_after"] = load()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
