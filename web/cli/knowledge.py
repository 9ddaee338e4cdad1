"""`gridflow knowledge`: import articles from a spreadsheet, mark articles past their review
date expired, and flag the articles answered to callers who called again (docs/KNOWLEDGE.md).
The server runs the last two itself once a day (web/sweeps.py); the commands are for catching
up by hand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from adapters.hotline_import import read_rows
from engine.city.directory import CityDirectory
from engine.clock import Clock
from engine.db import make_engine, new_session, refresh_statistics
from engine.knowledge import importer, upkeep
from engine.schema import upgrade_schema
from engine.settings import get_settings
from engine.users.models import Principal, Role
from web.cli.calendar import cli_clock

MAX_SHOWN = 50


@contextmanager
def _database() -> Iterator[tuple[Engine, Clock]]:
    """The instance's database, brought to the current schema, and its clock."""
    settings = get_settings()
    db = make_engine(settings.database_url)
    upgrade_schema(db)
    try:
        yield db, cli_clock(settings)
    finally:
        db.dispose()


def _city(db: Engine) -> CityDirectory:
    with new_session(db) as session:
        return CityDirectory.load(session)


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else importer.DEMO_ARTICLES
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".csv"):
        raise ValueError(f"{path.name}: give an .xlsx or .csv file")
    author = Principal(args.actor, Role.admin)
    reviewer = Principal(args.published_by, Role.admin) if args.published_by else None
    with _database() as (db, clock):
        rows = read_rows(path, importer.HEADERS, importer.REQUIRED)
        with new_session(db) as session, session.begin():
            city = CityDirectory.load(session)
            report = importer.import_rows(session, author, rows, city, clock.now(), reviewer)
            kept = not args.dry_run and (not report.errors or args.skip_bad)
            if not kept:
                session.rollback()
        if kept and report.created:
            refresh_statistics(db, importer.FILLED_TABLES)
    for error in report.errors[:MAX_SHOWN]:
        print(f"  {error}", file=sys.stderr)
    if len(report.errors) > MAX_SHOWN:
        print(f"  … and {len(report.errors) - MAX_SHOWN} more", file=sys.stderr)
    verb = "imported" if kept else "would import"
    state = "published" if reviewer else "drafts"
    print(
        f"{verb} {len(report.created)} of {report.rows} rows as {state}; "
        f"{len(report.skipped)} already in the knowledge base; {len(report.errors)} errors"
    )
    if report.errors and not args.skip_bad and not args.dry_run:
        print("nothing written: fix the rows above, or pass --skip-bad", file=sys.stderr)
        return 1
    return 0


def cmd_expire(_: argparse.Namespace) -> int:
    with _database() as (db, clock):
        expired = upkeep.expire_articles(db, _city(db), clock.now())
    print(f"{len(expired)} articles past their review date marked expired")
    return 0


def cmd_repeats(args: argparse.Namespace) -> int:
    with _database() as (db, clock):
        city, now = _city(db), clock.now()
        since = now - timedelta(days=args.since_days)
        flags = upkeep.flag_repeat_calls(db, city, since, now, args.days)
    print(f"calls of the last {args.since_days} days checked: {flags} repeat-call flags")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    knowledge = sub.add_parser("knowledge", help="the knowledge base (知识库)")
    commands = knowledge.add_subparsers(dest="sub", required=True)
    load = commands.add_parser(
        "import",
        help="articles from a spreadsheet: 标题, 问题, 答复 and optionally 政策依据, 政策日期, "
        "事项分类, 部门, 维护部门, 生效日期, 复审日期 (docs/KNOWLEDGE.md)",
    )
    load.add_argument("file", help="an .xlsx or .csv file, one article per row")
    load.add_argument("--as", dest="actor", default="admin", help="the author recorded")
    load.add_argument(
        "--published-by",
        help="publish at once, recording this person as the reviewer who approved the sheet",
    )
    load.add_argument("--skip-bad", action="store_true", help="write the good rows anyway")
    load.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    load.set_defaults(func=cmd_import)
    demo = commands.add_parser(
        "demo", help="load the demo city's few dozen articles, published (re-runs add nothing)"
    )
    demo.set_defaults(
        func=cmd_import, file=None, actor="demo-author", published_by="demo-reviewer",
        skip_bad=False, dry_run=False,
    )  # fmt: skip
    expire = commands.add_parser("expire", help="mark articles past their review date expired")
    expire.set_defaults(func=cmd_expire)
    repeats = commands.add_parser(
        "repeats", help="flag articles answered to callers who called again on the same topic"
    )
    repeats.add_argument("--days", type=int, help="a repeat within N days (city.toml default)")
    repeats.add_argument("--since-days", type=int, default=1, help="check calls this recent")
    repeats.set_defaults(func=cmd_repeats)
