"""Batch import of 12345 tickets from CSV or XLSX exports of the hotline system.

Headers may be Chinese or English (工单编号 / ticket_no …); CSV may be UTF-8 or GB18030.
Every bad row is reported with its row number and field and skipped; good rows are filed in
chunks, one transaction each.
The ticket number is the idempotency key, so a re-run files only what is new.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from adapters.hotline import HotlineTicket
from engine.cases.service import CaseService
from engine.errors import Forbidden, InvalidInput
from engine.users.models import Principal

HEADERS = {
    "ticket_no": ("工单编号", "工单号", "编号", "ticket"),
    "caller_name": ("来电人", "来电人姓名", "姓名", "name"),
    "caller_phone": ("来电号码", "联系电话", "电话", "phone"),
    "content": ("诉求内容", "来电内容", "内容", "description"),
    "address": ("地址", "事发地址", "事发地点"),
    "request_type": ("诉求类型", "类型"),
    "urgency": ("紧急程度", "缓急"),
    "category": ("事项分类", "分类编码", "分类"),
    "grid_code": ("网格", "网格编码"),
    "lat": ("纬度", "latitude"),
    "lng": ("经度", "longitude", "long"),
}
REQUIRED = ("ticket_no", "content")


@dataclass(frozen=True)
class RowError:
    row: int
    ticket_no: str
    field: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)


def _header(
    names: list[Any], headers: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> list[str | None]:
    aliases = {alias.lower(): name for name, found in headers.items() for alias in (name, *found)}
    columns = []
    for name in names:
        key = str(name or "").strip().lstrip("\ufeff").lower()
        columns.append(aliases.get(key))
    if any(name not in columns for name in required):
        needed = " and ".join(f"{headers[name][0]} ({name})" for name in required)
        raise ValueError(f"the header needs at least {needed}")
    return columns


def read_rows(
    path: Path,
    headers: dict[str, tuple[str, ...]] = HEADERS,
    required: tuple[str, ...] = REQUIRED,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as a spreadsheet shows it, fields) for every non-empty row; ``headers``
    names each field's accepted column titles (another export's mapping extends this one)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(path, headers, required)
        return
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")  # what Excel on a Chinese Windows saves as CSV
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _header(next(reader, []), headers, required)
    for number, values in enumerate(reader, 2):
        if any(v.strip() for v in values):
            yield number, {c: v for c, v in zip(columns, values, strict=False) if c}


def _xlsx_rows(
    path: Path, headers: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        columns = _header(list(next(rows, ())), headers, required)
        for number, values in enumerate(rows, 2):
            if any(v not in (None, "") for v in values):
                cells = zip(columns, values, strict=False)
                yield number, {c: "" if v is None else str(v) for c, v in cells if c}
    finally:
        book.close()


def parse_row(number: int, raw: dict[str, Any]) -> HotlineTicket | list[RowError]:
    ticket_no = str(raw.get("ticket_no") or "").strip()
    values = {k: v for k, v in raw.items() if not (isinstance(v, str) and not v.strip())}
    try:
        return HotlineTicket.model_validate(values)
    except ValidationError as exc:
        return [
            RowError(number, ticket_no, ".".join(str(p) for p in e["loc"]) or "row", e["msg"])
            for e in exc.errors()
        ]


def import_file(
    cases: CaseService,
    principal: Principal,
    path: Path,
    chunk: int = 200,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    pending: list[tuple[int, HotlineTicket]] = []
    for number, raw in read_rows(path):
        report.rows += 1
        parsed = parse_row(number, raw)
        if isinstance(parsed, list):
            report.errors.extend(parsed)
            if progress:
                progress(1)
            continue
        pending.append((number, parsed))
        if len(pending) >= chunk:
            _file(cases, principal, pending, report, progress)
            pending = []
    if pending:
        _file(cases, principal, pending, report, progress)
    return report


def _file(
    cases: CaseService,
    principal: Principal,
    rows: list[tuple[int, HotlineTicket]],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    try:
        results = cases.intake_batch(principal, [t.to_case() for _, t in rows])
    except (InvalidInput, Forbidden):
        results = None  # one bad row spoils the chunk: file its rows one by one
    if results is not None:
        for result in results:
            report.created += result.created
            report.existing += not result.created
    else:
        for number, ticket in rows:
            try:
                result = cases.intake(principal, ticket.to_case())
            except (InvalidInput, Forbidden) as exc:
                detail = exc.details[0]
                report.errors.append(
                    RowError(number, ticket.ticket_no, detail["field"], detail["reason"])
                )
                continue
            report.created += result.created
            report.existing += not result.created
    if progress:
        progress(len(rows))


def write_errors(path: Path, errors: list[RowError]) -> None:
    """The error report as CSV (UTF-8 with BOM, so spreadsheet programs read it right)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "ticket_no", "field", "reason"])
        for error in errors:
            writer.writerow([error.row, error.ticket_no, error.field, error.reason])


def count_rows(path: Path) -> int:
    """Rows below the header, for a progress bar's total."""
    return sum(1 for _ in read_rows(path))
