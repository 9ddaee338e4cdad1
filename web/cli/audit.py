"""`gridflow audit verify | checkpoint | rotate-key`: the audit trail's keys, checkpoints and
verification (engine.audit)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select

from engine.audit import AuditKeys, Finding, checkpoints_file, take_checkpoint, verify_trail
from engine.audit import Progress as Step
from engine.audit.checkpoints import read_checkpoints
from engine.audit.sequence import EVENTS
from engine.cases.models import Case
from engine.clock import SystemClock
from engine.db import make_engine, new_session
from engine.outbox.witness import queue_checkpoints
from engine.settings import get_settings


def _progress() -> Progress:
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def cmd_verify(args: argparse.Namespace) -> int:
    settings = get_settings()
    db = make_engine(settings.database_url)
    keys = AuditKeys(settings.instance_dir)
    with new_session(db) as session:
        cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
        events = session.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    kinds: Counter[str] = Counter()
    with _progress() as progress:
        tasks = {
            "cases": progress.add_task("cases and their chains", total=cases),
            "sequence": progress.add_task("global sequence, checkpoints", total=events),
        }
        trail = verify_trail(db, keys, checkpoints_file(settings.instance_dir), args.batch)
        for item in trail:
            if isinstance(item, Step):
                progress.update(tasks[item.stage], completed=item.done)
            else:
                _report(item, kinds)
    db.dispose()
    if kinds:
        summary = ", ".join(f"{kind}: {n}" for kind, n in kinds.most_common())
        print(f"{kinds.total()} findings in the audit trail ({summary})", file=sys.stderr)
        return 1
    print(f"audit trail verified: {cases} cases, {events} events")
    return 0


def _report(finding: Finding, kinds: Counter[str]) -> None:
    kinds[finding.kind] += 1
    print(finding, flush=True)


def cmd_checkpoint(args: argparse.Namespace) -> int:
    settings = get_settings()
    db = make_engine(settings.database_url)
    keys = AuditKeys(settings.instance_dir)
    now = SystemClock().now()
    checkpoint = take_checkpoint(db, keys, settings.instance_dir, now)
    if checkpoint is None:
        print("no events since the last checkpoint")
    else:
        print(
            f"checkpoint {checkpoint.number}: {checkpoint.count} events up to global number "
            f"{checkpoint.seq}, signed with audit key {checkpoint.key_id}"
        )
    url = settings.audit_witness_url
    if url:  # this one, and any an earlier run wrote but did not queue
        lines = read_checkpoints(checkpoints_file(settings.instance_dir))
        queued = queue_checkpoints(db, lines, url, now)
        if queued:
            numbers = ", ".join(str(c.number) for c in queued)
            print(
                f"queued for the audit witness at {url} (the server's outbox posts it): {numbers}"
            )
    db.dispose()
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    key = AuditKeys(get_settings().instance_dir).rotate()
    print(
        f"audit key {key.key_id} is now current: restart the servers to sign with it, "
        "and back up the keys/ folder (older keys still verify the events they signed)"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="sub", required=True
    )
    verify = audit.add_parser(
        "verify", help="check the whole audit trail; name every finding, exit 1 on any"
    )
    verify.add_argument("--batch", type=int, default=1000, help="cases read at a time")
    verify.set_defaults(func=cmd_verify)
    checkpoint = audit.add_parser(
        "checkpoint",
        help="append a signed checkpoint of the trail to the instance folder (and queue it "
        "for the witness at GRIDFLOW_AUDIT_WITNESS_URL, if set)",
    )
    checkpoint.set_defaults(func=cmd_checkpoint)
    rotate = audit.add_parser("rotate-key", help="make a new current audit key")
    rotate.set_defaults(func=cmd_rotate_key)
