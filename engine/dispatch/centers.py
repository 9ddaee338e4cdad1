"""Which command center's manual queue a case belongs to (指挥中心: city, district, street).

Works over any unit look-up (the city directory's dict, or ``session.get(Unit, code)``
inside an effect), so the hook and the effects agree.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.city.models import Tier, Unit

COMMAND_TIERS = (Tier.city, Tier.district, Tier.street)

UnitLookup = Callable[[str], Unit | None]


def chain(code: str, unit: UnitLookup) -> list[Unit]:
    """Unit ``code`` and every unit above it, up to the city (empty for an unknown code)."""
    out, current = [], unit(code)
    while current is not None:
        out.append(current)
        current = unit(current.parent) if current.parent else None
    return out


def command_center(code: str, unit: UnitLookup) -> str | None:
    """The nearest command center at or above ``code`` (the city at the top)."""
    for found in chain(code, unit):
        if found.tier in COMMAND_TIERS or found.parent is None:
            return found.code
    return None


def center_at(code: str, tier: str, unit: UnitLookup) -> str | None:
    """The command center of ``tier`` (street, district, city) above ``code``; when the
    location is not known that deep, the nearest one above it."""
    units = chain(code, unit)
    for found in units:
        if found.tier == tier:
            return found.code
    return next((u.code for u in units if u.tier in COMMAND_TIERS), None)


def return_center(owning_unit: str, department_unit: str | None, unit: UnitLookup) -> str | None:
    """Where a department's return of a rule-dispatched case is reviewed: the command center
    of the case's area at the department's own tier (a district department's return goes to
    the case's district, a street 中队's to the street, a city utility's to the city)."""
    theirs = {u.code for u in chain(department_unit, unit)} if department_unit else set()
    for found in chain(owning_unit, unit):
        if found.code in theirs and (found.tier in COMMAND_TIERS or found.parent is None):
            return found.code
    units = chain(owning_unit, unit)
    return units[-1].code if units else None
