"""Labelled texts from a city's export: a CSV or XLSX file with a text and a label column.

Cities keep years of 12345 work orders in spreadsheets; the column names differ, so they are
options. CSV is read as UTF-8 (with or without BOM) or, failing that, GB18030 (what Excel
on a Chinese Windows writes). Rows with an empty text or label are skipped and counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InvalidInput, NotFound


@dataclass
class LabelledFile:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    skipped: int = 0


def read_labelled(
    path: Path, text_column: str = "text", label_column: str = "label"
) -> LabelledFile:
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    else:
        raise InvalidInput("file", f"{path.name}: use a .csv or .xlsx file")
    header = [str(h or "").strip() for h in next(rows, [])]
    positions = []
    for option, name in (("text_column", text_column), ("label_column", label_column)):
        if name not in header:
            raise InvalidInput(option, f"{path.name} has no column {name!r}; it has {header}")
        positions.append(header.index(name))
    out = LabelledFile()
    text_at, label_at = positions
    for row in rows:
        text = _cell(row, text_at)
        label = _cell(row, label_at)
        if text and label:
            out.texts.append(text)
            out.labels.append(label)
        else:
            out.skipped += 1
    return out


def _cell(row: list[object], index: int) -> str:
    value = row[index] if index < len(row) else None
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code column read as a number by the spreadsheet
    return str(value).strip()


def _csv_rows(path: Path, delimiter: str) -> Iterator[list[object]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("file", f"{path.name}: not UTF-8 or GB18030 text")
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(path: Path) -> Iterator[list[object]]:
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise InvalidInput("file", "reading .xlsx needs the openpyxl package") from exc
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.active
        if sheet is None:
            raise InvalidInput("file", f"{path.name}: no worksheet")
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_columns(path: Path, columns: Sequence[str]) -> tuple[dict[str, list[str]], int]:
    """The named columns of every row that has all of them (in file order), and how many
    rows were skipped for an empty cell."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    else:
        raise InvalidInput("file", f"{path.name}: use a .csv or .xlsx file")
    header = [str(h or "").strip() for h in next(rows, [])]
    missing = [name for name in columns if name not in header]
    if missing:
        raise InvalidInput("columns", f"{path.name} has no column {missing[0]!r}; it has {header}")
    at = [header.index(name) for name in columns]
    out: dict[str, list[str]] = {name: [] for name in columns}
    skipped = 0
    for row in rows:
        cells = [_cell(row, i) for i in at]
        if all(cells):
            for name, cell in zip(columns, cells, strict=True):
                out[name].append(cell)
        else:
            skipped += 1
    return out, skipped
