"""`gridflow history generate` and `gridflow import history`: a city's past cases.

``generate`` writes a synthetic history of a city (the demo city by default) as JSON Lines;
``import history`` lands a history file (JSON Lines, or CSV/XLSX with the hotline import's
columns and the history's own) in the database, a batch per transaction, skipping what a
previous run landed.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from adapters.history_import import read_history
from adapters.hotline_import import RowError, write_errors
from engine.city.loader import read_city
from engine.history.generate import (
    OPEN_HOURS,
    HistoryGenerator,
    HistoryPlan,
    city_of,
    write_history,
)
from engine.history.service import BadRecord, HistoryImport, ImportReport, JsonlErrors, read_jsonl
from engine.settings import get_settings
from engine.sla.calendars import build_calendar
from engine.views.service import ImportedCases
from web.context import build_context

SPREADSHEETS = (".csv", ".xlsx", ".xlsm")


def cmd_generate(args: argparse.Namespace) -> int:
    city_dir = Path(args.city) if args.city else get_settings().city_dir
    files = read_city(city_dir)
    city = city_of(files)
    end = date.fromisoformat(args.end) if args.end else date.today()
    plan = HistoryPlan(args.cases, args.days, end, args.seed, args.open_hours)
    generator = HistoryGenerator(city, build_calendar(city.settings, city.timezone, []), plan)
    out = Path(args.out)
    columns = (
        TextColumn("[bold]history[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()
    console = Console(stderr=True)
    with (
        out.open("w", encoding="utf-8") as handle,
        Progress(*columns, console=console, disable=args.quiet) as progress,
    ):
        task = progress.add_task(out.name, total=plan.cases)
        count = write_history(generator, handle.write, lambda n: progress.advance(task, n))
    seconds = time.perf_counter() - started
    print(f"{count} past cases of {plan.days} days written to {out} in {seconds:.1f} s")
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    spreadsheet = path.suffix.lower() in SPREADSHEETS
    errors_path = Path(args.errors) if args.errors else _errors_path(path, spreadsheet)
    ctx = build_context(get_settings())
    rows: list[RowError] = []
    jsonl_errors = JsonlErrors(errors_path)
    bad: list[BadRecord] = []

    def error(found: BadRecord) -> None:
        if len(bad) < 20:
            bad.append(found)
        if spreadsheet:
            rows.append(RowError(found.line, found.old_id, found.field, found.reason))
        else:
            jsonl_errors(found)

    started = time.perf_counter()
    try:
        importer = HistoryImport(
            ctx.db, ctx.clock, ctx.workflow, ctx.city, ctx.calendars, ctx.audit_keys,
            batch=args.batch, workers=_workers(args.workers),
            # the read models count each batch's cases in its own transaction
            sinks=[ImportedCases(ctx.city, ctx.workflow, ctx.calendars.get(), ctx.clock.now)],
        )  # fmt: skip
        items = read_history(path) if spreadsheet else read_jsonl(path)
        total = None if spreadsheet else path.stat().st_size
        columns = (
            TextColumn("[bold]history[/] {task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[records]:,} records"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        console = Console(stderr=True)
        with Progress(*columns, console=console, disable=args.quiet) as progress:
            task = progress.add_task(path.name, total=total, records=0)

            def show(records: int, position: int) -> None:
                done = position if total is not None else records
                progress.update(task, completed=done, records=records)

            report = importer.run(items, error, show)
    finally:
        jsonl_errors.close()
        ctx.db.dispose()
    seconds = time.perf_counter() - started
    _summary(report, seconds)
    if report.errors:
        if spreadsheet:
            write_errors(errors_path, rows)
        for found in bad:
            print(f"  line {found.line} ({found.old_id or '-'}): {found.field}: {found.reason}")
        if report.errors > len(bad):
            print(f"  … {report.errors - len(bad)} more")
        print(f"error report: {errors_path}")
        return 1
    return 0


def _summary(report: ImportReport, seconds: float) -> None:
    rate = report.landed / seconds if seconds > 0 else 0.0
    print(
        f"{report.records} records: {report.landed} cases imported ({report.open} open), "
        f"{report.skipped} already imported, {report.errors} errors; "
        f"{seconds:.1f} s, {rate:,.0f} cases/s"
    )


def _workers(asked: int | None) -> int:
    """Worker processes: as asked, else one per CPU beyond the first (none on one CPU)."""
    if asked is not None:
        return asked
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max((cpus or 1), 1) if (cpus or 1) > 1 else 0


def _errors_path(path: Path, spreadsheet: bool) -> Path:
    return path.with_suffix(".errors.csv" if spreadsheet else ".errors.jsonl")


def add_import_parser(kinds: argparse._SubParsersAction) -> None:
    """``gridflow import history FILE`` (beside ``import hotline``)."""
    history = kinds.add_parser(
        "history", help="past cases from the old system: JSON Lines, CSV or XLSX (re-runnable)"
    )
    history.add_argument("file", help="a .jsonl file, or a .csv/.xlsx export with a header row")
    history.add_argument(
        "--errors", help="where to write bad records (default FILE.errors.jsonl or .csv)"
    )
    history.add_argument("--batch", type=int, default=2000, help="cases per transaction")
    history.add_argument(
        "--workers",
        type=int,
        help="processes that validate and replay records while this one writes "
        "(default: one per CPU; 0: none)",
    )
    history.add_argument("--quiet", action="store_true", help="no progress bar")
    history.set_defaults(func=cmd_import_history)


def register(sub: argparse._SubParsersAction) -> None:
    history = sub.add_parser("history", help="a city's past cases").add_subparsers(
        dest="sub", required=True
    )
    generate = history.add_parser(
        "generate", help="write a realistic synthetic history of the city as JSON Lines"
    )
    generate.add_argument("out", help="the .jsonl file to write")
    generate.add_argument("--cases", type=int, required=True, help="how many past cases")
    generate.add_argument("--days", type=int, required=True, help="over how many days")
    generate.add_argument("--seed", type=int, default=1, help="the same seed, the same history")
    generate.add_argument(
        "--open-hours",
        type=float,
        default=OPEN_HOURS,
        help="cases filed in the history's last hours are still open in the old system "
        f"(default {OPEN_HOURS:g})",
    )
    generate.add_argument("--end", help="the history's last day, YYYY-MM-DD (default today)")
    generate.add_argument("--city", help="the city directory (default GRIDFLOW_CITY_DIR)")
    generate.add_argument("--quiet", action="store_true", help="no progress bar")
    generate.set_defaults(func=cmd_generate)
