"""`gridflow views rebuild | check`: the read models (engine.views) recomputed from the audit
trail, or compared with it (docs/READ_SIDE.md#read-models-views)."""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from engine.settings import get_settings
from engine.views import service
from web.context import AppContext, build_context


def _progress(quiet: bool) -> Progress:
    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]views[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    )


def _inputs(ctx: AppContext):  # type: ignore[no-untyped-def]
    return ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now()


def cmd_rebuild(args: argparse.Namespace) -> int:
    ctx = build_context(get_settings())
    started = time.perf_counter()
    with ctx.db.begin() as conn, _progress(args.quiet) as progress:
        total = service.Rebuilder(conn, *_inputs(ctx)).total()
        task = progress.add_task("rebuild from the audit trail", total=total)
        found = service.rebuild(conn, *_inputs(ctx), progress=lambda n: progress.advance(task, n))
    seconds = time.perf_counter() - started
    print(
        f"read models rebuilt from {found.cases} cases in {seconds:.1f} s: "
        f"{found.day_rows} daily fact rows, {found.open_cases} open cases"
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    ctx = build_context(get_settings())
    with ctx.db.connect() as conn, _progress(args.quiet) as progress:
        total = service.Rebuilder(conn, *_inputs(ctx)).total()
        task = progress.add_task("compare with the audit trail", total=total)
        found = service.check(conn, *_inputs(ctx), progress=lambda n: progress.advance(task, n))
    for difference in found:
        print(difference, flush=True)
    if found:
        print(
            f"{len(found)} differences between the kept read models and the audit trail; "
            "`gridflow views rebuild` replaces the kept ones",
            file=sys.stderr,
        )
        return 1
    print(f"read models match the audit trail ({total} cases)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    views = sub.add_parser("views", help="the read models (board, KPIs)").add_subparsers(
        dest="sub", required=True
    )
    rebuild = views.add_parser(
        "rebuild", help="recompute every read model from the audit trail (one transaction)"
    )
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    rebuild.set_defaults(func=cmd_rebuild)
    check = views.add_parser(
        "check", help="compare the kept read models with a rebuild; name each difference, exit 1"
    )
    check.add_argument("--quiet", action="store_true", help="no progress bar")
    check.set_defaults(func=cmd_check)
