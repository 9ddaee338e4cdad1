"""`gridflow calendar import FILE`: a year's State Council holiday notice into the override
table, and every open deadline computed Monday to Friday for want of it recomputed."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.city.directory import CityDirectory
from engine.clock import Clock, FileClock, SystemClock
from engine.db import make_engine, new_session
from engine.ops.calendar_notice import import_notice, parse_notice
from engine.schema import upgrade_schema
from engine.settings import Settings, get_settings

ACTOR = "cli: calendar import"


def cli_clock(settings: Settings) -> Clock:
    """The instance's clock: the shared test/demo clock file if one is set, else real time."""
    return FileClock(settings.clock_file) if settings.clock_file else SystemClock()


def cmd_import(args: argparse.Namespace) -> int:
    settings = get_settings()
    notice = parse_notice(Path(args.file))
    db = make_engine(settings.database_url)
    upgrade_schema(db)
    try:
        with new_session(db) as session, session.begin():
            city = CityDirectory.load(session)
            result = import_notice(session, notice, city, ACTOR, cli_clock(settings).now())
            if args.dry_run:
                session.rollback()
    finally:
        db.dispose()
    off = sum(1 for d in notice.days if d.kind == "holiday")
    verb = "would load" if args.dry_run else "loaded"
    print(
        f"{verb} {notice.year}: {off} days off, {len(notice.days) - off} make-up workdays; "
        f"{len(result.recomputed)} open provisional deadlines recomputed"
    )
    for case_id, stage, before, after in result.recomputed:
        print(f"  case {case_id} {stage}: {before.isoformat()} -> {after.isoformat()}")
    if result.still_provisional:
        print(f"{result.still_provisional} deadlines still cross a year without a schedule")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    calendar = sub.add_parser("calendar", help="the working calendar")
    commands = calendar.add_subparsers(dest="sub", required=True)
    load = commands.add_parser(
        "import",
        help="load a year's holiday notice (TOML, see deploy/holidays-2027.example.toml) "
        "and recompute the provisional deadlines",
    )
    load.add_argument("file", help="the notice as TOML: year, [[holiday]] name, off, work")
    load.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    load.set_defaults(func=cmd_import)
