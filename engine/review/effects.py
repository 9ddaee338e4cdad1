"""What a rework does to the case itself, registered on the case core's ``ActionEffects``
(``register``, from ``ReviewHook.register_effects``).

A reworked case goes back to ``in_progress`` and its handle clock starts a new run (the SLA
hook); with ``[review] rework_handle_limit`` set, that run (and any later one) gets that
limit instead of the stage's own.
"""

from __future__ import annotations

from typing import Any

from engine.cases.effects import ActionEffects, EffectContext
from engine.city.models import CityConfig
from engine.review.requirements import ReviewSettings


def rework_limit(ctx: EffectContext) -> dict[str, Any]:
    """For ``rework`` and a failing ``verify``: apply the city's rework handle limit."""
    if ctx.data.get("passed") is True:
        return {}
    config = ctx.session.get(CityConfig, 1)
    limit = ReviewSettings.of(config.settings if config else {}).rework_handle_limit
    if not limit:
        return {}
    ctx.case.sla_limits = {**(ctx.case.sla_limits or {}), "handle": limit}
    return {"handle_limit": limit}


def register(effects: ActionEffects) -> None:
    effects.register("rework", rework_limit)
    effects.register("verify", rework_limit)  # a failing 核查 reworks the case
