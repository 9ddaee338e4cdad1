"""`gridflow simulate`: the city on a virtual clock for N days, and what-if comparisons.

Each run gets a fresh database (a temporary SQLite file unless ``--db``) holding the city and
its rule table, and drives the real case service, dispatch rules, SLA timers and escalation
(engine/simulation). ``--vs-rules`` / ``--vs-capacity`` run the same arrivals a second time
with another rule table or other capacities and print both side by side.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar

from engine.city.directory import CityDirectory
from engine.city.loader import read_city, store_city
from engine.clock import VirtualClock
from engine.db import new_session
from engine.errors import InvalidInput
from engine.settings import Settings, get_settings
from engine.simulation import SimEnv, SimulationConfig, arrivals, horizon, plan_capacity, run
from engine.simulation.report import SimulationReport, summarize
from engine.simulation.run import Progress
from web.cli.simulate_print import print_compare, print_report, report_json
from web.context import build_context

TZ = "Asia/Shanghai"


def _capacity(items: list[str] | None) -> dict[str, int]:
    out = {}
    for item in items or []:
        code, _, number = item.partition("=")
        if not number.isdigit() or int(number) < 1:
            raise InvalidInput(
                "capacity", f"{item!r}: give DEPARTMENT=CASES_AT_ONCE, e.g. HW-01=12"
            )
        out[code.strip()] = int(number)
    return out


def _rules(path: str | None) -> str | None:
    return Path(path).read_text(encoding="utf-8") if path else None


def simulate_once(
    config: SimulationConfig,
    city_dir: Path,
    url: str,
    capacity: dict[str, int] | None,
    label: str,
    console: Console | None,
    on_progress: Progress | None = None,
    scratch: bool = False,
) -> SimulationReport:
    """One run on a fresh database at ``url``; ``capacity`` None: sized to the workload the
    active rule table sends each department. ``scratch``: the database is deleted after the
    run, so its commits need not survive a power cut (no fsync)."""
    files = read_city(city_dir)
    clock = VirtualClock(horizon(config, str(files.settings.get("timezone", TZ)))[0])
    settings = Settings(database_url=url, city_dir=city_dir)
    ctx = build_context(settings, clock, durable=not scratch)
    # The run's database is its own: no other process edits its rules or calendar, so the
    # caches need not look for such edits every few simulated seconds.
    ctx.rules.POLL = ctx.calendars.RECHECK = timedelta(days=366)
    try:
        with new_session(ctx.db) as session, session.begin():
            store_city(session, files)
            session.flush()
            city = CityDirectory.load(session)
            text = config.rules_text or files.rules_text
            if text is not None:
                ctx.rules.activate(session, text, city, "simulate", clock.now())
        ctx.reload_city()
        city = ctx.city
        env = SimEnv(ctx.db, ctx.cases, ctx.sweeper, clock, ctx.calendars.get(), city)
        unknown = sorted((set(capacity or {}) | set(config.capacity)) - set(city.departments))
        if unknown:
            raise InvalidInput("capacity", f"unknown departments {unknown}")
        items = arrivals(config, city)
        if capacity is None:
            with new_session(ctx.db) as session:
                table = ctx.rules.active(session)
            capacity = plan_capacity(config, city, table, items)
        if console is None:
            stats = run(env, config, capacity, items, on_progress)
        else:
            with ProgressBar(
                TextColumn(f"[bold]{label}[/]"),
                BarColumn(),
                TextColumn("{task.percentage:>5.1f}% of the simulated days"),
                TextColumn("{task.fields[cases]} cases"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task(label, total=1.0, cases=0)

                def show(done: float, seen: dict[str, int]) -> None:
                    progress.update(task, completed=done, cases=seen.get("cases", 0))

                stats = run(env, config, capacity, items, show)
        return summarize(env, ctx.workflow, stats)
    finally:
        ctx.db.dispose()


def cmd_simulate(args: argparse.Namespace) -> int:
    city_dir = Path(args.city) if args.city else get_settings().city_dir
    config = SimulationConfig(
        days=args.days,
        events_per_day=args.events_per_day,
        seed=args.seed,
        start=date.fromisoformat(args.start),
        rules_text=_rules(args.rules),
        capacity=_capacity(args.capacity),
    )
    compare = args.vs_rules is not None or args.vs_capacity
    if compare and args.db:
        raise InvalidInput("db", "a comparison runs twice on temporary databases: drop --db")
    console = None if args.quiet or args.json else Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="gridflow-sim-") as scratch:
        url = args.db or f"sqlite:///{Path(scratch) / 'a.db'}"
        first = simulate_once(config, city_dir, url, None, "A", console, scratch=not args.db)
        if not compare:
            _emit(args, first, None)
            return 0
        variant = replace(
            config,
            rules_text=_rules(args.vs_rules) or config.rules_text,
            capacity=config.capacity | _capacity(args.vs_capacity),
        )
        url_b = f"sqlite:///{Path(scratch) / 'b.db'}"
        capacity = first.stats.capacity
        second = simulate_once(variant, city_dir, url_b, capacity, "B", console, scratch=True)
    _emit(args, first, second)
    return 0


def _emit(args: argparse.Namespace, a: SimulationReport, b: SimulationReport | None) -> None:
    if args.json:
        out = {"a": report_json(a)} | ({"b": report_json(b)} if b else {})
        print(json.dumps(out if b else out["a"], ensure_ascii=False, indent=2, default=str))
        return
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # a log or a pipe: do not squeeze the tables
    if b is None:
        print_report(console, a, top=args.top)
    else:
        print_compare(console, a, b, top=args.top)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulate",
        help="simulate the city for N days on a virtual clock (what-if: --vs-rules/--vs-capacity)",
    )
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--events-per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2026-03-02", help="first day (local), YYYY-MM-DD")
    parser.add_argument("--city", help="city directory (default GRIDFLOW_CITY_DIR)")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--rules", help="a rule table to run instead of the city's rules.toml")
    parser.add_argument(
        "--capacity", action="append", metavar="DEPT=N", help="cases a department works on at once"
    )
    parser.add_argument("--vs-rules", help="what-if: the same days under this rule table")
    parser.add_argument(
        "--vs-capacity", action="append", metavar="DEPT=N", help="what-if: other capacities"
    )
    parser.add_argument("--top", type=int, default=12, help="departments shown (by cases)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_simulate)
