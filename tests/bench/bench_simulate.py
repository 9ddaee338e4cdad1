"""Benchmark: `gridflow simulate` of the demo city (not a pytest test).

Runs the simulator (engine/simulation, through the real case service, dispatch rules, SLA
timers and escalation) on a temporary SQLite file and prints one JSON object: wall and CPU
seconds, audit events written (= case actions, follow-ups included) per second, service
calls per second, the wall seconds of each simulated day (does the engine slow down as the
tables grow?), the load average (a shared machine skews every figure), the case states at
the end and the headline KPIs.

Run: ``python tests/bench/bench_simulate.py --days 7 --events-per-day 5000`` (the issue's
target: under two minutes). ``--extrapolate-days 30`` adds a linear estimate for a longer
run at the same rate from the measured per-day cost of the later days.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.simulation import SimulationConfig  # noqa: E402
from web.cli import simulate as cli  # noqa: E402
from web.cli.simulate_print import run_summary  # noqa: E402

CITY = ROOT / "examples" / "demo_city"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--events-per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--extrapolate-days", type=int, default=0)
    args = parser.parse_args()
    config = SimulationConfig(days=args.days, events_per_day=args.events_per_day, seed=args.seed)
    marks: list[tuple[float, float]] = []  # (simulated fraction, wall seconds)
    began = time.perf_counter()

    def progress(done: float, _: dict[str, int]) -> None:
        wall = time.perf_counter() - began
        if int(done * args.days) > int(marks[-1][0] * args.days if marks else 0):
            # A line per simulated day on stderr: long runs show where they are.
            print(f"day {int(done * args.days)}/{args.days} at {wall:.0f} s", file=sys.stderr)
        marks.append((done, wall))

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="gridflow-bench-sim-") as scratch:
        total_began = time.perf_counter()
        url = f"sqlite:///{Path(scratch) / 'sim.db'}"
        report = cli.simulate_once(config, CITY, url, None, "bench", None, progress, scratch=True)
        total = time.perf_counter() - total_began
        size = (Path(scratch) / "sim.db").stat().st_size
    per_day = []
    for day in range(1, args.days + 1):
        reached = [wall for done, wall in marks if done >= day / args.days]
        per_day.append(round(reached[0], 1) if reached else None)
    day_costs = [b - a for a, b in zip([0.0, *per_day[:-1]], per_day, strict=True) if b]
    summary = run_summary(report)
    out = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "days": args.days,
        "events_per_day": args.events_per_day,
        "run": summary,
        "total_seconds_with_setup_and_report": round(total, 1),
        "wall_seconds_at_end_of_each_day": per_day,
        "wall_seconds_per_day": [round(c, 1) for c in day_costs],
        "database_mb": round(size / 1e6, 1),
        "states": report.states,
        "breaches_by_stage": report.breaches,
        "escalations_by_tier": report.escalations,
        "kpi_total": {
            k: getattr(report.kpis.total, k)
            for k in (
                "score",
                "on_time_accept_rate",
                "on_time_resolve_rate",
                "resolution_rate",
                "satisfaction_rate",
                "rework_rate",
                "return_rate",
                "redispatch_rate",
                "overdue_cases",
                "avg_handle_hours",
            )
        },
        "target_seconds": 120 if (args.days, args.events_per_day) == (7, 5000) else None,
    }
    if args.extrapolate_days and len(day_costs) >= 2:
        later = day_costs[len(day_costs) // 2 :]
        per = sum(later) / len(later)
        out["extrapolated"] = {
            "days": args.extrapolate_days,
            "seconds_per_day_used": round(per, 1),
            "estimated_wall_seconds": round(per * args.extrapolate_days),
            "method": "mean wall seconds of the later half of the measured days × days "
            "(linear; the per-day cost grows as the tables grow, so this is a lower bound)",
        }
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
