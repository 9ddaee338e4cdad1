"""`gridflow rules explain|backtest|versions`: the rule commands that read the database."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.city.grids import GridLocator
from engine.db import make_engine, new_session
from engine.dispatch import rule_versions as store
from engine.dispatch.backtest import backtest
from engine.dispatch.cases_file import SampleCase, label, sample_input
from engine.dispatch.explain import explain_case
from engine.errors import InvalidInput
from engine.rules import RuleTable
from engine.rules.matcher import explain
from engine.schema import upgrade_schema
from engine.settings import get_settings

INLINE = ("channel", "category", "unit", "lat", "lng", "description", "urgency", "request_type")


def _db() -> tuple[Engine, CityDirectory]:
    db = make_engine(get_settings().database_url)
    upgrade_schema(db)
    with new_session(db) as session:
        return db, CityDirectory.load(session)


def _candidate(path: Path, city: CityDirectory) -> RuleTable:
    try:
        table, _ = store.validate(path.read_text(encoding="utf-8"), city)
    except InvalidInput as exc:
        reasons = "\n  ".join(d["reason"] for d in exc.details)
        raise ValueError(f"{path}: invalid rule table:\n  {reasons}") from None
    return table


def _fmt(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) if value else "nothing"
    return "none" if value is None else str(value)


def miss_text(row: int, rule_id: str, field: str, expected: object, actual: object) -> str:
    """One row tried before the decision, and the first condition that failed."""
    if field == "keywords_all":
        lacks = [k for k in expected if k not in actual]  # type: ignore[attr-defined,operator]
        why = f"the description lacks {_fmt(lacks)}"
    elif field == "keywords_any":
        why = f"the description has none of {_fmt(expected)}"
    elif field == "keywords_none":
        why = f"the description has {_fmt(actual)}"
    else:
        why = f"{field} wants {_fmt(expected)}, the case has {_fmt(actual)}"
    return f"  tried row {row} {rule_id!r}: {why}"


def _print_explanation(
    table: RuleTable, sample: SampleCase, city: CityDirectory, db: Engine
) -> None:
    grids = GridLocator(db).index()
    inp, outside = sample_input(sample, city, grids)
    found = explain(table, inp)
    decision = found.decision
    print(
        f"table version {table.version}: rule {decision.rule_id!r} (row {decision.rule_index + 1})"
    )
    print(f"  → {label(decision, outside)}" + (" (point outside every grid)" if outside else ""))
    if decision.co_handlers:
        print(f"  co-handlers: {', '.join(decision.co_handlers)}")
    print(
        f"  urgency {decision.urgency}"
        + (f", limits {dict(decision.limits)}" if decision.limits else "")
    )
    for name, value in decision.matched.items():
        print(f"  held: {name} = {_fmt(value)}")
    for miss in found.tried:
        print(miss_text(miss.rule_index + 1, miss.rule_id, miss.field, miss.expected, miss.actual))


def _print_recorded(session: Session, case: Case) -> None:
    view = explain_case(session, store.LiveRules(), case)
    print(
        f"case {case.id} ({case.state}): source {view['source']}, department "
        f"{view['department']}, queue {view['queue']}"
    )
    decision = view["decision"]
    if decision is None:
        print("  no rule decision was recorded for this case")
        return
    print(
        f"  decided {decision['action']} by rule {decision['rule_id']!r} of table version "
        f"{decision['rules_version']}" + (f": {decision['reason']}" if decision["reason"] else "")
    )
    for name, value in decision["conditions"].items():
        print(f"  held: {name} = {_fmt(value)}")
    for miss in decision["tried"]:
        print(
            miss_text(miss["row"], miss["rule_id"], miss["field"], miss["expected"], miss["actual"])
        )
    for step in view["history"]:
        print(
            f"  #{step['seq']} {step['action']} by {step['actor']} ({step['actor_role']}): "
            f"{step['data']}"
        )


def cmd_explain(args: argparse.Namespace) -> int:
    db, city = _db()
    if args.case is not None:
        with new_session(db) as session:
            case = session.get(Case, args.case)
            if case is None:
                raise ValueError(f"case {args.case} not found")
            if not args.rules:
                _print_recorded(session, case)
                return 0
            fields = {
                k: str(getattr(case, k))
                for k in INLINE
                if k != "unit" and getattr(case, k) is not None
            }
            fields["unit"] = case.owning_unit
            at = case.created_at.astimezone(ZoneInfo(city.timezone))
            fields["at"] = at.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    else:
        fields = {k: str(v) for k in INLINE if (v := getattr(args, k)) is not None}
        if args.at:
            fields["at"] = args.at
    if args.rules:
        table = _candidate(Path(args.rules), city)
    else:
        with new_session(db) as session:
            active = store.LiveRules().active(session)
        if active is None:
            raise ValueError("no rule table is active; give --rules FILE")
        table = active
    _print_explanation(table, SampleCase(0, fields | {"expect": "-"}), city, db)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    db, city = _db()
    table = _candidate(Path(args.file), city)
    since = (
        datetime.fromisoformat(args.since).replace(tzinfo=ZoneInfo(city.timezone))
        if args.since
        else None
    )
    with new_session(db) as session:
        report = backtest(session, table, city, since)
    for moved in report.moved[: args.show]:
        print(
            f"case {moved.case_id}: handled by {moved.handled_by}, candidate → "
            f"{moved.candidate} (rule {moved.rule_id})"
        )
    if len(report.moved) > args.show:
        print(f"… and {len(report.moved) - args.show} more")
    print(
        f"{report.total} closed cases replayed against version {table.version}: "
        f"{report.same} same, {len(report.moved)} would go elsewhere"
    )
    if args.max_moved is not None and len(report.moved) > args.max_moved:
        print(f"more than {args.max_moved} would move: failing")
        return 1
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    db, _ = _db()
    with new_session(db) as session:
        for record in store.history(session, args.limit):
            mark = "*" if record.active else " "
            print(
                f"{mark} {record.version} {record.rows:>5} rows  "
                f"{record.created_at:%Y-%m-%d %H:%M} by {record.created_by}  {record.version_note}"
            )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    from web.cli.rules import reading

    explain_cmd = commands.add_parser("explain", help="which rule decides a case, and why")
    explain_cmd.add_argument("--case", type=int, help="a case id (its recorded decision)")
    explain_cmd.add_argument("--rules", help="explain against this candidate table instead")
    for name in INLINE:
        explain_cmd.add_argument(f"--{name.replace('_', '-')}", dest=name)
    explain_cmd.add_argument("--at", help="local time, e.g. '2026-03-02 10:00'")
    explain_cmd.set_defaults(func=reading(cmd_explain))

    back = commands.add_parser("backtest", help="replay closed cases against a candidate table")
    back.add_argument("file", help="the candidate rules.toml")
    back.add_argument("--since", help="only cases created from this local date/time")
    back.add_argument("--show", type=int, default=50, help="list at most this many moved cases")
    back.add_argument("--max-moved", type=int, help="exit 1 when more cases than this would move")
    back.set_defaults(func=reading(cmd_backtest))

    versions = commands.add_parser("versions", help="the stored rule tables, newest first")
    versions.add_argument("--limit", type=int, default=20)
    versions.set_defaults(func=cmd_versions)
