"""直办率 (answered at intake) as a report: per filing operator and per category, for a period
and a unit subtree. The figure is defined once, ``definitions.INTAKE_METRIC``; the counts
come from the daily facts (engine.views.intake_reads)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from engine.kpis.definitions import INTAKE_COUNT_KEYS, INTAKE_METRIC, ratio_of


class IntakeRow(BaseModel):
    kind: str  # total | operator | category
    code: str  # a category code; an operator's user id ("" for a filer not on file)
    name: str | None  # the category's name; the operator's display name (never a username)
    hotline_cases: int = 0
    answered_at_intake: int = 0
    intake_answer_rate: float | None = None  # 直办率 (None: no hotline case)


class IntakeReport(BaseModel):
    period_start: date
    period_end: date  # inclusive
    timezone: str
    computed_at: datetime
    unit: str
    total: IntakeRow
    operators: list[IntakeRow]  # the most hotline cases first
    categories: list[IntakeRow]


def intake_row(kind: str, code: str, name: str | None, counts: dict[str, int]) -> IntakeRow:
    """The row of summed counts, with its 直办率 as the definition says."""
    full = {key: int(counts.get(key, 0)) for key in INTAKE_COUNT_KEYS}
    return IntakeRow(
        kind=kind, code=code, name=name, **full, intake_answer_rate=ratio_of(INTAKE_METRIC, full)
    )
