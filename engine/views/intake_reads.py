"""直办率 of any period and unit subtree, from the daily intake facts (``view_intake_day``):
per filing operator (shown by display name) and per category. The cost follows the days
and the operators × categories that filed, never the cases. See docs/READ_SIDE.md.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, func, select

from engine.city.directory import CityDirectory
from engine.errors import InvalidInput
from engine.kpis.compute import Period
from engine.kpis.intake import IntakeReport, IntakeRow, intake_row
from engine.users.models import User
from engine.views.facts import INTAKE
from engine.views.filters import in_units, subtree
from engine.views.models import INTAKE_KEYS

USERS = User.__table__  # type: ignore[attr-defined]


def intake_report(
    conn: Connection, city: CityDirectory, period: Period, now: datetime, unit: str | None = None
) -> IntakeReport:
    scope = unit or city.root
    if scope not in city.units:
        raise InvalidInput("unit", f"unknown unit {scope!r}")
    c = INTAKE.c
    query = (
        select(c.operator, c.category, *(func.sum(c[key]).label(key) for key in INTAKE_KEYS))
        .where(c.day >= period.first, c.day <= period.last, in_units(c.unit, subtree(city, scope)))
        .group_by(c.operator, c.category)
    )
    total: Counter[str] = Counter()
    by_operator: dict[str, Counter[str]] = {}
    by_category: dict[str, Counter[str]] = {}
    for row in conn.execute(query).mappings():
        counts = {key: int(row[key] or 0) for key in INTAKE_KEYS}
        total.update(counts)
        by_operator.setdefault(row["operator"], Counter()).update(counts)
        by_category.setdefault(row["category"], Counter()).update(counts)
    people = _people(conn, list(by_operator))
    operators: dict[str, tuple[str | None, Counter[str]]] = {}
    for username, counts in by_operator.items():
        user_id, name = people.get(username, ("", None))  # not a person on file: one row
        operators.setdefault(user_id, (name, Counter()))[1].update(counts)
    operator_rows = [
        intake_row("operator", code, name, counts) for code, (name, counts) in operators.items()
    ]
    category_rows = [
        intake_row("category", code, _category_name(city, code), counts)
        for code, counts in by_category.items()
    ]
    names = {code: u.name for code, u in city.units.items()}
    return IntakeReport(
        period_start=period.first,
        period_end=period.last,
        timezone=city.timezone,
        computed_at=now,
        unit=scope,
        total=intake_row("total", scope, names[scope], total),
        operators=_ordered(operator_rows),
        categories=_ordered(category_rows),
    )


def _people(conn: Connection, usernames: list[str]) -> dict[str, tuple[str, str | None]]:
    """username → (user id, display name); a person without a display name is named by
    nothing (the page says so), never by their username."""
    if not usernames:
        return {}
    u = USERS.c
    query = select(u.username, u.id, u.display_name).where(u.username.in_(usernames))
    return {name: (str(i), shown or None) for name, i, shown in conn.execute(query)}


def _category_name(city: CityDirectory, code: str) -> str | None:
    found = city.categories.get(code)
    return found.name if found is not None else None


def _ordered(rows: list[IntakeRow]) -> list[IntakeRow]:
    return sorted(rows, key=lambda r: (-r.hotline_cases, -r.answered_at_intake, r.code))
