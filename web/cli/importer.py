"""`gridflow import hotline FILE`: file 12345 tickets from a CSV or XLSX export."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.hotline_import import count_rows, import_file, write_errors
from engine.settings import get_settings
from engine.users.models import Principal, Role
from web.cli.history import add_import_parser
from web.context import build_context


def cmd_import_hotline(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    console = Console(stderr=True)
    ctx = build_context(get_settings())
    try:
        principal = Principal(name=f"import:{path.name}", role=Role.operator, scope=ctx.city.root)
        total = count_rows(path)
        columns = (
            TextColumn("[bold]12345[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, disable=args.quiet) as progress:
            task = progress.add_task(path.name, total=total)
            report = import_file(
                ctx.cases,
                principal,
                path,
                chunk=args.chunk,
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        ctx.db.dispose()
    print(
        f"{report.rows} rows: {report.created} new cases, {report.existing} already imported, "
        f"{len(report.errors)} errors"
    )
    if report.errors:
        errors_path = Path(args.errors) if args.errors else path.with_suffix(".errors.csv")
        write_errors(errors_path, report.errors)
        for error in report.errors[:20]:
            print(f"  row {error.row} ({error.ticket_no or '-'}): {error.field}: {error.reason}")
        if len(report.errors) > 20:
            print(f"  … {len(report.errors) - 20} more")
        print(f"error report: {errors_path}")
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    imports = sub.add_parser("import", help="import cases from a channel's export file")
    kinds = imports.add_subparsers(dest="kind", required=True)
    hotline = kinds.add_parser("hotline", help="12345 tickets from CSV or XLSX (re-runnable)")
    hotline.add_argument("file", help="a .csv (UTF-8) or .xlsx file with a header row")
    hotline.add_argument(
        "--errors", help="where to write the error report (default FILE.errors.csv)"
    )
    hotline.add_argument("--chunk", type=int, default=200, help="tickets per transaction")
    hotline.add_argument("--quiet", action="store_true", help="no progress bar")
    hotline.set_defaults(func=cmd_import_hotline)
    add_import_parser(kinds)
