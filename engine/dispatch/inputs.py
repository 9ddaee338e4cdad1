"""What a dispatch decision looks at, built from a case (and stored with the decision)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.cases.models import Case
from engine.city.directory import CityDirectory
from engine.rules import DispatchInput


def outside_grids(case: Case, city: CityDirectory) -> bool:
    """A point was given, but it lies in no grid: the case is owned by the city root."""
    return case.lat is not None and case.grid_code is None and case.owning_unit == city.root


def dispatch_input(case: Case, city: CityDirectory, now: datetime) -> DispatchInput:
    """The decision's input: ``unit_codes`` is the owning unit's chain up to the city
    (empty for a point outside every grid), ``local_time`` ``now`` in the city's zone."""
    codes = () if outside_grids(case, city) else city.ancestors(case.owning_unit)
    return DispatchInput(
        channel=str(case.channel),
        category=case.category,
        unit_codes=codes,
        description=case.description,
        urgency=str(case.urgency),
        request_type=str(case.request_type) if case.request_type is not None else None,
        local_time=now.astimezone(ZoneInfo(city.timezone)),
    )


def input_to_json(inp: DispatchInput) -> dict[str, Any]:
    return {
        "channel": inp.channel,
        "category": inp.category,
        "unit_codes": list(inp.unit_codes),
        "description": inp.description,
        "urgency": inp.urgency,
        "request_type": inp.request_type,
        "local_time": inp.local_time.isoformat(),
    }


def input_from_json(data: dict[str, Any]) -> DispatchInput:
    return DispatchInput(
        channel=data["channel"],
        category=data.get("category"),
        unit_codes=tuple(data.get("unit_codes", ())),
        description=data.get("description", ""),
        urgency=data.get("urgency", "normal"),
        request_type=data.get("request_type"),
        local_time=datetime.fromisoformat(data["local_time"]),
    )
