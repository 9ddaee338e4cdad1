"""督办 (supervision): what ``escalate`` does to a case, registered on the case core's
``ActionEffects`` by the SLA hook (``SlaHook.register_effects``).

A command center (city, district, street) takes the case under supervision with a yellow or
red card; a later escalation may only move it higher up, and the card never gets milder.
"""

from __future__ import annotations

from typing import Any

from engine.cases.effects import EffectContext
from engine.city.models import Department
from engine.errors import InvalidInput
from engine.sla import ladder


def escalate(ctx: EffectContext) -> dict[str, Any]:
    """督办: a command center supervises the case; the card never gets milder."""
    case, data = ctx.case, ctx.data

    unit = ctx.unit
    previous = case.supervision_unit
    target = data.get("unit") or _supervisor_for(ctx, unit, data.get("tier"))
    found = unit(target)
    if found is None or found.tier not in ladder.COMMAND_TIERS:
        raise InvalidInput("unit", f"{target!r} is not a command center (city, district, street)")
    if previous is not None and ladder.tier_rank(target, unit) > ladder.tier_rank(previous, unit):
        raise InvalidInput("unit", f"case {case.id} is already supervised by {previous}, higher up")
    card = data.get("card") or ("red" if previous else "yellow")
    case.supervision_unit, case.card = target, ladder.stronger_card(case.card, card)
    return {"unit": target, "card": case.card, "tier": str(found.tier), "from_unit": previous}


def _supervisor_for(ctx: EffectContext, unit: ladder.UnitLookup, tier: str | None) -> str:
    case = ctx.case
    if tier is not None:
        for code in _chain(case.owning_unit, unit):
            if str(unit(code).tier) == tier:  # type: ignore[union-attr]
                return code
        raise InvalidInput("tier", f"no {tier} above unit {case.owning_unit}")
    if case.supervision_unit is not None:
        return ladder.command_center_above(case.supervision_unit, unit)
    department = ctx.session.get(Department, case.lead_department) if case.lead_department else None
    owner = ladder.owner_unit(department.unit if department else None, case.owning_unit, unit)
    return ladder.command_center_above(owner, unit)


def _chain(code: str, unit: ladder.UnitLookup) -> list[str]:
    chain, current = [], unit(code)
    while current is not None:
        chain.append(current.code)
        current = unit(current.parent) if current.parent else None
    return chain
