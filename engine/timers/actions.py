"""What a due timer does, as a system action through the case service.

- yellow → ``remind`` the assignee that the stage's deadline is near;
- red → ``escalate``: the command center one tier above the stage's owner supervises the
  case with a yellow card (or the tier already supervising it, if that is higher);
- escalate → ``escalate`` one tier above the current supervisor with a red card.

Whether a timer is still wanted at all (its stage run is current and running) is decided
before, by :func:`stale_reason`.

See docs/ARCHITECTURE.md#timers-and-escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.sla import ladder
from engine.sla.models import SlaClock
from engine.timers.leases import Claimed
from engine.timers.models import TimerKind

STAGE_LABELS = {"dispatch": "派遣", "accept": "签收", "handle": "处置", "verify": "核查"}


@dataclass(frozen=True)
class Firing:
    action: str
    data: dict[str, Any]


def stale_reason(timer: Claimed, case: Case | None, clock: SlaClock | None) -> str | None:
    """Why ``timer`` must not fire any more, or None if it should."""
    if case is None or case.closed_at is not None:
        return "case closed"
    if clock is None or clock.stopped_at is not None:
        return "stage ended"
    if clock.generation != timer.generation:
        return "stale generation"
    if clock.paused_at is not None:
        return "stage paused"
    return None


def decide(timer: Claimed, case: Case, clock: SlaClock, city: CityDirectory) -> Firing | str:
    """The action for a live timer, or the reason it has nothing left to do."""
    label = STAGE_LABELS.get(timer.stage, timer.stage)
    base = {"stage": timer.stage, "timer": str(timer.id)}
    if timer.kind == TimerKind.yellow:
        due = _local(clock.due_at, city)
        return Firing("remind", base | {"note": f"{label}时限将到（{due}），请抓紧办理"})

    def unit(code: str):  # type: ignore[no-untyped-def]
        return city.units.get(code)

    current = case.supervision_unit
    if timer.kind == TimerKind.red:
        department = city.departments.get(case.lead_department or "")
        owner = ladder.owner_unit(department.unit if department else None, case.owning_unit, unit)
        target = ladder.command_center_above(owner, unit)
        if current is not None and ladder.tier_rank(current, unit) < ladder.tier_rank(target, unit):
            target = current
        reason = f"{label}超时，{city.units[target].name}督办"
        return Firing("escalate", base | {"unit": target, "card": "yellow", "reason": reason})
    if current is None:
        return "not under supervision"
    target = ladder.command_center_above(current, unit)
    if target == current:
        return "already supervised by the city"
    reason = f"{label}超时未办结，提级至{city.units[target].name}督办"
    return Firing("escalate", base | {"unit": target, "card": "red", "reason": reason})


def _local(at: datetime, city: CityDirectory) -> str:
    return at.astimezone(ZoneInfo(city.timezone)).strftime("%Y-%m-%d %H:%M")
