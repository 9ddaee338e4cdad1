"""`gridflow audit verify`: check every case's hash chain and name the first broken event."""

from __future__ import annotations

import argparse
import sys

from rich.progress import Progress
from sqlalchemy import func
from sqlmodel import select

from engine.audit import ChainBreak, verify_chains
from engine.cases.models import Case
from engine.db import make_engine, new_session
from engine.settings import get_settings


def cmd_verify(args: argparse.Namespace) -> int:
    db = make_engine(get_settings().database_url)
    breaks: list[ChainBreak] = []
    with new_session(db) as session:
        total = session.exec(select(func.count()).select_from(Case)).one()
        with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("verifying audit chains", total=total)
            for item in verify_chains(session):
                if isinstance(item, ChainBreak):
                    breaks.append(item)
                else:
                    progress.update(task, completed=item)
    for found in breaks:
        where = f"event {found.seq}" if found.seq is not None else "head"
        print(f"case {found.case_id}: {where}: {found.reason}")
    if breaks:
        print(f"{len(breaks)} of {total} cases have a broken audit chain", file=sys.stderr)
        return 1
    print(f"all {total} audit chains verified")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="sub", required=True
    )
    verify = audit.add_parser("verify", help="check every case's hash chain; exit 1 on a break")
    verify.set_defaults(func=cmd_verify)
