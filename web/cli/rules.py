"""`gridflow rules check|test|explain|backtest|activate|versions`: maintain the dispatch table.

``check`` and ``test`` work on files (the city directory gives the departments, categories,
org tree and grids: ``--city DIR``, else the rules file's own directory when it holds a
city.toml, else GRIDFLOW_CITY_DIR); ``explain``, ``backtest``, ``activate`` and
``versions`` work on the database. Exit codes: 0 fine, 1 errors / mismatches / refused,
2 bad usage or input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from engine.city.directory import CityDirectory
from engine.city.loader import read_city
from engine.clock import SystemClock
from engine.db import make_engine, new_session
from engine.dispatch import rule_versions as store
from engine.dispatch.cases_file import read_cases, run_cases
from engine.errors import InvalidInput
from engine.geo import GridIndex
from engine.rules import RuleTable
from engine.rules.check import check_table
from engine.rules.table import RuleTableError, parse_table
from engine.schema import upgrade_schema
from engine.settings import get_settings
from web.cli import rules_db


def city_dir(args: argparse.Namespace, rules_file: Path | None) -> Path:
    if getattr(args, "city", None):
        return Path(args.city)
    if rules_file is not None and (rules_file.parent / "city.toml").exists():
        return rules_file.parent
    return get_settings().city_dir


def city_from_dir(directory: Path) -> tuple[CityDirectory, GridIndex | None, Path]:
    """The city of a configuration directory (not the database), its grids and rules.toml."""
    files = read_city(directory)
    city = CityDirectory(
        name=files.name,
        settings=files.settings,
        units={u.code: u for u in files.units},
        departments={d.code: d for d in files.departments},
        categories={c.code: c for c in files.categories},
    )
    grids = GridIndex.from_geojson(files.grids_geojson) if files.grids_geojson else None
    return city, grids, directory / "rules.toml"


def cmd_check(args: argparse.Namespace) -> int:
    given = Path(args.file) if args.file else None
    city, _, default = city_from_dir(city_dir(args, given))
    path = given or default
    text = path.read_text(encoding="utf-8")
    departments, categories = set(city.departments), set(city.categories)
    problems: list[str] = []
    table: RuleTable | None
    try:
        table = parse_table(text, departments, categories)
    except RuleTableError as exc:
        problems = [str(p) for p in exc.problems]
        try:  # the static checks still run on a table that parses on its own
            table = parse_table(text)
        except RuleTableError:
            table = None
    findings = check_table(table, departments, categories) if table is not None else []
    if problems:  # unknown codes are already among the problems
        findings = [f for f in findings if f.code not in ("unknown-department", "unknown-category")]
    if table is not None:
        print(f"{path}: {len(table.rules)} rows, version {table.version}")
    for problem in problems:
        print(f"error: {problem}")
    for finding in findings:
        print(finding)
    errors = len(problems) + sum(1 for f in findings if f.severity == "error")
    warnings = sum(1 for f in findings if f.severity == "warning")
    print(f"{errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _table(text: str, city: CityDirectory, source: Path | str) -> RuleTable:
    try:
        table, _ = store.validate(text, city)
    except InvalidInput as exc:
        reasons = "\n  ".join(d["reason"] for d in exc.details)
        raise ValueError(f"{source}: invalid rule table:\n  {reasons}") from None
    return table


def cmd_test(args: argparse.Namespace) -> int:
    path = Path(args.file)
    city, grids, default = city_from_dir(city_dir(args, Path(args.rules) if args.rules else path))
    if args.active:
        db = make_engine(get_settings().database_url)
        with new_session(db) as session:
            record = store.active_record(session)
        if record is None:
            raise ValueError("no rule table is active in the database")
        text, source = record.text, f"active table {record.version}"
    else:
        rules = Path(args.rules) if args.rules else default
        text, source = rules.read_text(encoding="utf-8"), str(rules)
    table = _table(text, city, source)
    outcomes = run_cases(table, read_cases(path), city, grids)
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        want = o.case.fields["expect"]
        rule = o.case.fields.get("expect_rule")
        wanted = f"{want} (rule {rule})" if rule else want
        print(f"FAIL {o.case.label}: expected {wanted}, got {o.got} (rule {o.rule_id})")
    print(
        f"{len(outcomes) - len(failed)} of {len(outcomes)} cases as expected "
        f"against {source} (version {table.version})"
    )
    return 1 if failed else 0


def cmd_activate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    text = path.read_text(encoding="utf-8")
    db = make_engine(get_settings().database_url)
    upgrade_schema(db)
    with new_session(db) as session:
        city = CityDirectory.load(session)
    try:
        with new_session(db) as session, session.begin():
            done = store.LiveRules().activate(session, text, city, args.by, SystemClock().now())
    except InvalidInput as exc:
        for detail in exc.details:
            print(f"error: {detail['reason']}")
        print(f"{path}: refused; the active table is unchanged")
        return 1
    for finding in done.findings:
        print(finding)
    if done.changed:
        print(
            f"activated version {done.table.version} ({len(done.table.rules)} rows), "
            f"replacing {done.previous or 'none'}"
        )
    else:
        print(f"version {done.table.version} is already active")
    return 0


def reading(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A missing or unreadable file is bad input (exit 2 with a message), not a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except OSError as exc:
            raise ValueError(f"{exc.filename or 'file'}: {exc.strerror or exc}") from None

    return run


def register(sub: argparse._SubParsersAction) -> None:
    rules = sub.add_parser(
        "rules", help="check, test, explain, backtest and activate dispatch rules"
    )
    commands = rules.add_subparsers(dest="sub", required=True)
    check = commands.add_parser("check", help="static checks of a rules.toml; exit 1 on errors")
    check.add_argument("file", nargs="?", help="default: the city directory's rules.toml")
    check.add_argument("--city", help="city directory for departments and categories")
    check.set_defaults(func=reading(cmd_check))

    test = commands.add_parser(
        "test", help="run sample cases (CSV or TOML) against a table; exit 1 on any mismatch"
    )
    test.add_argument("file", help="the sample cases with their expected departments")
    test.add_argument("--rules", help="the table to test (default: the city's rules.toml)")
    test.add_argument("--active", action="store_true", help="test the database's active table")
    test.add_argument("--city", help="city directory (org tree, grids, departments)")
    test.set_defaults(func=reading(cmd_test))

    activate = commands.add_parser("activate", help="make a rules.toml the live table")
    activate.add_argument("file")
    activate.add_argument("--by", default="cli", help="who activates it (recorded)")
    activate.set_defaults(func=reading(cmd_activate))
    rules_db.register(commands)
