"""The escalation ladder: which command center supervises a case next.

Command centers sit at the city, district and street tiers. A case is first supervised by
the command center one tier above the unit that owns the late stage (the lead department's
unit; without a department, the street of the case's area), then one tier higher at a time,
up to the city.

See docs/ARCHITECTURE.md#timers-and-escalation.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.city.models import Tier, Unit

COMMAND_TIERS = (Tier.city, Tier.district, Tier.street)
CARDS = ("yellow", "red")

UnitLookup = Callable[[str], Unit | None]


def command_center_of(code: str, unit: UnitLookup) -> str:
    """The nearest command center at or above unit ``code``."""
    current = unit(code)
    while current is not None:
        if current.tier in COMMAND_TIERS or current.parent is None:
            return current.code
        current = unit(current.parent)
    raise LookupError(f"unknown unit {code!r}")


def command_center_above(code: str, unit: UnitLookup) -> str:
    """The command center one tier above unit ``code``: street → district → city; the city
    stays the city."""
    current = unit(code)
    if current is None:
        raise LookupError(f"unknown unit {code!r}")
    if current.parent is None:
        return current.code
    return command_center_of(current.parent, unit)


def owner_unit(lead_unit: str | None, owning_unit: str, unit: UnitLookup) -> str:
    """Whose lateness it is: the lead department's unit, else the area's command center."""
    return lead_unit if lead_unit is not None else command_center_of(owning_unit, unit)


def tier_rank(code: str, unit: UnitLookup) -> int:
    """0 for the city … 4 for a grid (smaller is higher)."""
    found = unit(code)
    if found is None:
        raise LookupError(f"unknown unit {code!r}")
    return Tier(found.tier).rank


def stronger_card(a: str | None, b: str | None) -> str | None:
    """The more serious of two cards (red over yellow over none)."""
    ranks = {None: -1, **{card: i for i, card in enumerate(CARDS)}}
    return a if ranks.get(a, -1) >= ranks.get(b, -1) else b
