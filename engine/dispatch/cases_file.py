"""Rule test files (``gridflow rules test``): sample cases and where they must go.

A CSV with a header row, or a TOML file of ``[[case]]`` tables, with these fields:

* ``expect`` (required): a department code (an automatic dispatch to it), ``queue`` (any
  manual queue) or ``queue:street`` / ``queue:district`` / ``queue:city``;
* ``expect_rule`` (optional): the id of the row that must decide;
* the case: ``category``, ``description``, ``channel`` (default hotline), ``unit`` (a unit
  code, e.g. the grid) or ``lat`` and ``lng``, ``urgency`` (default: the category's),
  ``request_type``, ``at`` (local time ``2026-03-02 10:00``; default Monday 2026-03-02
  10:00, a working hour) and ``name`` (shown in the report).

A point outside every grid goes to the city queue, as in the case service.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.city.directory import CityDirectory
from engine.geo import GridIndex
from engine.rules import Decision, DispatchInput, RuleTable
from engine.rules.matcher import decide

DEFAULT_AT = "2026-03-02 10:00"
FIELDS = (
    "name", "channel", "category", "unit", "lat", "lng", "description", "urgency",
    "request_type", "at", "expect", "expect_rule",
)  # fmt: skip


@dataclass(frozen=True)
class SampleCase:
    line: int  # CSV line, or the TOML [[case]] number
    fields: dict[str, str]

    @property
    def label(self) -> str:
        return self.fields.get("name") or f"line {self.line}"


@dataclass(frozen=True)
class Outcome:
    case: SampleCase
    got: str  # department code, or queue:<tier>
    rule_id: str | None
    ok: bool


def read_cases(path: Path) -> list[SampleCase]:
    """Read a CSV or TOML test file; raise ValueError naming the line and field."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".toml":
        try:
            rows = tomllib.loads(text).get("case", [])
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path.name}: not valid TOML: {exc}") from None
        found = [(i, r) for i, r in enumerate(rows, 1)]
    else:
        found = list(enumerate(csv.DictReader(text.splitlines()), 2))
    cases = []
    for line, row in found:
        if not isinstance(row, dict):
            raise ValueError(f"{path.name}: case {line} is not a table")
        clean = {k.strip(): str(v).strip() for k, v in row.items() if k and v not in (None, "")}
        unknown = sorted(set(clean) - set(FIELDS))
        if unknown:
            raise ValueError(f"{path.name} line {line}: unknown fields {unknown}")
        if not clean.get("expect"):
            raise ValueError(f"{path.name} line {line}: field 'expect' is required")
        cases.append(SampleCase(line, clean))
    return cases


def sample_input(
    case: SampleCase, city: CityDirectory, grids: GridIndex | None
) -> tuple[DispatchInput, bool]:
    """The decision input for a sample case, and whether its point is outside every grid."""
    f, where = case.fields, f"line {case.line}"
    unit = f.get("unit")
    outside = False
    if unit is None and "lat" in f and "lng" in f:
        try:
            located = grids.locate(float(f["lat"]), float(f["lng"])) if grids else None
        except ValueError as exc:
            raise ValueError(f"{where}: lat/lng: {exc}") from None
        unit, outside = located, located is None
    if unit is not None and unit not in city.units:
        raise ValueError(f"{where}: unknown unit {unit!r}")
    category = f.get("category")
    if category is not None and category not in city.categories:
        raise ValueError(f"{where}: unknown category {category!r}")
    default = city.categories[category].default_urgency if category else "normal"
    try:
        at = datetime.fromisoformat(f.get("at", DEFAULT_AT))
    except ValueError:
        raise ValueError(f"{where}: at {f['at']!r} is not a time such as {DEFAULT_AT}") from None
    zone = ZoneInfo(city.timezone)
    inp = DispatchInput(
        channel=f.get("channel", "hotline"),
        category=category,
        unit_codes=city.ancestors(unit) if unit else (() if outside else (city.root,)),
        description=f.get("description", ""),
        urgency=f.get("urgency", default),
        request_type=f.get("request_type"),
        local_time=at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone),
    )
    return inp, outside


def label(decision: Decision, outside: bool = False) -> str:
    """Where the case service would send it: a department, or ``queue:<tier>``."""
    if outside:
        return "queue:city"
    if not decision.auto:
        return f"queue:{decision.queue}"
    return decision.department or ""


def _expected(expect: str, got: str) -> bool:
    return got == expect or (expect == "queue" and got.startswith("queue:"))


def run_cases(
    table: RuleTable, cases: list[SampleCase], city: CityDirectory, grids: GridIndex | None
) -> list[Outcome]:
    out = []
    for case in cases:
        inp, outside = sample_input(case, city, grids)
        decision = decide(table, inp)
        got = label(decision, outside)
        want_rule = case.fields.get("expect_rule")
        ok = _expected(case.fields["expect"], got) and want_rule in (None, decision.rule_id)
        out.append(Outcome(case, got, decision.rule_id, ok))
    return out


def describe(case: SampleCase) -> dict[str, Any]:
    return {k: v for k, v in case.fields.items() if k not in ("expect", "expect_rule", "name")}
